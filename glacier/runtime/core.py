"""THE read -> call -> write path. The local runner and the cloud entry points (Lambda,
Glue, EMR Serverless) run every task through ``execute_task``; there is no second path.

An ``Engine`` is the seam between the path and the dataframe library: it reads each input
into the frame the task takes (and checks it), checks what the task returns, and writes it
to the output, published whole. ``glacier.runtime.polars_engine.POLARS`` is the default;
``glacier.runtime.spark_engine`` runs pyspark-typed tasks and Polars tasks co-partitioned on
Spark through this same path. Every read and write goes through the format's dataset class
or its Spark counterpart (``glacier.io.datasets`` / ``glacier.io.datasets.spark_io``), so
whole publishes and version resolution hold for every engine and entry point.

Imports no dataframe library itself (a pyspark task's job has no Polars): only pydantic,
the standard library, glacier.runtime.event, glacier.errors and glacier.io's pure modules.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, Protocol

from glacier.errors import ExecutionError, GlacierError
from glacier.io.cancel import CancelToken
from glacier.io.location import StorageOptions
from glacier.runtime.event import DatasetLocation, TaskEvent, TaskResult


class Engine(Protocol):
    """How a task's frames are read, checked and written."""

    label: str  # how failures name the engine: "Task 'x' failed<label>: ..."
    # Errors of the library that mean "the query or the write failed" (named, not raised as is).
    write_errors: tuple[type[BaseException], ...]

    def read(
        self,
        event: TaskEvent,
        param: str,
        location: DatasetLocation,
        options: StorageOptions | None,
        added: dict[str, dict[str, str]] | None = None,
    ) -> Any:
        """The frame the task's parameter ``param`` gets, checked against its declaration
        (columns an 'evolve' declaration lets through go into ``added``: URI -> column -> dtype)."""
        ...

    def call(self, func: Callable[..., Any], frames: dict[str, Any]) -> Any: ...
    def result(self, event: TaskEvent, value: Any) -> Any: ...
    def write(
        self,
        event: TaskEvent,
        frame: Any,
        options: StorageOptions | None,
        *,
        cancel: CancelToken | None,
        added: dict[str, dict[str, str]] | None = None,
    ) -> tuple[int | None, int]:
        """Check ``frame`` against the output's declaration (``added`` as for ``read``), write
        it and publish it whole; returns (rows or None, bytes stored)."""
        ...


def default_engine() -> Engine:
    from glacier.runtime.polars_engine import POLARS

    return POLARS


def one_line(exc: BaseException) -> str:
    """``Type: message`` on one line (Polars errors span several)."""
    return f"{type(exc).__name__}: " + " ".join(str(exc).split())


def read_inputs(
    event: TaskEvent,
    storage_options: StorageOptions | None,
    engine: Engine | None = None,
    added: dict[str, dict[str, str]] | None = None,
) -> dict[str, Any]:
    """One frame per task parameter (for Polars, scans only: nothing is read yet), each
    checked against its declared schema; columns an 'evolve' declaration lets through go
    into ``added`` (dataset URI -> column -> dtype)."""
    engine = engine or default_engine()
    return {
        param: engine.read(event, param, loc, storage_options, added) for param, loc in event.inputs.items()
    }


def call_task(
    event: TaskEvent, func: Callable[..., Any], frames: dict[str, Any], engine: Engine | None = None
) -> Any:
    engine = engine or default_engine()
    try:
        result = engine.call(func, frames)
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
    engine: Engine | None = None,
    added: dict[str, dict[str, str]] | None = None,
) -> tuple[int | None, int]:
    """Write atomically (partitioned as the event says), then bring the output's catalog
    table (if deployed with one) to the new version; returns (rows or None, bytes stored)."""
    engine = engine or default_engine()
    out = event.output
    failures: tuple[type[BaseException], ...] = (*engine.write_errors, OSError)
    try:
        written = engine.write(event, frame, storage_options, cancel=cancel, added=added)
    except ExecutionError as exc:
        if exc.task:
            raise
        raise ExecutionError(f"Task '{event.task}': {exc.problem}", task=event.task, fix=exc.fix) from exc
    except GlacierError:
        raise
    except failures as exc:
        raise ExecutionError(
            f"Task '{event.task}' failed while computing/writing '{out.uri}'{engine.label}: {one_line(exc)}",
            task=event.task,
            fix=f"fix the query '{event.code_ref}' returns, or check '{out.uri}' is writable.",
        ) from exc
    if out.catalog is not None:
        from glacier.runtime.catalog import update_catalog

        update_catalog(event.task, out, event.partition_by or out.partition_by, storage_options)
    return written


def execute_task(
    event: TaskEvent,
    func: Callable[..., Any],
    storage_options: StorageOptions | None,
    *,
    cancel: CancelToken | None = None,
    engine: Engine | None = None,
) -> TaskResult:
    """Read the inputs, call the task, write its result atomically to the output."""
    started = time.perf_counter()
    engine = engine or default_engine()
    if event.partition is not None:  # every engine reads and publishes one partition alike
        from glacier.runtime import partition

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
