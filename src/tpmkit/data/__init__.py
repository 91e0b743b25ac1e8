"""Sources: read exports, map columns, coerce types, enforce the data contract."""
