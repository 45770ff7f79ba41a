"""What the cloud cannot run is refused clearly, at plan time or when the job starts."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from deploy_helpers import plan

from glacier.errors import DeploymentError

ROOT = Path(__file__).resolve().parents[2]

PYSPARK_PIPELINE = textwrap.dedent(
    """
    from __future__ import annotations

    from typing import TYPE_CHECKING

    from glacier import Provider
    from glacier.config import AwsConfig

    if TYPE_CHECKING:
        from pyspark.sql import DataFrame

    provider = Provider(config=AwsConfig(region="us-east-1"))
    spark = provider.spark()

    @spark.task()
    def dedupe(df: "DataFrame") -> "DataFrame":
        return df.dropDuplicates()

    deduped = provider.bucket("lake", "raw.parquet").transform(dedupe).to(
        provider.bucket("lake", "deduped.parquet")
    ).with_name("spark_only")
    """
)


def test_a_pyspark_task_on_lambda_is_refused_at_plan_time(tmp_path: Path) -> None:
    module = tmp_path / "spark_only_pipeline.py"
    module.write_text(PYSPARK_PIPELINE.replace("provider.spark()", "provider.serverless()"))
    refused = r"Task 'dedupe' of pipeline 'spark_only' .*pyspark.*Lambda"
    with pytest.raises(DeploymentError, match=refused) as info:
        plan(str(module))
    assert "declare 'dedupe' on a Spark executor (provider.spark())" in str(info.value)


def test_the_spark_entry_script_names_the_task_when_its_python_lacks_polars(tmp_path: Path) -> None:
    blocker = textwrap.dedent(
        """
        import importlib.abc, runpy, sys
        class Block(importlib.abc.MetaPathFinder):
            def find_spec(self, name, path, target=None):
                if name.split(".")[0] in ("polars", "pydantic"):
                    raise ImportError(f"No module named {name!r}")
        sys.meta_path.insert(0, Block())
        script, event = sys.argv[1], sys.argv[2]
        sys.argv = [script, "--glacier-event", event]
        runpy.run_path(script, run_name="__main__")
        """
    )
    # A Polars task's module imports polars: on a job whose package has none (the pyspark
    # package), the entry names the task and what is missing, with no traceback.
    module = "import polars as pl\n\ndef f(df: pl.LazyFrame) -> pl.LazyFrame:\n    return df\n"
    (tmp_path / "polars_tasks.py").write_text(module)
    script = str(ROOT / "glacier" / "runtime" / "spark_entry.py")
    out = {"uri": str(tmp_path / "out.parquet"), "format": "parquet"}
    event = json.dumps(
        {"pipeline": "p", "task": "aggregate", "code_ref": "polars_tasks:f", "inputs": {}, "output": out}
    )
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(tmp_path), str(ROOT)])}
    done = subprocess.run(
        [sys.executable, "-c", blocker, script, event],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=60,
        env=env,
    )
    assert done.returncode == 1
    assert "Task 'aggregate' of pipeline 'p' failed" in done.stderr and "polars" in done.stderr
    assert "Traceback" not in done.stderr
