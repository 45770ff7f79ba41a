"""Run a pyspark-typed task on a local Spark session (the ``spark`` extra).

Spark reads the inputs (local parquet directly; anything else, or S3, is first staged to a
local parquet file by Polars, so no Hadoop S3 connector is needed), the task runs on Spark,
Spark writes its result to a temp folder, and Polars streams that into the target through
the same atomic write as every other task (``glacier.runtime.core.write_output``).
"""

from __future__ import annotations

import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import polars as pl

from glacier.errors import ExecutionError
from glacier.formats import Format
from glacier.io import CancelToken, StorageOptions, is_s3, scan_uri
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


def execute_spark_task(
    event: TaskEvent,
    func: Callable[..., Any],
    options: StorageOptions | None,
    *,
    cancel: CancelToken | None = None,
) -> TaskResult:
    try:
        from pyspark.sql import DataFrame as SparkDataFrame
    except ImportError:
        raise ExecutionError(
            f"Task '{event.task}' is annotated with pyspark.sql.DataFrame, but pyspark is not installed.",
            task=event.task,
            fix="install the spark extra (pip install 'glacier[spark]', needs Java 17+), or annotate "
            "the task with Polars types to run it with Polars.",
        ) from None
    started = time.perf_counter()
    spark = spark_session()
    with tempfile.TemporaryDirectory(prefix="glacier-spark-") as temp:
        frames = {}
        for param, location in event.inputs.items():
            if not is_s3(location.uri) and location.format in (Format.PARQUET, Format.PARQUET_DIR):
                path = location.uri
            else:
                path = str(Path(temp, f"in-{param}.parquet"))
                scan_uri(location.uri, location.format, options).sink_parquet(path)
            frames[param] = spark.read.parquet(path)
        try:
            result = func(**frames)
        except Exception as exc:
            raise ExecutionError(
                f"Task '{event.task}' failed on Spark: {core.one_line(exc)}",
                task=event.task,
                fix=f"fix the error raised inside '{event.code_ref}'.",
            ) from exc
        if not isinstance(result, SparkDataFrame):
            raise ExecutionError(
                f"Task '{event.task}' is a pyspark task but returned {type(result).__name__}, "
                "not a pyspark.sql.DataFrame.",
                task=event.task,
                fix=f"make '{event.task}' return the Spark DataFrame it builds.",
            )
        out = Path(temp, "out")
        result.write.parquet(str(out))
        frame = pl.scan_parquet(str(out) + "/*.parquet")
        rows, size = core.write_output(event, frame, options, cancel=cancel)
    return TaskResult(
        pipeline=event.pipeline,
        task=event.task,
        output=event.output.uri,
        rows=rows,
        bytes=size,
        seconds=round(time.perf_counter() - started, 6),
    )
