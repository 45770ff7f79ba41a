"""The DSL assembles the typed DAG from values it has already checked, without a second
pydantic validation (``PipelineDAG.assemble``). What it assembles must be exactly what
validation would have made: the same values, of the same types, the same JSON."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest

from glacier import load_pipelines
from glacier.dag import PipelineDAG

ROOT = Path(__file__).resolve().parent.parent
FILES = sorted(
    [
        *(path for path in (ROOT / "examples").glob("*/*.py") if path.name != "generate.py"),
        ROOT / "bench" / "tpch_pipelines.py",
        ROOT / "bench" / "tpch_multi.py",
    ]
)

EVERY_FIELD = """
import enum
import polars as pl
from glacier import Pipeline, Provider
from glacier.config import AwsConfig, LambdaConfig, SparkConfig

class Level(enum.IntEnum):
    HIGH = 2

class Mode(str, enum.Enum):
    FAST = "fast"

provider = Provider(config=AwsConfig(region="eu-west-1"))
fn = provider.serverless(config=LambdaConfig(memory=2048, timeout=300))
spark = provider.spark(config=SparkConfig(workers=3))
events = provider.bucket("landing-zone", "events/", managed=False, partition_by=["date"],
                         schema={"date": pl.String, "amount": pl.Float64}, schema_mode="evolve")
daily = provider.bucket("data-lake", "daily/", partition_by=["date"])
totals = provider.bucket("data-lake", "totals.csv")

@fn.task(timeout=30, retries=2, cache=True, retry_on=(TimeoutError,),
         level=Level.HIGH, mode=Mode.FAST, limits={"a": [1, 2.5, None, True, {"b": []}]})
def per_day(df, extra=None):
    return df.group_by("date").agg(pl.col("amount").sum())

@spark.task(name="total-all")
def total(df):
    return df.select(pl.col("amount").sum())

p = (
    Pipeline(name="every_field", description="all of it", df=events)
    .transform(per_day).to(daily).transform(total).to(totals)
    .on_schedule("cron(0 6 * * ? *)", timezone="Europe/Paris")
    .on_arrival(events)
)
"""


def _same_types(a: Any, b: Any, at: str = "dag") -> None:
    """Equal, and of the same type all the way down (30 == 30.0 and (1,) != [1] matter)."""
    assert type(a) is type(b), f"{at}: {type(a).__name__} vs {type(b).__name__}"
    if isinstance(a, dict):
        assert list(a) == list(b), at
        for key in a:
            _same_types(a[key], b[key], f"{at}.{key}")
    elif isinstance(a, list | tuple):
        assert len(a) == len(b), at
        for index, (x, y) in enumerate(zip(a, b, strict=True)):
            _same_types(x, y, f"{at}[{index}]")
    else:  # model_dump() leaves only plain values and enums here
        assert a == b, at


def _assert_as_validated(dag: PipelineDAG) -> None:
    validated = PipelineDAG.model_validate_json(dag.model_dump_json())
    assert validated == dag
    assert validated.model_dump_json() == dag.model_dump_json()
    _same_types(dag.model_dump(), validated.model_dump())


@pytest.mark.parametrize("path", FILES, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_example_dag_is_what_validation_makes(path: Path) -> None:
    module = load_pipelines(path)
    assert module.pipelines
    for compiled in module.pipelines:
        _assert_as_validated(compiled.dag)


def test_a_dag_using_every_field_is_what_validation_makes(tmp_path: Path) -> None:
    file = tmp_path / "every_field.py"
    file.write_text(EVERY_FIELD)
    (compiled,) = load_pipelines(file).pipelines
    dag = compiled.dag
    task = dag.task("per_day")
    assert task.timeout == 30.0 and type(task.timeout) is float  # as validation makes it
    assert task.config == {"level": 2, "mode": "fast", "limits": {"a": [1, 2.5, None, True, {"b": []}]}}
    assert type(task.config["level"]) is int and type(task.config["mode"]) is str
    assert len(dag.triggers) == 2 and dag.dataset("landing-zone/events/").schema_mode == "evolve"
    _assert_as_validated(dag)


def test_assembling_checks_the_graph_rules() -> None:
    """What ``assemble`` skips is field validation, not the graph rules."""
    from glacier.errors import GraphError

    (compiled,) = [
        c for c in load_pipelines(ROOT / "bench" / "tpch_pipelines.py").pipelines if c.name == "tpch_q3"
    ]
    dag = compiled.dag
    fields = {name: getattr(dag, name) for name in PipelineDAG.model_fields}
    assert PipelineDAG.assemble(**fields) == dag
    with pytest.raises(GraphError, match="reads unknown dataset"):
        PipelineDAG.assemble(**{**fields, "datasets": dag.datasets[1:]})
    twice = dag.tasks[0].model_copy(update={"name": "again"})
    with pytest.raises(GraphError, match="both write dataset"):
        PipelineDAG.assemble(**{**fields, "tasks": (*dag.tasks, twice)})


def test_compiling_builds_no_pydantic_validator() -> None:
    """Loading and compiling a pipeline file leaves the DAG models' validators unbuilt (the
    ~14 ms of schema building and plugin scan that assembling spares every command)."""
    code = textwrap.dedent(
        f"""
        from glacier import load_pipelines
        from glacier.dag import model
        module = load_pipelines({str(ROOT / "bench" / "tpch_pipelines.py")!r})
        assert len(module.pipelines) == 2
        built = [c.__name__ for c in (model.ExecutorSpec, model.TaskDefinition, model.TaskNode,
                 model.DatasetNode, model.PipelineDAG) if c.__pydantic_complete__]
        print(built)
        """
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT)
    assert out.stdout.strip() == "[]"
