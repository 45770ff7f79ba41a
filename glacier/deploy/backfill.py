"""A backfill as one execution: a Distributed Map whose child executions each run the
pipeline for one partition.

Each item (a partition, ``{"date": "2026-11-30"}``) becomes one child execution's input
``{"partition": item}``, which is what a one-partition execution of the pipeline's own state
machine takes, so a child runs the same task states (each passing ``$.partition`` to its task
event). A child that fails fails only its partition; up to ``tolerated_failures`` of them let
the backfill succeed, and a redrive of the map run re-runs the failed children only. The
items come inline (``{"partitions": [...]}``) or, for long lists, from a JSON array in S3
(``{"items": {"bucket": ..., "key": ...}}``).

``PipelineDeployment`` deploys it (``OrchestrationLayer._backfill_state_machine``) for a
pipeline with partitioned datasets, named ``<pipeline>-backfill``; ``glacier backfill
--cloud`` (``glacier.cloud.backfill``) starts it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from glacier.dag.model import PipelineDAG
from glacier.dag.partitions import partitioned_datasets
from glacier.deploy import naming
from glacier.deploy.asl import Target, _storage_partition, build_definition
from glacier.errors import DeploymentError
from glacier.runtime.event import CatalogTarget

MAP_STATE = "Partitions"
ITEMS_KEY_PREFIX = "backfills/"  # the S3 item lists, in the program's artifacts bucket
ITEMS_BUCKET_TAG = "glacier:backfill-items-bucket"  # on the state machine: where lists go


def backfill_state_machine_name(pipeline: str) -> str:
    """The backfill state machine's name, derivable from the pipeline name alone."""
    return naming.physical(pipeline, "backfill", limit=naming.STATE_MACHINE_NAME_MAX)


def items_key(pipeline: str, execution: str) -> str:
    """Where ``glacier backfill --cloud`` puts a long partition list for one execution."""
    return f"{ITEMS_KEY_PREFIX}{pipeline}/{execution}.json"


def build_backfill_definition(
    dag: PipelineDAG,
    targets: Mapping[str, Target],
    *,
    max_concurrency: int = 10,
    tolerated_failures: int = 0,
    tolerated_failure_percent: float | None = None,
    items_from_s3: bool = False,
    partition: str | None = None,
    catalog: Mapping[str, CatalogTarget] | None = None,
) -> dict[str, Any]:
    """The backfill state machine of ``dag`` (``partition``: the AWS partition). Its items are
    inline (``{"partitions": [...]}``) or read from a JSON list in S3 (``items_from_s3``, what
    is deployed: ``{"items": {"bucket": ..., "key": ...}}``; a Map's states are one set, and
    state names are unique in a definition, so one state machine has one kind of reader)."""
    if not partitioned_datasets(dag):
        raise DeploymentError(
            f"Pipeline '{dag.name}' has no partitioned dataset to backfill.",
            fix="declare partition_by=['date'] on its directory datasets.",
        )
    percent_ok = tolerated_failure_percent is None or 0 <= tolerated_failure_percent <= 100
    if max_concurrency < 1 or tolerated_failures < 0 or not percent_ok:
        raise DeploymentError(
            f"Backfill of '{dag.name}' got max_concurrency={max_concurrency}, "
            f"tolerated_failures={tolerated_failures}, "
            f"tolerated_failure_percent={tolerated_failure_percent}.",
            fix="pass max_concurrency >= 1, tolerated_failures >= 0 and a percentage in 0..100 "
            "(glacier:backfillMaxConcurrency, glacier:backfillToleratedFailures, "
            "glacier:backfillToleratedFailurePercent).",
        )
    # ``catalog``: as for the pipeline's own machine, so backfilled partitions reach the tables.
    pipeline = build_definition(dag, targets, partition=partition, catalog=catalog)
    aws = partition or _storage_partition(dag)

    def map_state(from_s3: bool) -> dict[str, Any]:
        state: dict[str, Any] = {
            "Type": "Map",
            "Comment": f"One child execution per partition of {dag.name}",
            "ItemProcessor": {
                "ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"},
                "StartAt": pipeline["StartAt"],
                "States": pipeline["States"],
            },
            "ItemSelector": {"partition.$": "$$.Map.Item.Value"},
            "MaxConcurrency": max_concurrency,
            "ToleratedFailureCount": tolerated_failures,
            "Label": naming.fit(f"{dag.name}-backfill", 40).replace(" ", "-"),
            "ResultPath": None,
            "End": True,
        }
        if tolerated_failure_percent is not None:
            state["ToleratedFailurePercentage"] = tolerated_failure_percent
        if from_s3:
            state["ItemReader"] = {
                "Resource": f"arn:{aws}:states:::s3:getObject",
                "ReaderConfig": {"InputType": "JSON"},
                "Parameters": {"Bucket.$": "$.items.bucket", "Key.$": "$.items.key"},
            }
        else:
            state["ItemsPath"] = "$.partitions"
        return state

    return {
        "Comment": f"Glacier backfill of {dag.name}",
        "StartAt": MAP_STATE,
        "States": {MAP_STATE: map_state(items_from_s3)},
    }


def child_definition(backfill: Mapping[str, Any]) -> dict[str, Any]:
    """The definition one child execution runs (the map's item processor, standalone)."""
    processor = backfill["States"][MAP_STATE]["ItemProcessor"]
    return {"StartAt": processor["StartAt"], "States": processor["States"]}


def backfill_input(partitions: Sequence[Mapping[str, str]]) -> dict[str, Any]:
    """The inline input of a backfill execution."""
    return {"partitions": [dict(p) for p in partitions]}


def backfill_policy(state_machine_arn: str, items_bucket_arn: str | None = None) -> dict[str, Any]:
    """What the backfill's role needs beyond the pipeline's own: start and watch its child
    executions (of itself), and read the item lists from S3 (under ``backfills/``)."""
    prefix, _, name = state_machine_arn.rpartition(":stateMachine:")
    statements: list[dict[str, Any]] = [
        {
            "Sid": "StartPartitionExecutions",
            "Effect": "Allow",
            "Action": ["states:StartExecution"],
            "Resource": [state_machine_arn],
        },
        {
            "Sid": "WatchPartitionExecutions",
            "Effect": "Allow",
            "Action": ["states:DescribeExecution", "states:StopExecution"],
            "Resource": [f"{prefix}:execution:{name}/*:*"],  # a child: <name>/<map run>:<id>
        },
    ]
    if items_bucket_arn is not None:
        statements.append(
            {
                "Sid": "ReadPartitionList",
                "Effect": "Allow",
                "Action": ["s3:GetObject"],
                "Resource": [f"{items_bucket_arn}/{ITEMS_KEY_PREFIX}*"],
            }
        )
    return {"Version": "2012-10-17", "Statement": statements}
