"""Triggers and alerts under Pulumi's mocks (real pulumi + pulumi-aws SDKs): each trigger
kind's resources and inputs, the roles scoped to their own state machine, EventBridge
notifications declared once per bucket, the stack schedule as a default, the alert topic,
rule and alarms, parliament on every new policy, and an S3 arrival event rendered through
the planned input transformer."""

from __future__ import annotations

import json
import re
from functools import cache
from pathlib import Path
from typing import Any

import parliament
import pytest
from deploy_helpers import REPO, example_plan, plan, write_project
from parliament import analyze_policy_string

from glacier.deploy import events, iam
from glacier.deploy.component import DeployOptions
from glacier.deploy.plan import ACCOUNT, PlanResult

OPERATIONS = "examples/operations/pipelines.py"
REGION = "eu-west-1"
RULE = "aws:cloudwatch/eventRule:EventRule"
TARGET = "aws:cloudwatch/eventTarget:EventTarget"
NOTIFICATION = "aws:s3/bucketNotification:BucketNotification"
ALARM = "aws:cloudwatch/metricAlarm:MetricAlarm"
SEVERITIES = ["MUTE", "INFO", "LOW", "MEDIUM", "HIGH", "CRITICAL"]


def sm_arn(pipeline: str) -> str:
    return f"arn:aws:states:{REGION}:{ACCOUNT}:stateMachine:{pipeline}-sfn"


@cache
def operations() -> PlanResult:
    return example_plan(OPERATIONS)


# -- on_arrival ---------------------------------------------------------------------------
def test_arrival_rule_matches_object_created_under_the_source_dataset() -> None:
    rule = operations().get("ingest-arrival-ops-landing-events").inputs
    assert rule["name"] == "ingest-arrival-ops-landing-events"
    assert json.loads(rule["eventPattern"]) == {
        "source": ["aws.s3"],
        "detail-type": ["Object Created"],
        "detail": {"bucket": {"name": ["ops-landing"]}, "object": {"key": [{"prefix": "events/"}]}},
    }
    assert rule["region"] == REGION


def test_arrival_target_starts_the_state_machine_with_bucket_and_key() -> None:
    result = operations()
    target = result.get("ingest-arrival-ops-landing-events-target").inputs
    assert target["rule"] == "ingest-arrival-ops-landing-events"
    assert target["arn"] == result.outputs["ingest"]["state_machine_arn"] == sm_arn("ingest")
    assert target["roleArn"] == f"arn:aws:iam::{ACCOUNT}:role/ingest-arrival-role"
    assert target["inputTransformer"] == {
        "inputPaths": {"bucket": "$.detail.bucket.name", "key": "$.detail.object.key"},
        "inputTemplate": '{"trigger":"arrival","bucket":<bucket>,"key":<key>}',
    }


def test_trigger_roles_may_only_start_their_own_state_machine() -> None:
    result = operations()
    for label, service, pipeline in (
        ("ingest-arrival", "events.amazonaws.com", "ingest"),
        ("daily_report-schedule", "scheduler.amazonaws.com", "daily_report"),
    ):
        trust = json.loads(result.get(f"{label}-role").inputs["assumeRolePolicy"])
        assert [s["Principal"] for s in trust["Statement"]] == [{"Service": service}]
        policy = json.loads(result.get(f"{label}-policy").inputs["policy"])
        assert policy["Statement"] == [
            {
                "Sid": "StartPipeline",
                "Effect": "Allow",
                "Action": ["states:StartExecution"],
                "Resource": [sm_arn(pipeline)],
            }
        ]
        assert _permitted(policy, "states:StartExecution", sm_arn(pipeline))
        other = "ingest" if pipeline == "daily_report" else "daily_report"
        assert not _permitted(policy, "states:StartExecution", sm_arn(other))


def test_a_watched_managed_bucket_sends_its_events_to_eventbridge_once() -> None:
    result = operations()
    (notification,) = result.by_type(NOTIFICATION)
    assert notification.name == "data-buckets-ops-landing-notifications"
    assert notification.parent == "data-buckets"
    assert notification.inputs == {"bucket": "ops-landing", "eventbridge": True, "region": REGION}


