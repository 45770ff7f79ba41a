"""Spark reads and writes of every dataset format, published as every other write, without
Polars (a pyspark task's job has none).

A read asks the format's Spark reader for the published data (a directory dataset at the
version its symlink or manifest names, hive partition columns included). A write has Spark
write into a staged location (``filestage`` for a file, a new version for a directory:
``versions_local`` / ``versions_s3``) and then publishes it in one step, as ``Dataset.save``
does: a failed or cancelled job leaves the previous version and nothing readers can see.

Where Spark cannot go, Polars does (imported then, never before): Arrow IPC, which Spark has
no reader or writer for, and S3 from a local Spark without the Hadoop S3 connector, both
through a local parquet copy in ``scratch``.

S3 file datasets: Spark writes one part file under the dataset's staging folder
(``<parent>/.glacier-tmp-staging-<name>/<writer>-<name>/``), which the publish copies onto
the key; a job role writing such a dataset needs that folder (``staging_prefix_pattern``).
"""

from __future__ import annotations

import csv
import io
import secrets
import shutil
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from glacier.errors import ExecutionError
from glacier.formats import TEXT_FORMATS, Format
from glacier.io.cancel import CancelToken
from glacier.io.datasets.current import directory_versions, read_source
from glacier.io.datasets.filestage import open_stage
from glacier.io.datasets.objects import put_bytes
from glacier.io.datasets.spark_types import declared_schema
from glacier.io.datasets.stored import HIDDEN_PREFIXES
from glacier.io.location import StorageOptions, is_s3, split_s3
from glacier.io.s3 import S3Client
from glacier.io.staging import STAGING_FOLDER

# Spark's reader/writer of each format; None: Spark has none (read and written via Polars).
SPARK_FORMATS: dict[Format, str | None] = {
    Format.PARQUET: "parquet",
    Format.PARQUET_DIR: "parquet",
    Format.CSV: "csv",
    Format.NDJSON: "json",  # Spark's json is JSON lines
    Format.IPC: None,
}
_ROWS_FROM_METADATA = {Format.PARQUET, Format.PARQUET_DIR}  # what the Polars path counts too


def staging_prefix_pattern(path: str) -> str:
    """The keys a Spark write of S3 file dataset ``path`` stages under (for IAM)."""
    parent, _, name = path.rpartition("/")
    return f"{parent}/" * bool(parent) + f"{STAGING_FOLDER}{name}/*"


def _via_polars(uri: str, fmt: Format, s3_connector: bool) -> bool:
    return SPARK_FORMATS[fmt] is None or (is_s3(uri) and not s3_connector)


def _polars_needed(uri: str, fmt: Format) -> ExecutionError:
    return ExecutionError(
        f"'{uri}' ({fmt.value}) is read and written through Polars on Spark (Spark has no reader "
        "for it here), and this job's Python has no Polars.",
        fix="store the dataset as parquet, csv or ndjson, or run the task with the polars job package.",
    )


def spark_read(
    spark: Any,
    uri: str,
    fmt: Format,
    options: StorageOptions | None,
    scratch: Path,
    *,
    s3_connector: bool = False,
    declared: Mapping[str, str] | None = None,
    task: str = "?",
) -> Any:
    """A Spark DataFrame over the published data at ``uri``. ``declared``: the dataset's
    declared columns (name -> Polars dtype name); a CSV / NDJSON file, which stores no
    dtypes, reads them as declared, as the Polars read does (``scan_dtypes``)."""
    typed = dict(declared or {}) if fmt in TEXT_FORMATS else {}
    if _via_polars(uri, fmt, s3_connector):
        try:
            from glacier.dag.schema import to_polars
            from glacier.io.datasets import open_dataset
        except ImportError:
            raise _polars_needed(uri, fmt) from None
        local = scratch / f"in-{secrets.token_hex(4)}.parquet"
        dtypes = {name: to_polars(dtype) for name, dtype in typed.items()}
        open_dataset(uri, fmt, options, dtypes=dtypes).load().sink_parquet(local)
        return spark.read.parquet(str(local))
    if fmt is Format.PARQUET_DIR:
        source = read_source(uri, directory_versions(uri, options))
        paths = [source] if isinstance(source, str) else source
        return spark.read.option("basePath", paths[0] if isinstance(source, str) else uri).parquet(*paths)
    reader = spark.read.option("header", "true") if fmt is Format.CSV else spark.read
    if typed:
        return _read_declared(reader, uri, fmt, typed, task)
    if fmt is Format.CSV:
        reader = reader.option("inferSchema", "true")
    return getattr(reader, str(SPARK_FORMATS[fmt]))(uri)


