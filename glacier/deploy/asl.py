"""The Step Functions definition of a pipeline (pure: no pulumi import).

Walks the typed DAG: the schedule (``glacier.deploy.schedule``) decides which tasks run in
series and which in Parallel branches; each task becomes one Task state named after it,
which sends the task's ``TaskEvent`` (S3 URIs only, never data) and keeps only a few fields
of the result. A failing task is caught into its own Fail state carrying the task's error
as the cause. Definitions are emitted as JSON with sorted keys.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from glacier.config import AwsConfig
from glacier.dag.model import PipelineDAG, TaskNode, dependency_map
from glacier.dag.partitions import partitioned_datasets
from glacier.deploy import naming, partition_entry
from glacier.deploy.schedule import Leaf, Node, Series, schedule, tasks_of
from glacier.deploy.timeouts import state_timeout
from glacier.errors import DeploymentError
from glacier.runtime.event import SPARK_EVENT_ARG, SPARK_PARTITION_ARG, CatalogTarget, TaskEvent

# Step Functions quotas (Standard workflows).
MAX_DEFINITION_BYTES = 1_048_576
MAX_HISTORY_EVENTS = 25_000

# What AWS recommends retrying on every Lambda invoke (the console adds it by default).
LAMBDA_SERVICE_ERRORS = (
    "Lambda.AWSLambdaException",
    "Lambda.ClientExecutionTimeoutException",
    "Lambda.ServiceException",
    "Lambda.SdkClientException",
    "Lambda.TooManyRequestsException",
)
LAMBDA_RETRY = {
    "ErrorEquals": list(LAMBDA_SERVICE_ERRORS),
    "IntervalSeconds": 1,
    "MaxAttempts": 3,
    "BackoffRate": 2,
    "JitterStrategy": "FULL",
}


@dataclass(frozen=True)
class LambdaTarget:
    function_name: str


@dataclass(frozen=True)
class GlueTarget:
    job_name: str


@dataclass(frozen=True)
class EmrTarget:
    """A job run on the pipeline's EMR Serverless application, under the task's own role."""

    application_id: str
    execution_role_arn: str
    entry_point: str  # s3:// URI of the entry script
    spark_submit_parameters: str
    log_group: str | None = None  # the application's; the run's streams start with the task


Target = LambdaTarget | GlueTarget | EmrTarget


def task_event(
    dag: PipelineDAG, task: TaskNode, catalog: Mapping[str, CatalogTarget] | None = None
) -> dict[str, Any]:
    """The TaskEvent a task's state sends (without the execution name, added at run time);
    ``catalog``: dataset id -> the Glue table the runtime updates after publishing it."""
    event = TaskEvent.for_task(dag, task, lambda dataset: f"s3://{dataset.bucket}/{dataset.path}")
    target = (catalog or {}).get(task.output)
    if target is not None:
        event = event.model_copy(update={"output": event.output.model_copy(update={"catalog": target})})
    return event.model_dump(mode="json", exclude={"execution"}, exclude_none=True)


def build_definition(
    dag: PipelineDAG,
    targets: Mapping[str, Target],
    *,
    weights: Mapping[str, float] | None = None,
    partition: str | None = None,
    catalog: Mapping[str, CatalogTarget] | None = None,
) -> dict[str, Any]:
    """The state machine definition (a JSON-ready dict) running ``dag`` on ``targets``; its
    service integrations are in ``partition`` (default: that of the pipeline's region);
    ``catalog``: the Glue tables of directory outputs (``task_event``)."""
    missing = sorted(t.name for t in dag.tasks if t.name not in targets)
    if missing:
        raise DeploymentError(
            f"Pipeline '{dag.name}' has no deployment target for task(s) {', '.join(missing)}.",
            fix="declare a Lambda function or Spark job for every task.",
        )
    plan = schedule(dependency_map(dag.tasks), weights)
    builder = _Builder(dag, targets, partition or _storage_partition(dag), catalog or {})
    start, states = builder.chain(plan, end=True)
    if builder.partitioned:
        resolver = next((t.function_name for t in targets.values() if isinstance(t, LambdaTarget)), None)
        start, entry = partition_entry.entry_states(dag, start, resolver, builder.integration, LAMBDA_RETRY)
        states = {**entry, **states}
    definition = {
        "Comment": f"Glacier pipeline {dag.name}",
        "StartAt": start,
        "States": states,
    }
    check_limits(dag, definition)
    return definition


def dumps(definition: Mapping[str, Any]) -> str:
    """The definition as deployed: sorted keys, so identical pipelines give identical text."""
    return json.dumps(definition, sort_keys=True)  # no indent: the C encoder, fast on big ones


def estimated_history_events(dag: PipelineDAG, definition: Mapping[str, Any]) -> int:
    """An upper bound on the history events one successful run writes, retries included."""
    events = 2  # ExecutionStarted, ExecutionSucceeded
    for state in _walk_states(definition):
        if state["Type"] == "Parallel":
            events += 4 + 2 * len(state["Branches"])
    for task in dag.tasks:
        # Entered, Scheduled, Started, (Submitted), Succeeded, Exited; each retry adds three more.
        events += 6 + 3 * (task.retries + 3)
    return events


def check_limits(dag: PipelineDAG, definition: Mapping[str, Any]) -> None:
    size = len(dumps(definition).encode())
    events = estimated_history_events(dag, definition)
    if size > MAX_DEFINITION_BYTES or events > MAX_HISTORY_EVENTS:
        raise DeploymentError(
            f"Pipeline '{dag.name}' ({len(dag.tasks)} tasks) is too big for one state machine: "
            f"its definition is {size:,} bytes (limit {MAX_DEFINITION_BYTES:,}) and a run may "
            f"write {events:,} history events (limit {MAX_HISTORY_EVENTS:,}).",
            fix="split it into several pipelines that meet through a bucket (one pipeline's "
            "output is the next one's source).",
        )


def _walk_states(definition: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    found: list[Mapping[str, Any]] = []
    for state in definition["States"].values():
        found.append(state)
        for branch in state.get("Branches", ()):
            found.extend(_walk_states(branch))
    return found


def _storage_partition(dag: PipelineDAG) -> str:
    region = dag.storage.region if isinstance(dag.storage, AwsConfig) else "us-east-1"
    return naming.partition_for(region)


class _Builder:
    def __init__(
        self,
        dag: PipelineDAG,
        targets: Mapping[str, Target],
        partition: str,
        catalog: Mapping[str, CatalogTarget],
    ) -> None:
        self.dag = dag
        self.targets = targets
        self.partition = partition
        self.catalog = catalog
        self.parallels = 0
        # A partitioned pipeline's execution input names the partition each task runs
        # (partition_entry puts it at $.partition before the first task).
        self.partitioned = bool(partitioned_datasets(dag))

    def chain(self, node: Node, *, end: bool) -> tuple[str, dict[str, Any]]:
        """States running ``node``; returns its first state's name and all its states.
        The last state ends the chain (``end``) or is linked by the caller."""
        parts = node.parts if isinstance(node, Series) else (node,)
        states: dict[str, Any] = {}
        units: list[tuple[str, str]] = []  # (first state, last state) of each part
        for part in parts:
            first, last, part_states = self.single(part)
            units.append((first, last))
            states.update(part_states)
        for (_, last), (following, _) in itertools.pairwise(units):
            states[last]["Next"] = following
        if end:
            states[units[-1][1]]["End"] = True
        return units[0][0], states

    def single(self, node: Node) -> tuple[str, str, dict[str, Any]]:
        if isinstance(node, Leaf):
            return self.task_states(self.dag.task(node.task))
        if isinstance(node, Series):
            raise DeploymentError("A series of states cannot stand for one state.", fix="report this bug.")
        self.parallels += 1
        tasks = sorted(tasks_of(node))
        name = naming.fit(f"Parallel {self.parallels}: {', '.join(tasks)}", naming.STATE_NAME_MAX)
        branches = []
        for branch in node.branches:
            start, states = self.chain(branch, end=True)
            branches.append({"StartAt": start, "States": states})
        # Branch outputs are dropped: the state data stays the run's small input.
        return name, name, {name: {"Type": "Parallel", "Branches": branches, "ResultPath": None}}

    def task_states(self, task: TaskNode) -> tuple[str, str, dict[str, Any]]:
        """The task's Task state and its Fail state (first state, last state, states)."""
        name = naming.state_name(task.name)
        failed = naming.fit(f"{task.name} failed", naming.STATE_NAME_MAX)
        state: dict[str, Any] = {"Type": "Task", "Comment": f"Glacier task {task.name}"}
        state.update(self.invocation(task))
        retries: list[dict[str, Any]] = []
        if isinstance(self.targets[task.name], LambdaTarget):
            retries.append(dict(LAMBDA_RETRY))
        if task.retries:
            retries.append(
                {
                    "ErrorEquals": ["States.ALL"],
                    "IntervalSeconds": 2,
                    "MaxAttempts": task.retries,
                    "BackoffRate": 2,
                }
            )
        if retries:
            state["Retry"] = retries
        if (seconds := state_timeout(task)) is not None:
            state["TimeoutSeconds"] = seconds
        state["Catch"] = [{"ErrorEquals": ["States.ALL"], "ResultPath": "$.error", "Next": failed}]
        fail = {
            "Type": "Fail",
            "Comment": f"Task {task.name} failed; the cause is its error.",
            "Error": f"{task.name}.Failed",
            "CausePath": "$.error.Cause",
        }
        return name, name, {name: state, failed: fail}

    def integration(self, resource: str) -> str:
        """A Step Functions service integration ARN in the deployment's partition."""
        return f"arn:{self.partition}:states:::{resource}"

    def invocation(self, task: TaskNode) -> dict[str, Any]:
        target = self.targets[task.name]
        event = task_event(self.dag, task, self.catalog)
        partitioned = self.partitioned
        if isinstance(target, LambdaTarget):
            payload = {**event, "execution.$": "$$.Execution.Name"}
            if partitioned:
                payload["partition.$"] = PARTITION_PATH
            return {
                "Resource": self.integration("lambda:invoke"),
                "Parameters": {"FunctionName": target.function_name, "Payload": payload},
                "ResultSelector": {"task.$": "$.Payload.task", "output.$": "$.Payload.output"},
                "ResultPath": "$.last",
            }
        if isinstance(target, GlueTarget):
            arguments = {f"{SPARK_EVENT_ARG}.$": event_argument(event)}
            if partitioned:
                arguments[f"{SPARK_PARTITION_ARG}.$"] = PARTITION_ARGUMENT
            return {
                "Resource": self.integration("glue:startJobRun.sync"),
                "Parameters": {"JobName": target.job_name, "Arguments": arguments},
                "ResultSelector": {"job_run_id.$": "$.Id", "state.$": "$.JobRunState"},
                "ResultPath": "$.last",
            }
        entry_arguments = f"'{SPARK_EVENT_ARG}', {event_argument(event)}"
        if partitioned:
            entry_arguments += f", '{SPARK_PARTITION_ARG}', {PARTITION_ARGUMENT}"
        parameters: dict[str, Any] = {
            "ApplicationId": target.application_id,
            "ExecutionRoleArn": target.execution_role_arn,
            "Name": task.name,
            "JobDriver": {
                "SparkSubmit": {
                    "EntryPoint": target.entry_point,
                    "EntryPointArguments.$": f"States.Array({entry_arguments})",
                    "SparkSubmitParameters": target.spark_submit_parameters,
                }
            },
        }
        if target.log_group is not None:
            logging = {"Enabled": True, "LogGroupName": target.log_group, "LogStreamNamePrefix": task.name}
            parameters["ConfigurationOverrides"] = {
                "MonitoringConfiguration": {"CloudWatchLoggingConfiguration": logging}
            }
        return {
            "Resource": self.integration("emr-serverless:startJobRun.sync"),
            "Parameters": parameters,
            "ResultPath": None,
        }


# Where the execution's partition is, and that partition as the one JSON string a Spark job
# argument is (Glue and EMR job arguments are strings; spark_entry parses it back).
PARTITION_PATH = "$.partition"
PARTITION_ARGUMENT = f"States.JsonToString({PARTITION_PATH})"


def event_argument(event: Mapping[str, Any]) -> str:
    """The intrinsic that renders the TaskEvent as one JSON string with the run's execution
    name filled in (Glue and EMR take the event as a single job argument)."""
    head = json.dumps(dict(event), sort_keys=True, separators=(",", ":"))[:-1]
    template = _escape(head + ',"execution":"') + "{}" + _escape('"}')
    return f"States.Format('{template}', $$.Execution.Name)"


def _escape(text: str) -> str:
    # In intrinsic-function string literals these four characters are escaped with a backslash.
    for char in ("\\", "'", "{", "}"):
        text = text.replace(char, "\\" + char)
    return text


# -- reading a definition back (used to prove ordering and to simulate runs) ----------------


def completed_before(definition: Mapping[str, Any]) -> dict[str, frozenset[str]]:
    """For each Task state: the Task states certain to have finished before it starts."""
    result: dict[str, frozenset[str]] = {}
    _run_chain(definition, frozenset(), result)
    return result


def _run_chain(
    block: Mapping[str, Any], done: frozenset[str], result: dict[str, frozenset[str]]
) -> frozenset[str]:
    name: str | None = block["StartAt"]
    while name is not None:
        state = block["States"][name]
        if state["Type"] == "Task":
            result[name] = done
            done = done | {name}
        elif state["Type"] == "Parallel":
            ends = [_run_chain(branch, done, result) for branch in state["Branches"]]
            done = frozenset().union(*ends)
        name = state.get("Next")
    return done


def simulate(definition: Mapping[str, Any], durations: Mapping[str, float]) -> float:
    """The run's length when each Task state takes ``durations[state]`` (others take 0)."""
    return _simulate_chain(definition, durations)


def _simulate_chain(block: Mapping[str, Any], durations: Mapping[str, float]) -> float:
    elapsed = 0.0
    name: str | None = block["StartAt"]
    while name is not None:
        state = block["States"][name]
        if state["Type"] == "Task":
            elapsed += durations[name]
        elif state["Type"] == "Parallel":
            elapsed += max(_simulate_chain(branch, durations) for branch in state["Branches"])
        name = state.get("Next")
    return elapsed
