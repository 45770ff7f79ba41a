"""``glacier report --cloud``: runs read from a deployed state machine's executions.

Each execution becomes a ``RunView``: its name is the run id; each task state (state names
are ``glacier.deploy.naming.state_name(task)``) gives the task's start, duration, attempts
(one per scheduled invocation, so Retry shows) and, for a failure, the error and cause. Rows
and bytes appear when a state's result carries them (a Lambda task returns its
``TaskResult``); otherwise they are unknown. The state machine is found by its
deterministic name, as ``glacier run --cloud`` finds it.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from glacier.cloud.runner import _call, _history, find_state_machine, step_functions_client
from glacier.config import SparkConfig
from glacier.dag.model import PipelineDAG, TaskNode
from glacier.deploy import naming
from glacier.report.runs import ReportError, RunView, TaskOutcome

_STATUS = {"SUCCEEDED": "succeeded", "FAILED": "failed", "TIMED_OUT": "failed", "ABORTED": "failed"}
_SCHEDULED = ("TaskScheduled", "LambdaFunctionScheduled")
_SUCCEEDED = {
    "TaskSucceeded": "taskSucceededEventDetails",
    "LambdaFunctionSucceeded": "lambdaFunctionSucceededEventDetails",
}
_FAILED = {
    "TaskFailed": "taskFailedEventDetails",
    "TaskTimedOut": "taskTimedOutEventDetails",
    "TaskStartFailed": "taskStartFailedEventDetails",
    "TaskSubmitFailed": "taskSubmitFailedEventDetails",
    "LambdaFunctionFailed": "lambdaFunctionFailedEventDetails",
    "LambdaFunctionTimedOut": "lambdaFunctionTimedOutEventDetails",
    "LambdaFunctionStartFailed": "lambdaFunctionStartFailedEventDetails",
    "LambdaFunctionScheduleFailed": "lambdaFunctionScheduleFailedEventDetails",
}


class CloudRuns:
    """Executions of each pipeline's deployed state machine, newest first."""

    def __init__(
        self,
        *,
        client: Any = None,
        region: str | None = None,
        profile: str | None = None,
        endpoint_url: str | None = None,
        state_machine_arn: str | None = None,
    ) -> None:
        self._client = client
        self._options = {"region": region, "profile": profile, "endpoint_url": endpoint_url}
        self._arn = state_machine_arn
        self._arns: dict[str, str] = {}
        self._ended: dict[str, RunView] = {}  # execution ARN -> view; an ended one never changes

    def describe(self) -> str:
        return "Step Functions execution history"

    def _sfn(self, dag: PipelineDAG) -> Any:
        if self._client is None:
            self._client = step_functions_client(dag, **self._options)
        return self._client

    def state_machine(self, dag: PipelineDAG) -> str:
        if dag.name not in self._arns:
            self._arns[dag.name] = self._arn or find_state_machine(self._sfn(dag), dag.name)
        return self._arns[dag.name]

    def runs(self, dag: PipelineDAG, limit: int) -> list[RunView]:
        sfn, arn = self._sfn(dag), self.state_machine(dag)
        listed = _call(
            dag.name,
            lambda: sfn.list_executions(stateMachineArn=arn, maxResults=limit)["executions"],
            f"list the executions of {arn}",
        )
        newest = sorted(listed, key=lambda e: e["startDate"], reverse=True)[:limit]
        return [self._view(dag, e["executionArn"]) for e in newest]

    def find(self, dag: PipelineDAG, run_id: str) -> RunView | None:
        sfn, arn = self._sfn(dag), self.state_machine(dag)
        if run_id.startswith("arn:"):
            return self._view(dag, run_id) if run_id.split(":")[-2] == arn.split(":")[-1] else None
        pages = _call(
            dag.name,
            lambda: list(sfn.get_paginator("list_executions").paginate(stateMachineArn=arn)),
            f"list the executions of {arn}",
        )
        for page in pages:
            for execution in page["executions"]:
                if execution["name"] == run_id:
                    return self._view(dag, execution["executionArn"])
        return None

    def require_executions(self, dag: PipelineDAG) -> None:
        """A clear error when the state machine never ran: a cloud report has nothing to show."""
        if not self.runs(dag, 1):
            raise ReportError(
                f"Pipeline '{dag.name}' has no executions of its state machine {self.state_machine(dag)}.",
                fix="start one with `glacier run PATH --cloud`, or leave out --cloud for the local runs.",
            )

    def _view(self, dag: PipelineDAG, execution_arn: str) -> RunView:
        if execution_arn not in self._ended:
            view = self._read(dag, execution_arn)
            if view.status == "running":
                return view
            self._ended[execution_arn] = view
        return self._ended[execution_arn]

    def _read(self, dag: PipelineDAG, execution_arn: str) -> RunView:
        sfn = self._sfn(dag)
        described = _call(
            dag.name, lambda: sfn.describe_execution(executionArn=execution_arn), "describe an execution"
        )
        events = _call(dag.name, lambda: _history(sfn, execution_arn), "read the execution history")
        started: datetime = described["startDate"]
        stopped: datetime | None = described.get("stopDate")
        status = _STATUS.get(described["status"], described["status"].lower())
        error = None
        if status == "failed":
            error = ": ".join(p for p in (described.get("error"), described.get("cause")) if p) or None
        return RunView(
            run_id=described["name"],
            pipeline=dag.name,
            status=status,
            started_at=started.timestamp(),
            seconds=(stopped - started).total_seconds() if stopped else None,
            origin=f"Step Functions execution {execution_arn}",
            tasks=task_outcomes(dag, events),
            error=error,
        )


