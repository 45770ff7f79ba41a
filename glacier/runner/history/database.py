"""Opening the history database, and turning each way that can fail (a state folder that is a
file or read-only, a corrupt or locked database, a newer schema) into one ``HistoryError``
naming the path and the fix."""

from __future__ import annotations

import os
import sqlite3
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from glacier.errors import HistoryError
from glacier.io.sqlite_wal import use_wal
from glacier.runner.history.schema import CURRENT_VERSION, NewerSchema, migrate, stored_version

_ELSEWHERE = "pass --state-dir (or set GLACIER_STATE_DIR to) another folder"


def _connect(target: str, *, uri: bool = False) -> sqlite3.Connection:
    # isolation_level=None: transactions are explicit (BEGIN IMMEDIATE ... COMMIT), so a
    # batch of rows is one transaction and a migration's DDL is inside it.
    conn = sqlite3.connect(target, uri=uri, timeout=30, isolation_level=None, check_same_thread=False)
    conn.row_factory = sqlite3.Row
    return conn


def open_writer(path: Path) -> sqlite3.Connection:
    """A connection that can write, on a database at the current schema (created, or
    migrated, as needed), in a folder created as needed."""
    _ensure_folder(path.parent)
    _refuse_folder_as_database(path)
    conn = _connect(str(path))
    try:
        use_wal(conn)
        # WAL + NORMAL: no fsync per commit (one per checkpoint); the database cannot
        # corrupt, a power cut may drop the last records, which only costs a re-run
        # (a cache hit also needs the output's fingerprint to match).
        conn.execute("PRAGMA synchronous=NORMAL")
        migrate(conn)
    except BaseException:
        conn.close()
        raise
    return conn


def open_reader(path: Path) -> tuple[sqlite3.Connection, int] | None:
    """A connection that only reads, and the schema version it reads (readers accept every
    version up to the current one), or None when there is no database. Never writes: an old
    schema is read as it is, and a read-only folder is read through ``immutable=1``."""
    if path.parent.exists() and not path.parent.is_dir():
        raise _folder_is_file(path.parent, path.parent)
    _refuse_folder_as_database(path)
    if not path.exists():
        return None
    conn = _connect(str(path))
    try:
        version = stored_version(conn)
    except sqlite3.OperationalError as exc:
        conn.close()
        if exc.sqlite_errorname != "SQLITE_CANTOPEN":
            raise
        # A WAL database whose folder is read-only cannot get its -shm file: read it as an
        # immutable file (nobody can write it there anyway).
        conn = _connect(path.resolve().as_uri() + "?mode=ro&immutable=1", uri=True)
        version = stored_version(conn)
    if version > CURRENT_VERSION:
        conn.close()
        raise NewerSchema(version)
    return conn, version


@contextmanager
def translated(path: Path, *, writing: bool) -> Iterator[None]:
    """Turn a failure of the database or its folder into one HistoryError."""
    try:
        yield
    except (HistoryError, sqlite3.ProgrammingError, sqlite3.InterfaceError, sqlite3.IntegrityError):
        raise  # the last three are bugs in this code, not the user's to fix
    except NewerSchema as exc:
        raise HistoryError(
            f"The run history {path} has schema version {exc.version}, newer than this Glacier "
            f"knows (up to {CURRENT_VERSION}).",
            fix=f"upgrade glacier (pip install -U glacier), or {_ELSEWHERE}.",
        ) from exc
    except sqlite3.Error as exc:
        raise _from_sqlite(path, exc, writing=writing) from exc
    except OSError as exc:
        raise HistoryError(
            f"The run history folder {path.parent} cannot be used ({exc.strerror or exc}).",
            fix=f"check the folder and its permissions, or {_ELSEWHERE}.",
        ) from exc


def _ensure_folder(folder: Path) -> None:
    if folder.exists() and not folder.is_dir():
        raise _folder_is_file(folder, folder)
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except (FileExistsError, NotADirectoryError) as exc:
        culprit = next((p for p in (folder, *folder.parents) if p.exists() and not p.is_dir()), folder)
        raise _folder_is_file(folder, culprit) from exc
    except PermissionError as exc:
        parent = next(p for p in folder.parents if p.exists())
        raise _read_only(parent, f"{folder} cannot be created there") from exc


def _refuse_folder_as_database(path: Path) -> None:
    if path.is_dir():
        raise HistoryError(
            f"The run history {path} is a folder, not a database.",
            fix=f"move it away (mv {path} {path}.old); Glacier creates a new history at the next run.",
        )


def _folder_is_file(folder: Path, culprit: Path) -> HistoryError:
    where = "is a file" if culprit == folder else f"cannot be created: {culprit} is a file"
    return HistoryError(
        f"The run history folder {folder} {where}, not a folder.",
        fix=f"{_ELSEWHERE}, or move {culprit} away.",
    )


def _read_only(folder: Path, detail: str) -> HistoryError:
    return HistoryError(
        f"The run history folder {folder} is read-only: {detail}.",
        fix=f"make it writable (chmod u+w {folder}), or {_ELSEWHERE}.",
    )


def _from_sqlite(path: Path, exc: sqlite3.Error, *, writing: bool) -> HistoryError:
    name = getattr(exc, "sqlite_errorname", "") or ""
    if name == "SQLITE_NOTADB" or name.startswith("SQLITE_CORRUPT"):
        return HistoryError(
            f"The run history {path} is not a readable SQLite database ({exc}).",
            fix=f"move it away (mv {path} {path}.broken); Glacier creates a new history at the next run.",
        )
    if name.startswith(("SQLITE_BUSY", "SQLITE_LOCKED")):
        return HistoryError(
            f"The run history {path} is locked by another process ({exc}).",
            fix=f"wait for the other glacier command to finish, or {_ELSEWHERE}.",
        )
    if name.startswith("SQLITE_FULL"):
        return HistoryError(f"The disk holding the run history {path} is full.", fix="free some space.")
    if writing and name.startswith(("SQLITE_READONLY", "SQLITE_CANTOPEN", "SQLITE_PERM", "SQLITE_AUTH")):
        if not _can_create_in(path.parent):
            return _read_only(path.parent, f"{path.name} cannot be written there")
        if path.exists() and not os.access(path, os.W_OK):
            return HistoryError(
                f"The run history {path} is read-only.",
                fix=f"make it writable (chmod u+w {path}), or {_ELSEWHERE}.",
            )
    action = "written" if writing else "read"
    return HistoryError(
        f"The run history {path} cannot be {action} ({exc}).",
        fix=f"check its permissions, or move it away (mv {path} {path}.broken) and run again.",
    )


def _can_create_in(folder: Path) -> bool:
    """Whether a file can be created in the folder (os.access says yes to root even where
    the file system or an immutable attribute says no, so try it)."""
    try:
        with tempfile.TemporaryFile(dir=folder):
            return True
    except OSError:
        return False