def _read_declared(reader: Any, uri: str, fmt: Format, declared: dict[str, str], task: str) -> Any:
    """A text file read with a schema: its declared columns as declared, the others as Spark
    infers them; a value that does not parse as declared fails the read (FAILFAST), as it
    fails the Polars read, instead of becoming a null."""
    name = str(SPARK_FORMATS[fmt])
    found = getattr(reader, name)(uri)  # CSV: the header line only; JSON lines: inferred
    inferred = {f.name: f.dataType for f in found.schema.fields}
    columns = list(found.columns)  # CSV: by position, as in the header
    if fmt is Format.NDJSON:  # by name: declared ones first, in order (Spark infers them sorted)
        columns = [c for c in declared if c in inferred] + [c for c in columns if c not in declared]
    if fmt is Format.CSV and any(c not in declared for c in columns):
        inferred = {f.name: f.dataType for f in reader.option("inferSchema", "true").csv(uri).schema.fields}
    schema = declared_schema(columns, declared, inferred, task=task)
    return getattr(reader.schema(schema).option("mode", "FAILFAST"), name)(uri)


def spark_write(
    df: Any,
    uri: str,
    fmt: Format,
    options: StorageOptions | None,
    scratch: Path,
    *,
    partition_by: list[str] | None = None,
    cancel: CancelToken | None = None,
    s3_connector: bool = False,
) -> tuple[int | None, int]:
    """Write ``df`` to ``uri`` and publish it whole; returns (rows or None, bytes stored)."""
    if _via_polars(uri, fmt, s3_connector):
        return _write_via_polars(df, uri, fmt, options, scratch, partition_by, cancel)
    if fmt is Format.PARQUET_DIR:
        return _write_directory(df, uri, options, partition_by, cancel)
    if is_s3(uri):
        return _write_s3_file(df, uri, fmt, options, cancel)
    return _write_local_file(df, uri, fmt, options, scratch, cancel)


def _write_via_polars(
    df: Any,
    uri: str,
    fmt: Format,
    options: StorageOptions | None,
    scratch: Path,
    partition_by: list[str] | None,
    cancel: CancelToken | None,
) -> tuple[int | None, int]:
    try:
        import polars as pl

        from glacier.io.datasets import open_dataset
    except ImportError:
        raise _polars_needed(uri, fmt) from None
    out = scratch / f"out-{secrets.token_hex(4)}"
    df.write.mode("overwrite").parquet(str(out))
    dataset = open_dataset(uri, fmt, options)
    rows = dataset.save(
        pl.scan_parquet(str(out), hidden_file_prefix=HIDDEN_PREFIXES),
        partition_by=partition_by,
        cancel=cancel,
    )
    stored = dataset.stat()
    return rows, stored.bytes if stored else 0


def _write_directory(
    df: Any,
    uri: str,
    options: StorageOptions | None,
    partition_by: list[str] | None,
    cancel: CancelToken | None,
) -> tuple[int | None, int]:
    versions = directory_versions(uri if uri.endswith("/") else uri + "/", options)
    stage = versions.begin()
    try:
        writer = df.write.mode("overwrite")
        if partition_by:
            writer = writer.partitionBy(*partition_by)
        writer.parquet(stage.target)
        if not stage.has_data():  # an empty result: keep its schema in one file
            df.limit(0).coalesce(1).write.mode("append").parquet(stage.target)
        rows = int(df.sparkSession.read.parquet(stage.target).count())
        (cancel or CancelToken()).publish(lambda: stage.publish(rows))
        stage.collect_garbage()
    finally:
        stage.discard()
    stored = versions.stat()
    return rows, stored.bytes if stored else 0