SHARED = """
import polars as pl
from glacier import Pipeline, Provider
from glacier.config import AwsConfig

p = Provider(config=AwsConfig(region="eu-west-1"))
fn = p.serverless()
landing = p.bucket("landing", "drops/")
orders = p.bucket("landing", "orders/")
partner = p.bucket("partner-share", "feed.csv", managed=False)


@fn.task()
def first(df: pl.LazyFrame) -> pl.LazyFrame:
    return df


@fn.task()
def second(df: pl.LazyFrame) -> pl.LazyFrame:
    return df


@fn.task()
def third(df: pl.LazyFrame) -> pl.LazyFrame:
    return df


@fn.task()
def fourth(df: pl.LazyFrame) -> pl.LazyFrame:
    return df


a = Pipeline(name="a").source(landing).transform(first).to(p.bucket("lake", "a.parquet")).on_arrival(landing)
b = (
    orders.transform(second).to(p.bucket("lake", "b.parquet"))
    .with_name("b").on_arrival("landing", prefix="orders/2026/")
)
c = Pipeline(name="c").source(partner).transform(third).to(p.bucket("lake", "c.parquet")).on_arrival(partner)
d = Pipeline(name="d").source(p.bucket("lake", "a.parquet")).transform(fourth)
d = d.to(p.bucket("lake", "d.parquet"))
"""


@cache
def shared_plan(
    schedule: str | None = None, alerts: bool | None = None, email: str | None = None
) -> PlanResult:
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        path = write_project(Path(tmp), SHARED, "shared_triggers.py")
        options = DeployOptions(build_layer=False, schedule=schedule, alerts=alerts, alert_email=email)
        return plan(str(path), options=options)


def test_two_pipelines_watching_one_bucket_get_one_notification_and_a_rule_each() -> None:
    result = shared_plan()
    assert [r.inputs["bucket"] for r in result.by_type(NOTIFICATION)] == ["landing"]  # not the external one
    patterns = {
        r.parent: json.loads(r.inputs["eventPattern"])["detail"]
        for r in result.by_type(RULE)
        if r.parent != "alerts"
    }
    assert patterns == {
        "a": {"bucket": {"name": ["landing"]}, "object": {"key": [{"prefix": "drops/"}]}},
        # the declared prefix, inside the dataset it watches
        "b": {"bucket": {"name": ["landing"]}, "object": {"key": [{"prefix": "orders/2026/"}]}},
        # an external bucket: a rule, but its owner turns notifications on (docs/operations.md)
        # (a file dataset: its one key exactly, not feed.csv.bak)
        "c": {"bucket": {"name": ["partner-share"]}, "object": {"key": ["feed.csv"]}},
    }


def test_the_stack_schedule_is_a_default_for_pipelines_without_triggers() -> None:
    result = shared_plan(schedule="rate(1 hour)")
    schedules = {r.parent: r.inputs for r in result.by_type("aws:scheduler/schedule:Schedule")}
    assert set(schedules) == {"d"}  # a, b and c have triggers of their own
    assert schedules["d"]["scheduleExpression"] == "rate(1 hour)"
    assert "scheduleExpressionTimezone" not in schedules["d"]
    assert schedules["d"]["target"]["arn"] == sm_arn("d")


def test_on_schedule_deploys_the_expression_in_its_time_zone() -> None:
    result = operations()
    (schedule,) = result.by_type("aws:scheduler/schedule:Schedule")
    assert schedule.name == "daily_report-schedule" and schedule.parent == "daily_report"
    inputs = schedule.inputs
    assert inputs["scheduleExpression"] == "cron(0 6 * * ? *)"
    assert inputs["scheduleExpressionTimezone"] == "Europe/Paris"
    assert inputs["flexibleTimeWindow"] == {"mode": "OFF"}
    assert inputs["target"] == {
        "arn": sm_arn("daily_report"),
        "roleArn": f"arn:aws:iam::{ACCOUNT}:role/daily_report-schedule-role",
        "input": '{"trigger": "schedule", "time": "<aws.scheduler.scheduled-time>"}',
    }


