"""One attempt at a task: the Polars core (or local Spark for a pyspark-typed task), under
the task's timeout when it has one."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from glacier.dag.model import TaskNode
from glacier.errors import TaskTimeoutError
from glacier.io import CancelToken, StorageOptions
from glacier.runtime import core
from glacier.runtime.event import TaskEvent, TaskResult


def attempt(
    task: TaskNode, event: TaskEvent, func: Callable[..., Any], options: StorageOptions | None
) -> TaskResult:
    """Run the task once; raises what it raised, or TaskTimeoutError past its timeout."""

    def execute(cancel: CancelToken | None) -> TaskResult:
        if task.dataframe_api == "pyspark":
            from glacier.runner.spark import execute_spark_task

            return execute_spark_task(event, func, options, cancel=cancel)
        return core.execute_task(event, func, options, cancel=cancel)

    if task.timeout is None:
        return execute(None)
    return _with_timeout(task, execute)


def _with_timeout(task: TaskNode, execute: Callable[[CancelToken | None], TaskResult]) -> TaskResult:
    # A thread cannot be killed: the attempt runs in a daemon thread; past the timeout we
    # stop waiting and cancel its write, so nothing it computes is ever published.
    assert task.timeout is not None
    cancel = CancelToken()
    box: dict[str, Any] = {}
    finished = threading.Event()

    def target() -> None:
        try:
            box["result"] = execute(cancel)
        except BaseException as exc:
            box["error"] = exc
        finally:
            finished.set()

    threading.Thread(target=target, name=f"glacier-task-{task.name}", daemon=True).start()
    if not finished.wait(task.timeout):
        cancel.cancel()
        raise TaskTimeoutError(
            f"Task '{task.name}' timed out after {task.timeout:g} s.",
            task=task.name,
            fix=f"raise timeout= on '{task.name}' or make it faster.",
        )
    if "error" in box:
        raise box["error"]
    result: TaskResult = box["result"]
    return result
