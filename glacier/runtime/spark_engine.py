"""The Spark engine of the one read -> call -> write path (``glacier.runtime.core``) for
pyspark-typed tasks, and the Spark session every Spark run uses.

Each input is read by Spark in its format and the result written by Spark into a staged
location, then published whole (``glacier.io.datasets.spark_io``). Imports no Polars: a
pyspark task's job has none (the Glue / EMR job package for pyspark tasks leaves it out).
"""

from __future__ import annotations

import os
import re
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from glacier.errors import ExecutionError
from glacier.formats import TEXT_FORMATS
from glacier.io.cancel import CancelToken
from glacier.io.datasets.spark_io import spark_read, spark_write
from glacier.io.datasets.spark_types import spark_type
from glacier.io.location import StorageOptions
from glacier.runtime import partition
from glacier.runtime.event import DatasetLocation, TaskEvent

_session_lock = threading.Lock()
LOCAL_MASTER_ENV = "GLACIER_SPARK_MASTER"  # the local master (default local[*])


def under_spark_submit() -> bool:
    """True when a Spark launcher (spark-submit, Glue, EMR Serverless) started this Python:
    the session then takes the cluster's configuration, never a local one."""
    return "PYSPARK_GATEWAY_PORT" in os.environ


def spark_session() -> Any:
    """The Spark session: the cluster's under a launcher; otherwise one local session per
    process (``local[*]``), whose Python workers run this interpreter."""
    from pyspark.sql import SparkSession

    with _session_lock:
        active = SparkSession.getActiveSession()
        if active is not None:
            return active
        if under_spark_submit():
            return SparkSession.builder.appName("glacier").getOrCreate()
        # Local Python workers (Polars tasks on Spark) must find polars and glacier: the
        # interpreter running this, not whatever 'python3' is first on PATH.
        os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
        return (
            SparkSession.builder.master(os.environ.get(LOCAL_MASTER_ENV, "local[*]"))
            .appName("glacier-local")
            .config("spark.ui.enabled", "false")
            .config("spark.sql.shuffle.partitions", "8")
            .config("spark.sql.session.timeZone", "UTC")
            .getOrCreate()
        )


def spark_errors() -> tuple[type[BaseException], ...]:
    """The exceptions a failed Spark query or write raises on the driver."""
    errors: list[type[BaseException]] = []
    try:
        from pyspark.errors import PySparkException

        errors.append(PySparkException)
    except ImportError:
        pass
    try:
        from py4j.protocol import Py4JError

        errors.append(Py4JError)
    except ImportError:
        pass
    return tuple(errors)


def declared_columns(location: DatasetLocation) -> dict[str, str] | None:
    """The declared columns of ``location`` (what a text input is read as)."""
    return dict(location.schema_.columns) if location.schema_ is not None else None


def read_location(
    spark: Any,
    event: TaskEvent,
    location: DatasetLocation,
    options: StorageOptions | None,
    scratch: Path,
    *,
    s3_connector: bool,
) -> Any:
    """Spark's frame of one input: declared text columns typed as declared, and one
    partition's key columns back from its path (as the Polars engine adds them)."""
    df = spark_read(
        spark,
        location.uri,
        location.format,
        options,
        scratch,
        s3_connector=s3_connector,
        declared=declared_columns(location),
        task=event.task,
    )
    if not location.partition:
        return df
    from pyspark.sql import functions as F

    for key, dtype in partition.key_dtypes(location).items():
        if key not in df.columns:  # written with the key inside the files: keep what is stored
            literal = F.lit(location.partition[key]).cast(spark_type(dtype, key, event.task))
            df = df.withColumn(key, literal)
    return df


def without_keys(df: Any, location: DatasetLocation) -> Any:
    """The frame one partition stores: its key columns dropped (its path holds them)."""
    if not location.partition:
        return df
    return df.drop(*(key for key in location.partition if key in df.columns))


def write_result(
    df: Any,
    event: TaskEvent,
    options: StorageOptions | None,
    scratch: Path,
    *,
    cancel: CancelToken | None,
    s3_connector: bool,
) -> tuple[int | None, int]:
    """Publish a task's Spark result at its output (one partition: without its key columns);
    returns rows and bytes. Both Spark engines write through here."""
    out = event.output
    return spark_write(
        without_keys(df, out),
        out.uri,
        out.format,
        options,
        scratch,
        partition_by=event.partition_by,
        cancel=cancel,
        s3_connector=s3_connector,
    )


