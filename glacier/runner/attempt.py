"""One attempt at a task: the Polars core (or local Spark for a pyspark-typed task), under
the task's timeout when it has one, cancellable through its ``CancelToken``."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from glacier.dag.model import TaskNode
from glacier.errors import TaskTimeoutError
from glacier.io import CancelToken, StorageOptions, WriteCancelled
from glacier.runtime import core
from glacier.runtime.event import TaskEvent, TaskResult

_WAIT_SLICE = 0.05  # how often a timed attempt's waiter looks at its token


class AttemptTimedOut(TaskTimeoutError):
    """A timeout; ``stopped`` says whether the attempt's work stopped once cancelled (only
    then may it be retried: a retry must never overlap the attempt it replaces)."""

    def __init__(self, message: str, *, task: str, fix: str, stopped: bool) -> None:
        super().__init__(message, task=task, fix=fix)
        self.stopped = stopped


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
    return _with_timeout(task, task.timeout, execute, cancel)


def _with_timeout(
    task: TaskNode, timeout: float, execute: Callable[[], TaskResult], cancel: CancelToken
) -> TaskResult:
    # A thread cannot be killed (nor a Polars query, see glacier.runner.interrupt): the
    # attempt runs in a daemon thread. Past the timeout its token is cancelled (nothing it
    # computes is published) and we wait a grace period for it to return; only an attempt
    # that returned may be retried.
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
        timed_out = not cancel.cancelled
        cancel.cancel()
        stopped = finished.wait(stop_grace(timeout))
        if not timed_out:
            raise WriteCancelled
        raise AttemptTimedOut(
            f"Task '{task.name}' timed out after {timeout:g} s"
            + ("." if stopped else " and its work could not be stopped, so it was not retried."),
            task=task.name,
            fix=f"raise timeout= on '{task.name}' or make it faster.",
            stopped=stopped,
        )
    if "error" in box:
        raise box["error"]
    result: TaskResult = box["result"]
    return result
