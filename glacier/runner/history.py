"""Run history: an embedded SQLite database in the project's state folder.

Location: ``<state_dir>/history.sqlite``; ``state_dir`` defaults to ``$GLACIER_STATE_DIR`` or
``./.glacier``. Two tables:

- ``runs``: run_id, pipeline, storage, status (running | succeeded | failed), started_at,
  seconds, error.
- ``tasks``: one row per task per run: status (succeeded | cached | failed | skipped),
  attempts, seconds, rows, output_bytes, input_bytes (JSON: dataset id -> bytes), output URI,
  cache_key, output_fingerprint, input_fingerprints (JSON), error.

Read API (used by ``glacier history`` and by the cost analysis):

- ``History(state_dir).latest_task_stats(pipeline) -> dict[str, TaskStats]``: per task, the
  latest run that actually executed it successfully (cached skips are not measurements).
  ``TaskStats`` has ``seconds``, ``rows`` (None when unknown), ``output_bytes`` (alias
  ``bytes``) and ``input_bytes`` (dataset id -> bytes).
- ``History(state_dir).runs(pipeline=None, limit=20)`` and ``.task_rows(run_id)``.

Reading never creates the database: with no history, reads return nothing.
"""

from __future__ import annotations

import json
import os
import sqlite3
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

_SCHEMA = """
CREATE TABLE IF NOT EXISTS runs (
    run_id TEXT PRIMARY KEY,
    pipeline TEXT NOT NULL,
    storage TEXT NOT NULL,
    status TEXT NOT NULL,
    started_at REAL NOT NULL,
    seconds REAL,
    error TEXT
);
CREATE TABLE IF NOT EXISTS tasks (
    run_id TEXT NOT NULL REFERENCES runs(run_id),
    pipeline TEXT NOT NULL,
    task TEXT NOT NULL,
    status TEXT NOT NULL,
    attempts INTEGER NOT NULL,
    started_at REAL NOT NULL,
    seconds REAL NOT NULL,
    rows INTEGER,
    output_bytes INTEGER,
    input_bytes TEXT NOT NULL,
    output TEXT NOT NULL,
    cache_key TEXT,
    output_fingerprint TEXT,
    input_fingerprints TEXT NOT NULL,
    error TEXT,
    PRIMARY KEY (run_id, task)
);
CREATE INDEX IF NOT EXISTS tasks_by_name ON tasks (pipeline, task, started_at);
"""


def default_state_dir() -> Path:
    return Path(os.environ.get("GLACIER_STATE_DIR") or ".glacier")


@dataclass(frozen=True)
class TaskStats:
    """What one successful execution of a task measured."""

    seconds: float
    rows: int | None
    output_bytes: int
    input_bytes: dict[str, int] = field(default_factory=dict)

    @property
    def bytes(self) -> int:
        return self.output_bytes


@dataclass(frozen=True)
class TaskRecord:
    """One task's outcome in one run (a row of ``tasks``)."""

    task: str
    status: str
    attempts: int
    started_at: float
    seconds: float
    rows: int | None
    output_bytes: int | None
    input_bytes: dict[str, int]
    output: str
    cache_key: str | None
    output_fingerprint: str | None
    input_fingerprints: dict[str, str]
    error: str | None = None


@dataclass(frozen=True)
class RunRecord:
    run_id: str
    pipeline: str
    storage: str
    status: str
    started_at: float
    seconds: float | None
    error: str | None


