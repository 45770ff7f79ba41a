"""The run history: versioned schema and migration of today's layout, died/interrupted runs,
batched writes, tracebacks, and the read API."""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from glacier.cli import app
from glacier.errors import HistoryError
from glacier.runner.history import CURRENT_VERSION, History, TaskRecord
from glacier.runner.history.schema import RUN_COLUMNS, TASK_COLUMNS

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
V1_RUN_COLUMNS = ("run_id", "pipeline", "storage", "status", "started_at", "seconds", "error")
STUCK = "20240501T100000-0000000c"  # left `running` by a killed process of the old code


def _record(
    task: str, status: str = "succeeded", started_at: float | None = None, **changes: Any
) -> TaskRecord:
    base = TaskRecord(
        task=task,
        status=status,
        attempts=1,
        started_at=time.time() if started_at is None else started_at,
        seconds=0.5,
        rows=10,
        output_bytes=100,
        input_bytes={"lake/in.parquet": 200},
        output=f"/lake/{task}.parquet",
        cache_key=f"key-{task}",
        output_fingerprint=f"fp-{task}",
        input_fingerprints={"lake/in.parquet": "in"},
    )
    return dataclasses.replace(base, **changes)


def _v1_copy(tmp_path: Path) -> Path:
    folder = tmp_path / "state"
    folder.mkdir()
    shutil.copy(FIXTURES / "history_v1.sqlite", folder / "history.sqlite")
    return folder


def _raw(path: Path, sql: str) -> list[tuple[Any, ...]]:
    conn = sqlite3.connect(path)
    try:
        return conn.execute(sql).fetchall()
    finally:
        conn.close()


def _read_back(history: History) -> dict[str, Any]:
    """What the v1 code's readers returned, from today's readers (old fields only)."""
    expected = json.loads((FIXTURES / "history_v1_expected.json").read_text())
    runs = {r.run_id: dataclasses.asdict(r) for r in history.runs(limit=50)}
    return {
        "runs": [{k: runs[r["run_id"]][k] for k in r} for r in expected["runs"]],
        "tasks": {
            run_id: [{k: dataclasses.asdict(t)[k] for k in rows[0]} for t in history.task_rows(run_id)]
            for run_id, rows in expected["tasks"].items()
        },
        "latest_task_stats": {
            p: {k: dataclasses.asdict(v) for k, v in history.latest_task_stats(p).items()}
            for p in expected["latest_task_stats"]
        },
        "last_success": {
            key: (
                lambda r: {k: dataclasses.asdict(r)[k] for k in expected["last_success"][key]} if r else None
            )(history.last_success(*key.split("/")))
            for key in expected["last_success"]
        },
    }


def _expected_v1() -> dict[str, Any]:
    expected = json.loads((FIXTURES / "history_v1_expected.json").read_text())
    for run in expected["runs"]:  # the one documented change: a dead `running` run reads `died`
        if run["run_id"] == STUCK:
            run["status"] = "died"
            run["error"] = (
                "The run never finished: its process ended without recording a result (killed or crashed)."
            )
    return expected


def test_todays_layout_reads_unchanged_then_migrates(tmp_path: Path) -> None:
    folder = _v1_copy(tmp_path)
    db = folder / "history.sqlite"
    before = db.read_bytes()
    v1_rows = (
        _raw(db, "SELECT * FROM runs ORDER BY run_id"),
        _raw(db, "SELECT * FROM tasks ORDER BY run_id, task"),
    )

    # Reading an old database reads it as it is and writes nothing.
    with History(folder) as history:
        assert _read_back(history) == _expected_v1()
    assert db.read_bytes() == before
    assert _raw(db, "PRAGMA user_version") == [(0,)]

    # The first write migrates it, in place; every old row reads back the same.
    with History(folder) as history:
        new_run = history.start_run("sales", "local:/data/lake")
        history.finish_run(new_run, "succeeded", 0.1)
    assert _raw(db, "PRAGMA user_version") == [(CURRENT_VERSION,)] and CURRENT_VERSION == 4
    assert tuple(r[1] for r in _raw(db, "PRAGMA table_info(runs)")) == RUN_COLUMNS
    assert tuple(r[1] for r in _raw(db, "PRAGMA table_info(tasks)")) == TASK_COLUMNS
    old_runs = _raw(
        db, f"SELECT {', '.join(V1_RUN_COLUMNS)} FROM runs WHERE run_id != '{new_run}' ORDER BY run_id"
    )
    # Only the dead run changed: start_run marks it died (with a note why).
    assert [r for r in old_runs if r[0] != STUCK] == [r for r in v1_rows[0] if r[0] != STUCK]
    assert [r[3] for r in old_runs if r[0] == STUCK] == ["died"]
    v1_task_columns = ", ".join(TASK_COLUMNS[:15])
    assert _raw(db, f"SELECT {v1_task_columns} FROM tasks ORDER BY run_id, task") == v1_rows[1]
    assert _raw(db, "SELECT count(*) FROM tasks WHERE traceback IS NOT NULL OR fix IS NOT NULL") == [(0,)]
    with History(folder) as history:
        read = _read_back(history)
        assert read == _expected_v1()
        assert history.run(new_run) is not None and history.latest_run("sales").run_id == new_run  # type: ignore[union-attr]


