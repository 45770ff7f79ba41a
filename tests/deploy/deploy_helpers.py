"""Helpers for the deployment tests: example plans, DAGs built from dependency maps,
random DAGs (general and series-parallel), and pipeline projects written to disk."""

from __future__ import annotations

import random
import textwrap
from functools import cache
from pathlib import Path

from glacier.config import AwsConfig, LambdaConfig
from glacier.dag.build import DatasetRef, StepSpec, build_dag
from glacier.dag.model import ExecutorSpec, PipelineDAG, TaskDefinition
from glacier.deploy import plan as deploy_plan
from glacier.deploy.component import DeployOptions
from glacier.deploy.plan import PlanResult
from glacier.dsl import load_pipelines

REPO = Path(__file__).resolve().parents[2]
EXAMPLES = sorted(
    str(p.relative_to(REPO))
    for pattern in ("seed_*/*.py", "*/pipelines.py")
    for p in (REPO / "examples").glob(pattern)
)
COMPONENT = "glacier:aws:PipelineDeployment"
DATA_BUCKETS = "glacier:aws:DataBuckets"
ARTIFACTS = "glacier:aws:Artifacts"


def plan(path: str, *, pipeline: str | None = None, options: DeployOptions | None = None) -> PlanResult:
    """``glacier.deploy.plan.plan`` with the loader the CLI passes (the DSL's)."""
    return deploy_plan.plan(path, loader=load_pipelines, pipeline=pipeline, options=options)


@cache
def example_plan(path: str) -> PlanResult:
    """The plan of an example (cached: the plans are read-only in tests)."""
    return plan(str(REPO / path), options=DeployOptions(build_layer=False))


CONFIGURED = """
import polars as pl

from glacier import Pipeline, Provider
from glacier.config import AwsConfig, LambdaConfig, SparkConfig

IMAGE = "123456789012.dkr.ecr.us-east-1.amazonaws.com/glacier-emr:py311"  # emr-7.x + python3.11
provider = Provider(config=AwsConfig(region="eu-west-1"))
small = provider.serverless(config=LambdaConfig(memory=2048, timeout=300, ephemeral_storage=4096,
                                                architecture="x86_64", python_version="3.13"))
glue = provider.spark(config=SparkConfig(workers=5, worker_type="G.2X", timeout_minutes=30))
emr = provider.spark(config=SparkConfig(engine="emr-serverless", emr_image=IMAGE, workers=4))

raw = provider.bucket(bucket="lake", path="raw/events/")
ref = provider.bucket(bucket="shared-ref", path="ref.csv", managed=False)
a = provider.bucket(bucket="lake", path="a.parquet")
b = provider.bucket(bucket="lake", path="b.parquet")
c = provider.bucket(bucket="lake", path="c.parquet")


@small.task(retries=2, timeout=120)
def enrich(events: pl.LazyFrame, ref: pl.LazyFrame) -> pl.LazyFrame:
    return events.join(ref, on="id")


@glue.task()
def heavy(df: pl.LazyFrame) -> pl.LazyFrame:
    return df


@emr.task()
def heavier(df: pl.LazyFrame) -> pl.LazyFrame:
    return df


p = Pipeline(name="configured", events=raw, ref=ref).transform(enrich).to(a)
q = Pipeline(name="configured_spark").source(a).transform(heavy).to(b)
r = Pipeline(name="configured_emr").source(a).transform(heavier).to(c)
"""


def dag_from_deps(deps: dict[str, set[str]], name: str = "random") -> PipelineDAG:
    """A pipeline whose task dependencies are ``deps``: each task writes ``data/<task>``
    and reads the outputs of the tasks it depends on (or the source)."""
    steps = []
    for task, parents in sorted(deps.items()):
        params = tuple(f"in_{p}" for p in sorted(parents)) or ("df",)
        definition = TaskDefinition(
            name=task,
            executor=ExecutorSpec(kind="serverless", config=LambdaConfig()),
            code_ref=f"generated:{task}",
            code_hash="0" * 64,
            required_params=params,
        )
        inputs = tuple((f"in_{p}", DatasetRef("data", f"{p}.parquet")) for p in sorted(parents))
        steps.append(
            StepSpec(
                task=definition,
                inputs=inputs or (("df", DatasetRef("data", "source.parquet")),),
                output=DatasetRef("data", f"{task}.parquet"),
            )
        )
    return build_dag(name, steps, storage=AwsConfig(region="us-east-1"))


def random_deps(rng: random.Random, n: int, p: float) -> dict[str, set[str]]:
    names = [f"t{i:03d}" for i in range(n)]
    return {names[i]: {names[j] for j in range(i) if rng.random() < p} for i in range(n)}


def series_parallel_deps(rng: random.Random, n: int) -> dict[str, set[str]]:
    """A random series-parallel DAG: tasks composed in series (every sink of the first part
    feeds every source of the second) or in parallel, recursively."""
    counter = iter(range(10_000))

    def build(size: int) -> tuple[dict[str, set[str]], set[str], set[str]]:
        if size == 1:
            name = f"t{next(counter):03d}"
            return {name: set()}, {name}, {name}
        left = rng.randint(1, size - 1)
        a, a_src, a_snk = build(left)
        b, b_src, b_snk = build(size - left)
        if rng.random() < 0.5:  # series
            for src in b_src:
                b[src] |= a_snk
            return {**a, **b}, a_src, b_snk
        return {**a, **b}, a_src | b_src, a_snk | b_snk

    deps, _, _ = build(n)
    return deps


def write_project(root: Path, body: str, name: str = "pipelines.py") -> Path:
    root.mkdir(parents=True, exist_ok=True)
    path = root / name
    path.write_text(textwrap.dedent(body))
    return path
