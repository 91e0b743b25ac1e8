"""Sources: read exports, map columns, coerce types, enforce the data contract."""

from tpmkit.data.load import Dataset, OnBadRows, RowWindow, load_dataset

__all__ = ["Dataset", "OnBadRows", "RowWindow", "load_dataset"]