def test_migration_by_concurrent_writers(tmp_path: Path) -> None:
    folder = _v1_copy(tmp_path)
    histories = [History(folder) for _ in range(4)]
    barrier = threading.Barrier(len(histories))
    ids: list[str] = []

    def start(history: History) -> None:
        barrier.wait()
        ids.append(history.start_run("sales", "local"))

    threads = [threading.Thread(target=start, args=(h,)) for h in histories]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for history in histories:
        history.close()
    assert len(ids) == 4
    assert _raw(folder / "history.sqlite", "PRAGMA user_version") == [(CURRENT_VERSION,)]
    assert _raw(folder / "history.sqlite", "SELECT count(*) FROM runs") == [(7,)]


def test_database_newer_than_the_code_is_refused(tmp_path: Path) -> None:
    folder = _v1_copy(tmp_path)
    db = folder / "history.sqlite"
    conn = sqlite3.connect(db)
    conn.execute(f"PRAGMA user_version = {CURRENT_VERSION + 1}")
    conn.close()
    before = db.read_bytes()
    for action in (lambda h: h.runs(), lambda h: h.start_run("sales", "local")):
        with History(folder) as history, pytest.raises(HistoryError) as caught:
            action(history)
        message = str(caught.value)
        assert str(db) in message and f"schema version {CURRENT_VERSION + 1}" in message
        assert caught.value.fix is not None and "upgrade glacier" in caught.value.fix
    assert db.read_bytes() == before


def test_fresh_database_round_trips_every_column(tmp_path: Path) -> None:
    with History(tmp_path / "state") as history:
        run_id = history.start_run("etl", "local:/lake")
        failed = _record(
            "clean",
            "failed",
            rows=None,
            error="ValueError: boom",
            traceback='Traceback (most recent call last):\n  File "etl.py", line 7, in clean\n'
            "ValueError: boom\n",
            fix="check column 'amount'",
        )
        history.record_task(run_id, "etl", failed)
        history.finish_run(run_id, "failed", 1.25, "Task 'clean' failed: ValueError: boom")
        [row] = history.task_rows(run_id)
        assert row == dataclasses.replace(failed, run_id=run_id)
        run = history.run(run_id)
        assert run is not None and run.finished
        assert (run.status, run.seconds, run.error, run.pid, run.host) == (
            "failed",
            1.25,
            "Task 'clean' failed: ValueError: boom",
            os.getpid(),
            socket.gethostname(),
        )
        assert run.updated_at is not None and run.updated_at >= run.started_at
    assert _raw(tmp_path / "state" / "history.sqlite", "PRAGMA journal_mode") == [("wal",)]


def test_interrupted_run_records_each_task_state(tmp_path: Path) -> None:
    with History(tmp_path / "state") as history:
        run_id = history.start_run("etl", "local")
        history.record_task(run_id, "etl", _record("extract"))
        history.finish_run(
            run_id,
            "interrupted",
            2.0,
            "Interrupted (Ctrl-C).",
            tasks=[_record("transform", "interrupted", rows=None), _record("load", "cancelled", attempts=0)],
        )
        run = history.run(run_id)
        assert run is not None and (run.status, run.error) == ("interrupted", "Interrupted (Ctrl-C).")
        assert {t.task: t.status for t in history.task_rows(run_id)} == {
            "extract": "succeeded",
            "transform": "interrupted",
            "load": "cancelled",
        }
        with pytest.raises(ValueError, match="'paused' is not one of"):
            history.finish_run(run_id, "paused", 1.0)
        with pytest.raises(ValueError, match="'exploded' is not one of"):
            history.record_task(run_id, "etl", _record("x", "exploded"))


