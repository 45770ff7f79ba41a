"""Run a pyspark-typed task on a local Spark session (the ``spark`` extra).

The task goes through the one read -> call -> write path (``glacier.runtime.core``) with
``SparkEngine``: each input is read by Spark in its format (``Dataset.spark_load``: local
files directly; S3, which local Spark cannot reach without a Hadoop connector, and Arrow IPC,
which Spark cannot read, through a local parquet copy Polars makes), and the result is
written through the output's dataset class (``Dataset.spark_save``), published whole as every
other write.
"""

from __future__ import annotations

import tempfile
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from glacier.errors import ExecutionError
from glacier.io import CancelToken, Dataset, StorageOptions
from glacier.runtime import core
from glacier.runtime.event import TaskEvent, TaskResult

_session_lock = threading.Lock()
_session: Any = None


def spark_session() -> Any:
    """One local Spark session per process, created on first use."""
    global _session
    with _session_lock:
        if _session is None:
            from pyspark.sql import SparkSession

            _session = (
                SparkSession.builder.master("local[*]")
                .appName("glacier-local")
                .config("spark.ui.enabled", "false")
                .config("spark.sql.shuffle.partitions", "8")
                .config("spark.sql.session.timeZone", "UTC")
                .getOrCreate()
            )
        return _session


class SparkEngine:
    """Frames are Spark DataFrames; ``scratch`` is a local folder for copies."""

    label = " on Spark"

    def __init__(self, spark: Any, scratch: Path, *, s3_connector: bool = False) -> None:
        self.spark = spark
        self.scratch = scratch
        self.s3_connector = s3_connector

    def read(self, dataset: Dataset) -> Any:
        return dataset.spark_load(self.spark, self.scratch, s3_connector=self.s3_connector)

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
        self, dataset: Dataset, frame: Any, *, partition_by: list[str] | None, cancel: CancelToken | None
    ) -> int | None:
        return dataset.spark_save(frame, self.scratch, partition_by=partition_by, cancel=cancel)


def execute_spark_task(
    event: TaskEvent,
    func: Callable[..., Any],
    options: StorageOptions | None,
    *,
    cancel: CancelToken | None = None,
) -> TaskResult:
    try:
        import pyspark.sql  # noqa: F401
    except ImportError:
        raise ExecutionError(
            f"Task '{event.task}' is annotated with pyspark.sql.DataFrame, but pyspark is not installed.",
            task=event.task,
            fix="install the spark extra (pip install 'glacier[spark]', needs Java 17+), or annotate "
            "the task with Polars types to run it with Polars.",
        ) from None
    with tempfile.TemporaryDirectory(prefix="glacier-spark-") as temp:
        engine = SparkEngine(spark_session(), Path(temp))
        return core.execute_task(event, func, options, cancel=cancel, engine=engine)
