"""Dataset I/O shared by the local runner and the cloud entry points: locations, one dataset
class per format (``glacier.io.datasets``: scans, atomic streaming writes, whole publishes,
what is stored), and the staging names (``glacier.io.staging``). Imports only polars,
botocore, the standard library and glacier's pure modules."""

from __future__ import annotations

from typing import TYPE_CHECKING

import polars as pl

from glacier.config import StorageConfig
from glacier.errors import ExecutionError
from glacier.io.cancel import CancelToken, WriteCancelled
from glacier.io.datasets import Dataset, dataset_class, open_dataset
from glacier.io.location import (
    StorageOptions,
    aws_storage_options,
    dataset_uri,
    is_s3,
    split_s3,
    storage_options,
)
from glacier.io.read import StoredDataset, scan_uri, stat_uri
from glacier.io.write import count_rows, write_atomic

if TYPE_CHECKING:
    from glacier.dag.model import DatasetNode

__all__ = [
    "CancelToken",
    "Dataset",
    "StorageOptions",
    "StoredDataset",
    "WriteCancelled",
    "as_lazy",
    "aws_storage_options",
    "count_rows",
    "dataset_class",
    "dataset_uri",
    "is_s3",
    "open_dataset",
    "scan_dataset",
    "scan_uri",
    "split_s3",
    "stat_uri",
    "storage_options",
    "write_atomic",
]


def scan_dataset(dataset: DatasetNode, storage: StorageConfig) -> pl.LazyFrame:
    """The dataset as a LazyFrame, from wherever ``storage`` keeps it."""
    return scan_uri(dataset_uri(dataset, storage), dataset.format, storage_options(storage))


def as_lazy(result: object, task: str) -> pl.LazyFrame:
    """A task's return value as a LazyFrame (a DataFrame is wrapped, not copied)."""
    if isinstance(result, pl.LazyFrame):
        return result
    if isinstance(result, pl.DataFrame):
        return result.lazy()
    raise ExecutionError(
        f"Task '{task}' returned {type(result).__name__}, not a Polars LazyFrame or DataFrame.",
        task=task,
        fix=f"make '{task}' return the frame it builds (e.g. `return df.filter(...)`).",
    )
