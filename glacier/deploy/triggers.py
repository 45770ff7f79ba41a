"""The pipeline component's triggers: what starts its state machine without anyone asking.

A schedule is an EventBridge Scheduler schedule (the pipeline's own ``.on_schedule()``, else
the stack-wide ``glacier:schedule`` default for a pipeline with no trigger of its own). An
arrival is an EventBridge rule on S3 ``Object Created`` events for the watched keys, whose
target starts the state machine with the object's bucket and key. Each kind has its own role,
which may only start this state machine. The bucket-side switch (S3 sending its events to
EventBridge) belongs to the bucket: the program's ``DataBuckets`` turns it on once for a
managed bucket; an external bucket's owner turns it on (docs/operations.md).
"""

from __future__ import annotations

import json

import pulumi
import pulumi_aws as aws

from glacier.dag.triggers import ArrivalTrigger, ScheduleTrigger
from glacier.deploy import events, iam, naming
from glacier.deploy.orchestration import OrchestrationLayer


class TriggerLayer(OrchestrationLayer):
    schedule: aws.scheduler.Schedule | None
    arrival_rules: dict[str, aws.cloudwatch.EventRule]

    def _triggers(self) -> None:
        own = self.dag.triggers
        schedules = [t for t in own if isinstance(t, ScheduleTrigger)]
        arrivals = [t for t in own if isinstance(t, ArrivalTrigger)]
        if schedules:
            self.schedule = self._schedule(schedules[0].expression, schedules[0].timezone)
        elif not own and self.options.schedule:
            self.schedule = self._schedule(self.options.schedule, None)
        else:
            self.schedule = None
        self.arrival_rules = self._arrivals(arrivals) if arrivals else {}

    def _start_policy(self) -> pulumi.Output[str]:
        sm_name = naming.state_machine_name(self.dag.name)
        return self.account.apply(lambda a: iam.dumps(events.start_execution_policy(self._arns(a), sm_name)))

    def _schedule(self, expression: str, timezone: str | None) -> aws.scheduler.Schedule:
        role, policy = self._role(
            "schedule",
            naming.scheduler_role_name(self.dag.name),
            "scheduler.amazonaws.com",
            self._start_policy(),
        )
        return aws.scheduler.Schedule(
            self._child("schedule"),
            name=naming.schedule_name(self.dag.name),
            schedule_expression=expression,
            schedule_expression_timezone=timezone,
            flexible_time_window=aws.scheduler.ScheduleFlexibleTimeWindowArgs(mode="OFF"),
            target=aws.scheduler.ScheduleTargetArgs(
                arn=self.state_machine.arn, role_arn=role.arn, input=events.SCHEDULE_INPUT
            ),
            region=self.region,
            opts=self._opts(policy),
        )

    def _arrivals(self, arrivals: list[ArrivalTrigger]) -> dict[str, aws.cloudwatch.EventRule]:
        """One role for the pipeline's arrival rules, then a rule and a target per arrival."""
        role, policy = self._role(
            "arrival", events.arrival_role_name(self.dag.name), "events.amazonaws.com", self._start_policy()
        )
        rules: dict[str, aws.cloudwatch.EventRule] = {}
        for trigger in arrivals:
            label = events.arrival_label(trigger)
            rule = aws.cloudwatch.EventRule(
                self._child(label),
                name=events.arrival_rule_name(self.dag.name, trigger),
                description=f"Start pipeline {self.dag.name} when objects arrive in "
                f"s3://{trigger.bucket}/{trigger.prefix or ''}",
                event_pattern=json.dumps(events.arrival_event_pattern(trigger), sort_keys=True),
                region=self.region,
                tags=self.tags,
                opts=self._opts(),
            )
            aws.cloudwatch.EventTarget(
                self._child(label, "target"),
                rule=rule.name,
                target_id="state-machine",
                arn=self.state_machine.arn,
                role_arn=role.arn,
                input_transformer=aws.cloudwatch.EventTargetInputTransformerArgs(
                    input_paths=events.ARRIVAL_INPUT_PATHS,
                    input_template=events.ARRIVAL_INPUT_TEMPLATE,
                ),
                region=self.region,
                opts=self._opts(policy),
            )
            rules[label] = rule
        return rules