class History:
    def __init__(self, state_dir: str | Path | None = None) -> None:
        self.state_dir = Path(state_dir) if state_dir is not None else default_state_dir()
        self.path = self.state_dir / "history.sqlite"
        self._lock = threading.Lock()
        self._conn: sqlite3.Connection | None = None

    # -- connection ------------------------------------------------------------------------
    @contextmanager
    def _db(self, *, create: bool) -> Iterator[sqlite3.Connection | None]:
        with self._lock:
            if self._conn is None:
                if not self.path.exists():
                    if not create:
                        yield None
                        return
                    self.state_dir.mkdir(parents=True, exist_ok=True)
                conn = sqlite3.connect(self.path, check_same_thread=False, timeout=30)
                conn.row_factory = sqlite3.Row
                conn.execute("PRAGMA journal_mode=WAL")
                # WAL + NORMAL: no fsync per commit (one per checkpoint); the database cannot
                # corrupt, a power cut may drop the last records, which only costs a re-run
                # (a cache hit also needs the output's fingerprint to match).
                conn.execute("PRAGMA synchronous=NORMAL")
                conn.executescript(_SCHEMA)
                self._conn = conn
            with self._conn:
                yield self._conn

    def close(self) -> None:
        with self._lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None

    # -- writing ---------------------------------------------------------------------------
    def start_run(self, pipeline: str, storage: str) -> str:
        run_id = time.strftime("%Y%m%dT%H%M%S") + "-" + uuid.uuid4().hex[:8]
        with self._db(create=True) as db:
            assert db is not None
            db.execute(
                "INSERT INTO runs (run_id, pipeline, storage, status, started_at) VALUES (?,?,?,?,?)",
                (run_id, pipeline, storage, "running", time.time()),
            )
        return run_id

    def finish_run(self, run_id: str, status: str, seconds: float, error: str | None = None) -> None:
        with self._db(create=True) as db:
            assert db is not None
            db.execute(
                "UPDATE runs SET status=?, seconds=?, error=? WHERE run_id=?",
                (status, seconds, error, run_id),
            )

    def record_task(self, run_id: str, pipeline: str, record: TaskRecord) -> None:
        with self._db(create=True) as db:
            assert db is not None
            db.execute(
                "INSERT OR REPLACE INTO tasks VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                (
                    run_id,
                    pipeline,
                    record.task,
                    record.status,
                    record.attempts,
                    record.started_at,
                    record.seconds,
                    record.rows,
                    record.output_bytes,
                    json.dumps(record.input_bytes, sort_keys=True),
                    record.output,
                    record.cache_key,
                    record.output_fingerprint,
                    json.dumps(record.input_fingerprints, sort_keys=True),
                    record.error,
                ),
            )

    # -- reading ---------------------------------------------------------------------------
    def last_success(self, pipeline: str, task: str) -> TaskRecord | None:
        """The latest run in which the task succeeded or was served from the cache."""
        with self._db(create=False) as db:
            if db is None:
                return None
            row = db.execute(
                "SELECT * FROM tasks WHERE pipeline=? AND task=? AND status IN ('succeeded','cached') "
                "ORDER BY started_at DESC LIMIT 1",
                (pipeline, task),
            ).fetchone()
        return _task_record(row) if row else None

    def latest_task_stats(self, pipeline: str) -> dict[str, TaskStats]:
        with self._db(create=False) as db:
            if db is None:
                return {}
            rows = db.execute(
                "SELECT * FROM tasks WHERE pipeline=? AND status='succeeded' ORDER BY started_at",
                (pipeline,),
            ).fetchall()
        stats: dict[str, TaskStats] = {}
        for row in rows:  # later rows overwrite earlier ones
            stats[row["task"]] = TaskStats(
                seconds=row["seconds"],
                rows=row["rows"],
                output_bytes=row["output_bytes"] or 0,
                input_bytes=json.loads(row["input_bytes"]),
            )
        return stats

    def runs(self, pipeline: str | None = None, limit: int = 20) -> list[RunRecord]:
        with self._db(create=False) as db:
            if db is None:
                return []
            where, args = ("WHERE pipeline=?", [pipeline]) if pipeline else ("", [])
            rows = db.execute(
                f"SELECT * FROM runs {where} ORDER BY started_at DESC LIMIT ?", (*args, limit)
            ).fetchall()
        return [RunRecord(**dict(row)) for row in rows]

    def task_rows(self, run_id: str) -> list[TaskRecord]:
        with self._db(create=False) as db:
            if db is None:
                return []
            rows = db.execute("SELECT * FROM tasks WHERE run_id=? ORDER BY started_at", (run_id,)).fetchall()
        return [_task_record(row) for row in rows]


def _task_record(row: sqlite3.Row) -> TaskRecord:
    data: dict[str, Any] = dict(row)
    data.pop("run_id")
    data.pop("pipeline")
    data["input_bytes"] = json.loads(data["input_bytes"])
    data["input_fingerprints"] = json.loads(data["input_fingerprints"])
    return TaskRecord(**data)
