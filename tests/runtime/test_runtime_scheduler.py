"""The local runner's scheduling: graphlib drives it (``glacier.runner.frontier``), a long
chain finishes in order, and a failure blocks exactly what is downstream of it.

The pipelines are built straight from the backend contract (``build_dag`` +
``CompiledPipeline``), as a backend sees them, with real Polars on real files."""

from __future__ import annotations

import itertools
from pathlib import Path

import polars as pl
import pytest

from glacier.config import LambdaConfig, LocalConfig
from glacier.dag.build import DatasetRef, StepSpec, build_dag
from glacier.dag.contract import CompiledPipeline
from glacier.dag.model import ExecutorSpec, PipelineDAG, TaskDefinition
from glacier.errors import ExecutionError
from glacier.runner import History, run_pipeline
from glacier.runner.frontier import Frontier


def add_one(df: pl.LazyFrame) -> pl.LazyFrame:
    return df.with_columns(pl.col("value") + 1)


def combine(left: pl.LazyFrame, right: pl.LazyFrame) -> pl.LazyFrame:
    return left.join(right, on="id", suffix="_right")


def explode(df: pl.LazyFrame) -> pl.LazyFrame:
    raise ValueError("boom")


def _dag(name: str, base: Path, edges: dict[str, tuple[str, ...]]) -> PipelineDAG:
    """``edges``: task -> the tasks it reads (none: it reads the source). Each task writes
    ``lake/<task>/data.parquet`` (one folder each)."""
    steps = []
    for task, parents in edges.items():
        params = ("left", "right") if len(parents) == 2 else ("df",)
        sources = [DatasetRef("lake", f"{p}/data.parquet") for p in parents] or [
            DatasetRef("lake", "source/data.parquet")
        ]
        definition = TaskDefinition(
            name=task,
            executor=ExecutorSpec(kind="local", config=LambdaConfig()),
            code_ref=f"{__name__}:add_one",
            code_hash="0" * 64,
            required_params=params,
        )
        steps.append(
            StepSpec(
                task=definition,
                inputs=tuple(zip(params, sources, strict=True)),
                output=DatasetRef("lake", f"{task}/data.parquet"),
            )
        )
    return build_dag(name, steps, storage=LocalConfig(base_path=str(base)))


def _source(base: Path, rows: int = 1_000) -> None:
    path = base / "lake/source/data.parquet"
    path.parent.mkdir(parents=True)
    pl.DataFrame({"id": range(rows), "value": [0] * rows}).write_parquet(path)


def test_a_2000_task_chain_runs_every_task_once_in_order(tmp_path: Path, state_dir: Path) -> None:
    n = 2_000
    names = [f"t{i:04d}" for i in range(n)]
    edges = {name: (names[i - 1],) if i else () for i, name in enumerate(names)}
    dag = _dag("long_chain", tmp_path, edges)
    _source(tmp_path)
    # Unfused: the frontier's own order (fused chains: tests/runtime/test_fusion.py).
    result = run_pipeline(CompiledPipeline(dag=dag, functions=dict.fromkeys(names, add_one)), fuse=False)
    assert result.status == "succeeded"
    assert list(result.tasks) == names
    assert {t.status for t in result.tasks.values()} == {"succeeded"}
    finished = [result.tasks[name] for name in names]
    assert all(a.finished_at <= b.started_at for a, b in itertools.pairwise(finished))
    last = pl.read_parquet(tmp_path / f"lake/{names[-1]}/data.parquet")
    assert last["value"].to_list() == [n] * 1_000  # each of the n tasks added one, in order
    assert len(History(state_dir).task_rows(result.run_id)) == n


def test_a_failure_blocks_exactly_its_downstream_tasks(tmp_path: Path, state_dir: Path) -> None:
    # a -> bad -> after_bad -> joined <- ok_b <- a ; and an independent branch: free -> free_after
    edges: dict[str, tuple[str, ...]] = {
        "a": (),
        "bad": ("a",),
        "after_bad": ("bad",),
        "ok_b": ("a",),
        "joined": ("after_bad", "ok_b"),
        "free": (),
        "free_after": ("free",),
    }
    dag = _dag("partial", tmp_path, edges)
    _source(tmp_path, rows=10)
    functions = {name: add_one for name in edges} | {"bad": explode, "joined": combine}
    with pytest.raises(ExecutionError) as info:
        run_pipeline(CompiledPipeline(dag=dag, functions=functions), retry_delay=0)
    assert info.value.task == "bad"
    result = info.value.result  # type: ignore[attr-defined]
    statuses = {name: run.status for name, run in result.tasks.items()}
    assert statuses == {
        "a": "succeeded",
        "bad": "failed",
        "after_bad": "skipped",
        "ok_b": "succeeded",
        "joined": "skipped",
        "free": "succeeded",
        "free_after": "succeeded",
    }
    assert result["after_bad"].error == "not run: upstream task(s) bad did not succeed"
    assert result["joined"].error == "not run: upstream task(s) after_bad, ok_b did not succeed"
    recorded = {row.task: row.status for row in History(state_dir).task_rows(result.run_id)}
    assert recorded == statuses  # skipped tasks are in the history too
    assert not (tmp_path / "lake/joined").exists()


def test_frontier_hands_out_each_ready_task_once_in_dag_order(tmp_path: Path) -> None:
    edges: dict[str, tuple[str, ...]] = {
        "a": (),
        "b": (),
        "c": ("a",),
        "d": ("a", "b"),
        "e": ("d",),
        "f": ("c",),
    }
    frontier = Frontier(_dag("frontier", tmp_path, edges))
    assert frontier.ready() == ["a", "b"]
    assert frontier.ready() == []  # handed out already, not finished
    frontier.succeeded("b")
    assert frontier.ready() == []  # d still waits for a
    frontier.succeeded("a")
    assert frontier.ready() == ["c", "d"]
    assert frontier.failed("d") == ["e"]  # newly blocked, to be recorded as skipped
    assert frontier.ready() == []  # e is blocked: it never comes out
    frontier.succeeded("c")
    assert frontier.ready() == ["f"]
    frontier.succeeded("f")
    assert frontier.ready() == []
