"""The history database's schema: ordered migrations and the column lists writers use.

``MIGRATIONS[i]`` takes a database from version ``i`` to ``i + 1``; the version lives in
``PRAGMA user_version``. Version 1 is the layout written before versions were recorded
(user_version 0 with the tables present), so its statements are kept verbatim.
"""

from __future__ import annotations

import sqlite3

_V1 = (
    """CREATE TABLE IF NOT EXISTS runs (
    run_id TEXT PRIMARY KEY,
    pipeline TEXT NOT NULL,
    storage TEXT NOT NULL,
    status TEXT NOT NULL,
    started_at REAL NOT NULL,
    seconds REAL,
    error TEXT
)""",
    """CREATE TABLE IF NOT EXISTS tasks (
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
)""",
    "CREATE INDEX IF NOT EXISTS tasks_by_name ON tasks (pipeline, task, started_at)",
)

_V2 = (
    "ALTER TABLE runs ADD COLUMN pid INTEGER",
    "ALTER TABLE runs ADD COLUMN pid_start INTEGER",
    "ALTER TABLE runs ADD COLUMN host TEXT",
    "ALTER TABLE runs ADD COLUMN updated_at REAL",
    "ALTER TABLE tasks ADD COLUMN traceback TEXT",
    "ALTER TABLE tasks ADD COLUMN fix TEXT",
    "CREATE INDEX IF NOT EXISTS runs_by_pipeline ON runs (pipeline, started_at)",
    "CREATE INDEX IF NOT EXISTS runs_by_status ON runs (status)",
)

# v3: the partition a task run processed (``date=2026-11-30``; NULL for a whole run), so the
# cache and the history are per partition.
_V3 = (
    "ALTER TABLE tasks ADD COLUMN partition TEXT",
    "CREATE INDEX IF NOT EXISTS tasks_by_partition ON tasks (pipeline, task, partition, started_at)",
)

# v4: the columns a task met beyond a schema_mode="evolve" declaration (JSON: dataset URI ->
# column -> dtype name; NULL when none), so history says when a dataset gained a column.
_V4 = ("ALTER TABLE tasks ADD COLUMN schema_added TEXT",)

MIGRATIONS: tuple[tuple[str, ...], ...] = (_V1, _V2, _V3, _V4)
CURRENT_VERSION = len(MIGRATIONS)

RUN_COLUMNS = (
    "run_id",
    "pipeline",
    "storage",
    "status",
    "started_at",
    "seconds",
    "error",
    "pid",
    "pid_start",
    "host",
    "updated_at",
)
TASK_COLUMNS = (
    "run_id",
    "pipeline",
    "task",
    "status",
    "attempts",
    "started_at",
    "seconds",
    "rows",
    "output_bytes",
    "input_bytes",
    "output",
    "cache_key",
    "output_fingerprint",
    "input_fingerprints",
    "error",
    "traceback",
    "fix",
    "partition",
    "schema_added",
)


def _insert(table: str, columns: tuple[str, ...], verb: str = "INSERT") -> str:
    names = ", ".join(columns)
    values = ", ".join(f":{c}" for c in columns)
    return f"{verb} INTO {table} ({names}) VALUES ({values})"


INSERT_RUN = _insert("runs", RUN_COLUMNS)
# A task recorded twice in one run (a retry of the record, a late interrupt) keeps the last.
INSERT_TASK = _insert("tasks", TASK_COLUMNS, "INSERT OR REPLACE")


def stored_version(conn: sqlite3.Connection) -> int:
    """The schema version of a database: user_version, or 1 for the unversioned layout,
    or 0 for a database with no tables yet."""
    version = int(conn.execute("PRAGMA user_version").fetchone()[0])
    if version == 0:
        tables = conn.execute("SELECT 1 FROM sqlite_master WHERE type='table' AND name='runs'").fetchone()
        return 1 if tables else 0
    return version


def migrate(conn: sqlite3.Connection) -> int:
    """Bring the database to CURRENT_VERSION in one transaction; returns the version found.
    Raises ``NewerSchema`` for a database a newer Glacier wrote (nothing is changed)."""
    found = stored_version(conn)
    if found == CURRENT_VERSION:
        return found
    if found > CURRENT_VERSION:
        raise NewerSchema(found)
    conn.execute("BEGIN IMMEDIATE")
    try:
        found = stored_version(conn)  # another process may have migrated meanwhile
        if found > CURRENT_VERSION:
            raise NewerSchema(found)
        for statements in MIGRATIONS[found:]:
            for statement in statements:
                conn.execute(statement)
        conn.execute(f"PRAGMA user_version = {CURRENT_VERSION}")
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    return found


class NewerSchema(Exception):
    """The database's schema version is newer than this code knows."""

    def __init__(self, version: int) -> None:
        self.version = version
        super().__init__(f"schema version {version}")
