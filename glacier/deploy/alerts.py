"""Failure alerts for a stack: one SNS topic, fed by an EventBridge rule on every failed,
timed-out or aborted execution of the stack's state machines, plus a CloudWatch alarm on
each state machine's ``ExecutionsFailed`` metric. ``glacier:alertEmail`` subscribes an
address; the topic's ARN is a stack output for any other subscription.

Program-level (``glacier:aws:Alerts``, named ``alerts``): a stack has one topic whatever
pipelines it deploys. It is declared when the stack asks for it (``glacier:alerts``), when an
address is configured, or by default when a pipeline runs unattended (a trigger of its own or
the stack schedule): nobody watches those runs, so a failure must reach someone.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import pulumi
import pulumi_aws as aws

from glacier.dag.model import PipelineDAG
from glacier.deploy import events, iam, naming
from glacier.deploy.options import DeployOptions
from glacier.errors import DeploymentError

ALERTS_TYPE = "glacier:aws:Alerts"
ALERTS_NAME = "alerts"
OUTPUT_KEY = "glacier:alerts"  # a ':' can never be in a pipeline name, so no clash

# The notification the topic sends: a sentence, not the raw event.
MESSAGE_PATHS = {
    "status": "$.detail.status",
    "execution": "$.detail.executionArn",
    "machine": "$.detail.stateMachineArn",
    "time": "$.time",
}
MESSAGE_TEMPLATE = '"Glacier: execution <execution> of state machine <machine> ended <status> at <time>."'


def alerts_wanted(options: DeployOptions, dags: Sequence[PipelineDAG]) -> bool:
    """Explicit ``glacier:alerts`` wins; else on when an address is set or a pipeline runs
    unattended."""
    if options.alerts is not None:
        return options.alerts
    return bool(options.alert_email) or bool(options.schedule) or any(dag.triggers for dag in dags)


@dataclass(frozen=True)
class AlertsArgs:
    """The stack's state machines (pipeline name -> ARN), where they run, and who to tell."""

    state_machines: Mapping[str, pulumi.Input[str]]
    region: str
    email: str | None = None
    tags: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def for_components(
        cls, machines: Mapping[str, tuple[str, pulumi.Input[str]]], options: DeployOptions
    ) -> AlertsArgs:
        """From pipeline name -> (region, state machine ARN). EventBridge rules see only their
        own region's executions, so every alerted pipeline must deploy to one region."""
        regions = {region for region, _ in machines.values()}
        if len(regions) > 1:
            listed = ", ".join(f"'{p}' in {r}" for p, (r, _) in sorted(machines.items()))
            raise DeploymentError(
                f"Failure alerts cover one region, but the stack's pipelines deploy to several ({listed}).",
                fix="set glacier:region for the stack, or turn alerts off with glacier:alerts=false.",
            )
        email = options.alert_email
        if email is not None and ("@" not in email or email.strip() != email):
            raise DeploymentError(
                f"glacier:alertEmail {email!r} is not an email address.",
                fix="pulumi config set glacier:alertEmail data-team@example.com",
            )
        return cls(
            state_machines={name: arn for name, (_, arn) in sorted(machines.items())},
            region=next(iter(regions)),
            email=email,
            tags=dict(options.tags),
        )


class Alerts(pulumi.ComponentResource):
    topic: aws.sns.Topic
    rule: aws.cloudwatch.EventRule
    alarms: dict[str, aws.cloudwatch.MetricAlarm]

    def __init__(self, name: str, args: AlertsArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__(ALERTS_TYPE, name, None, opts)
        self.args = args
        self.partition = naming.partition_for(args.region)
        self.topic = self._topic()
        if args.email:
            self._email(args.email)
        self.rule = self._failure_rule()
        self.alarms = {p: self._alarm(p, arn) for p, arn in args.state_machines.items()}
        self.register_outputs(self.outputs())

    def outputs(self) -> dict[str, pulumi.Input[str]]:
        return {"topic_arn": self.topic.arn, "failure_rule": self.rule.name}

    def _child(self, *parts: str) -> str:
        return naming.logical(self._name, *parts)

    def _opts(self, *depends_on: pulumi.Resource) -> pulumi.ResourceOptions:
        return pulumi.ResourceOptions(parent=self, depends_on=list(depends_on) or None)

    def _topic(self) -> aws.sns.Topic:
        return aws.sns.Topic(
            self._child("topic"),
            name=events.alert_topic_name(pulumi.get_stack()),
            region=self.args.region,
            tags=dict(self.args.tags),
            opts=self._opts(),
        )

    def _email(self, address: str) -> aws.sns.TopicSubscription:
        # AWS mails the address a confirmation link; nothing is delivered until it is followed.
        return aws.sns.TopicSubscription(
            self._child("email"),
            topic=self.topic.arn,
            protocol="email",
            endpoint=address,
            region=self.args.region,
            opts=self._opts(),
        )

    def _failure_rule(self) -> aws.cloudwatch.EventRule:
        arns = list(self.args.state_machines.values())
        rule = aws.cloudwatch.EventRule(
            self._child("failed-runs"),
            name=events.failure_rule_name(pulumi.get_stack()),
            description="Glacier: a pipeline execution failed, timed out or was aborted",
            event_pattern=pulumi.Output.all(*arns).apply(
                lambda resolved: json.dumps(events.failure_event_pattern(resolved), sort_keys=True)
            ),
            region=self.args.region,
            tags=dict(self.args.tags),
            opts=self._opts(),
        )
        policy = aws.sns.TopicPolicy(
            self._child("topic-policy"),
            arn=self.topic.arn,
            policy=pulumi.Output.all(self.topic.arn, rule.arn).apply(
                lambda pair: iam.dumps(events.topic_policy(pair[0], pair[1]))
            ),
            region=self.args.region,
            opts=self._opts(),
        )
        aws.cloudwatch.EventTarget(
            self._child("failed-runs", "target"),
            rule=rule.name,
            target_id="alert-topic",
            arn=self.topic.arn,
            input_transformer=aws.cloudwatch.EventTargetInputTransformerArgs(
                input_paths=MESSAGE_PATHS, input_template=MESSAGE_TEMPLATE
            ),
            region=self.args.region,
            opts=self._opts(policy),
        )
        return rule

    def _alarm(self, pipeline: str, state_machine_arn: pulumi.Input[str]) -> aws.cloudwatch.MetricAlarm:
        return aws.cloudwatch.MetricAlarm(
            self._child(pipeline, "executions-failed"),
            name=events.failure_alarm_name(pipeline),
            alarm_description=f"Glacier pipeline {pipeline}: an execution failed",
            namespace="AWS/States",
            metric_name="ExecutionsFailed",
            dimensions={"StateMachineArn": state_machine_arn},
            statistic="Sum",
            period=300,
            evaluation_periods=1,
            threshold=1,
            comparison_operator="GreaterThanOrEqualToThreshold",
            treat_missing_data="notBreaching",
            alarm_actions=[self.topic.arn],
            region=self.args.region,
            tags=dict(self.args.tags),
            opts=self._opts(),
        )