def _write_part(df: Any, fmt: Format, target: str) -> None:
    """Spark writes ``df`` as one part file (``coalesce(1)``) into folder ``target``."""
    writer = df.coalesce(1).write.mode("overwrite")
    if fmt is Format.CSV:
        writer = writer.option("header", "true")
    getattr(writer, str(SPARK_FORMATS[fmt]))(target)


def _empty_file(df: Any, fmt: Format, uri: str) -> bytes:
    """What a zero-row result stores when Spark wrote no data: the csv header; ndjson
    cannot record columns, so it is refused (as the Polars path refuses it)."""
    if fmt is Format.PARQUET:  # Spark writes a schema-only file for an empty result
        raise ExecutionError(
            f"Spark wrote no file for the result of '{uri}'; nothing was written.",
            fix="run again; if it recurs, report it with the Spark version.",
        )
    if fmt is Format.NDJSON:
        raise ExecutionError(
            f"The result for '{uri}' has no rows, and an .ndjson/.jsonl file cannot record the "
            "columns of an empty result (a task reading it could not run); nothing was written.",
            fix="store this dataset as .parquet or .arrow (they keep the columns of an empty "
            "result) or .csv (keeps their names), or make the task return at least one row.",
        )
    header = io.StringIO()
    csv.writer(header, lineterminator="\n").writerow(df.columns)
    return header.getvalue().encode()


def _rows(df: Any, fmt: Format, target: str) -> int | None:
    if fmt not in _ROWS_FROM_METADATA:
        return None
    return int(df.sparkSession.read.parquet(target).count())


def _write_local_file(
    df: Any, uri: str, fmt: Format, options: StorageOptions | None, scratch: Path, cancel: CancelToken | None
) -> tuple[int | None, int]:
    stage = open_stage(uri, options)
    try:
        out = scratch / f"out-{secrets.token_hex(4)}"
        _write_part(df, fmt, str(out))
        parts = sorted(p for p in out.iterdir() if p.name.startswith("part-"))
        rows: int | None = None
        if parts and (fmt is Format.PARQUET or parts[0].stat().st_size > 0):
            rows = _rows(df, fmt, str(parts[0]))
            shutil.move(parts[0], stage.target)  # scratch may be another filesystem
        else:  # Spark wrote no data for an empty result
            Path(stage.target).write_bytes(_empty_file(df, fmt, uri))
        (cancel or CancelToken()).publish(stage.publish)
    finally:
        stage.discard()
    return rows, Path(uri).stat().st_size


def _write_s3_file(
    df: Any, uri: str, fmt: Format, options: StorageOptions | None, cancel: CancelToken | None
) -> tuple[int | None, int]:
    stage = open_stage(uri, options)
    bucket, key = split_s3(uri)
    client = S3Client(options)
    folder = stage.target + "/"
    _, folder_key = split_s3(folder)
    try:
        _write_part(df, fmt, folder)
        parts = [o for o in client.list(bucket, folder_key) if o.key[len(folder_key) :].startswith("part-")]
        publish: Callable[[], None]
        if parts and (fmt is Format.PARQUET or parts[0].size > 0):
            part = parts[0].key
            rows = _rows(df, fmt, f"s3://{bucket}/{part}")
            publish = lambda: client.copy(bucket, part, key)  # noqa: E731 - one server-side copy
        else:
            body = _empty_file(df, fmt, uri)
            rows = None
            publish = lambda: put_bytes(bucket, key, body, options)  # noqa: E731 - one PUT
        (cancel or CancelToken()).publish(publish)
    finally:
        for obj in client.list(bucket, folder_key):
            client.delete(bucket, obj.key)
        stage.discard()
    head = client.head(bucket, key)
    return rows, head.size if head else 0
