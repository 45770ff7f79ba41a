"""File datasets (one object each): parquet, csv, ndjson and Arrow IPC.

Every write stages and publishes through ``filestage`` (a reader sees the old object or the
new one). Zero-row results: parquet and IPC keep their schema; csv keeps the header (the
column names; csv stores no types, so an empty csv reads back as String columns); ndjson
cannot record any column of an empty result, so such a write is refused with a clear error
and the previous object stays.
"""

from __future__ import annotations

import secrets
import shutil
from abc import abstractmethod
from collections.abc import Callable
from pathlib import Path
from typing import Any, ClassVar

import polars as pl

from glacier.errors import ExecutionError
from glacier.formats import Format
from glacier.io.cancel import CancelToken
from glacier.io.datasets.base import Dataset, StoredDataset
from glacier.io.datasets.filestage import FileStage, open_stage
from glacier.io.location import is_s3, split_s3
from glacier.io.s3 import S3Client


class FileDataset(Dataset):
    """What every single-object format shares: staging, publishing, stat."""

    scan: ClassVar[Callable[..., pl.LazyFrame]]

    # -- Polars -----------------------------------------------------------------------------
    def _load(self) -> pl.LazyFrame:
        kwargs: dict[str, Any] = {"storage_options": self.options} if self.options else {}
        return type(self).scan(self.uri, **kwargs)

    def _save(self, frame: pl.LazyFrame, partition_by: list[str] | None, cancel: CancelToken) -> int | None:
        stage = open_stage(self.uri, self.options)
        try:
            self._sink_or_collect(frame, stage.target)
            self._check_empty(stage, lambda: frame.collect_schema().names())
            rows = self._rows_at(stage.target)
            cancel.publish(stage.publish)
            return rows
        finally:
            stage.discard()

    def _sink_or_collect(self, frame: pl.LazyFrame, target: str) -> None:
        """Stream into ``target``; collect first only when Polars cannot stream the plan."""
        kwargs = self._storage_kwargs(target)
        try:
            self._sink(frame, target, kwargs)
        except pl.exceptions.InvalidOperationError as exc:
            if "stream" not in str(exc).lower() and "sink" not in str(exc).lower():
                raise
            self._sink(frame.collect().lazy(), target, kwargs)

    @abstractmethod
    def _sink(self, frame: pl.LazyFrame, target: str, kwargs: dict[str, Any]) -> None: ...

    def _check_empty(self, stage: FileStage, columns: Callable[[], list[str]]) -> None:
        """Make a zero-row result readable (or refuse it); most formats need nothing."""

    def _rows_at(self, uri: str) -> int | None:
        if not self.counts_rows:
            return None
        kwargs: dict[str, Any] = {"storage_options": self.options} if self.options else {}
        return int(type(self).scan(uri, **kwargs).select(pl.len()).collect().item())

    def _count_rows(self) -> int | None:
        return self._rows_at(self.uri)

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

    # -- Spark ------------------------------------------------------------------------------
    def _spark_load(self, spark: Any) -> Any:
        return self._spark_reader(spark.read)(self.uri)

    def _spark_reader(self, reader: Any) -> Callable[[str], Any]:
        return getattr(reader, str(self.spark_format))

    def _spark_writer(self, writer: Any) -> Callable[[str], None]:
        return getattr(writer, str(self.spark_format))

    def _spark_save(
        self, df: Any, scratch: Path, partition_by: list[str] | None, cancel: CancelToken
    ) -> int | None:
        stage = open_stage(self.uri, self.options)
        try:
            out = scratch / f"out-{secrets.token_hex(4)}"
            self._spark_writer(df.coalesce(1).write.mode("overwrite"))(str(out))
            parts = sorted(p for p in out.iterdir() if p.name.startswith("part-"))
            if parts:
                shutil.move(parts[0], stage.target)  # scratch may be another filesystem
            else:  # Spark wrote no file for an empty result
                Path(stage.target).touch()
            self._check_empty(stage, lambda: list(df.columns))
            rows = self._rows_at(stage.target)
            cancel.publish(stage.publish)
            return rows
        finally:
            stage.discard()


class ParquetDataset(FileDataset):
    format = Format.PARQUET
    counts_rows = True
    spark_format = "parquet"
    scan = staticmethod(pl.scan_parquet)

    def _sink(self, frame: pl.LazyFrame, target: str, kwargs: dict[str, Any]) -> None:
        frame.sink_parquet(target, **kwargs)


class IpcDataset(FileDataset):
    format = Format.IPC
    counts_rows = True
    spark_format = None  # Spark has no Arrow IPC reader or writer
    scan = staticmethod(pl.scan_ipc)

    def _sink(self, frame: pl.LazyFrame, target: str, kwargs: dict[str, Any]) -> None:
        frame.sink_ipc(target, **kwargs)


class CsvDataset(FileDataset):
    format = Format.CSV
    spark_format = "csv"
    scan = staticmethod(pl.scan_csv)

    def _sink(self, frame: pl.LazyFrame, target: str, kwargs: dict[str, Any]) -> None:
        frame.sink_csv(target, **kwargs)

    def _check_empty(self, stage: FileStage, columns: Callable[[], list[str]]) -> None:
        if stage.size() == 0:  # Spark writes nothing for an empty result: keep the header
            frame = pl.LazyFrame(schema=dict.fromkeys(columns(), pl.String))
            frame.sink_csv(stage.target, **self._storage_kwargs(stage.target))

    def _spark_reader(self, reader: Any) -> Callable[[str], Any]:
        return reader.option("header", "true").option("inferSchema", "true").csv

    def _spark_writer(self, writer: Any) -> Callable[[str], None]:
        return writer.option("header", "true").csv


class NdjsonDataset(FileDataset):
    format = Format.NDJSON
    spark_format = "json"  # Spark's json is JSON lines
    scan = staticmethod(pl.scan_ndjson)

    def _sink(self, frame: pl.LazyFrame, target: str, kwargs: dict[str, Any]) -> None:
        frame.sink_ndjson(target, **kwargs)

    def _check_empty(self, stage: FileStage, columns: Callable[[], list[str]]) -> None:
        if stage.size() == 0:
            raise ExecutionError(
                f"The result for '{self.uri}' has no rows, and an .ndjson/.jsonl file cannot record "
                "the columns of an empty result (a task reading it could not run); nothing was "
                "written.",
                fix="store this dataset as .parquet or .arrow (they keep the columns of an empty "
                "result) or .csv (keeps their names), or make the task return at least one row.",
            )