def test_triggers_on_a_bucket_with_lineage_deploy_as_on_a_pipeline() -> None:
    """The chainable style: ``clicks.transform(...).to(daily).on_schedule(...).on_arrival(clicks)``
    (examples/operations/partitioned.py) gets the same resources as the Pipeline style."""
    result = example_plan(PARTITIONED)
    machine = sm_arn("daily_clicks")
    schedule = result.get("daily_clicks-schedule")
    assert schedule.parent == "daily_clicks"
    assert schedule.inputs["scheduleExpression"] == "cron(0 23 * * ? *)"
    assert "scheduleExpressionTimezone" not in schedule.inputs  # none given: UTC
    assert schedule.inputs["target"]["arn"] == machine
    rule = result.get("daily_clicks-arrival-ops-lake-clicks").inputs
    assert json.loads(rule["eventPattern"])["detail"] == {
        "bucket": {"name": ["ops-lake"]},
        "object": {"key": [{"prefix": "clicks/"}]},
    }
    assert result.get("daily_clicks-arrival-ops-lake-clicks-target").inputs["arn"] == machine
    for label, service in (("daily_clicks-schedule", "scheduler"), ("daily_clicks-arrival", "events")):
        trust = json.loads(result.get(f"{label}-role").inputs["assumeRolePolicy"])
        assert [s["Principal"] for s in trust["Statement"]] == [{"Service": f"{service}.amazonaws.com"}]
        policy = json.loads(result.get(f"{label}-policy").inputs["policy"])
        assert _permitted(policy, "states:StartExecution", machine)
        assert not _permitted(policy, "states:StartExecution", sm_arn("other"))
        assert serious_findings(policy) == [] and serious_findings(policy, community=True) == []


# -- alerts ------------------------------------------------------------------------------
def test_alert_topic_rule_and_alarms() -> None:
    result = operations()
    topic = result.get("alerts-topic")
    topic_arn = f"arn:aws:sns:{REGION}:{ACCOUNT}:{topic.inputs['name']}"
    assert topic.parent == "alerts" and result.outputs["glacier:alerts"]["topic_arn"] == topic_arn
    rule = result.get("alerts-failed-runs")
    assert json.loads(rule.inputs["eventPattern"]) == {
        "source": ["aws.states"],
        "detail-type": ["Step Functions Execution Status Change"],
        "detail": {
            "status": ["FAILED", "TIMED_OUT", "ABORTED"],
            "stateMachineArn": [sm_arn("daily_report"), sm_arn("ingest")],
        },
    }
    target = result.get("alerts-failed-runs-target").inputs
    assert target["arn"] == topic_arn and target["rule"] == rule.inputs["name"]
    policy = json.loads(result.get("alerts-topic-policy").inputs["policy"])
    rule_arn = f"arn:aws:events:{REGION}:{ACCOUNT}:rule/{rule.inputs['name']}"
    assert policy["Statement"] == [
        {
            "Sid": "FailureRulePublishes",
            "Effect": "Allow",
            "Principal": {"Service": "events.amazonaws.com"},
            "Action": "sns:Publish",
            "Resource": topic_arn,
            "Condition": {"ArnEquals": {"aws:SourceArn": rule_arn}},
        }
    ]
    alarms = {r.name: r.inputs for r in result.by_type(ALARM)}
    assert set(alarms) == {"alerts-ingest-executions-failed", "alerts-daily_report-executions-failed"}
    for pipeline in ("ingest", "daily_report"):
        alarm = alarms[f"alerts-{pipeline}-executions-failed"]
        assert (alarm["namespace"], alarm["metricName"]) == ("AWS/States", "ExecutionsFailed")
        assert alarm["dimensions"] == {"StateMachineArn": sm_arn(pipeline)}
        assert alarm["alarmActions"] == [topic_arn]
        assert alarm["threshold"] == 1 and alarm["comparisonOperator"] == "GreaterThanOrEqualToThreshold"
    assert not result.by_type("aws:sns/topicSubscription:TopicSubscription")  # no address configured


def test_alert_email_subscribes_the_address() -> None:
    result = shared_plan(email="data-team@example.com")
    (subscription,) = result.by_type("aws:sns/topicSubscription:TopicSubscription")
    assert subscription.inputs["protocol"] == "email"
    assert subscription.inputs["endpoint"] == "data-team@example.com"
    assert subscription.inputs["topic"] == result.outputs["glacier:alerts"]["topic_arn"]


def test_alerts_follow_the_config() -> None:
    untriggered = example_plan("examples/seed_000/core_multi_source.py")
    assert not untriggered.by_type("glacier:aws:Alerts")  # started by hand: the caller sees failures
    assert "glacier:alerts" not in untriggered.outputs
    assert not shared_plan(alerts=False).by_type("glacier:aws:Alerts")
    forced = plan(
        "examples/seed_000/core_multi_source.py", options=DeployOptions(build_layer=False, alerts=True)
    )
    (alarm,) = forced.by_type(ALARM)
    assert alarm.inputs["dimensions"] == {
        "StateMachineArn": f"arn:aws:states:us-east-1:{ACCOUNT}:stateMachine:sales_join-sfn"
    }
    assert len(shared_plan().by_type(ALARM)) == 4  # every state machine of the stack


