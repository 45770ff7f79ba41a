"""THE read -> call -> write path. The local runner and the cloud entry points (Lambda,
Glue, EMR Serverless) both run a task through ``execute_task``; there is no second path.

Imports only polars, pydantic, the standard library, glacier.runtime.event, glacier.formats,
glacier.errors and glacier.io.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import polars as pl

from glacier.errors import ExecutionError, GlacierError
from glacier.io import CancelToken, as_lazy, scan_uri, stat_uri, write_atomic
from glacier.io.location import StorageOptions
from glacier.runtime.event import TaskEvent, TaskResult
from glacier.runtime.schema_check import check_input, check_output


def one_line(exc: BaseException) -> str:
    """``Type: message`` on one line (Polars errors span several)."""
    return f"{type(exc).__name__}: " + " ".join(str(exc).split())


def read_inputs(event: TaskEvent, storage_options: StorageOptions | None) -> dict[str, pl.LazyFrame]:
    """One LazyFrame per task parameter (scans only: nothing is read yet), each checked
    against its declared schema (footers only)."""
    frames = {p: scan_uri(loc.uri, loc.format, storage_options) for p, loc in event.inputs.items()}
    for param, loc in event.inputs.items():
        check_input(event.task, param, loc.uri, frames[param], loc.schema_)
    return frames


def call_task(event: TaskEvent, func: Callable[..., Any], frames: dict[str, Any]) -> pl.LazyFrame:
    try:
        result = func(**frames)
    except GlacierError:
        raise
    except Exception as exc:
        raise ExecutionError(
            f"Task '{event.task}' failed: {one_line(exc)}",
            task=event.task,
            fix=f"fix the error raised inside '{event.code_ref}'.",
        ) from exc
    return as_lazy(result, task=event.task)


def write_output(
    event: TaskEvent,
    frame: pl.LazyFrame,
    storage_options: StorageOptions | None,
    *,
    cancel: CancelToken | None = None,
) -> tuple[int | None, int]:
    """Write atomically (partitioned as the event says); returns (rows or None, bytes stored)."""
    out = event.output
    check_output(event.task, out.uri, frame, out.schema_)
    try:
        rows = write_atomic(
            frame, out.uri, out.format, storage_options, partition_by=event.partition_by, cancel=cancel
        )
    except (GlacierError, pl.exceptions.PolarsError, OSError) as exc:
        if isinstance(exc, GlacierError):
            raise
        raise ExecutionError(
            f"Task '{event.task}' failed while computing/writing '{out.uri}': {one_line(exc)}",
            task=event.task,
            fix=f"fix the query '{event.code_ref}' returns, or check '{out.uri}' is writable.",
        ) from exc
    stored = stat_uri(out.uri, out.format, storage_options)
    return rows, stored.bytes if stored else 0


def execute_task(
    event: TaskEvent,
    func: Callable[..., Any],
    storage_options: StorageOptions | None,
    *,
    cancel: CancelToken | None = None,
) -> TaskResult:
    """Scan the inputs, call the task, stream its result atomically to the output."""
    started = time.perf_counter()
    frames = read_inputs(event, storage_options)
    frame = call_task(event, func, frames)
    if cancel is not None:
        cancel.check()
    rows, size = write_output(event, frame, storage_options, cancel=cancel)
    return TaskResult(
        pipeline=event.pipeline,
        task=event.task,
        output=event.output.uri,
        rows=rows,
        bytes=size,
        seconds=round(time.perf_counter() - started, 6),
    )
