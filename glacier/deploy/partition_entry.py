"""The first states of a partitioned pipeline's state machine: which partition this
execution runs (pure: no pulumi import).

An execution names its partition (``{"partition": {"date": "2026-11-30"}}``: ``glacier run
--cloud --partition``, a backfill's child) or is an arrival (``{"trigger": "arrival",
"bucket": ..., "key": ...}``, the arrival rule's input transformer). A Choice sends the
first to the tasks; an arrival first asks the pipeline's first Lambda function for the
partition the object's key is in (``glacier.runtime.partition_key.PartitionOfKey``: hive
folders under a partitioned source dataset, values checked against its types), which
becomes ``$.partition``. A scheduled execution (``{"trigger": "schedule", "time":
"2026-11-30T06:00:00Z"}``) of a pipeline partitioned by one ``Date`` key runs the scheduled
day's partition (UTC). Anything else fails at once with a cause saying what to pass.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from glacier.dag.model import PipelineDAG
from glacier.dag.triggers import ArrivalTrigger
from glacier.runtime.partition import PARTITION_OF_KEY
from glacier.runtime.partition_key import PartitionLayout

CHOICE_STATE = "Which partition"
RESOLVE_STATE = "Partition of the arrived object"
RESOLVE_FAILED = "Partition of the arrived object failed"
NO_PARTITION = "No partition"
SCHEDULED_DAY = "Partition of the scheduled day"


def daily_key(dag: PipelineDAG) -> str | None:
    """The one partition key, when the pipeline's partitions are days (a ``Date`` column)."""
    keys = {tuple(ds.partition_by) for ds in dag.datasets if ds.partition_by}
    if len(keys) != 1 or len(key := next(iter(keys))) != 1:
        return None
    typed = {(ds.columns or {}).get(key[0]) for ds in dag.datasets if ds.partition_by}
    return key[0] if "Date" in typed else None


def arrival_layouts(dag: PipelineDAG) -> list[PartitionLayout]:
    """The partitioned source datasets the pipeline's arrival triggers watch."""
    watched = {d for t in dag.triggers if isinstance(t, ArrivalTrigger) for d in t.datasets}
    return [
        PartitionLayout(
            bucket=ds.bucket, prefix=ds.path, partition_by=list(ds.partition_by), columns=ds.columns
        )
        for ds in dag.datasets
        if ds.id in watched and ds.partition_by
    ]


def entry_states(
    dag: PipelineDAG,
    first: str,
    resolver_function: str | None,
    integration: Callable[[str], str],
    lambda_retry: Mapping[str, Any],
) -> tuple[str, dict[str, Any]]:
    """``(start state, states)`` to put before ``first`` (the first task state)."""
    partitioned = next(ds for ds in dag.datasets if ds.partition_by)
    keys = " ".join(f"{k}=..." for k in partitioned.partition_by)
    choices: list[dict[str, Any]] = [{"Variable": "$.partition", "IsPresent": True, "Next": first}]
    states: dict[str, Any] = {}
    layouts = arrival_layouts(dag)
    if layouts and resolver_function is not None:
        choices.append(
            {
                "And": [
                    {"Variable": "$.bucket", "IsPresent": True},
                    {"Variable": "$.key", "IsPresent": True},
                ],
                "Next": RESOLVE_STATE,
            }
        )
        request = {
            "pipeline": dag.name,
            "bucket.$": "$.bucket",
            "key.$": "$.key",
            "layouts": [layout.model_dump(mode="json") for layout in layouts],
        }
        states[RESOLVE_STATE] = {
            "Type": "Task",
            "Comment": "The partition the arrived object's key is in",
            "Resource": integration("lambda:invoke"),
            "Parameters": {"FunctionName": resolver_function, "Payload": {PARTITION_OF_KEY: request}},
            "ResultSelector": {
                "trigger.$": "$.Payload.trigger",
                "bucket.$": "$.Payload.bucket",
                "key.$": "$.Payload.key",
                "partition.$": "$.Payload.partition",
            },
            "ResultPath": "$",
            "Retry": [dict(lambda_retry)],
            "Catch": [{"ErrorEquals": ["States.ALL"], "ResultPath": "$.error", "Next": RESOLVE_FAILED}],
            "Next": first,
        }
        states[RESOLVE_FAILED] = {
            "Type": "Fail",
            "Comment": "The arrived object is in no partition of the pipeline's sources.",
            "Error": "Glacier.NoPartition",
            "CausePath": "$.error.Cause",
        }
    if (day := daily_key(dag)) is not None:
        choices.append({"Variable": "$.time", "IsPresent": True, "Next": SCHEDULED_DAY})
        states[SCHEDULED_DAY] = {
            "Type": "Pass",
            "Comment": "A scheduled run processes the day it was scheduled for (UTC)",
            "Parameters": {
                "trigger": "schedule",
                "time.$": "$.time",
                "partition": {f"{day}.$": "States.ArrayGetItem(States.StringSplit($.time, 'T'), 0)"},
            },
            "Next": first,
        }
    states[CHOICE_STATE] = {"Type": "Choice", "Choices": choices, "Default": NO_PARTITION}
    states[NO_PARTITION] = {
        "Type": "Fail",
        "Comment": "A partitioned pipeline runs one partition per execution.",
        "Error": "Glacier.NoPartition",
        "Cause": f"Pipeline '{dag.name}' runs one partition at a time: start it with input "
        f'{{"partition": {{...}}}} (glacier run --cloud --partition {keys}), or from an arrival '
        "under one of its partitioned source datasets"
        + (", or from its schedule." if daily_key(dag) is not None else "."),
    }
    return CHOICE_STATE, states
