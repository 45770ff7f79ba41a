"""Every example end to end on moto's S3, through the cloud entry points, each under its own
planned role with authentication enforced.

For each example file: plan it under Pulumi's mocks (``glacier plan``) and take from that
plan the state machine definition and each task's role (trust policy and inline policy);
create the buckets on a moto server, upload sample inputs, then run each entry point
in-process in the order the state machine runs its Task states, with the event each state
sends (the Lambda payload, or the Glue ``--glacier-event`` argument rendered from its
intrinsic). Each task's role is created in moto's IAM and assumed through moto's STS; the
entry point runs with those temporary credentials in its environment (as Lambda sets them)
while moto authenticates and authorises every request, so AWS's rules as moto implements
them decide what the task may do. The outputs must equal the local computation.
(moto evaluates actions and resources; it does not evaluate Condition blocks of identity
policies, such as the ``s3:prefix`` of a ListBucket grant.)"""

from __future__ import annotations

import io
import json
import re
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from glacier.dag.contract import CompiledPipeline
from glacier.deploy import asl, naming
from glacier.deploy.plan import PlanResult, plan
from glacier.dsl.discovery import load_pipelines
from glacier.errors import ExecutionError
from glacier.io.s3 import S3Client
from glacier.runtime import glue_entry, lambda_handler
from glacier.runtime.lambda_handler import TaskFailedError
from tests.cloud.conftest import EnforcedIam

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
# Task bodies of this seed example are `...`: it deploys but has nothing to run.
NOT_RUNNABLE = {"seed_000/example2_multi_stage.py"}
EXECUTION = "glacier-e2e-run"


def _examples() -> list[str]:
    found = []
    for path in sorted(EXAMPLES.glob("seed_00*/*.py")):
        rel = path.relative_to(EXAMPLES).as_posix()
        if rel not in NOT_RUNNABLE and load_pipelines(path).pipelines:
            found.append(rel)
    return found


def _sample(dataset_path: str) -> pl.DataFrame:
    """Sample rows a source dataset of the examples holds, by its file name."""
    leaf = dataset_path.rsplit("/", 1)[-1].split(".")[0]
    if leaf == "sales":
        return pl.DataFrame(
            {
                "customer_id": [1, 2, 3, 1, 2, 4],
                "product_id": [10, 11, 10, 12, 11, 10],
                "amount": [5.0, 7.5, 1.25, 3.0, 9.0, 2.0],
                "revenue": [50.0, 75.0, 12.5, 30.0, 90.0, 20.0],
            }
        )
    if leaf.startswith("joined"):  # a join of sales and customers that no pipeline here writes
        return _sample("sales").join(_sample("customers"), on="customer_id", how="left")
    if leaf == "customers":
        return pl.DataFrame({"customer_id": [1, 2, 3, 4], "region": ["eu", "us", "eu", "apac"]})
    if leaf == "products":
        return pl.DataFrame({"product_id": [10, 11, 12], "product_name": ["a", "b", "c"]})
    return pl.DataFrame(
        {
            "value": [3.0, None, -1.0, 8.5, 2.0, None, 4.0],
            "category": ["x", "y", "x", "z", "y", "x", "z"],
            "customer_id": [1, 2, 3, 4, 1, 2, 3],
        }
    )


def _task_states_in_order(block: dict[str, Any]) -> list[dict[str, Any]]:
    """Task states in an order the state machine may run them (Parallel branches one by one)."""
    ordered: list[dict[str, Any]] = []
    name: str | None = block["StartAt"]
    while name is not None:
        state = block["States"][name]
        if state["Type"] == "Task":
            ordered.append(state)
        elif state["Type"] == "Parallel":
            for branch in state["Branches"]:
                ordered.extend(_task_states_in_order(branch))
        name = state.get("Next")
    return ordered


def _render_format(intrinsic: str, execution: str) -> str:
    """Evaluate ``States.Format('<template>', $$.Execution.Name)`` as Step Functions does."""
    match = re.fullmatch(r"States\.Format\('(?P<t>(?:\\.|[^'\\])*)', \$\$\.Execution\.Name\)", intrinsic)
    assert match, intrinsic
    rendered, escaped = [], False
    for char in match["t"]:
        if escaped:
            rendered.append(char)
            escaped = False
        elif char == "\\":
            escaped = True
        else:
            rendered.append(char)
    return "".join(rendered).replace("{}", execution, 1)


