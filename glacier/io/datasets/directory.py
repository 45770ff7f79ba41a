"""The directory dataset: hive-partitioned parquet under a path ending in '/'.

It appears to readers all at once, locally (``versions_local``: versions behind a symlink)
and on S3 (``versions_s3``: version roots named by a manifest); every reader resolves the
current version first (``read_source``) and scans only it. A zero-row result is stored as one
parquet file holding just the schema, so a reader gets the columns back.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import polars as pl

from glacier.formats import Format
from glacier.io.cancel import CancelToken
from glacier.io.datasets.base import HIDDEN_PREFIXES, Dataset, StoredDataset
from glacier.io.datasets.versions_local import LocalVersions, LocalVersionStage
from glacier.io.datasets.versions_s3 import S3Versions, S3VersionStage
from glacier.io.location import is_s3

_FILE_BYTES = 256 * 1024 * 1024  # unkeyed directory datasets: split files at about this size
_SCHEMA_FILE = "00000000.parquet"  # the one file of a zero-row result


class ParquetDirectoryDataset(Dataset):
    format = Format.PARQUET_DIR
    is_directory = True
    counts_rows = True
    spark_format = "parquet"
    s3_read_overhead = (1, 1)  # GET the manifest, LIST the version
    s3_write_overhead = (1, 3)  # GET the manifest; LIST the staged files, PUT the manifest, LIST for garbage

    def __init__(self, uri: str, options: Any = None) -> None:
        super().__init__(uri if uri.endswith("/") else uri + "/", options)
        self.versions: LocalVersions | S3Versions = (
            S3Versions(self.uri, options) if is_s3(self.uri) else LocalVersions(self.uri)
        )

    def read_source(self) -> str | list[str]:
        """What a reader scans now: the current version's directory (or the path itself, or
        the files of an S3 prefix written without a manifest)."""
        if isinstance(self.versions, S3Versions):
            return self.versions.read_source()
        current = self.versions.current()
        return self.uri if current is None else str(current) + "/"

    # -- Polars -----------------------------------------------------------------------------
    def _scan_kwargs(self) -> dict[str, Any]:
        return {"storage_options": self.options} if self.options else {}

    def _load(self) -> pl.LazyFrame:
        return pl.scan_parquet(
            self.read_source(),
            hive_partitioning=True,
            hidden_file_prefix=HIDDEN_PREFIXES,
            **self._scan_kwargs(),
        )

    def _save(self, frame: pl.LazyFrame, partition_by: list[str] | None, cancel: CancelToken) -> int | None:
        stage = self.versions.begin()
        try:
            self._sink_or_collect(frame, stage.target, partition_by)
            if not stage.has_data():
                self._write_schema(frame.collect_schema(), stage.target)
            rows = self._rows_at(stage.target)
            cancel.publish(lambda: stage.publish(rows))
        finally:
            stage.discard()
        stage.collect_garbage()
        return rows

    def _sink_or_collect(self, frame: pl.LazyFrame, target: str, partition_by: list[str] | None) -> None:
        destination = (
            pl.PartitionBy(target, key=partition_by)
            if partition_by
            else pl.PartitionBy(target, approximate_bytes_per_file=_FILE_BYTES)
        )
        kwargs = self._storage_kwargs(target)
        try:
            frame.sink_parquet(destination, **kwargs)
        except pl.exceptions.InvalidOperationError as exc:
            if "stream" not in str(exc).lower() and "sink" not in str(exc).lower():
                raise
            frame.collect().lazy().sink_parquet(destination, **kwargs)

    def _write_schema(self, schema: pl.Schema, target: str) -> None:
        pl.LazyFrame(schema=schema).sink_parquet(target + _SCHEMA_FILE, **self._storage_kwargs(target))

    def _rows_at(self, source: str | list[str]) -> int:
        scan = pl.scan_parquet(
            source, hive_partitioning=False, hidden_file_prefix=HIDDEN_PREFIXES, **self._scan_kwargs()
        )
        return int(scan.select(pl.len()).collect().item())

    def _count_rows(self) -> int | None:
        if isinstance(self.versions, S3Versions):
            rows = self.versions.rows()
            if rows is not None:
                return rows
        return self._rows_at(self.read_source())

    def _stat(self) -> StoredDataset | None:
        return self.versions.stat()

    def _describe(self) -> dict[str, Any]:
        return {"layout": "manifest" if isinstance(self.versions, S3Versions) else "symlink"}

    # -- Spark ------------------------------------------------------------------------------
    def _spark_load(self, spark: Any) -> Any:
        source = self.read_source()
        paths = [source] if isinstance(source, str) else source
        base = paths[0] if isinstance(source, str) else self.uri
        return spark.read.option("basePath", base).parquet(*paths)

    def _spark_save(
        self, df: Any, scratch: Path, partition_by: list[str] | None, cancel: CancelToken
    ) -> int | None:
        stage: LocalVersionStage | S3VersionStage = self.versions.begin()
        try:
            writer = df.write.mode("overwrite")
            if partition_by:
                writer = writer.partitionBy(*partition_by)
            writer.parquet(stage.target)
            if not stage.has_data():  # an empty result: keep its schema in one file
                df.limit(0).coalesce(1).write.mode("append").parquet(stage.target)
            rows = self._rows_at(stage.target)
            cancel.publish(lambda: stage.publish(rows))
        finally:
            stage.discard()
        stage.collect_garbage()
        return rows
