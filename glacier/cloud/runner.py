"""``run(mode="cloud")`` / ``glacier run --cloud``: start the deployed state machine, show
progress per state, wait, and report success or the failing state with its error.

The state machine is found by its deterministic name (``glacier.deploy.naming``) unless an
ARN is given. Region, profile and endpoint come from the pipeline's ``AwsConfig`` unless
overridden; boto3's own environment variables (``AWS_ENDPOINT_URL_SFN`` ...) apply too.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from glacier.config import AwsConfig
from glacier.dag.contract import CompiledPipeline
from glacier.dag.model import PipelineDAG
from glacier.dag.partitions import check_run_partition
from glacier.deploy.naming import state_machine_name
from glacier.errors import ConfigError, DeploymentError, ExecutionError

Echo = Callable[[str], None]
TERMINAL = ("SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED")
_FAILURE_DETAILS = (
    "taskFailedEventDetails",
    "taskTimedOutEventDetails",
    "lambdaFunctionFailedEventDetails",
    "lambdaFunctionTimedOutEventDetails",
    "executionFailedEventDetails",
    "executionTimedOutEventDetails",
    "executionAbortedEventDetails",
)


@dataclass(frozen=True)
class StateRun:
    name: str
    status: str  # "succeeded" | "failed" | "running"
    seconds: float | None


@dataclass(frozen=True)
class CloudRunResult:
    pipeline: str
    execution_arn: str
    status: str
    seconds: float
    states: tuple[StateRun, ...]
    output: Any = field(default=None, repr=False)


def run_cloud(
    pipeline: CompiledPipeline,
    *,
    wait: bool = True,
    state_machine_arn: str | None = None,
    execution_name: str | None = None,
    region: str | None = None,
    profile: str | None = None,
    endpoint_url: str | None = None,
    poll_seconds: float = 2.0,
    timeout: float | None = None,
    echo: Echo | None = print,
    client: Any = None,
    partition: Mapping[str, str] | None = None,
) -> CloudRunResult | str:
    """Start one execution of the pipeline's state machine. ``wait=False`` returns the
    execution ARN at once; otherwise wait for it, printing each state as it starts and ends
    (``echo=None`` for silence), and return a ``CloudRunResult``. A failed execution raises
    ``ExecutionError`` naming the failing state and its error. ``partition``: the one
    partition this execution processes (checked here, passed as ``$.partition``)."""
    dag = pipeline.dag
    checked = None if partition is None else check_run_partition(dag, dict(partition))
    execution_input = json.dumps({"partition": checked} if checked else {})
    sfn = client or step_functions_client(dag, region=region, profile=profile, endpoint_url=endpoint_url)
    arn = state_machine_arn or find_state_machine(sfn, dag.name)
    return start_and_follow(
        sfn,
        dag.name,
        arn,
        execution_input,
        name=execution_name,
        started=f"Started {dag.name}",
        wait=wait,
        poll_seconds=poll_seconds,
        timeout=timeout,
        echo=echo,
    )


def start_and_follow(
    sfn: Any,
    pipeline: str,
    arn: str,
    execution_input: str,
    *,
    name: str | None,
    started: str,
    wait: bool,
    poll_seconds: float,
    timeout: float | None,
    echo: Echo | None,
) -> CloudRunResult | str:
    """Start one execution of state machine ``arn`` (a pipeline's or its backfill's) and say
    ``started: <execution ARN>``; ``wait=False`` returns the ARN, otherwise its result (a
    failed execution raises ``ExecutionError`` naming the failing state)."""
    execution = name or _execution_name()
    response = _call(
        pipeline,
        lambda: sfn.start_execution(stateMachineArn=arn, name=execution, input=execution_input),
        f"start state machine {arn}",
    )
    execution_arn: str = response["executionArn"]
    say = echo or (lambda _text: None)
    say(f"{started}: {execution_arn}")
    if not wait:
        return execution_arn
    return _wait(sfn, pipeline, execution_arn, poll_seconds=poll_seconds, timeout=timeout, say=say)


def find_state_machine(sfn: Any, pipeline: str, name: str | None = None) -> str:
    """The ARN of the state machine deployed for ``pipeline``, looked up by its name (the
    pipeline's own by default)."""
    wanted = name or state_machine_name(pipeline)
    pages = _call(
        pipeline,
        lambda: list(sfn.get_paginator("list_state_machines").paginate()),
        "list state machines",
    )
    for page in pages:
        for machine in page["stateMachines"]:
            if machine["name"] == wanted:
                return str(machine["stateMachineArn"])
    raise DeploymentError(
        f"Pipeline '{pipeline}' has no deployed state machine named '{wanted}' in this account and region.",
        fix="deploy it first (pulumi up), check the region/profile, or pass state_machine_arn=.",
    )


def step_functions_client(
    dag: PipelineDAG, *, region: str | None, profile: str | None, endpoint_url: str | None
) -> Any:
    return deployment_client(dag, "stepfunctions", region=region, profile=profile, endpoint_url=endpoint_url)


def deployment_client(
    dag: PipelineDAG, service: str, *, region: str | None, profile: str | None, endpoint_url: str | None
) -> Any:
    """A boto3 client for ``service`` where the pipeline is deployed: region, profile and
    endpoint from its ``AwsConfig`` unless overridden (boto3's environment applies too)."""
    import boto3
    from botocore.exceptions import NoRegionError

    storage = dag.storage if isinstance(dag.storage, AwsConfig) else None
    session = boto3.Session(
        profile_name=profile or (storage.profile if storage else None),
        region_name=region or (storage.region if storage else None),
    )
    endpoint = endpoint_url or (storage.endpoint_url if storage else None)
    try:
        return session.client(service, endpoint_url=endpoint)
    except NoRegionError:
        # A LocalConfig pipeline names no region, and none is set in the environment.
        raise ConfigError(
            f"Pipeline '{dag.name}' names no AWS region to find its deployment in (its Provider "
            f"has {type(dag.storage).__name__}), and none is set in the environment.",
            fix="give its Provider an AwsConfig(region=...), or set AWS_REGION to the region it is "
            "deployed to.",
        ) from None


def _call(pipeline: str, action: Callable[[], Any], what: str) -> Any:
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        return action()
    except ClientError as exc:
        error = exc.response.get("Error", {})
        raise ExecutionError(
            f"Pipeline '{pipeline}': could not {what}: {error.get('Code')}: {error.get('Message')}",
            fix="check the AWS credentials, region and that the stack is deployed.",
        ) from None
    except BotoCoreError as exc:
        raise ExecutionError(
            f"Pipeline '{pipeline}': could not {what}: {exc}",
            fix="check the AWS credentials, region and network access.",
        ) from None


def _execution_name() -> str:
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    return f"glacier-{stamp}-{uuid.uuid4().hex[:8]}"


class _Progress:
    """Turns history events into one line per state start and end, and remembers enough
    to name the state that failed."""

    def __init__(self, say: Echo) -> None:
        self.say = say
        self.seen = 0
        self.entered: dict[int, tuple[str, datetime]] = {}  # event id -> (state, time)
        self.states: dict[str, StateRun] = {}
        self.failure: tuple[str | None, str, str] | None = None  # (state, error, cause)
        self._parent: dict[int, int] = {}

    def feed(self, events: list[dict[str, Any]]) -> None:
        for event in events[self.seen :]:
            self._one(event)
        self.seen = len(events)

    def _state_of(self, event_id: int) -> tuple[str, datetime] | None:
        while event_id:
            if event_id in self.entered:
                return self.entered[event_id]
            event_id = self._parent.get(event_id, 0)
        return None

    def _one(self, event: dict[str, Any]) -> None:
        kind: str = event["type"]
        self._parent[event["id"]] = event.get("previousEventId", 0)
        if kind == "TaskStateEntered":
            name = event["stateEnteredEventDetails"]["name"]
            self.entered[event["id"]] = (name, event["timestamp"])
            self.states[name] = StateRun(name, "running", None)
            self.say(f"  ... {name} started")
        elif kind in ("TaskSucceeded", "LambdaFunctionSucceeded"):
            origin = self._state_of(event.get("previousEventId", 0))
            if origin is not None:  # a retry that succeeded clears the earlier failure
                self.states[origin[0]] = StateRun(origin[0], "running", None)
        elif kind == "TaskStateExited":
            name = event["stateExitedEventDetails"]["name"]
            if self.states.get(name, StateRun(name, "running", None)).status == "running":
                began = next((t for n, t in self.entered.values() if n == name), event["timestamp"])
                seconds = (event["timestamp"] - began).total_seconds()
                self.states[name] = StateRun(name, "succeeded", seconds)
                self.say(f"  ok  {name} ({seconds:.1f} s)")
        else:
            details = next((event[key] for key in _FAILURE_DETAILS if key in event), None)
            if details is None:
                return
            origin = self._state_of(event.get("previousEventId", 0))
            error, cause = str(details.get("error", kind)), str(details.get("cause", ""))
            if kind.startswith("Execution"):
                if self.failure is None:
                    self.failure = (None, error, cause)
                return
            state = origin[0] if origin else None
            if state is not None:
                self.states[state] = StateRun(state, "failed", None)
            self.say(f"  FAILED {state or kind}: {error}: {_short(cause)}")
            self.failure = (state, error, cause)  # the latest task failure is the one that ended it


def _short(text: str, limit: int = 300) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _history(sfn: Any, execution_arn: str) -> list[dict[str, Any]]:
    events: list[dict[str, Any]] = []
    for page in sfn.get_paginator("get_execution_history").paginate(executionArn=execution_arn):
        events.extend(page["events"])
    return events


def _polls(poll_seconds: float, timeout: float | None) -> Iterator[float]:
    start = time.monotonic()
    while True:
        elapsed = time.monotonic() - start
        yield elapsed
        if timeout is not None and elapsed >= timeout:
            return
        time.sleep(poll_seconds)


def _wait(
    sfn: Any, pipeline: str, execution_arn: str, *, poll_seconds: float, timeout: float | None, say: Echo
) -> CloudRunResult:
    progress = _Progress(say)
    described: dict[str, Any] = {}
    for _elapsed in _polls(poll_seconds, timeout):
        described = _call(pipeline, lambda: sfn.describe_execution(executionArn=execution_arn), "poll")
        progress.feed(_call(pipeline, lambda: _history(sfn, execution_arn), "read the history"))
        if described["status"] in TERMINAL:
            break
    else:
        raise ExecutionError(
            f"Pipeline '{pipeline}' is still running after {timeout:g} s: {execution_arn}.",
            fix="wait longer (timeout=), or start with --no-wait and follow it in the console.",
        )
    status = described["status"]
    stop = described.get("stopDate") or datetime.now(UTC)
    seconds = (stop - described["startDate"]).total_seconds()
    if status == "SUCCEEDED":
        say(f"Succeeded {pipeline} in {seconds:.1f} s")
        output = json.loads(described["output"]) if described.get("output") else None
        return CloudRunResult(
            pipeline, execution_arn, status, seconds, tuple(progress.states.values()), output
        )
    state, error, cause = progress.failure or (None, "", "")
    error = described.get("error") or error or status
    cause = described.get("cause") or cause
    where = f"in state '{state}'" if state else "before any task state failed"
    raise ExecutionError(
        f"Pipeline '{pipeline}' {status.lower().replace('_', ' ')} {where}: {error}: {_short(cause, 1000)} "
        f"(execution {execution_arn})",
        task=state,
        fix="read the task's CloudWatch log group for the traceback, fix the task, redeploy and rerun.",
    )
