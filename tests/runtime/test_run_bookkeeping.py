"""What keeps a local run's per-task cost constant: stale staging entries are looked for with
one listing per folder per run (glacier.io.leftovers), and still removed; task records are
written to the history in batches (glacier.runner.history.batch), and all of them arrive."""

from __future__ import annotations

import dataclasses
import subprocess
import sys
import time
from collections.abc import Iterable
from pathlib import Path

import polars as pl
import pytest

from glacier.dag.contract import CompiledPipeline
from glacier.formats import Format
from glacier.io import write_atomic
from glacier.io.leftovers import one_listing_per_folder
from glacier.io.staging import Writer, host_id, staging_name
from glacier.runner import History, run_pipeline
from glacier.runner.history import TaskRecord
from glacier.runner.history.batch import TaskBatch
from tests.runtime.test_runtime_scheduler import _dag, _source, add_one


def _dead_writer() -> Writer:
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    return Writer(int(time.time()), host_id(), dead.pid, "deadbeef")


def _staged(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.glob(".glacier-tmp-*"))


def test_one_listing_per_folder_still_removes_every_leftover_present_at_the_start(tmp_path: Path) -> None:
    lake = tmp_path / "lake"
    lake.mkdir()
    gone = _dead_writer()
    for name in ("a.parquet", "b.parquet"):
        (lake / staging_name(name, gone)).write_bytes(b"partial")
    frame = pl.LazyFrame({"x": [1]})
    with one_listing_per_folder():
        write_atomic(frame, str(lake / "a.parquet"), Format.PARQUET)
        assert _staged(lake) == [staging_name("b.parquet", gone)]  # only a's own went
        late = staging_name("c.parquet", gone)  # appears after the folder was listed
        (lake / late).write_bytes(b"partial")
        write_atomic(frame, str(lake / "b.parquet"), Format.PARQUET)
        write_atomic(frame, str(lake / "c.parquet"), Format.PARQUET)
        assert _staged(lake) == [late]  # not in this block's listing: left for the next run
    write_atomic(frame, str(lake / "c.parquet"), Format.PARQUET)
    assert _staged(lake) == []


def test_a_run_removes_the_leftovers_of_a_killed_run_in_a_shared_folder(tmp_path: Path) -> None:
    # Every task writes lake/<task>/data.parquet; leftovers of a dead writer beside two of them.
    edges: dict[str, tuple[str, ...]] = {"a": (), "b": ("a",), "c": ("b",)}
    dag = _dag("leftovers", tmp_path, edges)
    _source(tmp_path, rows=10)
    gone = _dead_writer()
    for task in ("a", "c"):
        folder = tmp_path / "lake" / task
        folder.mkdir(parents=True)
        (folder / staging_name("data.parquet", gone)).write_bytes(b"partial")

    result = run_pipeline(
        CompiledPipeline(dag=dag, functions=dict.fromkeys(edges, add_one)), state_dir=tmp_path / "state"
    )
    assert result.ok
    assert [_staged(tmp_path / "lake" / t) for t in edges] == [[], [], []]
    assert result["c"].rows == 10


def test_task_records_are_written_in_batches_and_all_arrive(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    names = [f"t{i:03d}" for i in range(60)]
    edges = {name: (names[i - 1],) if i else () for i, name in enumerate(names)}
    _source(tmp_path, rows=10)
    writes: list[int] = []
    record_tasks = History.record_tasks

    def counted(self: History, run_id: str, pipeline: str, records: Iterable[TaskRecord]) -> None:
        records = list(records)
        writes.append(len(records))
        record_tasks(self, run_id, pipeline, records)

    monkeypatch.setattr(History, "record_tasks", counted)
    compiled = CompiledPipeline(dag=_dag("batched", tmp_path, edges), functions=dict.fromkeys(names, add_one))
    result = run_pipeline(compiled, state_dir=tmp_path / "state")
    rows = History(tmp_path / "state").task_rows(result.run_id)
    assert [row.task for row in rows] == names and {row.status for row in rows} == {"succeeded"}
    assert sum(writes) < len(names)  # the last records went with finish_run
    assert len(writes) < len(names) / 5  # a transaction per batch, not per task


def test_a_batch_is_written_when_full_or_old(tmp_path: Path) -> None:
    history = History(tmp_path / "state")
    run_id = history.start_run("p", "local")
    record = TaskRecord("x", "succeeded", 1, time.time(), 0.1, 1, 10, {}, "out", None, None, {})
    batch = TaskBatch(history, run_id, "p", every=3600, size=3)
    for task in ("a", "b"):
        batch.add(dataclasses.replace(record, task=task))
    assert history.task_rows(run_id) == []  # held
    batch.add(dataclasses.replace(record, task="c"))  # full: written
    assert [row.task for row in history.task_rows(run_id)] == ["a", "b", "c"]
    old = TaskBatch(history, run_id, "p", every=0.0, size=1000)
    old.add(dataclasses.replace(record, task="d"))  # its oldest waited long enough
    assert len(history.task_rows(run_id)) == 4
    batch.add(dataclasses.replace(record, task="e"))
    history.finish_run(run_id, "succeeded", 1.0, tasks=batch.take())
    assert [row.task for row in history.task_rows(run_id)][-1] == "e" and batch.take() == []
