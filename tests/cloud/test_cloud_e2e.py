"""Every example end to end on moto's S3, through the cloud entry points.

For each example file: plan it under Pulumi's mocks (``glacier plan``) and take from that
plan the state machine definition and the task roles' policies the deployment declares;
create the buckets on a moto server, upload sample inputs, then run each entry point
in-process in the order the state machine runs its Task states, with the event each state
sends (the Lambda payload, or the Glue ``--glacier-event`` argument rendered from its
intrinsic). The outputs must equal the local computation, and no entry point may make an S3
request its task's IAM policy would not allow."""

from __future__ import annotations

import io
import json
import re
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from polars.testing import assert_frame_equal

pytest.importorskip("glacier.runtime.core", reason="needs the shared read/run/write core (issue 3)")

from glacier.deploy import asl, iam, naming
from glacier.deploy.plan import PlanResult, plan
from glacier.dsl.compile import CompiledPipeline
from glacier.dsl.discovery import load_pipelines
from glacier.runtime import glue_entry, lambda_handler
from tests.cloud.s3_audit import Recorder, S3Access, allows

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
# Task bodies of this seed example are `...`: it deploys but has nothing to run.
NOT_RUNNABLE = {"seed_000/example2_multi_stage.py"}
ARNS = iam.Arns(partition="aws", region="us-east-1", account="123456789012")
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


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def audited_s3(moto_endpoint: str) -> Iterator[tuple[str, Recorder]]:
    """A second moto server in this process (same backends as the session one) whose
    requests are recorded, so each entry point's S3 traffic can be audited."""
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=_free_port(), verbose=False)
    server.start()
    wsgi = server._server
    assert wsgi is not None
    recorder = Recorder(wsgi.app)
    wsgi.app = recorder
    host, port = server.get_host_and_port()
    try:
        yield f"http://{host}:{port}", recorder
    finally:
        server.stop()


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


def _invoke(state: dict[str, Any], storage: dict[str, str]) -> dict[str, Any]:
    """Run the entry point a Task state targets, with the event it sends."""
    params = state["Parameters"]
    if state["Resource"] == "arn:aws:states:::lambda:invoke":
        payload = {k: v for k, v in params["Payload"].items() if k != "execution.$"}
        assert params["Payload"]["execution.$"] == "$$.Execution.Name"
        payload["execution"] = EXECUTION
        return lambda_handler.run_event(payload, storage)
    assert state["Resource"] == "arn:aws:states:::glue:startJobRun.sync"
    argument = _render_format(params["Arguments"]["--glacier-event.$"], EXECUTION)
    # Glue puts its own arguments around ours.
    event = glue_entry.parse_event(
        ["--JOB_ID", "j_1", "--glacier-event", argument, "--job-language", "python"]
    )
    return lambda_handler.run_event(event, storage)


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
def test_example_runs_through_the_entry_points(example: str, audited_s3: tuple[str, Recorder]) -> None:
    """Every pipeline of the example, in data order (one may read what another wrote)."""
    import boto3

    endpoint, recorder = audited_s3
    s3 = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1")
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
        _run_pipeline_in_cloud_order(compiled, planned, endpoint, recorder)
        expected = _local_reference(compiled, {d.id: known[d.id] for d in compiled.dag.source_datasets()})
        for task in compiled.dag.tasks:
            out = compiled.dag.dataset(task.output)
            got = pl.read_parquet(io.BytesIO(s3.get_object(Bucket=out.bucket, Key=out.path)["Body"].read()))
            assert_frame_equal(_sorted(got), _sorted(expected[task.output]))
            known[task.output] = expected[task.output]


def _run_pipeline_in_cloud_order(
    compiled: CompiledPipeline, planned: PlanResult, endpoint: str, recorder: Recorder
) -> None:
    dag = compiled.dag
    definition = json.loads(planned.get(f"{dag.name}-sfn").inputs["definition"])
    storage = {
        "aws_endpoint_url": endpoint,
        "aws_allow_http": "true",
        "aws_region": "us-east-1",
        "aws_access_key_id": "testing",
        "aws_secret_access_key": "testing",
    }
    states = _task_states_in_order(definition)
    # The order used is one the state machine allows: each task after everything it needs.
    assert {s["Comment"].removeprefix("Glacier task ") for s in states} == {t.name for t in dag.tasks}
    before = asl.completed_before(definition)
    names = [s["Comment"].removeprefix("Glacier task ") for s in states]
    for i, name in enumerate(names):
        assert set(dag.upstream_tasks(name)) <= before[naming.state_name(name)] <= set(names[:i])
    for state, name in zip(states, names, strict=True):
        task = dag.task(name)
        policy = json.loads(planned.get(f"{dag.name}-{task.name}-policy").inputs["policy"])
        recorder.take()
        recorder.recording = True
        try:
            result = _invoke(state, storage)
        finally:
            recorder.recording = False
        seen = recorder.take()
        assert seen, f"{task.name} made no S3 request"
        denied = [a for a in seen if not allows([policy], a)]
        assert not denied, f"task {task.name} did what its role may not: {denied}"
        out = dag.dataset(task.output)
        assert result["task"] == task.name and result["output"] == f"s3://{out.bucket}/{out.path}"
        assert result["bytes"] > 0 and result["seconds"] >= 0


def test_the_audit_catches_a_request_outside_the_role() -> None:
    """The check above can fail: a role for one output may not write or list elsewhere."""
    dag = load_pipelines(EXAMPLES / "seed_000/core_single_source.py").pipelines[0].dag
    clean = dag.task("clean")
    policy = iam.task_policy(dag, clean, ARNS, log_groups=["/aws/lambda/x"])
    out = dag.dataset(clean.output)
    assert allows([policy], S3Access("s3:PutObject", f"arn:aws:s3:::{out.bucket}/{out.path}"))
    assert not allows([policy], S3Access("s3:PutObject", f"arn:aws:s3:::{out.bucket}/{out.path}.tmp"))
    assert not allows([policy], S3Access("s3:PutObject", "arn:aws:s3:::data-lake/output/result.parquet"))
    assert not allows([policy], S3Access("s3:ListBucket", "arn:aws:s3:::data-lake", {"s3:prefix": ""}))
    assert allows(
        [policy], S3Access("s3:ListBucket", "arn:aws:s3:::data-lake", {"s3:prefix": "raw/data.parquet"})
    )