# -- parliament --------------------------------------------------------------------------
def serious_findings(policy: dict[str, Any], *, community: bool = False) -> list[tuple[str, Any]]:
    if community:
        parliament.override_config(
            Path(parliament.__file__).parent / "community_auditors" / "config_override.yaml"
        )
    findings = analyze_policy_string(iam.dumps(policy), include_community_auditors=community).findings
    rated = [parliament.enhance_finding(f) for f in findings]
    return [
        (f.issue, f.location) for f in rated if SEVERITIES.index(f.severity) >= SEVERITIES.index("MEDIUM")
    ]


def new_policies() -> list[tuple[str, dict[str, Any]]]:
    """The trigger roles' permission policies and the alert topic's resource policy (trust
    policies carry no Resource, which parliament reads as malformed: it is not for them)."""
    found: list[tuple[str, dict[str, Any]]] = []
    for result in (operations(), shared_plan(schedule="rate(1 hour)")):
        for r in result.by_type("aws:iam/rolePolicy:RolePolicy"):
            if re.search(r"-(arrival|schedule)-policy$", r.name):
                found.append((r.name, json.loads(r.inputs["policy"])))
        found += [
            (r.name, json.loads(r.inputs["policy"]))
            for r in result.by_type("aws:sns/topicPolicy:TopicPolicy")
        ]
    return found


def test_parliament_finds_nothing_in_the_trigger_and_alert_policies() -> None:
    policies = new_policies()
    names = {name for name, _ in policies}
    assert {"ingest-arrival-policy", "daily_report-schedule-policy", "d-schedule-policy"} <= names
    assert {"a-arrival-policy", "alerts-topic-policy"} <= names
    for name, policy in policies:
        assert serious_findings(policy) == [], name
        assert serious_findings(policy, community=True) == [], name
        for statement in policy["Statement"]:
            assert statement.get("Resource") != "*" and "*" not in json.dumps(statement.get("Action")), name


# -- an S3 arrival through the planned rule --------------------------------------------------
def eventbridge_s3_event(bucket: str, key: str) -> dict[str, Any]:
    """An ``Object Created`` event as S3 sends it to EventBridge (shape from the S3 docs)."""
    return {
        "version": "0",
        "id": "17793124-05d4-b198-2fde-7ededc63b103",
        "detail-type": "Object Created",
        "source": "aws.s3",
        "account": ACCOUNT,
        "time": "2026-11-30T06:12:41Z",
        "region": REGION,
        "resources": [f"arn:aws:s3:::{bucket}"],
        "detail": {
            "version": "0",
            "bucket": {"name": bucket},
            "object": {
                "key": key,
                "size": 5,
                "etag": "b1946ac92492d2347c6235b4d2611184",
                "sequencer": "00617F08299329D189",
            },
            "request-id": "N4N7GDK58NMKJ12R",
            "requester": ACCOUNT,
            "source-ip-address": "1.2.3.4",
            "reason": "PutObject",
        },
    }


def matches(pattern: Any, event: Any) -> bool:
    """EventBridge's matching for the pattern forms used here: nested objects, lists of exact
    values and ``{"prefix": ...}`` matchers."""
    if isinstance(pattern, dict):
        return isinstance(event, dict) and all(
            k in event and matches(v, event[k]) for k, v in pattern.items()
        )
    return any(
        (isinstance(m, dict) and isinstance(event, str) and event.startswith(m["prefix"])) or m == event
        for m in pattern
    )


def json_path(event: dict[str, Any], path: str) -> Any:
    value: Any = event
    for part in path.removeprefix("$.").split("."):
        value = value[part]
    return value


def render(transformer: dict[str, Any], event: dict[str, Any]) -> str:
    """EventBridge's InputTransformer for a JSON template whose placeholders stand as values
    (not inside a string, which is all ours does): each ``<name>`` is replaced by what its
    InputPathsMap path selects, as JSON (a string gets its quotes and escapes)."""
    values = {name: json_path(event, path) for name, path in transformer["inputPaths"].items()}
    template: str = transformer["inputTemplate"]
    for literal in re.findall(r'"(?:[^"\\]|\\.)*"', template):
        assert not re.search(r"<[A-Za-z0-9_.-]+>", literal), "a placeholder inside a JSON string"

    def value(match: re.Match[str]) -> str:
        return json.dumps(values[match.group(1)])

    return re.sub(r"<([A-Za-z0-9_.-]+)>", value, template)


