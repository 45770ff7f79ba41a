"""Read datasets as LazyFrames, and describe what is stored (bytes and a fingerprint).

Every read goes through the format's dataset class (``glacier.io.datasets``), which resolves
the current version of a directory dataset first, so a reader never mixes two versions.
"""

from __future__ import annotations

from collections.abc import Mapping

import polars as pl

from glacier.formats import Format
from glacier.io.datasets import HIDDEN_PREFIXES, StoredDataset, open_dataset
from glacier.io.location import StorageOptions

__all__ = ["HIDDEN_PREFIXES", "StoredDataset", "scan_uri", "stat_uri"]


def scan_uri(
    uri: str,
    fmt: Format,
    options: StorageOptions | None = None,
    *,
    dtypes: Mapping[str, pl.DataType] | None = None,
) -> pl.LazyFrame:
    """A LazyFrame over the dataset at ``uri`` (nothing is read until it is collected);
    ``dtypes``: declared columns, read as declared from formats that store no dtypes."""
    return open_dataset(uri, fmt, options, dtypes=dtypes).load()


def stat_uri(uri: str, fmt: Format, options: StorageOptions | None = None) -> StoredDataset | None:
    """What is published at ``uri``; None when nothing is."""
    return open_dataset(uri, fmt, options).stat()
