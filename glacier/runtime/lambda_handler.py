"""The AWS Lambda entry point: ``glacier.runtime.lambda_handler.handler``.

The state machine invokes it with a ``TaskEvent`` (the task's ``module:qualname`` and the S3
URIs of its inputs and output, never data). It imports the task from the code bundle (the
function zip is /var/task, on ``sys.path``), runs it through the one read -> call -> write
core the local runner uses, and returns the ``TaskResult`` (rows, bytes, seconds).

A failure raises ``TaskFailedError`` naming the pipeline and task: Lambda reports its type
as the error and its message in the cause, which the state machine's Catch turns into the
execution's failure cause.

Light on purpose: polars, pydantic, the standard library, botocore (which the Lambda and Glue
runtimes ship; it resolves the credentials Lambda sets), glacier's pure modules and the user's
module; never pulumi or boto3.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping
from typing import Any

from glacier.code import import_code_ref
from glacier.runtime.event import TaskEvent


class TaskFailedError(Exception):
    """A task failed in the cloud; the message names the pipeline, the task and the cause."""


def run_event(payload: Mapping[str, Any], storage: Mapping[str, str] | None = None) -> dict[str, Any]:
    """Validate the event, run its task, return the TaskResult as JSON-ready data. Shared by
    the Lambda handler and the Glue / EMR Serverless entry script."""
    from glacier.io.location import aws_storage_options
    from glacier.runtime.core import execute_task

    event = TaskEvent.model_validate(dict(payload))
    where = f"task '{event.task}' of pipeline '{event.pipeline}'"
    try:
        func = import_code_ref(event.code_ref, event.task)
        # No config in the cloud: region, endpoint and credentials are the environment's.
        options = dict(storage) if storage is not None else aws_storage_options()
        result = execute_task(event, func, options)
    except TaskFailedError as exc:
        raise TaskFailedError(f"{where.capitalize()} failed: {exc}") from exc
    except Exception as exc:
        raise TaskFailedError(f"{where.capitalize()} failed: {type(exc).__name__}: {exc}") from exc
    print(
        f"glacier: {where} wrote {result.output} ({result.bytes} bytes, {result.seconds:.3f} s)",
        file=sys.stderr,
    )
    return result.model_dump(mode="json")


def partition_event(request: Mapping[str, Any]) -> dict[str, Any]:
    """An arrival execution's first step: the partition of the object that arrived."""
    from glacier.runtime.partition_key import PartitionOfKey

    asked = PartitionOfKey.model_validate(dict(request))
    try:
        return asked.answer()
    except Exception as exc:
        raise TaskFailedError(str(exc)) from exc  # the message names the object and the fix


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """The Lambda handler: a task event, or (for an arrival execution of a partitioned
    pipeline) a request for the arrived object's partition."""
    from glacier.runtime.partition import PARTITION_OF_KEY

    if PARTITION_OF_KEY in event:
        return partition_event(event[PARTITION_OF_KEY])
    return run_event(event)
