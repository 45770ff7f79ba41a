"""Refuse, before anything is declared, two resources that would get the same name.

AWS names roles, functions, jobs, applications, state machines, schedules and log groups
per account (and region), and Pulumi names a stack's resources by type and logical name; two
of either with one name would fail half-way through ``pulumi up`` (or make one pipeline
overwrite another's role). Names come from pipeline and task names joined by '-' (which
names may contain), so ``p`` + task ``sfn`` and the state machine's ``p-sfn-role``, or
pipeline ``a-b`` + task ``c`` and pipeline ``a`` + task ``b-c``, would meet. (Pure: no pulumi.)
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from glacier.config import SparkConfig
from glacier.dag.model import PipelineDAG, TaskNode
from glacier.deploy import naming
from glacier.deploy.options import DeployOptions
from glacier.errors import DeploymentError

# The logical names of a task's children (glacier.deploy.compute) and of the state
# machine's and the schedule's (glacier.deploy.orchestration).
TASK_CHILDREN = ("logs", "role", "policy", "function", "job", "application")


@dataclass(frozen=True)
class Claim:
    kind: str  # an AWS name space ("IAM role") or "Pulumi logical name"
    name: str
    owner: str  # who asks for it: "task 'x' of pipeline 'p'", "pipeline 'p''s state machine"


def check_unique_names(dags: Sequence[PipelineDAG], options: DeployOptions) -> None:
    seen: dict[tuple[str, str], Claim] = {}
    for dag in dags:
        for claim in _claims(dag, options):
            first = seen.setdefault((claim.kind, claim.name), claim)
            if first is not claim and first.owner != claim.owner:
                raise DeploymentError(
                    f"{first.owner[0].upper()}{first.owner[1:]} and {claim.owner} would both get the "
                    f"{claim.kind} '{claim.name}'.",
                    fix=_fix(first, claim),
                )


def _fix(first: Claim, second: Claim) -> str:
    tasks = [c.owner for c in (first, second) if c.owner.startswith("task ")]
    culprit = tasks[-1] if tasks else second.owner
    return f"rename {culprit} (Task(name=...) or the function), or the pipeline (Pipeline(name=...))."


def _claims(dag: PipelineDAG, options: DeployOptions) -> Iterator[Claim]:
    p = dag.name
    machine = f"pipeline '{p}''s state machine"
    sm = naming.state_machine_name(p)
    yield Claim("state machine name", sm, machine)
    yield Claim("IAM role name", naming.state_machine_role_name(p), machine)
    yield Claim("log group name", naming.state_machine_log_group(sm), machine)
    yield from _logical(p, "sfn", ("logs", "role", "policy"), machine)
    if options.schedule:
        schedule = f"pipeline '{p}''s schedule"
        yield Claim("IAM role name", naming.scheduler_role_name(p), schedule)
        yield Claim("schedule name", naming.schedule_name(p), schedule)
        yield from _logical(p, "schedule", ("role", "policy"), schedule)
    yield Claim("Pulumi logical name", naming.logical(p, "code"), f"pipeline '{p}''s code bundle")
    if any(_on_emr(t) for t in dag.tasks):
        emr = f"pipeline '{p}''s EMR Serverless application"
        app = naming.emr_application_name(p)
        yield Claim("EMR Serverless application name", app, emr)
        yield Claim("log group name", naming.emr_log_group(app), emr)
        yield from _logical(p, "emr", ("logs",), emr)
    for task in dag.tasks:
        yield from _task_claims(p, task)


def _logical(p: str, label: str, children: Sequence[str], owner: str) -> Iterator[Claim]:
    yield Claim("Pulumi logical name", naming.logical(p, label), owner)
    for child in children:
        yield Claim("Pulumi logical name", naming.logical(p, label, child), owner)


def _on_emr(task: TaskNode) -> bool:
    config = task.executor.config
    return isinstance(config, SparkConfig) and config.engine == "emr-serverless"


def _task_claims(p: str, task: TaskNode) -> Iterator[Claim]:
    owner = f"task '{task.name}' of pipeline '{p}'"
    yield Claim("IAM role name", naming.task_role_name(p, task.name), owner)
    config = task.executor.config
    # An EMR task is a job run on the pipeline's application: only its role is its own.
    if isinstance(config, SparkConfig) and not _on_emr(task):
        job = naming.glue_job_name(p, task.name)
        yield Claim("Glue job name", job, owner)
        for group in naming.glue_log_groups(job):
            yield Claim("log group name", group, owner)
        yield Claim("Pulumi logical name", naming.logical(p, f"{task.name}-error", "logs"), owner)
    elif not isinstance(config, SparkConfig):
        function = naming.function_name(p, task.name)
        yield Claim("Lambda function name", function, owner)
        yield Claim("log group name", naming.lambda_log_group(function), owner)
    for child in TASK_CHILDREN:
        yield Claim("Pulumi logical name", naming.logical(p, task.name, child), owner)
