"""What keeps a local run's per-task cost constant: stale staging entries are looked for with
one listing per folder per run (glacier.io.leftovers), and still removed."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import polars as pl

from glacier.dag.contract import CompiledPipeline
from glacier.formats import Format
from glacier.io import write_atomic
from glacier.io.leftovers import one_listing_per_folder
from glacier.io.staging import Writer, host_id, staging_name
from glacier.runner import run_pipeline
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
