"""A partitioned pipeline in the cloud: ``run_cloud(partition=...)`` starts one execution
whose input names the partition; the deployed definition passes it (``$.partition``) to every
task event; an entry point given that event reads and publishes only that partition."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from glacier.cloud import CloudRunResult, run_cloud
from glacier.dag.contract import CompiledPipeline
from glacier.deploy import asl, naming
from glacier.dsl.discovery import load_pipelines
from glacier.errors import ConfigError
from glacier.runtime import core
from glacier.runtime.event import TaskEvent

EXAMPLE = "examples/operations/partitioned.py"
REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def pipeline() -> CompiledPipeline:
    return load_pipelines(EXAMPLE).pipelines[0]


def _definition(pipeline: CompiledPipeline, aws: Any) -> dict[str, Any]:
    dag = pipeline.dag
    targets: dict[str, asl.Target] = {
        t.name: asl.LambdaTarget(aws.function(naming.function_name(dag.name, t.name))) for t in dag.tasks
    }
    return asl.build_definition(dag, targets)


def test_definition_passes_the_partition_and_validates(pipeline: CompiledPipeline, tmp_path: Path) -> None:
    dag = pipeline.dag
    targets: dict[str, asl.Target] = {
        t.name: asl.LambdaTarget(naming.function_name(dag.name, t.name)) for t in dag.tasks
    }
    definition = asl.build_definition(dag, targets)
    state = definition["States"]["count_clicks"]  # after the Choice of its partition
    assert state["Parameters"]["Payload"]["partition.$"] == "$.partition"
    (tmp_path / "def.json").write_text(json.dumps(definition))
    validator = REPO / "node_modules" / ".bin" / "asl-validator"
    checked = subprocess.run([str(validator), "--json-path", str(tmp_path / "def.json")], capture_output=True)
    assert checked.returncode == 0, checked.stdout + checked.stderr


def test_run_cloud_starts_one_partition(pipeline: CompiledPipeline, aws: Any, sfn_interpreter: str) -> None:
    arn = aws.state_machine(naming.state_machine_name(pipeline.name), _definition(pipeline, aws))
    result = run_cloud(
        pipeline,
        endpoint_url=sfn_interpreter,
        region="us-east-1",
        partition={"date": "2026-11-30"},
        poll_seconds=0.05,
        timeout=30,
        echo=None,
    )
    assert isinstance(result, CloudRunResult) and result.status == "SUCCEEDED"
    described = aws.sfn.describe_execution(executionArn=result.execution_arn)
    assert described["stateMachineArn"] == arn
    assert json.loads(described["input"]) == {"partition": {"date": "2026-11-30"}}
    # moto's Lambda echoes its payload: the task event the entry point would get.
    history = aws.sfn.get_execution_history(executionArn=result.execution_arn)["events"]
    scheduled = [e["taskScheduledEventDetails"] for e in history if "taskScheduledEventDetails" in e]
    [payload] = [json.loads(s["parameters"])["Payload"] for s in scheduled]
    event = TaskEvent.model_validate(payload)
    assert event.partition == {"date": "2026-11-30"} and event.task == "count_clicks"

    with pytest.raises(ConfigError, match="not a valid path component"):
        run_cloud(pipeline, endpoint_url=sfn_interpreter, partition={"date": "2026/11/30"}, echo=None)


def test_entry_point_event_reads_and_publishes_one_partition(
    pipeline: CompiledPipeline, tmp_path: Path
) -> None:
    """The event the state machine sends, its URIs moved to local folders, through the
    entry points' core: only that partition is read and published."""
    dag = pipeline.dag
    task = dag.tasks[0]
    event = TaskEvent.for_task(
        dag, task, lambda ds: str(tmp_path / ds.bucket / ds.path), partition={"date": "2026-11-02"}
    )
    for day, rows in (("2026-11-01", 3), ("2026-11-02", 5)):
        folder = tmp_path / "ops-lake" / "clicks" / f"date={day}"
        folder.mkdir(parents=True)
        pl.DataFrame({"user_id": list(range(rows)), "kind": ["view"] * rows}).write_parquet(
            folder / "p.parquet"
        )
    result = core.execute_task(event, pipeline.functions[task.name], None)
    assert result.output.endswith("daily_clicks/date=2026-11-02/")
    out = pl.read_parquet(tmp_path / "ops-lake" / "daily_clicks" / "date=2026-11-02" / "*.parquet")
    assert out.to_dicts() == [{"kind": "view", "clicks": 5, "users": 5}]
    assert not (tmp_path / "ops-lake" / "daily_clicks" / "date=2026-11-01").exists()


