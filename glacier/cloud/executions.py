"""``glacier runs PATH --cloud``: the recent executions of a deployed pipeline, newest first,
with their status, start and stop, and for one that did not succeed the state that failed
(read from its execution history, as ``run --cloud`` does while it waits)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from glacier.cloud.runner import (
    TERMINAL,
    _call,
    _history,
    _Progress,
    find_state_machine,
    step_functions_client,
)
from glacier.dag.contract import CompiledPipeline


@dataclass(frozen=True)
class ExecutionSummary:
    name: str
    arn: str
    status: str  # RUNNING | SUCCEEDED | FAILED | TIMED_OUT | ABORTED (| PENDING_REDRIVE)
    started: datetime
    stopped: datetime | None
    failed_state: str | None = None  # the task state that failed, when one did
    error: str | None = None

    @property
    def seconds(self) -> float | None:
        return (self.stopped - self.started).total_seconds() if self.stopped else None


def list_executions(
    pipeline: CompiledPipeline,
    *,
    limit: int = 10,
    state_machine_arn: str | None = None,
    region: str | None = None,
    profile: str | None = None,
    endpoint_url: str | None = None,
    client: Any = None,
) -> list[ExecutionSummary]:
    """The ``limit`` most recent executions of the pipeline's deployed state machine."""
    dag = pipeline.dag
    sfn = client or step_functions_client(dag, region=region, profile=profile, endpoint_url=endpoint_url)
    arn = state_machine_arn or find_state_machine(sfn, dag.name)
    listed = _call(dag.name, lambda: _recent(sfn, arn, limit), "list executions")
    return [_summary(sfn, dag.name, execution) for execution in listed]


def _recent(sfn: Any, arn: str, limit: int) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    pages = sfn.get_paginator("list_executions").paginate(
        stateMachineArn=arn, PaginationConfig={"MaxItems": limit, "PageSize": min(limit, 1000)}
    )
    for page in pages:
        found.extend(page["executions"])
    # Step Functions lists newest first; sort anyway, so the order never depends on the server.
    found.sort(key=lambda e: e["startDate"], reverse=True)
    return found[:limit]


def _summary(sfn: Any, pipeline: str, execution: dict[str, Any]) -> ExecutionSummary:
    status = str(execution["status"])
    failed_state = error = None
    if status in TERMINAL and status != "SUCCEEDED":
        failed_state, error = _failure(sfn, pipeline, execution["executionArn"])
    return ExecutionSummary(
        name=str(execution["name"]),
        arn=str(execution["executionArn"]),
        status=status,
        started=execution["startDate"],
        stopped=execution.get("stopDate"),
        failed_state=failed_state,
        error=error,
    )


def _failure(sfn: Any, pipeline: str, execution_arn: str) -> tuple[str | None, str | None]:
    progress = _Progress(lambda _line: None)
    progress.feed(_call(pipeline, lambda: _history(sfn, execution_arn), "read the history"))
    if progress.failure is None:
        return None, None
    state, error, _cause = progress.failure
    return state, error or None
