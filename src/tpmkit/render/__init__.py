"""Renderers: records in, text or files out. They never compute metrics."""
