"""One attempt at a task: the Polars core (or local Spark for a pyspark-typed task), under
the task's timeout when it has one, cancellable through its ``CancelToken``.

An attempt with a timeout runs in a child process (``glacier.runner.isolated``), which a
timeout or a stop of the run kills; untimed attempts run here, on the run's worker thread
(a stop of the run ends them with the process). A timed task that a fresh process cannot
import keeps the in-thread timeout below: cancelled past its timeout, retried only if it
returns within ``stop_grace``."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from glacier.dag.model import TaskNode
from glacier.errors import TaskTimeoutError
from glacier.io import CancelToken, StorageOptions, WriteCancelled
from glacier.runtime import core
from glacier.runtime.event import TaskEvent, TaskResult

__all__ = ["AttemptTimedOut", "attempt", "stop_grace"]

_WAIT_SLICE = 0.05  # how often a timed attempt's waiter looks at its token


class AttemptTimedOut(TaskTimeoutError):
    """A timeout; ``stopped`` says whether the attempt's work stopped once cancelled (only
    then may it be retried: a retry must never overlap the attempt it replaces)."""

    def __init__(self, message: str, *, task: str, fix: str, stopped: bool) -> None:
        super().__init__(message, task=task, fix=fix)
        self.stopped = stopped


def timed_out(task: TaskNode, timeout: float, *, stopped: bool) -> AttemptTimedOut:
    return AttemptTimedOut(
        f"Task '{task.name}' timed out after {timeout:g} s"
        + ("." if stopped else " and its work could not be stopped, so it was not retried."),
        task=task.name,
        fix=f"raise timeout= on '{task.name}' or make it faster.",
        stopped=stopped,
    )


def stop_grace(timeout: float) -> float:
    """How long a timed-out attempt may take to stop after its cancel."""
    return max(1.0, min(timeout, 10.0))


def attempt(
    task: TaskNode,
    event: TaskEvent,
    func: Callable[..., Any],
    options: StorageOptions | None,
    cancel: CancelToken,
) -> TaskResult:
    """Run the task once; raises what it raised, ``WriteCancelled`` when the token was
    cancelled, or ``AttemptTimedOut`` past its timeout."""

    def execute() -> TaskResult:
        from glacier.runner.spark import execute_spark_task, runs_on_spark

        if runs_on_spark(task, event):
            return execute_spark_task(event, func, options, cancel=cancel)
        return core.execute_task(event, func, options, cancel=cancel)

    if task.timeout is None:
        return execute()
    # Imported here: only a timed attempt needs a child process (multiprocessing, sockets,
    # subprocess: ~10 ms of every run's start-up otherwise).
    from glacier.runner.isolated import isolatable, run_isolated

    if isolatable(task, func):
        return run_isolated(task, event, options, cancel, task.timeout)
    return _with_timeout(task, task.timeout, execute, cancel)


def _with_timeout(
    task: TaskNode, timeout: float, execute: Callable[[], TaskResult], cancel: CancelToken
) -> TaskResult:
    # A thread cannot be killed (nor a Polars query, see glacier.runner.interrupt): a task
    # that cannot run isolated runs in a daemon thread. Past the timeout its token is
    # cancelled (nothing it computes is published) and we wait a grace period for it to
    # return; only an attempt that returned may be retried.
    box: dict[str, Any] = {}
    finished = threading.Event()

    def target() -> None:
        try:
            box["result"] = execute()
        except BaseException as exc:
            box["error"] = exc
        finally:
            finished.set()

    threading.Thread(target=target, name=f"glacier-task-{task.name}", daemon=True).start()
    waited = 0.0
    while not finished.wait(_WAIT_SLICE):
        waited += _WAIT_SLICE
        if waited >= timeout or cancel.cancelled:
            break
    if not finished.is_set():
        stopped_by_run = cancel.cancelled
        cancel.cancel()
        stopped = finished.wait(stop_grace(timeout))
        if stopped_by_run:
            raise WriteCancelled
        raise timed_out(task, timeout, stopped=stopped)
    if "error" in box:
        raise box["error"]
    result: TaskResult = box["result"]
    return result
