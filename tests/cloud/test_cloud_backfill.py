"""The backfill: its deployed state machine under Pulumi's mocks (asl-validator, parliament),
moto's interpreter running its Distributed Map over 3 partitions, each partition's child (its
item processor, input ``{"partition": item}``) run in moto with the task events it sends going
through the entry points' core (the outputs equal the local backfill's), and ``glacier
backfill --cloud`` starting it with an S3 item list."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import parliament
import polars as pl
import pytest
from parliament import analyze_policy_string
from polars.testing import assert_frame_equal

from glacier.dag.contract import CompiledPipeline
from glacier.deploy import asl, iam, naming
from glacier.deploy.backfill import (
    ITEMS_BUCKET_TAG,
    MAP_STATE,
    backfill_input,
    backfill_policy,
    build_backfill_definition,
    child_definition,
)
from glacier.deploy.options import DeployOptions
from glacier.deploy.plan import plan
from glacier.dsl.discovery import load_pipelines
from glacier.errors import DeploymentError
from glacier.formats import Format
from glacier.io import open_dataset
from glacier.runner.partitions import backfill
from glacier.runtime import core
from glacier.runtime.event import TaskEvent

EXAMPLE = "examples/operations/partitioned.py"
REPO = Path(__file__).resolve().parents[2]
DAYS = ["2026-11-01", "2026-11-02", "2026-11-03"]
SEVERITIES = ["MUTE", "INFO", "LOW", "MEDIUM", "HIGH", "CRITICAL"]


@pytest.fixture(scope="module")
def pipeline() -> CompiledPipeline:
    return load_pipelines(EXAMPLE).pipelines[0]


def _targets(pipeline: CompiledPipeline, function_arn: Any = None) -> dict[str, asl.Target]:
    dag = pipeline.dag
    name = function_arn or (lambda n: n)
    return {t.name: asl.LambdaTarget(name(naming.function_name(dag.name, t.name))) for t in dag.tasks}


def test_definitions_validate(pipeline: CompiledPipeline, tmp_path: Path) -> None:
    paths = []
    for from_s3 in (False, True):
        definition = build_backfill_definition(
            pipeline.dag, _targets(pipeline), max_concurrency=5, tolerated_failures=2, items_from_s3=from_s3
        )
        state = definition["States"][MAP_STATE]
        assert state["Type"] == "Map"
        assert state["ItemProcessor"]["ProcessorConfig"] == {
            "Mode": "DISTRIBUTED",
            "ExecutionType": "STANDARD",
        }
        assert (state["MaxConcurrency"], state["ToleratedFailureCount"]) == (5, 2)
        assert state["ItemSelector"] == {"partition.$": "$$.Map.Item.Value"}
        if from_s3:
            assert state["ItemReader"]["Resource"] == "arn:aws:states:::s3:getObject"
        else:
            assert state["ItemsPath"] == "$.partitions"
        path = tmp_path / f"backfill-{from_s3}.json"
        path.write_text(json.dumps(definition))
        paths += ["--json-path", str(path)]
    validator = REPO / "node_modules" / ".bin" / "asl-validator"
    done = subprocess.run([str(validator), *paths], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    with pytest.raises(DeploymentError, match="max_concurrency"):
        build_backfill_definition(pipeline.dag, _targets(pipeline), max_concurrency=0)


def _serious(policy: dict[str, Any]) -> list[Any]:
    findings = analyze_policy_string(iam.dumps(policy)).findings
    serious = [
        (f.issue, f.detail)
        for f in map(parliament.enhance_finding, findings)
        if SEVERITIES.index(f.severity) >= SEVERITIES.index("MEDIUM")
    ]
    # parliament's IAM data knows DescribeExecution on express executions only; AWS documents
    # it on standard executions too (a Distributed Map's children), so that one is expected.
    known = (
        "RESOURCE_MISMATCH",
        [{"action": "states:DescribeExecution", "required_format": "arn:*:states:*:*:express:*:*:*"}],
    )
    return [f for f in serious if f != known]


def test_backfill_policy_is_parliament_clean() -> None:
    arn = "arn:aws:states:eu-west-1:123456789012:stateMachine:daily_clicks-backfill"
    policy = backfill_policy(arn, "arn:aws:s3:::ops-lake")
    assert _serious(policy) == []
    resources = {s["Sid"]: s["Resource"] for s in policy["Statement"]}
    assert resources["StartPartitionExecutions"] == [arn]
    assert resources["WatchPartitionExecutions"] == [
        "arn:aws:states:eu-west-1:123456789012:execution:daily_clicks-backfill/*:*"
    ]
    assert resources["ReadPartitionList"] == ["arn:aws:s3:::ops-lake/backfills/*"]


def _validate(tmp_path: Path, *definitions: dict[str, Any]) -> None:
    paths = []
    for n, definition in enumerate(definitions):
        path = tmp_path / f"definition-{n}.json"
        path.write_text(json.dumps(definition))
        paths += ["--json-path", str(path)]
    validator = REPO / "node_modules" / ".bin" / "asl-validator"
    done = subprocess.run([str(validator), *paths], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stdout + done.stderr


def test_the_component_deploys_the_backfill_state_machine(tmp_path: Path) -> None:
    """Under Pulumi's mocks: a partitioned pipeline's component declares its backfill state
    machine (parented, named from the pipeline, the Map's limits from the deploy options),
    whose role runs the tasks, starts and watches its own children, reads the item lists."""
    options = DeployOptions(
        build_layer=False,
        backfill_max_concurrency=3,
        backfill_tolerated_failures=1,
        backfill_tolerated_failure_percent=5.0,
    )
    result = plan(str(REPO / EXAMPLE), loader=load_pipelines, options=options)
    machine = result.get("daily_clicks-backfill")
    assert machine.type == "aws:sfn/stateMachine:StateMachine"
    assert machine.parent == "daily_clicks" and machine.inputs["name"] == "daily_clicks-backfill"
    artifacts = machine.inputs["tags"][ITEMS_BUCKET_TAG]
    assert artifacts == result.outputs["daily_clicks"]["artifacts_bucket"]
    definition = json.loads(machine.inputs["definition"])
    assert definition["StartAt"] == MAP_STATE
    state = definition["States"][MAP_STATE]
    assert state["ItemProcessor"]["ProcessorConfig"]["Mode"] == "DISTRIBUTED"
    limits = (state["MaxConcurrency"], state["ToleratedFailureCount"], state["ToleratedFailurePercentage"])
    assert limits == (3, 1, 5.0)
    assert state["ItemReader"]["Parameters"] == {
        "Bucket.$": "$.items.bucket",
        "Key.$": "$.items.key",
    }
    # Each child runs what the pipeline's own state machine runs.
    own = json.loads(result.get("daily_clicks-sfn").inputs["definition"])
    assert definition["States"][MAP_STATE]["ItemProcessor"]["States"] == own["States"]
    _validate(tmp_path, definition)
    role = result.get("daily_clicks-backfill-role")
    assert role.parent == "daily_clicks"
    assert json.loads(role.inputs["assumeRolePolicy"])["Statement"][0]["Principal"] == {
        "Service": "states.amazonaws.com"
    }
    policy = json.loads(result.get("daily_clicks-backfill-policy").inputs["policy"])
    assert _serious(policy) == []
    resources = {s["Sid"]: s["Resource"] for s in policy["Statement"]}
    own_arn = "arn:aws:states:eu-west-1:123456789012:stateMachine:daily_clicks-backfill"
    assert resources["StartPartitionExecutions"] == [own_arn]
    assert resources["ReadPartitionList"] == [f"arn:aws:s3:::{artifacts}/backfills/*"]
    assert resources["InvokeFunctions"][0].endswith(":function:daily_clicks-count_clicks")
    assert result.outputs["daily_clicks"]["backfill_state_machine_arn"].endswith(
        ":stateMachine:daily_clicks-backfill"
    )
    # A failed backfill alerts like a failed run: the failure rule and an alarm cover it.
    alerts_rule = json.loads(result.get("alerts-failed-runs").inputs["eventPattern"])
    assert f"{own_arn}" in alerts_rule["detail"]["stateMachineArn"]
    alarm = result.get("alerts-daily_clicks-backfill-executions-failed").inputs
    assert alarm["dimensions"] == {"StateMachineArn": own_arn}
    # A pipeline without partitions gets none.
    unpartitioned = plan(
        str(REPO / "examples/operations/pipelines.py"), loader=load_pipelines, options=options
    )
    assert not [r for r in unpartitioned.resources if r.name.endswith("-backfill")]


def test_bad_backfill_options_are_a_clear_error(pipeline: CompiledPipeline) -> None:
    for bad in ({"max_concurrency": 0}, {"tolerated_failures": -1}, {"tolerated_failure_percent": 150.0}):
        with pytest.raises(DeploymentError, match="glacier:backfillMaxConcurrency"):
            build_backfill_definition(pipeline.dag, _targets(pipeline), **bad)  # type: ignore[arg-type]


def _clicks(root: Path) -> None:
    for n, day in enumerate(DAYS):
        folder = root / "ops-lake" / "clicks" / f"date={day}"
        folder.mkdir(parents=True)
        rows = 10 + n
        pl.DataFrame(
            {
                "user_id": [i % 4 for i in range(rows)],
                "kind": ["view", "click"] * (rows // 2) + ["view"] * (rows % 2),
            }
        ).write_parquet(folder / "p.parquet")


def _daily(root: Path) -> pl.DataFrame:
    frame = open_dataset(str(root / "ops-lake" / "daily_clicks/"), Format.PARQUET_DIR).load().collect()
    return frame.sort("date", "kind")


def test_each_partition_child_equals_the_local_backfill(
    pipeline: CompiledPipeline, aws: Any, sfn_interpreter: str, tmp_path: Path
) -> None:
    local, cloud = tmp_path / "local", tmp_path / "cloud"
    _clicks(local)
    _clicks(cloud)
    assert backfill(pipeline, values=DAYS, storage=_local(local), state_dir=local / "state").ok

    definition = build_backfill_definition(pipeline.dag, _targets(pipeline, aws.function))
    child = aws.state_machine("daily_clicks-partition", child_definition(definition))
    items = backfill_input([{"date": d} for d in DAYS])["partitions"]
    for item in items:
        started = aws.sfn.start_execution(
            stateMachineArn=child, name=f"p-{item['date']}", input=json.dumps({"partition": item})
        )
        arn = started["executionArn"]
        _wait(aws, arn)
        history = aws.sfn.get_execution_history(executionArn=arn)["events"]
        payloads = [
            json.loads(e["taskScheduledEventDetails"]["parameters"])["Payload"]
            for e in history
            if "taskScheduledEventDetails" in e
        ]
        assert [p["task"] for p in payloads] == [t.name for t in pipeline.dag.tasks]
        for payload in payloads:  # the entry point's work, on local folders for the URIs
            event = TaskEvent.model_validate(payload)
            assert event.partition == item
            event = _to_local(event, cloud)
            core.execute_task(event, pipeline.functions[event.task], None)
    assert_frame_equal(_daily(cloud), _daily(local))


def _local(root: Path) -> Any:
    from glacier.config import LocalConfig

    return LocalConfig(base_path=str(root))


def _to_local(event: TaskEvent, root: Path) -> TaskEvent:
    def move(location: Any) -> Any:
        return location.model_copy(update={"uri": location.uri.replace("s3://", str(root) + "/")})

    return event.model_copy(
        update={"inputs": {k: move(v) for k, v in event.inputs.items()}, "output": move(event.output)}
    )


def _wait(aws: Any, arn: str) -> None:
    import time

    for _ in range(200):
        status = aws.sfn.describe_execution(executionArn=arn)["status"]
        if status != "RUNNING":
            assert status == "SUCCEEDED", aws.sfn.get_execution_history(executionArn=arn)
            return
        time.sleep(0.05)
    raise AssertionError(f"{arn} still running")


def test_backfill_cloud_starts_one_map_run_over_the_partition_list(
    pipeline: CompiledPipeline, moto_endpoint: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``glacier backfill --cloud``: the deployed backfill state machine (its planned
    definition, in moto) gets one execution whose S3 item list holds the checked partitions."""
    import boto3
    from click.testing import CliRunner

    from glacier.cli import app
    from glacier.cloud.backfill import start_backfill

    region = "eu-west-1"  # the example's AwsConfig region, which the CLI uses
    sfn = boto3.client("stepfunctions", endpoint_url=moto_endpoint, region_name=region)
    s3 = boto3.client("s3", endpoint_url=moto_endpoint, region_name=region)
    iam_client = boto3.client("iam", endpoint_url=moto_endpoint, region_name=region)
    deployed = plan(str(REPO / EXAMPLE), loader=load_pipelines).get("daily_clicks-backfill").inputs
    bucket = deployed["tags"][ITEMS_BUCKET_TAG]
    s3.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": region})
    role = iam_client.create_role(RoleName="backfill-test-role", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
    for machine in sfn.list_state_machines()["stateMachines"]:
        if machine["name"] == deployed["name"]:
            sfn.delete_state_machine(stateMachineArn=machine["stateMachineArn"])
    arn = sfn.create_state_machine(
        name=deployed["name"],
        definition=deployed["definition"],
        roleArn=role,
        tags=[{"key": k, "value": v} for k, v in deployed["tags"].items()],
    )["stateMachineArn"]

    execution = start_backfill(
        pipeline, start="2026-11-01", end="2026-11-03", wait=False, endpoint_url=moto_endpoint, echo=None
    )
    assert isinstance(execution, str)
    described = sfn.describe_execution(executionArn=execution)
    assert described["stateMachineArn"] == arn
    items = json.loads(described["input"])["items"]
    assert items["bucket"] == bucket and items["key"].startswith("backfills/daily_clicks/")
    listed = json.loads(s3.get_object(Bucket=bucket, Key=items["key"])["Body"].read())
    assert listed == [{"date": "2026-11-01"}, {"date": "2026-11-02"}, {"date": "2026-11-03"}]

    monkeypatch.setenv("AWS_ENDPOINT_URL", moto_endpoint)
    runner = CliRunner()
    done = runner.invoke(
        app, ["backfill", EXAMPLE, "--cloud", "--no-wait", "--values", "2026-11-05,2026-11-07"]
    )
    assert done.exit_code == 0, done.output
    assert "over 2 partition(s)" in done.output
    bad = runner.invoke(app, ["backfill", EXAMPLE, "--cloud", "--no-wait", "--values", "2026-13-01"])
    assert bad.exit_code == 1 and "is not a date" in bad.output and "Traceback" not in bad.output


def _finish(aws: Any, arn: str) -> dict[str, Any]:
    import time

    for _ in range(400):
        described = aws.sfn.describe_execution(executionArn=arn)
        if described["status"] != "RUNNING":
            return dict(described)
        time.sleep(0.05)
    raise AssertionError(f"{arn} still running")


def test_moto_runs_the_distributed_map_over_the_partitions(pipeline: CompiledPipeline, aws: Any) -> None:
    """moto's interpreter runs the backfill's Distributed Map itself: one child execution per
    partition, each through the pipeline's states (its Choice, its task). moto keeps no child
    history to read the task events from, so the events each child sends are checked in
    ``test_each_partition_child_equals_the_local_backfill``."""
    definition = build_backfill_definition(pipeline.dag, _targets(pipeline, aws.function), max_concurrency=2)
    arn = aws.state_machine("daily_clicks-backfill", definition)
    days = [{"date": d} for d in DAYS]
    started = aws.sfn.start_execution(
        stateMachineArn=arn, name="three-days", input=json.dumps(backfill_input(days))
    )
    assert _finish(aws, started["executionArn"])["status"] == "SUCCEEDED"
    (run,) = aws.sfn.list_map_runs(executionArn=started["executionArn"])["mapRuns"]
    described = aws.sfn.describe_map_run(mapRunArn=run["mapRunArn"])
    children = described["executionCounts"]
    assert (children["succeeded"], children["failed"], children["total"]) == (3, 0, 3)
    assert described["maxConcurrency"] == 2


def test_the_state_machine_chooses_its_partition_in_moto(pipeline: CompiledPipeline, aws: Any) -> None:
    """The pipeline's own state machine in moto's interpreter: a scheduled execution runs the
    partition of its scheduled day (the Pass state's intrinsic functions), one naming its
    partition runs that one, and an input naming none fails at once saying what to pass."""
    definition = asl.build_definition(pipeline.dag, _targets(pipeline, aws.function))
    arn = aws.state_machine("daily_clicks-sfn", definition)

    def first_payload(name: str, started_with: dict[str, Any]) -> dict[str, Any]:
        started = aws.sfn.start_execution(stateMachineArn=arn, name=name, input=json.dumps(started_with))
        assert _finish(aws, started["executionArn"])["status"] == "SUCCEEDED"
        history = aws.sfn.get_execution_history(executionArn=started["executionArn"])["events"]
        scheduled = [e["taskScheduledEventDetails"] for e in history if "taskScheduledEventDetails" in e]
        return dict(json.loads(scheduled[0]["parameters"])["Payload"])

    scheduled = first_payload("scheduled", {"trigger": "schedule", "time": "2026-11-30T23:00:00Z"})
    assert scheduled["partition"] == {"date": "2026-11-30"}
    assert TaskEvent.model_validate(scheduled).partition == {"date": "2026-11-30"}
    assert first_payload("named", {"partition": {"date": "2026-11-02"}})["partition"] == {
        "date": "2026-11-02"
    }

    started = aws.sfn.start_execution(
        stateMachineArn=arn, name="none", input=json.dumps({"trigger": "manual"})
    )
    failed = _finish(aws, started["executionArn"])
    assert failed["status"] == "FAILED" and failed["error"] == "Glacier.NoPartition"
    assert "--partition date=..." in failed["cause"]
