"""The Spark engine of the one read -> call -> write path (``glacier.runtime.core``) for
pyspark-typed tasks, and the Spark session every Spark run uses.

Each input is read by Spark in its format and the result written by Spark into a staged
location, then published whole (``glacier.io.datasets.spark_io``). Imports no Polars: a
pyspark task's job has none (the Glue / EMR job package for pyspark tasks leaves it out).
"""

from __future__ import annotations

import os
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from glacier.errors import ExecutionError
from glacier.io.cancel import CancelToken
from glacier.io.datasets.spark_io import spark_read, spark_write
from glacier.io.location import StorageOptions
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


def check_columns(event: TaskEvent, location: DatasetLocation, columns: list[str]) -> None:
    """The declared columns an input must have (Spark reads what is stored: the names are
    checked; the dtypes are Spark's)."""
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


class SparkEngine:
    """Frames are Spark DataFrames; ``scratch`` is a local folder for copies."""

    label = " on Spark"
    runs_partitions = False

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
        df = spark_read(
            self.spark, location.uri, location.format, options, self.scratch, s3_connector=self.s3_connector
        )
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
        return spark_write(
            frame,
            out.uri,
            out.format,
            options,
            self.scratch,
            partition_by=event.partition_by,
            cancel=cancel,
            s3_connector=self.s3_connector,
        )
