"""The Spark entry point: the Glue 5 ``glueetl`` script and the EMR Serverless entryPoint,
and the code ``glacier run`` runs a Spark task through locally.

The job runs this file with the ``TaskEvent`` as the JSON argument ``--glacier-event``
(Glue ``Arguments`` / EMR ``entryPointArguments``; other arguments, such as Glue's own, are
ignored), and in a partitioned pipeline the execution's partition as the JSON argument
``--glacier-partition`` (the event then reads and publishes that partition only); the code
bundle is on the path through ``--extra-py-files`` (Glue) or ``--py-files`` (EMR). What
runs depends on the task the event names:

- **pyspark-typed** (annotated with ``pyspark.sql.DataFrame``): a SparkSession (the
  cluster's), each input read by Spark in its format, the task called, its DataFrame written
  by Spark into a staged location and published whole (``glacier.io.datasets.spark_io``).
  Nothing of this imports Polars.
- **Polars-typed with ``partition_by``** keys: the inputs co-partitioned by the keys and the
  Polars function run per co-partition on the executors (``spark_copartition``).
- **Polars-typed without keys**: Polars on the driver alone (one node), as on Lambda.

Every mode goes through the one read -> call -> write core (``glacier.runtime.core``). The
``TaskResult`` JSON (rows, bytes, seconds) is printed on stdout; a failure exits non-zero
with one message naming the pipeline, the task and the fix, which fails the job run and,
through ``.sync``, the state machine's Task state.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from glacier.errors import ExecutionError
from glacier.io.cancel import CancelToken
from glacier.io.location import StorageOptions
from glacier.runtime import core
from glacier.runtime.event import SPARK_EVENT_ARG, SPARK_PARTITION_ARG, TaskEvent, TaskResult

SparkMode = Literal["pyspark", "copartitioned", "driver"]


@dataclass(frozen=True)
class SparkRun:
    """One task run through the Spark entry: its result and how it ran."""

    result: TaskResult
    mode: SparkMode
    copartitions: int = 0  # co-partitions planned (copartitioned mode)
    partitions_used: int = 0  # co-partitions that had rows and ran the task


def parse_event(argv: Sequence[str]) -> dict[str, object]:
    """The ``--glacier-event`` JSON among the job's arguments (Glue adds its own, ignored),
    with a partitioned pipeline's ``--glacier-partition`` (the execution's partition) in it:
    the event then runs that one partition, as a Lambda task's does."""
    parser = argparse.ArgumentParser(prog="glacier-entry", add_help=False)
    parser.add_argument(SPARK_EVENT_ARG, dest="event", required=True)
    parser.add_argument(SPARK_PARTITION_ARG, dest="partition")
    known, _unknown = parser.parse_known_args(list(argv))
    event = json.loads(known.event)
    if not isinstance(event, dict):
        raise SystemExit(f"glacier: {SPARK_EVENT_ARG} must be a JSON object (a TaskEvent).")
    if known.partition is not None:
        partition = json.loads(known.partition)
        if not isinstance(partition, dict):
            raise SystemExit(
                f"glacier: {SPARK_PARTITION_ARG} must be a JSON object of partition keys to values "
                f'(e.g. {{"date": "2026-11-30"}}), not {known.partition}.'
            )
        event["partition"] = partition
    return event


def spark_mode(func: Callable[..., Any], event: TaskEvent) -> SparkMode:
    from glacier.code import dataframe_api

    if dataframe_api(func) == "pyspark":
        return "pyspark"
    return "copartitioned" if event.partition_by else "driver"


def _session(event: TaskEvent, mode: SparkMode) -> Any:
    try:
        from glacier.runtime.spark_engine import spark_session

        return spark_session()
    except ImportError:
        what = "annotated with pyspark.sql.DataFrame" if mode == "pyspark" else "a partitioned task on Spark"
        raise ExecutionError(
            f"Task '{event.task}' is {what}, but pyspark is not installed.",
            task=event.task,
            fix="install the spark extra (pip install 'glacier[spark]', needs Java 17+), or "
            + (
                "annotate the task with Polars types to run it with Polars."
                if mode == "pyspark"
                else "drop partition_by to run it with Polars on one node."
            ),
        ) from None


def run_on_spark(
    event: TaskEvent,
    func: Callable[..., Any],
    options: StorageOptions | None,
    *,
    cancel: CancelToken | None = None,
    spark: Any = None,
) -> SparkRun:
    """Run ``event``'s task as the Spark entry does (locally: ``local[*]`` and local files)."""
    mode = spark_mode(func, event)
    if mode == "driver":
        return SparkRun(core.execute_task(event, func, options, cancel=cancel), mode)
    session = spark if spark is not None else _session(event, mode)
    from glacier.runtime.spark_engine import SparkEngine, under_spark_submit

    connector = under_spark_submit()  # a cluster reaches S3 itself (EMRFS); local Spark does not
    with tempfile.TemporaryDirectory(prefix="glacier-spark-") as temp:
        if mode == "pyspark":
            # Typed as the core's Engine protocol, so mypy checks each engine against it.
            engine: core.Engine = SparkEngine(session, Path(temp), s3_connector=connector)
            return SparkRun(core.execute_task(event, func, options, cancel=cancel, engine=engine), mode)
        from glacier.runtime.spark_copartition import CoPartitionEngine

        keys = list(event.partition_by or [])
        copartitioned = CoPartitionEngine(session, Path(temp), keys, s3_connector=connector)
        checked: core.Engine = copartitioned
        result = core.execute_task(event, func, options, cancel=cancel, engine=checked)
        run = SparkRun(result, mode, copartitioned.copartitions, copartitioned.partitions_used)
    print(
        f"glacier: task '{event.task}' ran on Spark in {run.partitions_used} of {run.copartitions} "
        f"co-partitions by {keys}",
        file=sys.stderr,
    )
    return run


def run_event(payload: Mapping[str, Any], storage: Mapping[str, str] | None = None) -> dict[str, Any]:
    """Validate the event, run its task, return the TaskResult as JSON-ready data."""
    from glacier.code import import_code_ref
    from glacier.io.location import aws_storage_options, is_s3
    from glacier.runtime.lambda_handler import TaskFailedError

    event = TaskEvent.model_validate(dict(payload))
    where = f"Task '{event.task}' of pipeline '{event.pipeline}'"
    try:
        func = import_code_ref(event.code_ref, event.task)
        # No config in the cloud: region, endpoint and credentials are the environment's
        # (asked only when the task touches S3: a local run of the entry needs none).
        locations = [*event.inputs.values(), event.output]
        options = (
            dict(storage)
            if storage is not None
            else (aws_storage_options() if any(is_s3(loc.uri) for loc in locations) else None)
        )
        run = run_on_spark(event, func, options)
    except Exception as exc:
        raise TaskFailedError(f"{where} failed: {exc}") from exc
    result = run.result
    print(
        f"glacier: {where.lower()} wrote {result.output} ({result.rows} rows, {result.bytes} bytes, "
        f"{result.seconds:.3f} s, {run.mode})",
        file=sys.stderr,
    )
    return result.model_dump(mode="json")


def main(argv: Sequence[str] | None = None) -> dict[str, Any]:
    event = parse_event(sys.argv[1:] if argv is None else argv)
    try:
        result = run_event(event)
    except Exception as exc:  # one message, no traceback: the job run's error names the task
        raise SystemExit(f"glacier: {exc}") from None
    print(json.dumps(result, sort_keys=True))
    return result


if __name__ == "__main__":
    main()
