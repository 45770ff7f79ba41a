"""Spark tasks locally: pyspark-typed tasks, and Polars tasks co-partitioned on a spark
executor (``partition_by``), run through the same code the Glue / EMR job runs
(``glacier.runtime.spark_entry.run_on_spark``), on a local Spark session (``local[*]``,
local files; S3 through local copies Polars makes, as local Spark has no S3 connector)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from glacier.dag.model import TaskNode
from glacier.io import CancelToken, StorageOptions
from glacier.runtime.event import TaskEvent, TaskResult
from glacier.runtime.spark_entry import run_on_spark


def runs_on_spark(task: TaskNode, event: TaskEvent) -> bool:
    """Whether the task runs on Spark locally (otherwise: Polars alone)."""
    return task.dataframe_api == "pyspark" or (task.executor.kind == "spark" and bool(event.partition_by))


def execute_spark_task(
    event: TaskEvent,
    func: Callable[..., Any],
    options: StorageOptions | None,
    *,
    cancel: CancelToken | None = None,
) -> TaskResult:
    return run_on_spark(event, func, options, cancel=cancel).result
