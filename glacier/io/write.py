"""Atomic writes with Polars' streaming sinks.

What a reader can observe (the guarantee), implemented by the format's dataset class
(``glacier.io.datasets``):

- File (local or S3): the result streams into a hidden staging entry beside it
  (``glacier.io.staging``) and is published in one step (``os.replace`` locally, one
  server-side copy on S3). Readers see the old object or the new
  one, never a part; a failure or a kill leaves the old target untouched.
- Directory (hive-partitioned parquet): the whole set is written as a new immutable version
  and published by one atomic step (locally a symlink swap, on S3 one manifest PUT); readers
  resolve the current version before they scan, so a scan never mixes two versions.
- Leftovers of killed writes are removed by the next write of that dataset (its writer's
  process is gone, or it began longer ago than any task may run): ``glacier.io.staging``.
- Zero-row results keep their schema (parquet, Arrow, directories), their header (csv), or
  are refused with a clear error (ndjson, which cannot record columns without rows).
"""

from __future__ import annotations

import polars as pl

from glacier.formats import Format
from glacier.io.cancel import CancelToken, WriteCancelled
from glacier.io.datasets import open_dataset
from glacier.io.location import StorageOptions

__all__ = ["CancelToken", "WriteCancelled", "count_rows", "write_atomic"]


def write_atomic(
    frame: pl.LazyFrame,
    uri: str,
    fmt: Format,
    options: StorageOptions | None = None,
    *,
    partition_by: list[str] | None = None,
    cancel: CancelToken | None = None,
) -> int | None:
    """Write ``frame`` to ``uri`` atomically; returns the row count when the format stores it
    (parquet, ipc, directories) and None when counting would re-read the data (csv, ndjson)."""
    return open_dataset(uri, fmt, options).save(frame, partition_by=partition_by, cancel=cancel)


def count_rows(uri: str, fmt: Format, options: StorageOptions | None = None) -> int | None:
    """Rows published, read from file metadata; None for formats that would need a full read."""
    return open_dataset(uri, fmt, options).count_rows()
