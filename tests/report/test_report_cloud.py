"""`glacier report --cloud`: runs read from a deployed state machine's execution history, on
moto's Step Functions interpreter running the definition Glacier generates."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from cloud_setup import deploy_lake

from glacier.errors import DeploymentError
from glacier.report import ReportError, build_report
from glacier.report.cloud import CloudRuns
from glacier.report.document import report_document


def test_executions_become_runs_with_attempts_errors_and_fixes(lake: Any) -> None:
    dag = lake.pipeline.dag
    source = CloudRuns(endpoint_url=lake.endpoint)
    failed, succeeded = source.runs(dag, 5)
    assert (failed.run_id, failed.status) == ("run-2", "failed")
    assert (succeeded.run_id, succeeded.status) == ("run-1", "succeeded")
    assert set(succeeded.tasks) == {"clean", "left", "right", "merge"}
    assert all(o.status == "succeeded" and o.attempts == 1 for o in succeeded.tasks.values())
    assert succeeded.tasks["merge"].start >= succeeded.tasks["right"].end - 1e-3
    assert succeeded.seconds is not None and succeeded.seconds > 0
    right = failed.tasks["right"]
    assert right.status == "failed" and right.attempts == 2  # retries=1: the state ran twice
    assert right.error and right.error.startswith("States.Runtime")
    assert right.fix == (
        "read the log group /aws/lambda/lake-right for the traceback, fix task 'right', "
        "redeploy and run again"
    )
    assert "merge" not in failed.tasks and failed.tasks["left"].status == "succeeded"
    assert failed.error is not None and failed.error.startswith("right.Failed")
    assert source.find(dag, "run-1") == succeeded
    assert source.find(dag, "no-such-run") is None


def test_cloud_report_document(lake: Any) -> None:
    sfn_interpreter = lake.endpoint
    dag = lake.pipeline.dag
    document = report_document([dag], CloudRuns(endpoint_url=sfn_interpreter))
    (pipeline,) = document["pipelines"]
    assert document["source"] == "Step Functions execution history"
    run = pipeline["run"]
    assert run["id"] == "run-2" and run["not_run"] == ["merge"]
    assert run["origin"].startswith("Step Functions execution arn:aws:states:us-east-1:")
    rows = {t["name"]: t for t in pipeline["tasks"]}
    assert [p["status"] for p in rows["right"]["trend"]] == ["succeeded", "failed"]
    chosen = report_document([dag], CloudRuns(endpoint_url=sfn_interpreter), run_id="run-1")
    assert chosen["pipelines"][0]["run"]["critical_path"][0] == "clean"
    assert chosen["pipelines"][0]["run"]["critical_path"][-1] == "merge"
    with pytest.raises(ReportError, match="No run 'run-9' of pipeline"):
        report_document([dag], CloudRuns(endpoint_url=sfn_interpreter), run_id="run-9")


def test_no_executions_and_not_deployed_are_clear_errors(lake: Any, tmp_path: Path) -> None:
    aws, sfn_interpreter = lake.aws, lake.endpoint
    deployed = deploy_lake(aws, tmp_path, name="lake_idle")
    source = CloudRuns(endpoint_url=sfn_interpreter)
    with pytest.raises(ReportError) as caught:
        source.require_executions(deployed.pipeline.dag)
    assert "Pipeline 'lake_idle' has no executions of its state machine" in caught.value.problem
    assert caught.value.fix and "glacier run PATH --cloud" in caught.value.fix
    aws.sfn.delete_state_machine(stateMachineArn=deployed.state_machine)
    with pytest.raises(
        DeploymentError, match="'lake_idle' has no deployed state machine named 'lake_idle-sfn'"
    ):
        build_report([deployed.pipeline], source=CloudRuns(endpoint_url=sfn_interpreter))


def test_cli_cloud_report(lake: Any, tmp_path: Path) -> None:
    sfn_interpreter = lake.endpoint
    out = tmp_path / "cloud.html"
    done = subprocess.run(
        [
            sys.executable,
            "-c",
            "from glacier.cli import main; main()",
            "report",
            str(lake.module),
            "--cloud",
            "--endpoint-url",
            sfn_interpreter,
            "-o",
            str(out),
        ],
        capture_output=True,
        text=True,
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout == f"Report: {out.resolve()}\n"
    assert "run-2" in out.read_text() and "Step Functions execution history" in out.read_text()
