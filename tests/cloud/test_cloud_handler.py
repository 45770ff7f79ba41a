"""The Lambda handler and Glue entry script: light imports, clear failures, Glue arguments."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import polars as pl
import pytest

from glacier.code import import_code_ref
from glacier.errors import ExecutionError
from glacier.runtime import glue_entry, lambda_handler
from glacier.runtime.lambda_handler import TaskFailedError

REPO = Path(__file__).resolve().parents[2]
SEED = REPO / "examples" / "seed_000"

BLOCKER = textwrap.dedent(
    """
    import importlib.abc, importlib.machinery, sys
    class Blocked(importlib.abc.MetaPathFinder, importlib.abc.Loader):
        # Importing any of these fails here: Lambda ships botocore (and boto3), but the runtime
        # needs polars, pydantic and botocore only.
        names = ("pulumi", "pulumi_aws", "boto3", "click", "rich", "moto")
        def find_spec(self, name, path=None, target=None):
            if name.split(".")[0] in self.names:
                return importlib.machinery.ModuleSpec(name, self)
            return None
        def create_module(self, spec):
            raise ImportError(f"{spec.name} is blocked in the cloud runtime")
        def exec_module(self, module):
            raise ImportError(f"{module.__name__} is blocked in the cloud runtime")
    sys.meta_path.insert(0, Blocked())
    try:
        import pulumi
    except ImportError:
        pass
    else:
        raise SystemExit("the blocker does not work")
    """
)


def _event(bucket: str, task: str = "clean") -> dict[str, object]:
    return {
        "pipeline": "etl_pipeline",
        "task": task,
        "code_ref": f"core_single_source:{task}",
        "inputs": {"df": {"uri": f"s3://{bucket}/raw/data.parquet", "format": "parquet"}},
        "output": {"uri": f"s3://{bucket}/processed/cleaned.parquet", "format": "parquet"},
        "execution": "exec-1",
    }


def _upload(s3_client, bucket: str) -> None:  # type: ignore[no-untyped-def]
    buffer = io.BytesIO()
    pl.DataFrame({"value": [1.0, None, 3.0], "category": ["a", "b", "a"]}).write_parquet(buffer)
    s3_client.put_object(Bucket=bucket, Key="raw/data.parquet", Body=buffer.getvalue())


def test_handler_imports_and_runs_where_pulumi_and_boto3_cannot_import(
    s3_client, fresh_bucket: str, moto_endpoint: str, tmp_path: Path
) -> None:
    _upload(s3_client, fresh_bucket)
    script = BLOCKER + textwrap.dedent(
        f"""
        import json
        sys.path.insert(0, {str(SEED)!r})  # the code bundle, as /var/task is in Lambda
        from glacier.runtime.lambda_handler import handler
        result = handler(json.loads({json.dumps(json.dumps(_event(fresh_bucket)))}), None)
        leaked = sorted(m for m in sys.modules if m.split(".")[0] in Blocked.names)
        print(json.dumps({{"result": result, "leaked": leaked}}))
        """
    )
    env = {**os.environ, "AWS_ENDPOINT_URL": moto_endpoint, "AWS_REGION": "us-east-1"}
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, env=env, cwd=tmp_path, timeout=120
    )
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout.strip().splitlines()[-1])
    assert report["leaked"] == []
    assert report["result"]["task"] == "clean" and report["result"]["bytes"] > 0
    body = s3_client.get_object(Bucket=fresh_bucket, Key="processed/cleaned.parquet")["Body"].read()
    assert pl.read_parquet(io.BytesIO(body))["value"].to_list() == [1.0, 3.0]


def test_a_failing_task_names_pipeline_task_and_cause(
    s3_client, fresh_bucket: str, moto_endpoint: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.syspath_prepend(str(SEED))
    monkeypatch.setenv("AWS_ENDPOINT_URL", moto_endpoint)
    # No input uploaded: reading it fails.
    with pytest.raises(TaskFailedError, match=r"Task 'clean' of pipeline 'etl_pipeline' failed: ") as caught:
        lambda_handler.handler(_event(fresh_bucket), None)
    assert "raw/data.parquet" in str(caught.value)
    s3_objects = s3_client.list_objects_v2(Bucket=fresh_bucket).get("Contents", [])
    assert s3_objects == []  # nothing partial written


def test_unimportable_code_refs_are_clear(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.syspath_prepend(str(SEED))
    with pytest.raises(ExecutionError, match="module-level functions"):
        import_code_ref("core_single_source:make.<locals>.inner", "inner")
    assert import_code_ref("core_single_source:clean", "clean").__name__ == "clean"
    event = _event("some-bucket", task="missing_task")
    with pytest.raises(TaskFailedError, match=r"Task 'missing_task' .*cannot import"):
        lambda_handler.run_event(event, storage={})


def test_glue_entry_reads_its_event_among_glue_arguments(
    s3_client,
    fresh_bucket: str,
    moto_endpoint: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    _upload(s3_client, fresh_bucket)
    monkeypatch.syspath_prepend(str(SEED))
    monkeypatch.setenv("AWS_ENDPOINT_URL", moto_endpoint)
    argv = [
        "--JOB_ID",
        "j_1",
        "--glacier-event",
        json.dumps(_event(fresh_bucket)),
        "--job-bookmark-option",
        "x",
    ]
    result = glue_entry.main(argv)
    assert result["task"] == "clean" and result["output"].endswith("processed/cleaned.parquet")
    assert json.loads(capsys.readouterr().out.strip()) == result
    with pytest.raises(SystemExit, match="JSON object"):
        glue_entry.parse_event(["--glacier-event", "[1, 2]"])