def test_record_tasks_is_one_transaction(tmp_path: Path) -> None:
    with History(tmp_path / "state") as history:
        run_id = history.start_run("etl", "local")
        statements: list[str] = []
        assert history._conn is not None
        history._conn.set_trace_callback(statements.append)
        history.record_tasks(run_id, "etl", [_record(f"t{i}", started_at=float(i)) for i in range(500)])
        assert statements.count("COMMIT") == 1 and len(history.task_rows(run_id)) == 500

        # A batch that fails part-way stores none of its rows.
        bad = [_record("good"), dataclasses.replace(_record("bad"), task=None)]  # type: ignore[arg-type]
        with pytest.raises(sqlite3.IntegrityError):
            history.record_tasks(run_id, "etl", bad)
        assert "good" not in {t.task for t in history.task_rows(run_id)}


def test_the_writer_commits_without_an_fsync_per_record(tmp_path: Path) -> None:
    # What keeps a record cheap (tens of microseconds) is the journal, not the machine's load:
    # WAL + synchronous=NORMAL syncs at checkpoints, not on every commit. Checked on the
    # connection the history writes with (synchronous is per connection), not by a timing.
    with History(tmp_path / "state") as history:
        run_id = history.start_run("etl", "local")
        history.record_task(run_id, "etl", _record("t0"))
        writer = history._conn
        assert writer is not None
        assert writer.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert writer.execute("PRAGMA synchronous").fetchone()[0] == 1  # NORMAL, not FULL (2)
        assert [t.task for t in history.task_rows(run_id)] == ["t0"]


_START_AND_SLEEP = """
import sys, time
from glacier.runner.history import History
history = History(sys.argv[1])
print(history.start_run("etl", "local"), flush=True)
time.sleep(120)
"""


def test_sigkilled_run_reads_died_and_can_be_marked(tmp_path: Path) -> None:
    folder = tmp_path / "state"
    proc = subprocess.Popen(
        [sys.executable, "-c", _START_AND_SLEEP, str(folder)], stdout=subprocess.PIPE, text=True
    )
    try:
        assert proc.stdout is not None
        run_id = proc.stdout.readline().strip()
        with History(folder) as history:
            run = history.run(run_id)
            assert run is not None and (run.status, run.pid) == ("running", proc.pid)
            assert not history.mark_dead_runs() and history.run(run_id).status == "running"  # type: ignore[union-attr]
            os.kill(proc.pid, signal.SIGKILL)
            deadline = time.monotonic() + 10
            while history.run(run_id).status == "running" and time.monotonic() < deadline:  # type: ignore[union-attr]
                time.sleep(0.02)
            # Not reaped yet (a zombie) or gone: either way the run died.
            died = history.run(run_id)
            assert died is not None and died.status == "died"
            assert died.error is not None and f"pid {proc.pid}" in died.error
            assert history.runs("etl")[0].status == "died"
            assert _raw(folder / "history.sqlite", "SELECT status FROM runs") == [
                ("running",)
            ]  # readers only read
            shown = CliRunner().invoke(app, ["history", "--state-dir", str(folder)])
            assert shown.exit_code == 0 and "etl  died" in shown.output, shown.output
            assert history.mark_dead_runs("etl") == [run_id]
            assert history.mark_dead_runs() == []
        assert _raw(folder / "history.sqlite", "SELECT status FROM runs") == [("died",)]
    finally:
        proc.kill()
        proc.wait()


def _insert_running(folder: Path, **columns: Any) -> str:
    """A `running` row as another process would have written it."""
    with History(folder) as history:
        run_id = history.start_run("etl", "local")
        history.heartbeat(run_id)
    if not columns:
        return run_id
    conn = sqlite3.connect(folder / "history.sqlite")
    with conn:
        assignments = ", ".join(f"{name}=?" for name in columns)
        conn.execute(f"UPDATE runs SET {assignments} WHERE run_id=?", (*columns.values(), run_id))
    conn.close()
    return run_id