def _invoke(state: dict[str, Any]) -> dict[str, Any]:
    """Run the entry point a Task state targets, with the event it sends; its storage comes
    from the environment, as in Lambda and Glue."""
    params = state["Parameters"]
    if state["Resource"] == "arn:aws:states:::lambda:invoke":
        payload = {k: v for k, v in params["Payload"].items() if k != "execution.$"}
        assert params["Payload"]["execution.$"] == "$$.Execution.Name"
        payload["execution"] = EXECUTION
        return lambda_handler.run_event(payload)
    assert state["Resource"] == "arn:aws:states:::glue:startJobRun.sync"
    argument = _render_format(params["Arguments"]["--glacier-event.$"], EXECUTION)
    # Glue puts its own arguments around ours.
    event = glue_entry.parse_event(
        ["--JOB_ID", "j_1", "--glacier-event", argument, "--job-language", "python"]
    )
    return lambda_handler.run_event(event)


def _local_reference(compiled: CompiledPipeline, sources: dict[str, pl.DataFrame]) -> dict[str, pl.DataFrame]:
    """What the pipeline computes with Polars alone, per dataset."""
    frames = {ds_id: df.lazy() for ds_id, df in sources.items()}
    for task in compiled.dag.tasks:
        result = compiled.functions[task.name](**{p: frames[d] for p, d in task.inputs.items()})
        frames[task.output] = result.lazy() if isinstance(result, pl.DataFrame) else result
    return {ds_id: frame.collect() for ds_id, frame in frames.items()}


def _sorted(df: pl.DataFrame) -> pl.DataFrame:
    return df.sort(df.columns, nulls_last=True)


@pytest.mark.parametrize("example", _examples())
def test_example_runs_through_the_entry_points(
    example: str, enforced_iam: EnforcedIam, s3_client: Any
) -> None:
    """Every pipeline of the example, in data order (one may read what another wrote)."""
    s3 = s3_client
    pipelines = load_pipelines(EXAMPLES / example).pipelines
    planned = plan(str(EXAMPLES / example), loader=load_pipelines)
    buckets = sorted({d.bucket for p in pipelines for d in p.dag.datasets})
    for bucket in buckets:
        s3.create_bucket(Bucket=bucket)
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket):
            for obj in page.get("Contents", []):
                s3.delete_object(Bucket=bucket, Key=obj["Key"])
    known: dict[str, pl.DataFrame] = {}  # dataset id -> what the local computation holds
    for compiled in pipelines:
        for ds in compiled.dag.source_datasets():
            if ds.id not in known:  # a source no earlier pipeline wrote: sample rows
                known[ds.id] = _sample(ds.path)
                buffer = io.BytesIO()
                known[ds.id].write_parquet(buffer)
                s3.put_object(Bucket=ds.bucket, Key=ds.path, Body=buffer.getvalue())
        _run_pipeline_in_cloud_order(compiled, planned, enforced_iam)
        expected = _local_reference(compiled, {d.id: known[d.id] for d in compiled.dag.source_datasets()})
        for task in compiled.dag.tasks:
            out = compiled.dag.dataset(task.output)
            got = pl.read_parquet(io.BytesIO(s3.get_object(Bucket=out.bucket, Key=out.path)["Body"].read()))
            assert_frame_equal(_sorted(got), _sorted(expected[task.output]))
            known[task.output] = expected[task.output]
    # Every staging object was removed (a denied delete would have left one behind).
    for bucket in buckets:
        keys = [o["Key"] for o in s3.list_objects_v2(Bucket=bucket).get("Contents", [])]
        assert not [k for k in keys if ".glacier-tmp-" in k], keys


def _run_pipeline_in_cloud_order(compiled: CompiledPipeline, planned: PlanResult, iam: EnforcedIam) -> None:
    dag = compiled.dag
    definition = json.loads(planned.get(f"{dag.name}-sfn").inputs["definition"])
    states = _task_states_in_order(definition)
    # The order used is one the state machine allows: each task after everything it needs.
    assert {s["Comment"].removeprefix("Glacier task ") for s in states} == {t.name for t in dag.tasks}
    before = asl.completed_before(definition)
    names = [s["Comment"].removeprefix("Glacier task ") for s in states]
    for i, name in enumerate(names):
        assert set(dag.upstream_tasks(name)) <= before[naming.state_name(name)] <= set(names[:i])
    for state, name in zip(states, names, strict=True):
        task = dag.task(name)
        credentials = iam.task_role(planned, dag.name, task.name)
        with iam.as_task(credentials):
            result = _invoke(state)
        out = dag.dataset(task.output)
        assert result["task"] == task.name and result["output"] == f"s3://{out.bucket}/{out.path}"
        assert result["bytes"] > 0 and result["seconds"] >= 0


SINGLE = "seed_000/core_single_source.py"  # etl_pipeline: clean (raw -> cleaned) -> aggregate


