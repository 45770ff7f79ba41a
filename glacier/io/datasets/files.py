"""File datasets (one object each): parquet, csv, ndjson and Arrow IPC.

Every write stages and publishes through ``filestage`` (a reader sees the old object or the
new one). Zero-row results: parquet and IPC keep their schema; csv keeps the header (the
column names; csv stores no types, so an empty csv reads back as String columns); ndjson
cannot record any column of an empty result, so such a write is refused with a clear error
and the previous object stays.
"""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Callable
from pathlib import Path
from typing import Any, ClassVar

import polars as pl

from glacier.errors import ExecutionError
from glacier.formats import Format
from glacier.io.datasets.base import Dataset, PendingWrite, StoredDataset
from glacier.io.datasets.filestage import FileStage, open_stage
from glacier.io.location import is_s3, split_s3
from glacier.io.parquet_footer import parquet_rows
from glacier.io.s3 import S3Client


class FileDataset(Dataset):
    """What every single-object format shares: staging, publishing, stat."""

    scan: ClassVar[Callable[..., pl.LazyFrame]]

    # -- Polars -----------------------------------------------------------------------------
    def _load(self) -> pl.LazyFrame:
        return type(self).scan(self.uri, **self.scan_kwargs())

    def scan_kwargs(self) -> dict[str, Any]:
        """Keyword arguments of this format's Polars scan."""
        return {"storage_options": self.options} if self.options else {}

    def _begin_write(self, partition_by: list[str] | None) -> FileWrite:
        return FileWrite(self, partition_by)

    @abstractmethod
    def sink_into(self, frame: pl.LazyFrame, target: str, kwargs: dict[str, Any]) -> pl.LazyFrame | None:
        """Polars' sink of this format (``kwargs`` may ask for a lazy sink)."""

    def check_empty(self, pending: FileWrite) -> None:
        """Make a zero-row result readable (or refuse it); most formats need nothing."""
        return None

    def rows_at(self, uri: str) -> int | None:
        if not self.counts_rows:
            return None
        return int(type(self).scan(uri, **self.scan_kwargs()).select(pl.len()).collect().item())

    def _count_rows(self) -> int | None:
        return self.rows_at(self.uri)

    def _stat(self) -> StoredDataset | None:
        if is_s3(self.uri):
            bucket, key = split_s3(self.uri)
            head = S3Client(self.options).head(bucket, key)
            return None if head is None else StoredDataset(head.size, f"{head.size}:{head.etag}", 1)
        path = Path(self.uri)
        if not path.is_file():
            return None
        st = path.stat()
        return StoredDataset(st.st_size, f"{st.st_size}:{st.st_mtime_ns}", 1)


class FileWrite(PendingWrite):
    """One staged write of a file dataset (``filestage``)."""

    dataset: FileDataset

    def __init__(self, dataset: FileDataset, partition_by: list[str] | None) -> None:
        super().__init__(dataset, partition_by)
        self.stage: FileStage = open_stage(dataset.uri, dataset.options)
        self.target = self.stage.target

    def size(self) -> int:
        return self.stage.size()

    def _sink(self, frame: pl.LazyFrame, kwargs: dict[str, Any]) -> pl.LazyFrame | None:
        return self.dataset.sink_into(frame, self.target, kwargs)

    def _finish(self) -> int | None:
        self.dataset.check_empty(self)
        return self.dataset.rows_at(self.target)

    def _publish(self, rows: int | None) -> None:
        self.stage.publish()

    def discard(self) -> None:
        self.stage.discard()


class ParquetDataset(FileDataset):
    format = Format.PARQUET
    counts_rows = True
    spark_format = "parquet"
    scan = staticmethod(pl.scan_parquet)

    def sink_into(self, frame: pl.LazyFrame, target: str, kwargs: dict[str, Any]) -> pl.LazyFrame | None:
        return frame.sink_parquet(target, **kwargs)

    def rows_at(self, uri: str) -> int | None:
        # A local file's footer says it without a Polars query (parquet_footer).
        rows = None if is_s3(uri) else parquet_rows(uri)
        return rows if rows is not None else super().rows_at(uri)


class IpcDataset(FileDataset):
    format = Format.IPC
    counts_rows = True
    spark_format = None  # Spark has no Arrow IPC reader or writer
    scan = staticmethod(pl.scan_ipc)

    def sink_into(self, frame: pl.LazyFrame, target: str, kwargs: dict[str, Any]) -> pl.LazyFrame | None:
        return frame.sink_ipc(target, **kwargs)


class CsvDataset(FileDataset):
    format = Format.CSV
    spark_format = "csv"
    scan = staticmethod(pl.scan_csv)

    def scan_kwargs(self) -> dict[str, Any]:
        # Declared columns are parsed as declared (a CSV stores text: without this a
        # Datetime reads as String, whole-number floats as Int64); others are inferred.
        return {**super().scan_kwargs(), **({"schema_overrides": self.dtypes} if self.dtypes else {})}

    def sink_into(self, frame: pl.LazyFrame, target: str, kwargs: dict[str, Any]) -> pl.LazyFrame | None:
        return frame.sink_csv(target, **kwargs)

    def check_empty(self, pending: FileWrite) -> None:
        if pending.size() == 0:  # an empty result written without its header: add it
            header = pl.LazyFrame(schema=dict.fromkeys(pending.columns().names(), pl.String()))
            header.sink_csv(pending.target, **self.storage_kwargs(pending.target))

    def _spark_reader(self, reader: Any) -> Callable[[str], Any]:
        return reader.option("header", "true").option("inferSchema", "true").csv

    def _spark_writer(self, writer: Any) -> Callable[[str], None]:
        return writer.option("header", "true").csv


class NdjsonDataset(FileDataset):
    format = Format.NDJSON
    spark_format = "json"  # Spark's json is JSON lines
    scan = staticmethod(pl.scan_ndjson)

    def scan_kwargs(self) -> dict[str, Any]:
        # As CSV: declared columns read as declared, undeclared ones ('evolve') inferred.
        return {**super().scan_kwargs(), **({"schema_overrides": self.dtypes} if self.dtypes else {})}

    def sink_into(self, frame: pl.LazyFrame, target: str, kwargs: dict[str, Any]) -> pl.LazyFrame | None:
        return frame.sink_ndjson(target, **kwargs)

    def check_empty(self, pending: FileWrite) -> None:
        if pending.size() == 0:
            raise ExecutionError(
                f"The result for '{self.uri}' has no rows, and an .ndjson/.jsonl file cannot record "
                "the columns of an empty result (a task reading it could not run); nothing was "
                "written.",
                fix="store this dataset as .parquet or .arrow (they keep the columns of an empty "
                "result) or .csv (keeps their names), or make the task return at least one row.",
            )
