"""run(mode="cloud") against moto's Step Functions interpreter: start, poll, success, failure."""

from __future__ import annotations

from typing import Any

import pytest

from glacier.cloud import CloudRunResult, run_cloud
from glacier.dag.contract import CompiledPipeline
from glacier.deploy.naming import state_machine_name
from glacier.dsl.discovery import load_pipelines
from glacier.errors import DeploymentError, ExecutionError

EXAMPLE = "examples/seed_000/core_single_source.py"  # etl_pipeline: clean -> aggregate


@pytest.fixture(scope="module")
def pipeline() -> CompiledPipeline:
    return load_pipelines(EXAMPLE).pipelines[0]


def _task_state(resource: str, parameters: dict[str, Any], *, next_state: str | None) -> dict[str, Any]:
    state: dict[str, Any] = {
        "Type": "Task",
        "Resource": resource,
        "Parameters": parameters,
        "ResultSelector": {"result.$": "$.Payload"} if "lambda" in resource else {"ok": True},
        "ResultPath": None,
        "Catch": [{"ErrorEquals": ["States.ALL"], "ResultPath": "$.error", "Next": "Failed"}],
    }
    state.update({"Next": next_state} if next_state else {"End": True})
    return state


def _machine(aws: Any, name: str, second: dict[str, Any]) -> str:
    """clean (a Lambda) then ``second``; any failure goes to a Fail state with its cause."""
    clean_fn = aws.function("etl_pipeline-clean")
    definition = {
        "StartAt": "clean",
        "States": {
            "clean": _task_state(
                "arn:aws:states:::lambda:invoke",
                {"FunctionName": clean_fn, "Payload": {"task": "clean"}},
                next_state="aggregate",
            ),
            "aggregate": second,
            "Failed": {"Type": "Fail", "ErrorPath": "$.error.Error", "CausePath": "$.error.Cause"},
        },
    }
    return str(aws.state_machine(name, definition))


def _lambda_second(aws: Any) -> dict[str, Any]:
    fn = aws.function("etl_pipeline-aggregate")
    return _task_state(
        "arn:aws:states:::lambda:invoke",
        {"FunctionName": fn, "Payload": {"task": "aggregate"}},
        next_state=None,
    )


def test_success_found_by_deterministic_name(
    pipeline: CompiledPipeline, aws: Any, sfn_interpreter: str
) -> None:
    _machine(aws, state_machine_name(pipeline.name), _lambda_second(aws))
    lines: list[str] = []
    result = run_cloud(
        pipeline, endpoint_url=sfn_interpreter, poll_seconds=0.05, timeout=30, echo=lines.append
    )
    assert isinstance(result, CloudRunResult)
    assert result.status == "SUCCEEDED"
    assert [(s.name, s.status) for s in result.states] == [("clean", "succeeded"), ("aggregate", "succeeded")]
    described = aws.sfn.describe_execution(executionArn=result.execution_arn)
    assert described["status"] == "SUCCEEDED"
    text = "\n".join(lines)
    assert "clean started" in text and "ok  clean" in text and "ok  aggregate" in text
    assert text.index("ok  clean") < text.index("aggregate started")
    assert "Succeeded etl_pipeline" in lines[-1]


def test_failure_names_the_failing_state_and_its_error(
    pipeline: CompiledPipeline, aws: Any, sfn_interpreter: str
) -> None:
    # The second state runs a Glue job that does not exist: a real failure in the interpreter,
    # caught into the Fail state, whose error/cause become the execution's.
    glue = _task_state(
        "arn:aws:states:::glue:startJobRun.sync", {"JobName": "etl-missing-job"}, next_state=None
    )
    arn = _machine(aws, "glacier-test-failing", glue)
    lines: list[str] = []
    with pytest.raises(ExecutionError) as caught:
        run_cloud(
            pipeline,
            state_machine_arn=arn,
            endpoint_url=sfn_interpreter,
            poll_seconds=0.05,
            timeout=30,
            echo=lines.append,
        )
    message = str(caught.value)
    assert caught.value.task == "aggregate"
    assert "etl_pipeline" in message and "in state 'aggregate'" in message
    assert "Glue.EntityNotFoundException" in message and "etl-missing-job" in message
    assert "Fix:" in message
    assert any(line.startswith("  FAILED aggregate") for line in lines)
    assert any("ok  clean" in line for line in lines)


def test_no_wait_returns_the_execution_arn(
    pipeline: CompiledPipeline, aws: Any, sfn_interpreter: str
) -> None:
    arn = _machine(aws, "glacier-test-nowait", _lambda_second(aws))
    execution = run_cloud(
        pipeline, state_machine_arn=arn, endpoint_url=sfn_interpreter, wait=False, echo=None
    )
    assert isinstance(execution, str) and execution.startswith("arn:aws:states:us-east-1:")
    described = aws.sfn.describe_execution(executionArn=execution)
    assert described["stateMachineArn"] == arn


def test_timeout_while_waiting(pipeline: CompiledPipeline, aws: Any, sfn_interpreter: str) -> None:
    slow = {"Type": "Wait", "Seconds": 30, "End": True}
    arn = _machine(aws, "glacier-test-slow", slow)
    with pytest.raises(ExecutionError, match=r"still running after 0\.3 s"):
        run_cloud(
            pipeline,
            state_machine_arn=arn,
            endpoint_url=sfn_interpreter,
            poll_seconds=0.1,
            timeout=0.3,
            echo=None,
        )
    running = aws.sfn.list_executions(stateMachineArn=arn, statusFilter="RUNNING")["executions"]
    assert len(running) == 1
    aws.sfn.stop_execution(executionArn=running[0]["executionArn"])


def test_not_deployed_is_a_clear_error(moto_endpoint: str) -> None:
    missing = load_pipelines("examples/seed_000/example1_simple_etl.py").pipelines[0]
    with pytest.raises(
        DeploymentError, match="'simple_etl' has no deployed state machine named 'simple_etl-sfn'"
    ):
        run_cloud(missing, endpoint_url=moto_endpoint, echo=None)
