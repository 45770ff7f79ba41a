"""The typed DAG: built from bucket identity, ordered by graphlib, JSON round trip with stable
bytes, code references and source hashes, and its Mermaid / DOT / JSON renderings."""

from __future__ import annotations

import gc
import hashlib
import inspect
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from glacier import Pipeline, Provider, load_pipelines
from glacier.config import AwsConfig, LambdaConfig
from glacier.dag import PipelineDAG
from glacier.dag.render import to_dot, to_json, to_mermaid
from glacier.errors import GraphError

provider = Provider(config=AwsConfig(region="eu-west-1", tags={"team": "data"}))
local = provider.local()
lam = provider.serverless(config=LambdaConfig(memory=512))


@local.task()
def extract(df: pl.LazyFrame) -> pl.LazyFrame:
    return df.filter(pl.col("value") > 0)


@lam.task(retries=2, timeout=120, cache=True)
def left(df: pl.LazyFrame) -> pl.LazyFrame:
    return df


@lam.task()
def right(df: pl.LazyFrame) -> pl.LazyFrame:
    return df


@local.task()
def merge(a: pl.LazyFrame, b: pl.LazyFrame) -> pl.LazyFrame:
    return pl.concat([a, b])


def diamond(reverse_kwargs: bool = False) -> PipelineDAG:
    """raw -> extract -> mid -> (left, right) -> merge -> out."""
    raw, mid = provider.bucket("lake", "raw.csv"), provider.bucket("lake", "mid.parquet")
    lb, rb, out = (provider.bucket("lake", f"{n}.parquet") for n in ("l", "r", "out"))
    head = raw.transform(extract).to(mid)
    lhead, rhead = head.transform(left).to(lb), head.transform(right).to(rb)
    start = Pipeline(b=rhead, a=lhead) if reverse_kwargs else Pipeline(a=lhead, b=rhead)
    return start.transform(merge).to(out).with_name("diamond", "a diamond").to_dag()


def test_nodes_and_edges_come_from_bucket_identity() -> None:
    dag = diamond()
    assert [ds.id for ds in dag.datasets] == [
        "lake/l.parquet",
        "lake/mid.parquet",
        "lake/out.parquet",
        "lake/r.parquet",
        "lake/raw.csv",
    ]
    assert dag.edges == [
        ("dataset:lake/raw.csv", "task:extract"),
        ("task:extract", "dataset:lake/mid.parquet"),
        ("dataset:lake/mid.parquet", "task:left"),
        ("task:left", "dataset:lake/l.parquet"),
        ("dataset:lake/mid.parquet", "task:right"),
        ("task:right", "dataset:lake/r.parquet"),
        ("dataset:lake/l.parquet", "task:merge"),
        ("dataset:lake/r.parquet", "task:merge"),
        ("task:merge", "dataset:lake/out.parquet"),
    ]
    assert dag.task("merge").inputs == {"a": "lake/l.parquet", "b": "lake/r.parquet"}
    assert [ds.id for ds in dag.source_datasets()] == ["lake/raw.csv"]
    assert [ds.id for ds in dag.sink_datasets()] == ["lake/out.parquet"]
    assert dag.producer("lake/mid.parquet") == "extract" and dag.producer("lake/raw.csv") is None
    assert dag.consumers("lake/mid.parquet") == ("left", "right")


def test_topological_order_with_ties_broken_by_name() -> None:
    dag = diamond()
    assert dag.topological_order() == ["extract", "left", "right", "merge"]
    assert dag.upstream_tasks("merge") == ("left", "right")
    assert dag.downstream_tasks("extract") == ("left", "right")
    assert dag.descendants({"left"}) == {"left", "merge"}


