"""Polars helpers of the I/O layer: a dataset node as a LazyFrame, a task's result as one."""

from __future__ import annotations

from typing import TYPE_CHECKING

import polars as pl

from glacier.errors import ExecutionError
from glacier.io.location import dataset_uri, storage_options
from glacier.io.read import scan_uri

if TYPE_CHECKING:  # types only: the runtime's cold start does not import the pydantic DAG
    from glacier.config import StorageConfig
    from glacier.dag.model import DatasetNode


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