class _State:
    """One task state's events so far in one execution."""

    def __init__(self, task: str, start: datetime) -> None:
        self.task = task
        self.start = start
        self.end: datetime | None = None
        self.attempts = 0
        self.in_attempt = False  # an invocation was scheduled and has not ended yet
        self.failure: tuple[str, str] | None = None  # (error, cause) of the latest failed attempt
        self.result: dict[str, Any] = {}


def task_outcomes(dag: PipelineDAG, events: Iterable[dict[str, Any]]) -> dict[str, TaskOutcome]:
    """Per task, what one execution's history events say about its task state."""
    by_state = {naming.state_name(task.name): task.name for task in dag.tasks}
    parent: dict[int, int] = {}
    entered: dict[int, _State] = {}
    states: dict[str, _State] = {}

    def owner(event_id: int) -> _State | None:
        while event_id:
            if event_id in entered:
                return entered[event_id]
            event_id = parent.get(event_id, 0)
        return None

    last_time: datetime | None = None
    for event in events:
        kind, last_time = event["type"], event["timestamp"]
        parent[event["id"]] = event.get("previousEventId", 0)
        if kind == "TaskStateEntered":
            name = event["stateEnteredEventDetails"]["name"]
            if name in by_state:
                opened = _State(by_state[name], event["timestamp"])
                entered[event["id"]] = states[opened.task] = opened
            continue
        if kind == "TaskStateExited":
            name = event["stateExitedEventDetails"]["name"]
            if name in by_state and by_state[name] in states:
                states[by_state[name]].end = event["timestamp"]
            continue
        state = owner(event.get("previousEventId", 0))
        if state is None:
            continue
        if kind in _SCHEDULED:
            state.attempts += 1
            state.in_attempt = True
        elif kind in _SUCCEEDED:
            state.in_attempt = False
            state.failure = None  # a retry that succeeded
            state.result = _result(event.get(_SUCCEEDED[kind], {}).get("output"))
        elif kind in _FAILED:
            # An attempt that failed before anything was scheduled (a bad parameter, a
            # missing job) is an attempt too: Retry runs again after it.
            state.attempts += 0 if state.in_attempt else 1
            state.in_attempt = False
            details = event.get(_FAILED[kind], {})
            state.failure = (str(details.get("error", kind)), str(details.get("cause", "")))
            state.end = event["timestamp"]
    return {name: _outcome(dag, dag.task(name), state, last_time) for name, state in states.items()}


def _result(output: str | None) -> dict[str, Any]:
    """The task's TaskResult when its state's raw result carries it (Lambda: ``Payload``)."""
    try:
        data = json.loads(output) if output else {}
    except ValueError:
        return {}
    if isinstance(data, dict) and isinstance(data.get("Payload"), dict):
        data = data["Payload"]
    return data if isinstance(data, dict) else {}


def _outcome(dag: PipelineDAG, task: TaskNode, state: _State, last_time: datetime | None) -> TaskOutcome:
    end = state.end or last_time or state.start
    rows, size = state.result.get("rows"), state.result.get("bytes")
    status = "failed" if state.failure else ("succeeded" if state.end else "running")
    error = fix = None
    if state.failure:
        error = ": ".join(p for p in state.failure if p)
        fix = (
            f"read the log group {log_group(dag, task)} for the traceback, fix task '{task.name}', "
            "redeploy and run again"
        )
    return TaskOutcome(
        task=task.name,
        status=status,
        attempts=max(state.attempts, 1),
        start=state.start.timestamp(),
        seconds=max(0.0, (end - state.start).total_seconds()),
        rows=rows if isinstance(rows, int) else None,
        bytes=size if isinstance(size, int) else None,
        error=error,
        fix=fix,
    )


def log_group(dag: PipelineDAG, task: TaskNode) -> str:
    """The CloudWatch log group the task's cloud run writes to (as the deployment names it)."""
    config = task.executor.config
    if isinstance(config, SparkConfig):
        if config.engine == "emr-serverless":
            return naming.emr_log_group(naming.emr_application_name(dag.name))
        return naming.glue_log_groups(naming.glue_job_name(dag.name, task.name))[0]  # stdout/stderr
    return naming.lambda_log_group(naming.function_name(dag.name, task.name))
