"""Finding the staging entries beside a local dataset, and removing this process's own.

A write first removes the abandoned staging entries of its dataset (``glacier.io.staging``),
which means looking through the dataset's folder. Listing the folder on every write costs
time linear in the folder's size, so a run writing N datasets into one folder would spend
time quadratic in N. Inside ``one_listing_per_folder()`` (the local runner wraps every run
in it) each folder is listed once, at the first write into it; later writes into it look at
that listing only. Every leftover that existed when the run began is still removed by the
run's first write of its dataset; an entry left by a process that dies while the run goes on
is removed by the next run's write (or by any write outside such a block).
"""

from __future__ import annotations

import os
import shutil
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from glacier.io.location import is_s3
from glacier.io.staging import STAGING_MARK, entry_writer, host_id

_lock = threading.Lock()
_scopes = 0  # how many one_listing_per_folder() blocks are open (runs may overlap in threads)
_listed: dict[Path, set[str]] = {}  # folder -> the staging entry names it held when listed


@contextmanager
def one_listing_per_folder() -> Iterator[None]:
    """List each local folder for staging entries once while the block runs."""
    global _scopes
    with _lock:
        _scopes += 1
    try:
        yield
    finally:
        with _lock:
            _scopes -= 1
            if _scopes == 0:
                _listed.clear()


def _list(parent: Path) -> set[str]:
    try:
        with os.scandir(parent) as entries:
            return {entry.name for entry in entries if entry.name.startswith(STAGING_MARK)}
    except (FileNotFoundError, NotADirectoryError):
        return set()


def staging_entries(parent: Path, name: str) -> list[Path]:
    """The staging entries in ``parent`` whose names end as dataset ``name``'s do (a
    candidate: ``entry_writer`` says whether it is really one of ``name``'s)."""
    with _lock:
        names = _listed.get(parent) if _scopes else None
    if names is None:
        names = _list(parent)
        with _lock:
            if _scopes:
                names = _listed.setdefault(parent, names)
    suffix = f"-{name}"
    with _lock:
        return [parent / entry for entry in names if entry.endswith(suffix)]


def removed(entry: Path) -> None:
    """Forget a staging entry that was just removed."""
    with _lock:
        listed = _listed.get(entry.parent)
        if listed is not None:
            listed.discard(entry.name)


def discard_own_staging(uri: str, pid: int | None = None) -> None:
    """Remove this process's staging entries beside the local dataset at ``uri`` (or those
    of process ``pid``: a child this process started and has seen end), when the process is
    about to end while a write of it may still run, or after a failed task."""
    if is_s3(uri):
        return  # staging objects of an ended process are removed by the next write
    path = Path(uri.rstrip("/"))
    if not path.parent.is_dir():
        return
    for entry in _list(path.parent):  # listed now: these entries were made during the run
        if not entry.endswith(f"-{path.name}"):
            continue
        writer = entry_writer(entry, path.name)
        if writer is None or writer.pid != (os.getpid() if pid is None else pid) or writer.host != host_id():
            continue
        staged = path.parent / entry
        if staged.is_dir():
            shutil.rmtree(staged, ignore_errors=True)
        else:
            staged.unlink(missing_ok=True)