def test_an_object_created_event_starts_the_pipeline_with_its_bucket_and_key() -> None:
    result = operations()
    rule = json.loads(result.get("ingest-arrival-ops-landing-events").inputs["eventPattern"])
    target = result.get("ingest-arrival-ops-landing-events-target").inputs
    event = eventbridge_s3_event("ops-landing", "events/2026-11-30/part-0.parquet")
    assert matches(rule, event)
    state_machine_input = json.loads(render(target["inputTransformer"], event))
    assert state_machine_input == {
        "trigger": "arrival",
        "bucket": "ops-landing",
        "key": "events/2026-11-30/part-0.parquet",
    }
    # A key with characters JSON must escape still renders one valid input.
    odd = eventbridge_s3_event("ops-landing", 'events/a "quoted" name\\x.parquet')
    assert json.loads(render(target["inputTransformer"], odd))["key"] == 'events/a "quoted" name\\x.parquet'


def test_other_objects_do_not_start_it() -> None:
    rule = json.loads(operations().get("ingest-arrival-ops-landing-events").inputs["eventPattern"])
    assert not matches(rule, eventbridge_s3_event("ops-landing", "elsewhere/part-0.parquet"))
    assert not matches(rule, eventbridge_s3_event("ops-lake", "events/part-0.parquet"))
    assert not matches(
        rule, {**eventbridge_s3_event("ops-landing", "events/x"), "detail-type": "Object Deleted"}
    )
    # The pipeline's own output never matches: the rule watches only its source dataset's keys.
    assert not matches(rule, eventbridge_s3_event("ops-lake", "events.parquet"))


@pytest.mark.parametrize("key", ["events/part-0.parquet", "events/day=2026-11-30/part-3.parquet"])
def test_the_pattern_is_the_one_events_builds(key: str) -> None:
    result = operations()
    rule = json.loads(result.get("ingest-arrival-ops-landing-events").inputs["eventPattern"])
    (trigger,) = [t for t in _operations_dag("ingest").triggers if t.kind == "arrival"]
    assert rule == events.arrival_event_pattern(trigger)  # type: ignore[arg-type]
    assert matches(rule, eventbridge_s3_event("ops-landing", key))


def _operations_dag(name: str) -> Any:

    from glacier.dsl import load_pipelines

    return next(p.dag for p in load_pipelines(REPO / OPERATIONS).pipelines if p.name == name)


def _permitted(policy: dict[str, Any], action: str, resource: str) -> bool:
    """moto's IAM policy engine decides (not an evaluator of ours)."""
    from moto.iam.access_control import IAMPolicy, PermissionResult

    return IAMPolicy(json.dumps(policy)).is_action_permitted(action, resource) == PermissionResult.PERMITTED


# -- an arrival in a partitioned dataset runs the object's partition ------------------------
PARTITIONED = "examples/operations/partitioned.py"


def _asl_parameters(template: Any, data: dict[str, Any]) -> Any:
    """Step Functions' Parameters: a ``"name.$": "$.path"`` field takes what the path selects
    from the state's input (the forms our definitions use: plain paths, the context object's
    execution name)."""
    if not isinstance(template, dict):
        return template
    resolved: dict[str, Any] = {}
    for name, value in template.items():
        if name.endswith(".$"):
            resolved[name[:-2]] = "an-execution" if value == "$$.Execution.Name" else json_path(data, value)
        else:
            resolved[name] = _asl_parameters(value, data)
    return resolved


def _choose(choice: dict[str, Any], data: dict[str, Any]) -> str:
    """A Choice state of ``IsPresent`` rules (alone or under ``And``)."""

    def present(rule: dict[str, Any]) -> bool:
        if "And" in rule:
            return all(present(r) for r in rule["And"])
        try:
            json_path(data, rule["Variable"])
        except KeyError:
            return not rule["IsPresent"]
        return bool(rule["IsPresent"])

    return next((rule["Next"] for rule in choice["Choices"] if present(rule)), choice["Default"])


