"""Definitions: YAML with locations, pydantic models, located validation."""
