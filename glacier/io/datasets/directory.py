"""The directory dataset: hive-partitioned parquet under a path ending in '/'.

It appears to readers all at once, locally (``versions_local``: versions behind a symlink)
and on S3 (``versions_s3``: version roots named by a manifest); every reader resolves the
current version first (``read_source``) and scans only it. A zero-row result is stored as one
parquet file holding just the schema, so a reader gets the columns back.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import polars as pl

from glacier.formats import Format
from glacier.io.datasets.base import HIDDEN_PREFIXES, Dataset, PendingWrite, StoredDataset
from glacier.io.datasets.current import directory_versions, read_source
from glacier.io.datasets.versions_local import LocalVersions, LocalVersionStage, data_files
from glacier.io.datasets.versions_s3 import S3Versions, S3VersionStage
from glacier.io.location import StorageOptions

_FILE_BYTES = 256 * 1024 * 1024  # unkeyed directory datasets: split files at about this size
_SCHEMA_FILE = "00000000.parquet"  # the one file of a zero-row result


class ParquetDirectoryDataset(Dataset):
    format = Format.PARQUET_DIR
    is_directory = True
    counts_rows = True
    spark_format = "parquet"
    s3_read_overhead = (1, 1)  # GET the manifest, LIST the version
    s3_write_overhead = (1, 3)  # GET the manifest; LIST the staged files, PUT the manifest, LIST old ones

    def __init__(
        self,
        uri: str,
        options: StorageOptions | None = None,
        *,
        dtypes: Mapping[str, pl.DataType] | None = None,
    ) -> None:
        super().__init__(uri if uri.endswith("/") else uri + "/", options, dtypes=dtypes)
        self.versions: LocalVersions | S3Versions = directory_versions(self.uri, options)

    def read_source(self) -> str | list[str]:
        """What a reader scans now (``current.read_source``)."""
        return read_source(self.uri, self.versions)

    # -- Polars -----------------------------------------------------------------------------
    def _scan_kwargs(self) -> dict[str, Any]:
        return {"storage_options": self.options} if self.options else {}

    def _load(self) -> pl.LazyFrame:
        source = self.read_source()
        whole = pl.scan_parquet(
            source, hive_partitioning=True, hidden_file_prefix=HIDDEN_PREFIXES, **self._scan_kwargs()
        )
        if isinstance(self.versions, LocalVersions) and isinstance(source, list):
            return _pinned_partitions(self.uri, whole)
        return whole

    def _begin_write(self, partition_by: list[str] | None) -> DirectoryWrite:
        return DirectoryWrite(self, partition_by)

    def rows_at(self, source: str | list[str]) -> int:
        scan = pl.scan_parquet(
            source, hive_partitioning=False, hidden_file_prefix=HIDDEN_PREFIXES, **self._scan_kwargs()
        )
        return int(scan.select(pl.len()).collect().item())

    def _count_rows(self) -> int | None:
        if isinstance(self.versions, S3Versions):
            rows = self.versions.rows()
            if rows is not None:
                return rows
        return self.rows_at(self.read_source())

    def _stat(self) -> StoredDataset | None:
        return self.versions.stat()

    def _describe(self) -> dict[str, Any]:
        return {"layout": "manifest" if isinstance(self.versions, S3Versions) else "symlink"}


def _pinned_partitions(uri: str, whole: pl.LazyFrame) -> pl.LazyFrame:
    """A local partitioned dataset read whole, each partition pinned to its current version.

    A path through a partition's symlink may lead to another version by the time Polars opens
    the file (it opens a file more than once: its footer when planning, its data when
    reading), so each partition's symlink is resolved once and its version's files are read
    by their real paths, the key columns added from the partition's folder names, typed and
    placed as Polars' hive parsing of the symlinked paths gives them."""
    schema = whole.collect_schema()
    root = Path(uri)
    groups: dict[tuple[tuple[str, str], ...], list[str]] = {}
    for entry in sorted(root.iterdir()):
        if entry.name.startswith(HIDDEN_PREFIXES):
            continue
        real = Path(os.path.realpath(entry))
        base = _hive_values(entry.name)
        for file in data_files(real) if real.is_dir() else []:
            inside = file.relative_to(real).parts[:-1]
            values = base + tuple(kv for part in inside for kv in _hive_values(part))
            groups.setdefault(values, []).append(str(file))
    if not groups:
        return whole
    frames = []
    for values, files in groups.items():
        frame = pl.scan_parquet(files, hive_partitioning=False, hidden_file_prefix=HIDDEN_PREFIXES)
        stored = set(frame.collect_schema().names())
        keys = [_typed(v, schema[k]).alias(k) for k, v in values if k in schema and k not in stored]
        frames.append(frame.with_columns(keys).select(list(schema)))
    return pl.concat(frames, how="vertical_relaxed")


def _typed(value: str, dtype: pl.DataType) -> pl.Expr:
    """A hive value as the column type Polars inferred for it (dates are parsed, not cast)."""
    if dtype == pl.Date:
        return pl.lit(value).str.to_date()
    if isinstance(dtype, pl.Datetime):
        return pl.lit(value).str.to_datetime().cast(dtype)
    return pl.lit(value).cast(dtype)


def _hive_values(folder: str) -> tuple[tuple[str, str], ...]:
    key, sep, value = folder.partition("=")
    return ((key, value),) if sep and key else ()


class DirectoryWrite(PendingWrite):
    """One staged write of a directory dataset: a new version, published whole."""

    dataset: ParquetDirectoryDataset

    def __init__(self, dataset: ParquetDirectoryDataset, partition_by: list[str] | None) -> None:
        super().__init__(dataset, partition_by)
        self.stage: LocalVersionStage | S3VersionStage = dataset.versions.begin()
        self.target = self.stage.target

    def _sink(self, frame: pl.LazyFrame, kwargs: dict[str, Any]) -> pl.LazyFrame | None:
        destination = (
            pl.PartitionBy(self.target, key=self.partition_by)
            if self.partition_by
            else pl.PartitionBy(self.target, approximate_bytes_per_file=_FILE_BYTES)
        )
        return frame.sink_parquet(destination, **kwargs)

    def _finish(self) -> int | None:
        if not self.stage.has_data():  # zero rows: one file holding the schema
            empty = pl.LazyFrame(schema=self.columns())
            empty.sink_parquet(self.target + _SCHEMA_FILE, **self.dataset.storage_kwargs(self.target))
        return self.dataset.rows_at(self.target)

    def _publish(self, rows: int | None) -> None:
        self.stage.publish(rows)

    def discard(self) -> None:
        self.stage.discard()

    def _after_publish(self) -> None:
        self.stage.collect_garbage()