def _arrival_input(key: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """The partitioned example's plan: the state machine input an Object Created event for
    ``key`` renders to (through the planned rule and transformer), and the definition."""
    result = example_plan(PARTITIONED)
    rule = json.loads(result.get("daily_clicks-arrival-ops-lake-clicks").inputs["eventPattern"])
    target = result.get("daily_clicks-arrival-ops-lake-clicks-target").inputs
    event = eventbridge_s3_event("ops-lake", key)
    assert matches(rule, event)
    definition = json.loads(result.get("daily_clicks-sfn").inputs["definition"])
    return json.loads(render(target["inputTransformer"], event)), definition


def test_an_arrival_in_a_partition_folder_runs_that_partition(tmp_path: Path) -> None:
    import polars as pl

    from glacier.deploy.partition_entry import RESOLVE_STATE
    from glacier.runtime import core, lambda_handler
    from glacier.runtime.event import TaskEvent

    started, definition = _arrival_input("clicks/date=2026-11-30/part-0.parquet")
    assert started == {
        "trigger": "arrival",
        "bucket": "ops-lake",
        "key": "clicks/date=2026-11-30/part-0.parquet",
    }
    states = definition["States"]
    step = _choose(states[definition["StartAt"]], started)
    assert step == RESOLVE_STATE
    resolver = states[step]
    # The resolving state invokes the pipeline's own function; its entry point answers.
    answer = lambda_handler.handler(_asl_parameters(resolver["Parameters"], started)["Payload"], None)
    data = _asl_parameters(resolver["ResultSelector"], {"Payload": answer})
    assert data["partition"] == {"date": "2026-11-30"}
    task_state = states[resolver["Next"]]
    payload = _asl_parameters(task_state["Parameters"], data)["Payload"]
    event = TaskEvent.model_validate(payload)
    assert event.partition == {"date": "2026-11-30"}
    for day, rows in (("2026-11-29", 3), ("2026-11-30", 5)):
        folder = tmp_path / "ops-lake" / "clicks" / f"date={day}"
        folder.mkdir(parents=True)
        pl.DataFrame({"user_id": list(range(rows)), "kind": ["view"] * rows}).write_parquet(
            folder / "p.parquet"
        )

    def local(location: Any) -> Any:
        return location.model_copy(update={"uri": location.uri.replace("s3://", str(tmp_path) + "/")})

    event = event.model_copy(
        update={"inputs": {k: local(v) for k, v in event.inputs.items()}, "output": local(event.output)}
    )
    from glacier.dsl import load_pipelines

    (pipeline,) = load_pipelines(REPO / PARTITIONED).pipelines
    core.execute_task(event, pipeline.functions[event.task], None)
    written = sorted(
        p.name for p in (tmp_path / "ops-lake" / "daily_clicks").iterdir() if not p.name.startswith(".")
    )
    assert written == ["date=2026-11-30"]


@pytest.mark.parametrize(
    ("key", "words"),
    [
        ("clicks/date%3D2026-11-30/part-0.parquet", None),  # escaped as S3 notifications do
        ("clicks/part-0.parquet", "not in a partition of it"),
        ("clicks/day=2026-11-30/part-0.parquet", "not a partition 'date=<value>'"),
        ("clicks/date=2026-11-31/part-0.parquet", "is not a date"),
        ("clicks/date=x y/part-0.parquet", "not a valid path component"),
    ],
)
def test_an_arrived_key_maps_to_its_partition_or_a_clear_error(key: str, words: str | None) -> None:
    from glacier.deploy.partition_entry import RESOLVE_STATE
    from glacier.runtime import lambda_handler

    started, definition = _arrival_input(key)
    payload = _asl_parameters(definition["States"][RESOLVE_STATE]["Parameters"], started)["Payload"]
    if words is None:
        assert lambda_handler.handler(payload, None)["partition"] == {"date": "2026-11-30"}
        return
    with pytest.raises(lambda_handler.TaskFailedError, match=re.escape(words)) as caught:
        lambda_handler.handler(payload, None)
    assert "daily_clicks" in str(caught.value) and "Fix:" in str(caught.value)


def test_other_inputs_of_a_partitioned_pipeline_fail_with_what_to_pass() -> None:
    from glacier.deploy.partition_entry import NO_PARTITION, SCHEDULED_DAY

    _, definition = _arrival_input("clicks/date=2026-11-30/part-0.parquet")
    choice = definition["States"][definition["StartAt"]]
    assert _choose(choice, {"partition": {"date": "2026-11-30"}}) == "count_clicks"
    assert _choose(choice, {"trigger": "schedule", "time": "2026-11-30T23:00:00Z"}) == SCHEDULED_DAY
    assert _choose(choice, {"trigger": "manual"}) == NO_PARTITION
    assert "--partition date=..." in definition["States"][NO_PARTITION]["Cause"]
    schedule = example_plan(PARTITIONED).get("daily_clicks-schedule").inputs["target"]
    assert json.loads(schedule["input"])["time"] == "<aws.scheduler.scheduled-time>"
