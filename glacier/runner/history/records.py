"""The typed records the run history stores and returns, and the statuses they may carry."""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass, field
from typing import Any

# A run is `running` until finish_run (or mark_dead_runs) closes it.
RUN_STATUSES = ("running", "succeeded", "failed", "interrupted", "died")
FINISHED_RUN_STATUSES = ("succeeded", "failed", "interrupted")
# `interrupted`: the task was running when the run was interrupted (Ctrl-C, SIGTERM);
# `cancelled`: it had not started yet and never will in this run.
TASK_STATUSES = ("succeeded", "cached", "failed", "skipped", "interrupted", "cancelled")


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
    """One task's outcome in one run (a row of ``tasks``).

    ``run_id`` is filled in by the readers; writers pass the run id separately and leave it
    None (a value given here is ignored on write)."""

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
    traceback: str | None = None  # the full traceback text of a failure
    fix: str | None = None  # the error's own fix, when it came with one
    run_id: str | None = None
    partition: str | None = None  # ``date=2026-11-30``: the partition this run processed
    # Columns beyond a schema_mode="evolve" declaration: dataset URI -> column -> dtype name.
    schema_added: dict[str, dict[str, str]] = field(default_factory=dict)


@dataclass(frozen=True)
class RunRecord:
    """One run (a row of ``runs``); ``status`` is ``died`` for a run still marked
    ``running`` whose process is gone (see ``glacier.runner.history.liveness``)."""

    run_id: str
    pipeline: str
    storage: str
    status: str
    started_at: float
    seconds: float | None
    error: str | None
    pid: int | None = None
    host: str | None = None
    updated_at: float | None = None  # the last heartbeat or write of the run

    @property
    def finished(self) -> bool:
        return self.status != "running"


def check_status(status: str, allowed: tuple[str, ...], what: str) -> None:
    """A status outside the documented set would silently confuse every reader."""
    if status not in allowed:
        raise ValueError(f"{what} status {status!r} is not one of {', '.join(allowed)}")


def task_params(run_id: str, pipeline: str, record: TaskRecord) -> dict[str, Any]:
    """The named parameters of one ``tasks`` row (see ``schema.TASK_COLUMNS``)."""
    check_status(record.status, TASK_STATUSES, f"task {record.task!r}")
    return {
        "run_id": run_id,
        "pipeline": pipeline,
        "task": record.task,
        "status": record.status,
        "attempts": record.attempts,
        "started_at": record.started_at,
        "seconds": record.seconds,
        "rows": record.rows,
        "output_bytes": record.output_bytes,
        "input_bytes": json.dumps(record.input_bytes, sort_keys=True),
        "output": record.output,
        "cache_key": record.cache_key,
        "output_fingerprint": record.output_fingerprint,
        "input_fingerprints": json.dumps(record.input_fingerprints, sort_keys=True),
        "error": record.error,
        "traceback": record.traceback,
        "fix": record.fix,
        "partition": record.partition,
        "schema_added": json.dumps(record.schema_added, sort_keys=True) if record.schema_added else None,
    }


def task_record(row: sqlite3.Row) -> TaskRecord:
    """A ``tasks`` row of any schema version (columns added later read as None)."""
    data: dict[str, Any] = dict(row)
    return TaskRecord(
        task=data["task"],
        status=data["status"],
        attempts=data["attempts"],
        started_at=data["started_at"],
        seconds=data["seconds"],
        rows=data["rows"],
        output_bytes=data["output_bytes"],
        input_bytes=json.loads(data["input_bytes"]),
        output=data["output"],
        cache_key=data["cache_key"],
        output_fingerprint=data["output_fingerprint"],
        input_fingerprints=json.loads(data["input_fingerprints"]),
        error=data["error"],
        traceback=data.get("traceback"),
        fix=data.get("fix"),
        run_id=data["run_id"],
        partition=data.get("partition"),
        schema_added=json.loads(data["schema_added"]) if data.get("schema_added") else {},
    )


def task_stats(row: sqlite3.Row) -> TaskStats:
    return TaskStats(
        seconds=row["seconds"],
        rows=row["rows"],
        output_bytes=row["output_bytes"] or 0,
        input_bytes=json.loads(row["input_bytes"]),
    )


def run_record(row: dict[str, Any], *, status: str, error: str | None) -> RunRecord:
    """A ``runs`` row of any schema version, with the status and error its readers report."""
    data = row
    return RunRecord(
        run_id=data["run_id"],
        pipeline=data["pipeline"],
        storage=data["storage"],
        status=status,
        started_at=data["started_at"],
        seconds=data["seconds"],
        error=error,
        pid=data.get("pid"),
        host=data.get("host"),
        updated_at=data.get("updated_at"),
    )
