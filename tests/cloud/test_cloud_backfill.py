"""The backfill definition: a Distributed Map of one-partition child executions. asl-validator
and parliament check it; moto's interpreter cannot run a Distributed Map, so each partition's
child runs in moto as the map would start it (its item processor, input ``{"partition":
item}``), and the task events it sends go through the entry points' core; the outputs equal
the local backfill's."""

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
    MAP_STATE,
    backfill_input,
    backfill_policy,
    build_backfill_definition,
    child_definition,
)
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


def test_backfill_policy_is_parliament_clean() -> None:
    arn = "arn:aws:states:eu-west-1:123456789012:stateMachine:daily_clicks-backfill"
    policy = backfill_policy(arn, "arn:aws:s3:::ops-lake")
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
    assert [f for f in serious if f != known] == []
    resources = {s["Sid"]: s["Resource"] for s in policy["Statement"]}
    assert resources["StartPartitionExecutions"] == [arn]
    assert resources["WatchPartitionExecutions"] == [
        "arn:aws:states:eu-west-1:123456789012:execution:daily_clicks-backfill/*:*"
    ]
    assert resources["ReadPartitionList"] == ["arn:aws:s3:::ops-lake/*"]


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