@pytest.fixture
def single_source(enforced_iam: EnforcedIam, s3_client: Any) -> tuple[CompiledPipeline, PlanResult]:
    """core_single_source's buckets with its raw input, and nothing else stored."""
    compiled = load_pipelines(EXAMPLES / SINGLE).pipelines[0]
    for bucket in sorted({d.bucket for d in compiled.dag.datasets}):
        s3_client.create_bucket(Bucket=bucket)
        for obj in s3_client.list_objects_v2(Bucket=bucket).get("Contents", []):
            s3_client.delete_object(Bucket=bucket, Key=obj["Key"])
    buffer = io.BytesIO()
    _sample("raw/data.parquet").write_parquet(buffer)
    raw = compiled.dag.source_datasets()[0]
    s3_client.put_object(Bucket=raw.bucket, Key=raw.path, Body=buffer.getvalue())
    return compiled, plan(str(EXAMPLES / SINGLE), loader=load_pipelines)


def _lambda_event(planned: PlanResult, pipeline: str, task: str) -> dict[str, Any]:
    definition = json.loads(planned.get(f"{pipeline}-sfn").inputs["definition"])
    state = next(s for s in _task_states_in_order(definition) if s["Comment"] == f"Glacier task {task}")
    payload = {k: v for k, v in state["Parameters"]["Payload"].items() if k != "execution.$"}
    return {**payload, "execution": EXECUTION}


def test_a_role_is_denied_writing_another_tasks_output(
    single_source: tuple[CompiledPipeline, PlanResult], enforced_iam: EnforcedIam, s3_client: Any
) -> None:
    """AWS's rules (as moto enforces them) deny the role of 'clean' what only 'aggregate' may
    do: running aggregate's event under clean's role fails on the write, and nothing of
    aggregate's output (or its staging) is left."""
    compiled, planned = single_source
    dag = compiled.dag
    clean_role = enforced_iam.task_role(planned, dag.name, "clean")
    with enforced_iam.as_task(clean_role):
        lambda_handler.run_event(_lambda_event(planned, dag.name, "clean"))  # its own task: allowed
        with pytest.raises(TaskFailedError, match=r"aggregate.*(AccessDenied|necessary privileges)"):
            lambda_handler.run_event(_lambda_event(planned, dag.name, "aggregate"))
    out = dag.dataset(dag.task("aggregate").output)
    keys = [o["Key"] for o in s3_client.list_objects_v2(Bucket=out.bucket).get("Contents", [])]
    assert out.path not in keys and not [k for k in keys if ".glacier-tmp-" in k], keys
    # The same role's S3 client is refused the publishing copy, in one line naming the fix.
    cleaned = dag.dataset(dag.task("clean").output)
    options = {
        "aws_region": "us-east-1",
        "aws_endpoint_url": enforced_iam.endpoint,
        "aws_access_key_id": clean_role["AWS_ACCESS_KEY_ID"],
        "aws_secret_access_key": clean_role["AWS_SECRET_ACCESS_KEY"],
        "aws_session_token": clean_role["AWS_SESSION_TOKEN"],
    }
    with enforced_iam.enforced(), pytest.raises(ExecutionError) as denied:
        S3Client(options).copy(cleaned.bucket, cleaned.path, out.path)
    message = str(denied.value)
    assert "\n" not in message and "CopyObject" in message and "AccessDenied" in message
    assert f"allow s3:PutObject on arn:aws:s3:::{out.bucket}/{out.path}" in message


def test_a_role_may_write_only_its_output_and_staging_keys(
    single_source: tuple[CompiledPipeline, PlanResult], enforced_iam: EnforcedIam
) -> None:
    """Direct requests under clean's role: its output and its staging keys are writable; a
    sibling key, another task's output and the input are not."""
    import boto3
    from botocore.exceptions import ClientError

    compiled, planned = single_source
    dag = compiled.dag
    creds = enforced_iam.task_role(planned, dag.name, "clean")
    s3 = boto3.client(
        "s3",
        endpoint_url=enforced_iam.endpoint,
        region_name="us-east-1",
        aws_access_key_id=creds["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=creds["AWS_SECRET_ACCESS_KEY"],
        aws_session_token=creds["AWS_SESSION_TOKEN"],
    )
    out = dag.dataset(dag.task("clean").output)
    parent, _, name = out.path.rpartition("/")
    allowed = [out.path, f"{parent}/.glacier-tmp-4242-a1b2c3d4-{name}"]
    refused = [
        f"{out.path}.tmp",
        f"{parent}/.glacier-tmp-1-x-other.parquet",
        dag.dataset(dag.task("aggregate").output).path,
        dag.source_datasets()[0].path,
    ]
    with enforced_iam.enforced():
        for key in allowed:
            s3.put_object(Bucket=out.bucket, Key=key, Body=b"x")
        s3.delete_object(Bucket=out.bucket, Key=allowed[1])
        for key in refused:
            with pytest.raises(ClientError, match="AccessDenied"):
                s3.put_object(Bucket=out.bucket, Key=key, Body=b"x")
        with pytest.raises(ClientError, match="AccessDenied"):
            s3.delete_object(Bucket=out.bucket, Key=out.path)  # a file output is replaced, never deleted
