"""Issue 11, lean start-up: a Lambda cold start (the handler, the runtime, a user module that
defines tasks and a pipeline, and the first invocation) never imports pydantic; configs
and task events keep their API, messages and documents."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import polars as pl
import pytest

from glacier.config import AwsConfig, LambdaConfig, LocalConfig, SparkConfig
from glacier.errors import ConfigError
from glacier.runtime.event import DatasetLocation, TaskEvent, TaskResult

ROOT = Path(__file__).resolve().parent.parent

USER_MODULE = """
import polars as pl
from glacier import Pipeline, Provider
from glacier.config import AwsConfig, LambdaConfig

provider = Provider(config=AwsConfig(region="eu-west-1", tags={"team": "data"}))
serverless = provider.serverless(config=LambdaConfig(memory=2048))

@serverless.task(name="add_one", retries=1)
def add_one(df: pl.LazyFrame) -> pl.LazyFrame:
    return df.with_columns(pl.col("value") + 1)

raw = provider.bucket("lake", "raw/values.parquet")
out = provider.bucket("lake", "clean/values.parquet")
pipeline = Pipeline(name="lean").source(raw).transform(add_one).to(out)
"""


def test_a_cold_start_and_its_first_invocation_never_import_pydantic(tmp_path: Path) -> None:
    (tmp_path / "lean_user.py").write_text(USER_MODULE)
    pl.DataFrame({"value": [1, 2, 3]}).write_parquet(tmp_path / "in.parquet")
    event = {
        "pipeline": "lean",
        "task": "add_one",
        "code_ref": "lean_user:add_one",
        "inputs": {"df": {"uri": str(tmp_path / "in.parquet"), "format": "parquet"}},
        "output": {"uri": str(tmp_path / "out.parquet"), "format": "parquet"},
    }
    script = textwrap.dedent(
        f"""
        import json, sys
        sys.path.insert(0, {str(tmp_path)!r})
        import glacier.runtime.lambda_handler as handler, glacier.runtime.core, glacier.io
        import lean_user
        imported = "pydantic" in sys.modules
        result = handler.run_event({event!r}, storage={{}})
        print(json.dumps({{"imported": imported, "invoked": "pydantic" in sys.modules, "result": result}}))
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, cwd=ROOT, check=True, timeout=300
    )
    report = json.loads(done.stdout.strip().splitlines()[-1])
    assert report == {"imported": False, "invoked": False, "result": report["result"]}
    assert report["result"]["rows"] == 3 and report["result"]["status"] == "succeeded"
    assert pl.read_parquet(tmp_path / "out.parquet")["value"].to_list() == [2, 3, 4]


@pytest.mark.parametrize(
    ("config", "data"),
    [
        (LambdaConfig, {"memory": 2048, "architecture": "x86_64"}),
        (LambdaConfig, {"memory": "2048"}),  # coerced by pydantic, as before
        (LambdaConfig, {"timeout": 900.0}),
        (SparkConfig, {"workers": 10, "engine": "emr-serverless", "kind": "spark"}),
        (AwsConfig, {"region": "eu-west-1", "kms_key_arn": "arn:aws:kms:eu-west-1:123456789012:key/k1"}),
        (AwsConfig, {"tags": {"team": "data"}, "endpoint_url": "http://127.0.0.1:5000"}),
        (LocalConfig, {"base_path": "/srv/data"}),
    ],
)
def test_a_config_is_what_its_pydantic_model_makes_of_the_same_input(
    config: type[LambdaConfig], data: dict[str, object]
) -> None:
    built = config(**data)
    model = config.pydantic_model()(**data)
    assert built.model_dump() == model.model_dump()
    assert built.model_dump_json() == model.model_dump_json()
    assert built.model_fields_set == model.model_fields_set
    assert built == config(**data) and repr(built) == repr(model)


def test_bad_config_values_are_pydantics_judgement_in_one_config_error() -> None:
    with pytest.raises(ConfigError) as caught:
        LambdaConfig(memory=True, python_version="2.7")  # type: ignore[arg-type]
    message = str(caught.value)
    assert message.startswith("Invalid configuration: LambdaConfig.memory=True")
    assert "LambdaConfig.python_version='2.7': Input should be '3.12' or '3.13'" in message
    with pytest.raises(ConfigError, match="must be a key in the buckets' region eu-west-1"):
        AwsConfig(region="eu-west-1", kms_key_arn="arn:aws:kms:us-east-1:123456789012:key/k1")
    config = LambdaConfig()
    with pytest.raises(AttributeError):
        config.memory = 4096  # type: ignore[misc]


def _event() -> dict[str, object]:
    return {
        "pipeline": "etl",
        "task": "clean",
        "code_ref": "pipes:clean",
        "inputs": {"df": {"uri": "s3://lake/raw/", "format": "parquet_dir", "partition_by": ["date"]}},
        "output": {
            "uri": "s3://lake/clean.parquet",
            "format": "parquet",
            "schema": {"columns": {"id": "Int64"}, "declared": True, "mode": "freeze"},
        },
        "partition": {"date": "2026-12-01"},
    }


def test_a_task_event_reads_and_writes_the_document_the_state_machine_sends() -> None:
    event = TaskEvent.model_validate(_event())
    assert isinstance(event.output, DatasetLocation) and event.output.schema_ is not None
    assert event.output.schema_.columns == {"id": "Int64"}
    assert event.model_dump(mode="json", exclude_none=True) == _event()
    assert TaskEvent.model_validate_json(json.dumps(_event())) == event
    assert event.model_dump(mode="json", exclude={"execution", "partition"}, exclude_none=True) == {
        k: v for k, v in _event().items() if k != "partition"
    }
    narrowed = event.model_copy(update={"partition": None})
    assert narrowed.partition is None and narrowed.inputs == event.inputs
    result = TaskResult(pipeline="etl", task="clean", output="s3://lake/clean.parquet", bytes=10, seconds=0.5)
    assert result.model_dump(mode="json") == {
        "pipeline": "etl",
        "task": "clean",
        "status": "succeeded",
        "output": "s3://lake/clean.parquet",
        "rows": None,
        "bytes": 10,
        "seconds": 0.5,
        "schema_added": {},
    }


@pytest.mark.parametrize(
    ("change", "named"),
    [
        ({"task": 3}, "task=3 is not a string"),
        ({"inputs": {"df": {"uri": "s3://a/b", "format": "xlsx"}}}, "format='xlsx' is not one of parquet"),
        ({"outptu": {}}, "TaskEvent.outptu={} is not a field of TaskEvent"),
        ({"partition": {"date": 1}}, "partition={'date': 1} is not a mapping of strings to strings"),
    ],
)
def test_a_malformed_event_is_one_config_error_naming_its_field(
    change: dict[str, object], named: str
) -> None:
    with pytest.raises(ConfigError) as caught:
        TaskEvent.model_validate({**_event(), **change})
    assert named in str(caught.value) and "glacier deploy" in str(caught.value)
    with pytest.raises(ConfigError, match="has no 'code_ref'"):
        TaskEvent.model_validate({k: v for k, v in _event().items() if k != "code_ref"})