def check_columns(event: TaskEvent, location: DatasetLocation, columns: list[str]) -> None:
    """The declared columns an input must have (a parquet input's dtypes are what is stored;
    a text input's declared columns are read as declared)."""
    if location.schema_ is None:
        return
    missing = [name for name in location.schema_.columns if name not in columns]
    if missing:
        raise ExecutionError(
            f"Task '{event.task}': input '{location.uri}' lacks the declared column(s) {missing} "
            f"(it has {columns}).",
            task=event.task,
            fix=f"write '{location.uri}' with those columns, or fix its schema declaration.",
        )


# How Spark says a declared text input holds a value that does not parse (FAILFAST reads).
_MALFORMED = re.compile(r"Malformed records are detected in record parsing: (\[.*?\])")
_CAUSES = re.compile(r"Caused by: [\w.$]+(?:Exception|Error): (.+?)(?= at [\w.$]+\(| Caused by:|$)")


def unparsed_input(event: TaskEvent, exc: BaseException) -> ExecutionError | None:
    """The error naming the input when ``exc`` is Spark failing to parse a value of a
    declared CSV / NDJSON input (found while the result is computed); None otherwise."""
    text = " ".join(str(exc).split())
    record = _MALFORMED.search(text)
    declared = {p: loc for p, loc in event.inputs.items() if loc.format in TEXT_FORMATS and loc.schema_}
    if record is None or not declared:
        return None
    named = {p: loc for p, loc in declared.items() if loc.uri.rstrip("/") in text} or declared
    params = " or ".join(f"'{p}'" for p in named)
    uris = " / ".join(loc.uri for loc in named.values())
    causes = _CAUSES.findall(text)
    why = f" ({causes[-1].strip()})" if causes else ""
    return ExecutionError(
        f"Task '{event.task}' cannot read input {params} ('{uris}') as declared: the record "
        f"{record.group(1)} holds a value that is not its column's declared type{why}. Nothing was written.",
        task=event.task,
        fix=f"correct that value in '{uris}', or declare its column as pl.String and convert it in "
        f"'{event.task}'.",
    )


class SparkEngine:
    """Frames are Spark DataFrames; ``scratch`` is a local folder for copies."""

    label = " on Spark"

    def __init__(self, spark: Any, scratch: Path, *, s3_connector: bool = False) -> None:
        self.spark = spark
        self.scratch = scratch
        self.s3_connector = s3_connector
        self.write_errors = spark_errors()

    def read(
        self,
        event: TaskEvent,
        param: str,
        location: DatasetLocation,
        options: StorageOptions | None,
        added: dict[str, dict[str, str]] | None = None,  # Spark reads check names only: none added
    ) -> Any:
        df = read_location(self.spark, event, location, options, self.scratch, s3_connector=self.s3_connector)
        check_columns(event, location, list(df.columns))
        return df

    def call(self, func: Callable[..., Any], frames: dict[str, Any]) -> Any:
        return func(**frames)

    def result(self, event: TaskEvent, value: Any) -> Any:
        from pyspark.sql import DataFrame as SparkDataFrame

        if not isinstance(value, SparkDataFrame):
            raise ExecutionError(
                f"Task '{event.task}' is a pyspark task but returned {type(value).__name__}, "
                "not a pyspark.sql.DataFrame.",
                task=event.task,
                fix=f"make '{event.task}' return the Spark DataFrame it builds.",
            )
        return value

    def write(
        self,
        event: TaskEvent,
        frame: Any,
        options: StorageOptions | None,
        *,
        cancel: CancelToken | None,
        added: dict[str, dict[str, str]] | None = None,
    ) -> tuple[int | None, int]:
        out = event.output
        check_columns(event, out, list(frame.columns))
        try:
            return write_result(
                frame, event, options, self.scratch, cancel=cancel, s3_connector=self.s3_connector
            )
        except self.write_errors as exc:
            # An input that does not parse as declared shows only now: name it, not the output.
            bad_input = unparsed_input(event, exc)
            if bad_input is None:
                raise
            raise bad_input from exc
