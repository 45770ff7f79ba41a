"""``History``: the run history's write and read API over one lazily opened connection."""

from __future__ import annotations

import os
import sqlite3
import threading
import time
import uuid
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from glacier.runner.history import liveness
from glacier.runner.history.database import open_reader, open_writer, translated
from glacier.runner.history.records import (
    FINISHED_RUN_STATUSES,
    RunRecord,
    TaskRecord,
    TaskStats,
    check_status,
    run_record,
    task_params,
    task_record,
    task_stats,
)
from glacier.runner.history.schema import CURRENT_VERSION, INSERT_RUN, INSERT_TASK


def default_state_dir() -> Path:
    return Path(os.environ.get("GLACIER_STATE_DIR") or ".glacier")


class History:
    """The run history in ``<state_dir>/history.sqlite`` (see the package docstring)."""

    def __init__(
        self, state_dir: str | Path | None = None, *, stale_after: float = liveness.STALE_AFTER
    ) -> None:
        self.state_dir = Path(state_dir) if state_dir is not None else default_state_dir()
        self.path = self.state_dir / "history.sqlite"
        self.stale_after = stale_after
        self._lock = threading.RLock()
        self._conn: sqlite3.Connection | None = None
        self._version = 0  # schema version of the open connection
        self._writer = False  # whether the open connection was opened to write

    def __enter__(self) -> History:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- connection ------------------------------------------------------------------------
    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        """One transaction on a writable, current-schema database (created as needed)."""
        with self._lock, translated(self.path, writing=True):
            if not self._writer:
                self.close()
                self._conn, self._version, self._writer = open_writer(self.path), CURRENT_VERSION, True
            conn = self._conn
            assert conn is not None
            conn.execute("BEGIN IMMEDIATE")
            try:
                yield conn
                conn.execute("COMMIT")
            except BaseException:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                raise

    @contextmanager
    def _read(self) -> Iterator[sqlite3.Connection | None]:
        """The database to read, or None when there is none (or it has no tables yet)."""
        with self._lock, translated(self.path, writing=False):
            if self._conn is None:
                opened = open_reader(self.path)
                if opened is not None:
                    self._conn, self._version = opened
            yield self._conn if self._version > 0 else None

    def close(self) -> None:
        with self._lock:
            if self._conn is not None:
                self._conn.close()
            self._conn, self._version, self._writer = None, 0, False

    # -- writing ---------------------------------------------------------------------------
    def start_run(self, pipeline: str, storage: str) -> str:
        """Record a new ``running`` run of this process and return its id. Runs left
        ``running`` by processes that are gone are marked ``died`` in the same transaction."""
        run_id = time.strftime("%Y%m%dT%H%M%S") + "-" + uuid.uuid4().hex[:8]
        me, now = liveness.this_process(), time.time()
        with self._write() as db:
            self._mark_dead(db, None, now)
            db.execute(
                INSERT_RUN,
                {
                    "run_id": run_id,
                    "pipeline": pipeline,
                    "storage": storage,
                    "status": "running",
                    "started_at": now,
                    "seconds": None,
                    "error": None,
                    "pid": me.pid,
                    "pid_start": me.start,
                    "host": me.host,
                    "updated_at": now,
                },
            )
        return run_id

    def heartbeat(self, run_id: str) -> None:
        """Say the run is alive (what readers on other hosts go by)."""
        with self._write() as db:
            db.execute("UPDATE runs SET updated_at=? WHERE run_id=?", (time.time(), run_id))

    @contextmanager
    def keep_alive(self, run_id: str, every: float = liveness.HEARTBEAT_EVERY) -> Iterator[None]:
        """Beat the run's heartbeat every ``every`` seconds from a daemon thread while the
        block runs (for a long task that records nothing for a while)."""
        stop = threading.Event()

        def beat() -> None:
            while not stop.wait(every):
                try:
                    self.heartbeat(run_id)
                except Exception:  # the run's own next write reports a broken history
                    return

        thread = threading.Thread(target=beat, name=f"glacier-heartbeat-{run_id}", daemon=True)
        thread.start()
        try:
            yield
        finally:
            stop.set()
            thread.join()

    def record_task(self, run_id: str, pipeline: str, record: TaskRecord) -> None:
        self.record_tasks(run_id, pipeline, (record,))

    def record_tasks(self, run_id: str, pipeline: str, records: Iterable[TaskRecord]) -> None:
        """Record many task outcomes of one run in one transaction (and beat its heartbeat)."""
        params = [task_params(run_id, pipeline, r) for r in records]
        with self._write() as db:
            self._insert_tasks(db, run_id, params)

    def finish_run(
        self,
        run_id: str,
        status: str,
        seconds: float,
        error: str | None = None,
        *,
        tasks: Iterable[TaskRecord] = (),
    ) -> None:
        """Close a run as succeeded, failed or interrupted; ``tasks`` (e.g. each task's
        state at an interrupt: ``interrupted``, ``cancelled``) are recorded in the same
        transaction, under the run's pipeline."""
        check_status(status, FINISHED_RUN_STATUSES, f"run {run_id!r}")
        records = list(tasks)
        with self._write() as db:
            if records:
                row = db.execute("SELECT pipeline FROM runs WHERE run_id=?", (run_id,)).fetchone()
                if row is None:
                    raise ValueError(f"no run {run_id!r} to record tasks in")
                params = [task_params(run_id, row["pipeline"], r) for r in records]
                self._insert_tasks(db, run_id, params)
            db.execute(
                "UPDATE runs SET status=?, seconds=?, error=?, updated_at=? WHERE run_id=?",
                (status, seconds, error, time.time(), run_id),
            )

    def mark_dead_runs(self, pipeline: str | None = None) -> list[str]:
        """Mark ``died`` every ``running`` run (of ``pipeline``, or all) whose process is
        gone; returns their ids. Writes nothing, and creates nothing, when there is no
        database."""
        if not self.path.exists():
            return []
        with self._write() as db:
            return self._mark_dead(db, pipeline, time.time())

    def _insert_tasks(self, db: sqlite3.Connection, run_id: str, params: list[dict[str, Any]]) -> None:
        db.executemany(INSERT_TASK, params)
        db.execute("UPDATE runs SET updated_at=? WHERE run_id=?", (time.time(), run_id))

    def _mark_dead(self, db: sqlite3.Connection, pipeline: str | None, now: float) -> list[str]:
        host = liveness.this_host()
        dead = [row for row in self._running_rows(db, pipeline) if not self._alive(row, now, host)]
        db.executemany(
            "UPDATE runs SET status='died', error=COALESCE(error, :error), updated_at=:now "
            "WHERE run_id=:run_id AND status='running'",
            [{"run_id": row["run_id"], "error": liveness.death_note(row), "now": now} for row in dead],
        )
        return [row["run_id"] for row in dead]

    @staticmethod
    def _running_rows(db: sqlite3.Connection, pipeline: str | None) -> list[dict[str, Any]]:
        where, args = ("AND pipeline=?", (pipeline,)) if pipeline else ("", ())
        return [dict(r) for r in db.execute(f"SELECT * FROM runs WHERE status='running' {where}", args)]

    def _alive(self, row: dict[str, Any], now: float, host: str) -> bool:
        return liveness.run_alive(row, host=host, now=now, stale_after=self.stale_after)

    # -- reading ---------------------------------------------------------------------------
    def last_success(self, pipeline: str, task: str, partition: str | None = None) -> TaskRecord | None:
        """The latest run in which the task succeeded or was served from the cache (of
        ``partition`` when given). A task runs either per partition or whole, never both,
        so a whole run needs no filter (and reads a database older than v3 as it is)."""
        where, params = "pipeline=? AND task=?", [pipeline, task]
        if partition is not None:
            where, params = where + " AND partition=?", [*params, partition]
        with self._read() as db:
            if db is None:
                return None
            row = db.execute(
                f"SELECT * FROM tasks WHERE {where} AND status IN ('succeeded','cached') "
                "ORDER BY started_at DESC LIMIT 1",
                params,
            ).fetchone()
        return task_record(row) if row else None

    def latest_task_stats(self, pipeline: str) -> dict[str, TaskStats]:
        """Per task, the latest run that actually executed it successfully (cached skips
        are not measurements)."""
        with self._read() as db:
            if db is None:
                return {}
            rows = db.execute(
                "SELECT * FROM tasks WHERE pipeline=? AND status='succeeded' ORDER BY started_at",
                (pipeline,),
            ).fetchall()
        return {row["task"]: task_stats(row) for row in rows}  # later rows overwrite earlier

    def runs(self, pipeline: str | None = None, limit: int = 20) -> list[RunRecord]:
        """The latest runs, newest first; a ``running`` run whose process is gone reads
        as ``died``."""
        where, args = ("WHERE pipeline=?", (pipeline,)) if pipeline else ("", ())
        return self._runs(f"SELECT * FROM runs {where} ORDER BY started_at DESC LIMIT ?", (*args, limit))

    def run(self, run_id: str) -> RunRecord | None:
        """One run by id (None when there is no such run)."""
        found = self._runs("SELECT * FROM runs WHERE run_id=?", (run_id,))
        return found[0] if found else None

    def latest_run(self, pipeline: str | None = None) -> RunRecord | None:
        """The most recently started run (of ``pipeline``, or of any)."""
        found = self.runs(pipeline, limit=1)
        return found[0] if found else None

    def task_rows(self, run_id: str) -> list[TaskRecord]:
        """Every task recorded in a run, in the order they started."""
        with self._read() as db:
            if db is None:
                return []
            rows = db.execute("SELECT * FROM tasks WHERE run_id=? ORDER BY started_at", (run_id,)).fetchall()
        return [task_record(row) for row in rows]

    def task_history(
        self, pipeline: str, task: str, limit: int = 10, statuses: Iterable[str] | None = None
    ) -> list[TaskRecord]:
        """The task's last ``limit`` recorded outcomes (only ``statuses``, if given),
        oldest first: a small trend of seconds, rows and bytes."""
        wanted = tuple(statuses) if statuses is not None else ()
        filter_ = f"AND status IN ({', '.join('?' * len(wanted))})" if wanted else ""
        with self._read() as db:
            if db is None:
                return []
            rows = db.execute(
                f"SELECT * FROM tasks WHERE pipeline=? AND task=? {filter_} ORDER BY started_at DESC LIMIT ?",
                (pipeline, task, *wanted, limit),
            ).fetchall()
        return [task_record(row) for row in reversed(rows)]

    def _runs(self, sql: str, args: tuple[Any, ...]) -> list[RunRecord]:
        with self._read() as db:
            if db is None:
                return []
            rows = [dict(r) for r in db.execute(sql, args)]
        now, host = time.time(), liveness.this_host()
        return [self._reported(row, now, host) for row in rows]

    def _reported(self, row: dict[str, Any], now: float, host: str) -> RunRecord:
        if row["status"] == "running" and not self._alive(row, now, host):
            return run_record(row, status="died", error=row["error"] or liveness.death_note(row))
        return run_record(row, status=row["status"], error=row["error"])
