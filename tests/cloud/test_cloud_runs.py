"""``glacier runs --cloud`` against moto's Step Functions server: recent executions of the
deployed state machine, newest first, with status, start/stop and the failing state."""

from __future__ import annotations

import contextlib
from typing import Any

import pytest
from click.testing import CliRunner

from glacier.cli import app
from glacier.cloud import run_cloud
from glacier.cloud.executions import list_executions
from glacier.dag.contract import CompiledPipeline
from glacier.deploy.naming import state_machine_name
from glacier.dsl.discovery import load_pipelines
from glacier.errors import DeploymentError, ExecutionError

EXAMPLE = "examples/seed_000/core_single_source.py"  # etl_pipeline: clean -> aggregate


@pytest.fixture(scope="module")
def pipeline() -> CompiledPipeline:
    return load_pipelines(EXAMPLE).pipelines[0]


def _task(resource: str, parameters: dict[str, Any], next_state: str | None) -> dict[str, Any]:
    state: dict[str, Any] = {
        "Type": "Task",
        "Resource": resource,
        "Parameters": parameters,
        "ResultPath": None,
        "Catch": [{"ErrorEquals": ["States.ALL"], "ResultPath": "$.error", "Next": "Failed"}],
    }
    state.update({"Next": next_state} if next_state else {"End": True})
    return state


def _deploy(aws: Any, pipeline: CompiledPipeline, *, failing: bool) -> str:
    """The pipeline's state machine under its deterministic name: clean (a Lambda), then
    aggregate, which fails (a Glue job that does not exist) when ``failing``."""
    clean = _task(
        "arn:aws:states:::lambda:invoke", {"FunctionName": aws.function("etl_pipeline-clean")}, "aggregate"
    )
    if failing:
        aggregate = _task("arn:aws:states:::glue:startJobRun.sync", {"JobName": "etl-missing-job"}, None)
    else:
        aggregate = _task(
            "arn:aws:states:::lambda:invoke", {"FunctionName": aws.function("etl_pipeline-aggregate")}, None
        )
    definition = {
        "StartAt": "clean",
        "States": {
            "clean": clean,
            "aggregate": aggregate,
            "Failed": {"Type": "Fail", "ErrorPath": "$.error.Error", "CausePath": "$.error.Cause"},
        },
    }
    return str(aws.state_machine(state_machine_name(pipeline.name), definition))


def _run(pipeline: CompiledPipeline, arn: str, endpoint: str, name: str) -> None:
    with contextlib.suppress(ExecutionError):  # a failing run: what runs --cloud must report
        run_cloud(
            pipeline,
            state_machine_arn=arn,
            endpoint_url=endpoint,
            execution_name=name,
            poll_seconds=0.05,
            timeout=30,
            echo=None,
        )


def test_lists_recent_executions_with_status_and_failing_state(
    pipeline: CompiledPipeline, aws: Any, sfn_interpreter: str
) -> None:
    arn = _deploy(aws, pipeline, failing=False)
    _run(pipeline, arn, sfn_interpreter, "first-ok")
    arn = _deploy(aws, pipeline, failing=True)  # redeployed: same name, a failing second task
    _run(pipeline, arn, sfn_interpreter, "second-fails")
    _run(pipeline, arn, sfn_interpreter, "third-fails")

    listed = list_executions(pipeline, endpoint_url=sfn_interpreter, limit=10)
    assert [e.name for e in listed] == ["third-fails", "second-fails"]  # this state machine's, newest first
    for execution in listed:
        assert execution.status == "FAILED"
        assert execution.failed_state == "aggregate"
        assert execution.error == "Glue.EntityNotFoundException"
        assert execution.stopped is not None and execution.seconds is not None and execution.seconds >= 0
    assert [e.name for e in list_executions(pipeline, endpoint_url=sfn_interpreter, limit=1)] == [
        "third-fails"
    ]


def test_a_succeeded_execution_has_no_failing_state(
    pipeline: CompiledPipeline, aws: Any, sfn_interpreter: str
) -> None:
    arn = _deploy(aws, pipeline, failing=False)
    _run(pipeline, arn, sfn_interpreter, "only-ok")
    (execution,) = list_executions(pipeline, endpoint_url=sfn_interpreter)
    assert (execution.name, execution.status, execution.failed_state) == ("only-ok", "SUCCEEDED", None)
    described = aws.sfn.describe_execution(executionArn=execution.arn)
    assert described["startDate"] == execution.started


def test_cli_runs_cloud_prints_the_table(
    pipeline: CompiledPipeline, aws: Any, sfn_interpreter: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    arn = _deploy(aws, pipeline, failing=True)
    _run(pipeline, arn, sfn_interpreter, "cli-fails")
    monkeypatch.setenv("AWS_ENDPOINT_URL_SFN", sfn_interpreter)  # boto3's own variable
    result = CliRunner().invoke(app, ["runs", EXAMPLE, "--cloud", "--limit", "5"], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    assert "etl_pipeline: 1 recent execution(s)" in result.output
    row = next(line for line in result.output.splitlines() if "cli-fails" in line)
    assert "FAILED" in row and "aggregate" in row and "Glue.EntityNotFoundException" in row


def test_cli_runs_cloud_not_deployed_is_one_line(moto_endpoint: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL_SFN", moto_endpoint)
    result = CliRunner().invoke(app, ["runs", "examples/seed_000/example1_simple_etl.py", "--cloud"])
    assert result.exit_code == 1
    assert "'simple_etl' has no deployed state machine named 'simple_etl-sfn'" in result.output
    assert "Traceback" not in result.output


def test_not_deployed_is_a_clear_error(moto_endpoint: str) -> None:
    missing = load_pipelines("examples/seed_000/example1_simple_etl.py").pipelines[0]
    with pytest.raises(DeploymentError, match="has no deployed state machine"):
        list_executions(missing, endpoint_url=moto_endpoint)


def test_cli_runs_local_lists_the_history(tmp_path: Any) -> None:
    from glacier.config import LocalConfig
    from glacier.runner import run_pipeline

    compiled = load_pipelines("examples/operations/pipelines.py").select("ingest")[0]
    import importlib.util

    spec = importlib.util.spec_from_file_location("ops_generate", "examples/operations/generate.py")
    assert spec is not None and spec.loader is not None
    generate = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(generate)
    generate.generate(tmp_path / "data")
    state = tmp_path / "state"
    run_pipeline(compiled, storage=LocalConfig(base_path=str(tmp_path / "data")), state_dir=str(state))
    result = CliRunner().invoke(
        app,
        ["runs", "examples/operations/pipelines.py", "--pipeline", "ingest", "--state-dir", str(state)],
        env={"COLUMNS": "200"},
    )
    assert result.exit_code == 0, result.output
    assert "ingest: 1 recent local run(s)" in result.output and "succeeded" in result.output