def test_task_nodes_carry_settings_code_ref_and_source_hash() -> None:
    node = diamond().task("left")
    assert (node.retries, node.timeout, node.cache) == (2, 120, True)
    assert node.executor.kind == "serverless" and node.executor.config == LambdaConfig(memory=512)
    assert node.code_ref == f"{__name__}:left"
    source = textwrap.dedent(inspect.getsource(left.func)).encode()
    assert node.code_hash == hashlib.sha256(source).hexdigest()
    assert diamond().task("right").code_hash != node.code_hash


def test_json_round_trip_is_equal_and_byte_stable() -> None:
    dag = diamond()
    text = dag.model_dump_json()
    again = PipelineDAG.model_validate_json(text)
    assert again == dag
    assert again.model_dump_json() == text
    assert json.loads(text)["edges"][0] == ["dataset:lake/raw.csv", "task:extract"]  # derived, for readers
    # Building the same definition again (sources given in another order) gives the same bytes.
    assert diamond(reverse_kwargs=True).model_dump_json() == text
    assert to_json(dag) == dag.model_dump_json(indent=2)
    assert json.loads(to_json(dag))["storage"] == {
        "kind": "aws",
        "region": "eu-west-1",
        "profile": None,
        "endpoint_url": None,
        "tags": {"team": "data"},
    }


PIPELINE_FILE = """
import polars as pl
from glacier import Provider
from glacier.config import LocalConfig

provider = Provider(config=LocalConfig(base_path="./data"))

@provider.local().task()
def scale(df: pl.LazyFrame) -> pl.LazyFrame:
    return df.with_columns(pl.col("value") * {factor})

result = provider.bucket("data", "in.parquet").transform(scale).to(provider.bucket("data", "out.parquet"))
"""


def test_code_hash_changes_only_when_the_code_changes(tmp_path: Path) -> None:
    def build(name: str, factor: int) -> PipelineDAG:
        path = tmp_path / f"{name}.py"
        path.write_text(PIPELINE_FILE.format(factor=factor))
        (pipeline,) = load_pipelines(path).pipelines
        return pipeline.dag

    first, same, changed = build("first", 2), build("same", 2), build("changed", 3)
    assert first.task("scale").code_hash == same.task("scale").code_hash
    assert first.task("scale").code_hash != changed.task("scale").code_hash
    assert first.task("scale").code_ref == "first:scale"
    assert first.model_dump_json().replace("first:", "same:") == same.model_dump_json()


def test_mermaid_has_cylinders_boxes_with_executors_and_edges() -> None:
    text = to_mermaid(diamond())
    lines = text.splitlines()
    assert lines[0] == "graph LR"
    assert "    %% diamond: a diamond" in lines
    assert '    d4[("lake/raw.csv")]' in lines
    assert '    t0["extract<br/>(local)"]' in lines
    assert '    t1["left<br/>(serverless)"]' in lines
    assert "    d4 --> t0" in lines and "    t0 --> d1" in lines
    assert sum("-->" in line for line in lines) == len(diamond().edges)


def test_dot_output() -> None:
    text = to_dot(diamond())
    assert text.startswith('digraph "diamond" {\n    rankdir=LR;\n')
    assert '    d4 [label="lake/raw.csv", shape=cylinder];' in text
    assert '    t3 [label="merge\\n(local)", shape=box];' in text
    assert text.count(" -> ") == len(diamond().edges)
    assert text.endswith("}\n")


def test_a_multi_line_description_stays_one_mermaid_comment() -> None:
    dag = diamond().model_copy(update={"description": "first line\n  graph TD\nthird"})
    lines = to_mermaid(dag).splitlines()
    assert "    %% diamond: first line graph TD third" in lines
    assert lines.count("graph LR") == 1 and not any(line.strip() == "graph TD" for line in lines)


@pytest.mark.parametrize("size", [1, 50])
def test_long_chains_are_ordered_without_recursion_limits(size: int) -> None:
    t = local.task(name="step")(lambda df: df)
    head = provider.bucket("lake", "s0.parquet")
    for i in range(1, size + 1):
        head = head.transform(t).to(provider.bucket("lake", f"s{i}.parquet"))
    dag = head.to_dag()
    assert len(dag.tasks) == size
    assert dag.tasks[-1].output == f"lake/s{size}.parquet"


