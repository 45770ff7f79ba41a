"""EventBridge documents for triggers and alerts (pure: no pulumi import).

The arrival rule's pattern and input transformer, the failure rule's pattern, the policies
of the roles and the topic they use, and the names of those resources: one place for each,
so the component, the alerts and the tests read the same text.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from typing import Any

from glacier.dag.triggers import ArrivalTrigger
from glacier.deploy import iam, naming

RULE_NAME_MAX = 64
TOPIC_NAME_MAX = 256
ALARM_NAME_MAX = 255

# What an S3 "Object Created" event carries that the state machine needs: where the object is.
ARRIVAL_INPUT_PATHS = {"bucket": "$.detail.bucket.name", "key": "$.detail.object.key"}
ARRIVAL_INPUT_TEMPLATE = '{"trigger":"arrival","bucket":<bucket>,"key":<key>}'
# EventBridge Scheduler fills in the time the run was scheduled for (2026-11-30T06:00:00Z): a
# pipeline partitioned by one date runs that day's partition.
SCHEDULE_INPUT = json.dumps({"trigger": "schedule", "time": "<aws.scheduler.scheduled-time>"})

# The execution states that notify: every way a run can end other than success.
FAILED_STATUSES = ("FAILED", "TIMED_OUT", "ABORTED")


def arrival_event_pattern(trigger: ArrivalTrigger) -> dict[str, Any]:
    """Object Created in the trigger's bucket at one of its keys or under one of its key
    prefixes (the parts of the pipeline's source datasets it covers, never its outputs)."""
    matchers: list[Any] = [*trigger.keys, *({"prefix": prefix} for prefix in trigger.key_prefixes)]
    return {
        "source": ["aws.s3"],
        "detail-type": ["Object Created"],
        "detail": {"bucket": {"name": [trigger.bucket]}, "object": {"key": matchers}},
    }


def failure_event_pattern(state_machine_arns: Sequence[str]) -> dict[str, Any]:
    """A Step Functions execution of one of these state machines ended badly."""
    return {
        "source": ["aws.states"],
        "detail-type": ["Step Functions Execution Status Change"],
        "detail": {"status": list(FAILED_STATUSES), "stateMachineArn": sorted(state_machine_arns)},
    }


def start_execution_policy(arns: iam.Arns, state_machine: str) -> iam.Policy:
    """A trigger's role (EventBridge Scheduler's or a rule target's): start this state
    machine, nothing else."""
    return iam.scheduler_policy(arns, state_machine)


def topic_policy(topic_arn: str, rule_arn: str) -> iam.Policy:
    """Only the stack's failure rule may publish to the alert topic (the account's own
    principals manage it through their IAM policies, as for any same-account resource)."""
    return {
        "Version": iam.VERSION,
        "Statement": [
            {
                "Sid": "FailureRulePublishes",
                "Effect": "Allow",
                "Principal": {"Service": "events.amazonaws.com"},
                "Action": "sns:Publish",
                "Resource": topic_arn,
                "Condition": {"ArnEquals": {"aws:SourceArn": rule_arn}},
            }
        ],
    }


# -- names (from user-declared ids only) ----------------------------------------------------
def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9]+", "-", text).strip("-")


def arrival_label(trigger: ArrivalTrigger) -> str:
    """The part of an arrival rule's names that says what it watches: bucket and prefix."""
    return "-".join(p for p in ("arrival", _slug(trigger.bucket), _slug(trigger.prefix or "")) if p)


def arrival_rule_name(pipeline: str, trigger: ArrivalTrigger) -> str:
    return naming.physical(pipeline, arrival_label(trigger), limit=RULE_NAME_MAX)


def arrival_role_name(pipeline: str) -> str:
    return naming.physical(pipeline, "arrival", "role", limit=naming.ROLE_NAME_MAX)


def alert_topic_name(stack: str) -> str:
    return naming.physical("glacier", stack, "alerts", limit=TOPIC_NAME_MAX)


def failure_rule_name(stack: str) -> str:
    return naming.physical("glacier", stack, "failed-runs", limit=RULE_NAME_MAX)


def failure_alarm_name(pipeline: str) -> str:
    return naming.physical(pipeline, "executions-failed", limit=ALARM_NAME_MAX)
