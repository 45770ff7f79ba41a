"""Memory-aware concurrency (glacier.runner.memory): ready tasks start side by side only while
their estimated working sets fit the budget; a task bigger than the budget runs alone; real
runs on real files keep big tasks apart and let small ones overlap."""

from __future__ import annotations

import itertools
import time
from pathlib import Path

import polars as pl
import pytest

from glacier.config import LambdaConfig, LocalConfig
from glacier.dag.build import DatasetRef, StepSpec, build_dag
from glacier.dag.contract import CompiledPipeline
from glacier.dag.model import ExecutorSpec, PipelineDAG, TaskDefinition
from glacier.errors import ConfigError
from glacier.runner import run_pipeline
from glacier.runner.memory import EXPANSION, FLOOR, MemoryGate, available_memory, configured_budget
from glacier.runner.result import RunResult

MB = 2**20


def slow_copy(df: pl.LazyFrame) -> pl.LazyFrame:
    time.sleep(0.3)  # long enough for a second task to start beside it, if it may
    return df


def _dag(base: Path, sources: dict[str, str]) -> PipelineDAG:
    """One task per source: ``t_<source>`` reads ``lake/<source>.parquet``."""
    steps = [
        StepSpec(
            task=TaskDefinition(
                name=f"t_{source}",
                executor=ExecutorSpec(kind="local", config=LambdaConfig()),
                code_ref=f"{__name__}:slow_copy",
                code_hash="0" * 64,
                required_params=("df",),
            ),
            inputs=(("df", DatasetRef("lake", f"{source}.parquet")),),
            output=DatasetRef("lake", f"out/{source}.parquet"),
        )
        for source in sources
    ]
    return build_dag("memory", steps, storage=LocalConfig(base_path=str(base)))


def _overlapping(result: RunResult, names: list[str]) -> bool:
    runs = [result[name] for name in names]
    return any(
        a.started_at < b.finished_at and b.started_at < a.finished_at
        for a, b in itertools.combinations(runs, 2)
    )


def test_the_gate_admits_what_fits_and_a_big_task_alone(tmp_path: Path) -> None:
    sizes = {"big1": 100 * MB, "big2": 100 * MB, "small1": MB, "small2": MB}
    dag = _dag(tmp_path, dict.fromkeys(sizes, ""))
    by_input = {f"lake/{name}.parquet": size for name, size in sizes.items()}

    def input_bytes(dataset_id: str) -> int | None:
        return next(size for path, size in by_input.items() if dataset_id.endswith(path))

    gate = MemoryGate(dag, input_bytes, budget=EXPANSION * 101 * MB)
    assert gate.estimate("t_big1") == EXPANSION * 100 * MB
    ready = ["t_big1", "t_big2", "t_small1", "t_small2"]
    assert gate.admit(ready, running=0, max_workers=8) == ["t_big1", "t_small1"]  # big2 waits
    assert gate.held == 2
    assert gate.admit([], running=2, max_workers=8) == []  # small2 would not fit either
    gate.finished("t_small1")
    assert gate.admit([], running=1, max_workers=8) == ["t_small2"]
    gate.finished("t_big1")
    gate.finished("t_small2")
    assert gate.admit([], running=0, max_workers=8) == ["t_big2"]

    tiny = MemoryGate(dag, input_bytes, budget=MB)  # smaller than any task: one at a time
    assert tiny.admit(ready, running=0, max_workers=8) == ["t_big1"]
    off = MemoryGate(dag, input_bytes, budget=False)  # the thread cap alone
    assert off.admit(ready, running=0, max_workers=3) == ready[:3]


def test_the_automatic_budget_is_the_largest_task_at_least_the_floor(tmp_path: Path) -> None:
    dag = _dag(tmp_path, {"a": "", "b": ""})
    sizes = iter([10, 400 * MB])
    fixed = {d.id: next(sizes) for d in dag.source_datasets()}
    gate = MemoryGate(dag, fixed.get)
    available = available_memory()
    assert available is not None and available > 0
    assert gate.budget == min(EXPANSION * 400 * MB, available // 2)
    assert MemoryGate(dag, lambda _: 10).budget == FLOOR


def test_the_budget_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    assert configured_budget("2G") == 2 * 2**30 and configured_budget("512m") == 512 * MB
    assert configured_budget("off") is False and configured_budget("") is None
    monkeypatch.setenv("GLACIER_MEMORY_BUDGET", "1.5GB")
    assert configured_budget() == int(1.5 * 2**30)
    with pytest.raises(ConfigError, match="GLACIER_MEMORY_BUDGET='LOTS' is not a memory size"):
        configured_budget("lots")


def _sources(base: Path, rows: dict[str, int]) -> None:
    (base / "lake").mkdir()
    for name, n in rows.items():
        pl.DataFrame({"x": range(n), "y": [f"v{i}" for i in range(n)]}).write_parquet(
            base / f"lake/{name}.parquet"
        )


def test_a_run_keeps_big_tasks_apart_and_lets_small_ones_overlap(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    rows = {"big1": 200_000, "big2": 200_000, "small1": 10, "small2": 10}
    _sources(tmp_path, rows)
    big = (tmp_path / "lake/big1.parquet").stat().st_size
    monkeypatch.setenv("GLACIER_MEMORY_BUDGET", str(EXPANSION * big + 2**16))  # one big + small ones
    dag = _dag(tmp_path, dict.fromkeys(rows, ""))
    compiled = CompiledPipeline(dag=dag, functions={t.name: slow_copy for t in dag.tasks})
    result = run_pipeline(compiled, state_dir=tmp_path / "state", max_workers=4)
    assert result.ok and result["t_big2"].rows == 200_000
    assert not _overlapping(result, ["t_big1", "t_big2"])
    assert _overlapping(result, ["t_big1", "t_small1", "t_small2"])

    monkeypatch.setenv("GLACIER_MEMORY_BUDGET", "off")
    result = run_pipeline(compiled, state_dir=tmp_path / "state", max_workers=4)
    assert _overlapping(result, ["t_big1", "t_big2"])  # the thread cap alone lets them overlap
