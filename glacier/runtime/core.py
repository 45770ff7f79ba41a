"""THE read -> call -> write path. The local runner and the cloud entry points (Lambda,
Glue, EMR Serverless) run every task through ``execute_task``; there is no second path.

An ``Engine`` is the seam between the path and the dataframe library: it turns each input
dataset into the frame the task takes, checks what the task returns, and writes it through
the output dataset. ``POLARS`` is the default; ``glacier.runner.spark.SparkEngine`` runs
pyspark-typed tasks through this same path. Every read and write goes through the format's
dataset class (``glacier.io.datasets``), so whole publishes and version resolution hold for
every engine and entry point.

Imports only polars, pydantic, botocore, the standard library, glacier.runtime (event,
schema_check, catalog, partition), glacier.formats, glacier.errors and glacier.io.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, Protocol

import polars as pl

from glacier.errors import ExecutionError, GlacierError
from glacier.io import CancelToken, Dataset, as_lazy, open_dataset
from glacier.io.location import StorageOptions
from glacier.runtime import partition
from glacier.runtime.catalog import update_catalog
from glacier.runtime.event import DatasetLocation, TaskEvent, TaskResult
from glacier.runtime.schema_check import check_input, check_output, scan_dtypes, unreadable


class Engine(Protocol):
    """How a task's frames are read, checked and written."""

    label: str  # how failures name the engine: "Task 'x' failed<label>: ..."

    def read(self, dataset: Dataset) -> Any: ...
    def result(self, event: TaskEvent, value: Any) -> Any: ...
    def write(
        self, dataset: Dataset, frame: Any, *, partition_by: list[str] | None, cancel: CancelToken | None
    ) -> int | None: ...


class PolarsEngine:
    label = ""

    def read(self, dataset: Dataset) -> pl.LazyFrame:
        return dataset.load()

    def result(self, event: TaskEvent, value: Any) -> pl.LazyFrame:
        return as_lazy(value, task=event.task)

    def write(
        self,
        dataset: Dataset,
        frame: pl.LazyFrame,
        *,
        partition_by: list[str] | None,
        cancel: CancelToken | None,
    ) -> int | None:
        return dataset.save(frame, partition_by=partition_by, cancel=cancel)


POLARS = PolarsEngine()


def one_line(exc: BaseException) -> str:
    """``Type: message`` on one line (Polars errors span several)."""
    return f"{type(exc).__name__}: " + " ".join(str(exc).split())


def dataset_at(location: DatasetLocation, options: StorageOptions | None) -> Dataset:
    dtypes = scan_dtypes(location.format, location.schema_)
    return open_dataset(location.uri, location.format, options, dtypes=dtypes)


def read_inputs(
    event: TaskEvent,
    storage_options: StorageOptions | None,
    engine: Engine = POLARS,
    added: dict[str, dict[str, str]] | None = None,
) -> dict[str, Any]:
    """One frame per task parameter (for Polars, scans only: nothing is read yet), each Polars
    scan checked against its declared schema (footers only); columns an 'evolve' declaration
    lets through go into ``added`` (dataset URI -> column -> dtype)."""
    frames = {
        param: engine.read(dataset_at(location, storage_options)) for param, location in event.inputs.items()
    }
    for param, location in event.inputs.items():
        if location.partition and isinstance(frames[param], pl.LazyFrame):
            frames[param] = partition.with_keys(frames[param], location)
    for param, location in event.inputs.items():
        if isinstance(frames[param], pl.LazyFrame):
            check = check_input(
                event.task, param, location.uri, frames[param], location.schema_, location.format
            )
            if check.added and added is not None:
                added[location.uri] = check.added_columns
    return frames


def call_task(
    event: TaskEvent, func: Callable[..., Any], frames: dict[str, Any], engine: Engine = POLARS
) -> Any:
    try:
        result = func(**frames)
    except GlacierError:
        raise
    except Exception as exc:
        raise ExecutionError(
            f"Task '{event.task}' failed{engine.label}: {one_line(exc)}",
            task=event.task,
            fix=f"fix the error raised inside '{event.code_ref}'.",
        ) from exc
    return engine.result(event, result)


def write_output(
    event: TaskEvent,
    frame: Any,
    storage_options: StorageOptions | None,
    *,
    cancel: CancelToken | None = None,
    engine: Engine = POLARS,
    added: dict[str, dict[str, str]] | None = None,
) -> tuple[int | None, int]:
    """Write atomically (partitioned as the event says); returns (rows or None, bytes stored).
    Columns beyond an 'evolve' output declaration go into ``added``."""
    out = event.output
    dataset = dataset_at(out, storage_options)
    if isinstance(frame, pl.LazyFrame):
        check = check_output(event.task, out.uri, frame, out.schema_)
        if check.added and added is not None:
            added[out.uri] = check.added_columns
        frame = partition.without_keys(frame, out)
    try:
        rows = engine.write(dataset, frame, partition_by=event.partition_by, cancel=cancel)
    except ExecutionError as exc:
        if exc.task:
            raise
        raise ExecutionError(f"Task '{event.task}': {exc.problem}", task=event.task, fix=exc.fix) from exc
    except GlacierError:
        raise
    except (pl.exceptions.PolarsError, OSError) as exc:
        inputs = {param: (loc.uri, loc.format, loc.schema_) for param, loc in event.inputs.items()}
        bad_input = unreadable(event.task, inputs, exc)
        if bad_input is not None:
            raise bad_input from exc
        raise ExecutionError(
            f"Task '{event.task}' failed while computing/writing '{out.uri}': {one_line(exc)}",
            task=event.task,
            fix=f"fix the query '{event.code_ref}' returns, or check '{out.uri}' is writable.",
        ) from exc
    update_catalog(event.task, out, event.partition_by or out.partition_by, storage_options)
    stored = dataset.stat()
    return rows, stored.bytes if stored else 0


def execute_task(
    event: TaskEvent,
    func: Callable[..., Any],
    storage_options: StorageOptions | None,
    *,
    cancel: CancelToken | None = None,
    engine: Engine = POLARS,
) -> TaskResult:
    """Read the inputs, call the task, write its result atomically to the output."""
    started = time.perf_counter()
    if event.partition is not None and engine is not POLARS:
        raise ExecutionError(
            f"Task '{event.task}' runs on Spark, which does not run one partition yet.",
            task=event.task,
            fix="run partitioned tasks on provider.local() or provider.serverless() (Polars).",
        )
    event = partition.in_partition(event)
    added: dict[str, dict[str, str]] = {}
    frames = read_inputs(event, storage_options, engine, added)
    frame = call_task(event, func, frames, engine)
    if cancel is not None:
        cancel.check()
    rows, size = write_output(event, frame, storage_options, cancel=cancel, engine=engine, added=added)
    return TaskResult(
        pipeline=event.pipeline,
        task=event.task,
        output=event.output.uri,
        rows=rows,
        bytes=size,
        seconds=round(time.perf_counter() - started, 6),
        schema_added=added,
    )