def test_cli_run_cloud_partition_starts_that_partition(
    moto_endpoint: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``glacier run PATH --cloud --partition date=...``: one execution of the deployed state
    machine (its planned definition, in moto, in the example's region) whose input names the
    partition; a bad value is one line before anything starts."""
    import boto3
    from click.testing import CliRunner

    from glacier.cli import app
    from glacier.deploy.plan import plan

    region = "eu-west-1"  # the example's AwsConfig region, which the CLI uses
    sfn = boto3.client("stepfunctions", endpoint_url=moto_endpoint, region_name=region)
    iam = boto3.client("iam", endpoint_url=moto_endpoint, region_name=region)
    deployed = plan(str(REPO / EXAMPLE), loader=load_pipelines).get("daily_clicks-sfn").inputs
    for machine in sfn.list_state_machines()["stateMachines"]:
        if machine["name"] == deployed["name"]:
            sfn.delete_state_machine(stateMachineArn=machine["stateMachineArn"])
    role = iam.create_role(RoleName="cli-partition-role", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
    arn = sfn.create_state_machine(name=deployed["name"], definition=deployed["definition"], roleArn=role)[
        "stateMachineArn"
    ]
    monkeypatch.setenv("AWS_ENDPOINT_URL", moto_endpoint)
    runner = CliRunner()
    done = runner.invoke(app, ["run", EXAMPLE, "--cloud", "--no-wait", "--partition", "date=2026-11-30"])
    assert done.exit_code == 0, done.output
    (execution,) = sfn.list_executions(stateMachineArn=arn)["executions"]
    assert execution["executionArn"] in done.output.replace("\n", "")
    described = sfn.describe_execution(executionArn=execution["executionArn"])
    assert json.loads(described["input"]) == {"partition": {"date": "2026-11-30"}}

    bad = runner.invoke(app, ["run", EXAMPLE, "--cloud", "--no-wait", "--partition", "date=2026-11-31"])
    assert bad.exit_code == 1 and "is not a date" in bad.output and "Traceback" not in bad.output
    assert len(sfn.list_executions(stateMachineArn=arn)["executions"]) == 1  # nothing started


def test_one_partition_publishes_under_its_planned_role_with_iam_enforced(
    pipeline: CompiledPipeline, enforced_iam: Any, s3_client: Any
) -> None:
    """The task event the deployed definition sends for one day, run by the Lambda handler
    with the task's planned role (moto's IAM and STS, every S3 request authorised): each day
    is published beside the days already there and no staging key is left behind, so the
    role's S3 grants cover a partition's version and manifest. (The event's catalog target is
    dropped: moto authorises Glue requests against the resource "*", which the role's
    table-scoped grant cannot match; tests/schema/test_catalog_runtime.py covers the Glue
    partitions.)"""
    import io

    from glacier.deploy.plan import plan
    from glacier.io import scan_uri
    from glacier.runtime import lambda_handler

    dag = pipeline.dag
    (task,) = dag.tasks
    source, out = dag.dataset(task.inputs["clicks"]), dag.dataset(task.output)
    planned = plan(EXAMPLE, loader=load_pipelines)
    s3_client.create_bucket(Bucket=source.bucket)
    for day, rows in (("2026-11-01", 3), ("2026-11-02", 5)):
        buffer = io.BytesIO()
        pl.DataFrame({"user_id": list(range(rows)), "kind": ["view"] * rows}).write_parquet(buffer)
        s3_client.put_object(
            Bucket=source.bucket, Key=f"{source.path}date={day}/part.parquet", Body=buffer.getvalue()
        )
    state = json.loads(planned.get(f"{dag.name}-sfn").inputs["definition"])["States"][task.name]
    payload = {k: v for k, v in state["Parameters"]["Payload"].items() if not k.endswith(".$")}
    payload["output"] = {k: v for k, v in payload["output"].items() if k != "catalog"}

    credentials = enforced_iam.task_role(planned, dag.name, task.name)
    for day in ("2026-11-01", "2026-11-02"):
        with enforced_iam.as_task(credentials):
            result = lambda_handler.run_event(
                {**payload, "partition": {"date": day}, "execution": "partition-run"}
            )
        assert result["output"] == f"s3://{out.bucket}/{out.path}date={day}/"

    storage = {"aws_region": "us-east-1", "aws_endpoint_url": enforced_iam.endpoint}
    published = scan_uri(f"s3://{out.bucket}/{out.path}", out.format, storage).collect()
    assert sorted(published.select("kind", "clicks", "users").rows()) == [("view", 3, 3), ("view", 5, 5)]
    keys = [o["Key"] for o in s3_client.list_objects_v2(Bucket=out.bucket).get("Contents", [])]
    assert not [k for k in keys if ".glacier-tmp-" in k], keys