def test_compiling_restores_the_garbage_collector_state() -> None:
    assert gc.isenabled()
    diamond()
    assert gc.isenabled()
    gc.disable()
    try:
        diamond()
        assert not gc.isenabled()  # a caller's choice is kept
    finally:
        gc.enable()
    with pytest.raises(GraphError):
        t = local.task(name="t")(lambda df: df)
        a = provider.bucket("lake", "a.parquet")
        a.transform(t).to(a).to_dag()
    assert gc.isenabled()


def test_code_hash_without_source_falls_back_to_bytecode() -> None:
    namespace: dict[str, Any] = {}
    exec("def made(df):\n    return df\n", namespace)  # no file: inspect cannot find the source
    task = local.task(namespace["made"])
    again = local.task(name="made_again")(namespace["made"])
    assert len(task.definition.code_hash) == 64
    assert task.definition.code_hash == again.definition.code_hash
    exec("def made(df):\n    return df.head()\n", namespace)
    assert local.task(namespace["made"]).definition.code_hash != task.definition.code_hash


def test_dag_json_is_identical_across_processes_and_hash_seeds() -> None:
    """Deploys diff on these bytes: nothing may depend on set order or object ids."""
    repo = Path(__file__).resolve().parent.parent
    script = (
        "import sys; from glacier import load_pipelines\n"
        "for path in sys.argv[1:]:\n"
        "    for p in load_pipelines(path).pipelines: print(p.dag.model_dump_json())\n"
    )
    paths = [str(repo / "examples" / p) for p in ("seed_000/example3_join.py", "seed_001/pattern3_joins.py")]
    outputs = [
        subprocess.run(
            [sys.executable, "-c", script, *paths],
            capture_output=True,
            text=True,
            check=True,
            timeout=120,
            env={**os.environ, "PYTHONHASHSEED": seed},
        ).stdout
        for seed in ("1", "4242")
    ]
    assert outputs[0] == outputs[1]
    assert outputs[0].count('"name":') >= 4


@pytest.mark.parametrize(
    "name",
    ["abc", "data-lake", "my.bucket.2024", "a" * 63, "xn-abc", "sthree", "x-s3alias-not", "b.mrap1", "1data"],
)
def test_bucket_names_s3_accepts_pass(name: str) -> None:
    assert provider.bucket(name, "raw.parquet").bucket == name


def test_neighbouring_datasets_do_not_overlap() -> None:
    raw, rep = provider.bucket("lake", "raw.parquet"), provider.bucket("lake", "rep/")
    near = [provider.bucket("lake", p) for p in ("report.parquet", "rep2/", "rep_summary.parquet")]
    elsewhere = provider.bucket("other-lake", "rep/summary.parquet")
    head = raw.transform(extract).to(rep)
    for i, target in enumerate((*near, elsewhere)):
        head = head.transform(local.task(name=f"hop_{i}")(lambda df: df)).to(target)
    assert len(head.to_dag().datasets) == 6


def test_a_dag_document_with_overlapping_datasets_is_refused() -> None:
    from glacier.errors import DefinitionError

    raw, rep = provider.bucket("lake", "raw.parquet"), provider.bucket("lake", "rep/")
    doc = raw.transform(extract).to(rep).to_dag().model_dump(mode="json")
    doc["datasets"][1]["id"] = doc["tasks"][0]["output"] = "lake/raw.parquet/x.parquet"
    doc["datasets"][1].update(path="raw.parquet/x.parquet", format="parquet")
    with pytest.raises(
        DefinitionError, match=r"'lake/raw.parquet/x.parquet' is under dataset 'lake/raw.parquet'"
    ):
        PipelineDAG.model_validate(doc)