def test_runs_of_other_hosts_die_by_heartbeat(tmp_path: Path) -> None:
    folder = tmp_path / "state"
    now = time.time()
    fresh = _insert_running(folder, host="elsewhere", pid=1, updated_at=now - 10)
    stale = _insert_running(folder, host="elsewhere", pid=1, updated_at=now - 3600)
    legacy = _insert_running(folder, host=None, pid=None, updated_at=None, started_at=now - 3600)
    with History(folder, stale_after=600) as history:
        assert {r.run_id: r.status for r in history.runs()} == {
            fresh: "running",
            stale: "died",
            legacy: "died",
        }
        with history.keep_alive(fresh, every=0.05):
            time.sleep(0.3)
        beat = history.run(fresh)
        assert beat is not None and beat.updated_at is not None and beat.updated_at > now


def test_reused_pid_does_not_keep_a_run_alive(tmp_path: Path) -> None:
    folder = tmp_path / "state"
    if not Path(f"/proc/{os.getpid()}/stat").exists():
        pytest.skip("no /proc: a pid's start time is unknown here")
    mine = _insert_running(folder)
    reused = _insert_running(folder, pid_start=1)  # our pid, but another process's start time
    with History(folder) as history:
        assert {r.run_id: r.status for r in history.runs()} == {mine: "running", reused: "died"}


def test_read_api(tmp_path: Path) -> None:
    with History(tmp_path / "state") as history:
        ids = []
        for i in range(5):
            run_id = history.start_run("etl" if i % 2 == 0 else "other", "local")
            history.record_tasks(
                run_id,
                "etl",
                [
                    _record(
                        "clean", "cached" if i == 2 else "succeeded", started_at=100.0 + i, seconds=float(i)
                    )
                ],
            )
            history.finish_run(run_id, "succeeded", float(i))
            ids.append(run_id)
            time.sleep(0.002)  # distinct started_at
        assert history.latest_run() is not None and history.latest_run().run_id == ids[4]  # type: ignore[union-attr]
        assert history.latest_run("other").run_id == ids[3]  # type: ignore[union-attr]
        assert history.latest_run("nothing") is None and history.run("no-such-run") is None
        trend = history.task_history("etl", "clean", limit=3)
        assert [t.seconds for t in trend] == [2.0, 3.0, 4.0] and [t.run_id for t in trend] == ids[2:]
        measured = history.task_history("etl", "clean", limit=3, statuses=["succeeded"])
        assert [t.seconds for t in measured] == [1.0, 3.0, 4.0]
        assert history.task_history("etl", "missing") == []


def test_reads_with_no_history_create_nothing(tmp_path: Path) -> None:
    folder = tmp_path / "none"
    with History(folder) as history:
        assert history.runs() == [] and history.task_rows("x") == [] and history.latest_task_stats("p") == {}
        assert (
            history.run("x") is None
            and history.latest_run() is None
            and history.last_success("p", "t") is None
        )
        assert history.task_history("p", "t") == [] and history.mark_dead_runs() == []
    assert not folder.exists()
    # An empty database file (no tables yet) reads as no history, and stays untouched.
    folder.mkdir()
    (folder / "history.sqlite").touch()
    with History(folder) as history:
        assert history.runs() == [] and history.task_history("p", "t") == []
    assert (folder / "history.sqlite").stat().st_size == 0


def test_a_run_waits_for_the_history_another_opener_holds_while_it_is_new(tmp_path: Path) -> None:
    # A new history file is in SQLite's default journal mode until its first writer switches
    # it to WAL. Switching while another connection holds a write lock answered "locked" at
    # once, without SQLite's busy wait (seen with concurrent backfill partitions): the
    # switch now waits as every other history write does.
    import threading

    path = tmp_path / "state" / "history.sqlite"
    path.parent.mkdir()
    holder = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    holder.execute("CREATE TABLE opening (x)")
    holder.execute("BEGIN IMMEDIATE")
    holder.execute("INSERT INTO opening VALUES (1)")
    release = threading.Timer(0.5, lambda: holder.execute("COMMIT"))
    release.start()
    try:
        with History(tmp_path / "state") as history:
            run_id = history.start_run("etl", "local")
            assert history.run(run_id) is not None
    finally:
        release.join()
        holder.close()
