"""Switching a SQLite database to WAL mode when several connections may open it at once
(the run history, the content-digest memo)."""

from __future__ import annotations

import sqlite3
import time


def use_wal(conn: sqlite3.Connection, wait: float = 30.0) -> None:
    """Put the database in WAL mode (a setting of the file, kept once made). Changing the
    mode needs the database alone and SQLite answers "locked" at once, without its busy
    wait, when another connection has it open (concurrent partitions of a backfill opening a
    new database together): so look first, and retry for up to ``wait`` seconds."""
    deadline = time.monotonic() + wait
    while True:
        try:
            if conn.execute("PRAGMA journal_mode").fetchone()[0] != "wal":
                conn.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() >= deadline:
                raise
            time.sleep(0.05)
