"""Removing this process's own staging files of a dataset, when the process is about to end
while a write of it may still run (an interrupted run whose task would not stop in time).
Staging files of processes that ended are removed by the next write of the dataset."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from glacier.io.location import is_s3
from glacier.io.staging import STAGING_MARK, entry_writer, host_id


def discard_own_staging(uri: str, pid: int | None = None) -> None:
    """Remove this process's staging entries beside the local dataset at ``uri`` (or those
    of process ``pid``: a child this process started and has seen end)."""
    if is_s3(uri):
        return  # staging objects of an ended process are removed by the next write
    path = Path(uri.rstrip("/"))
    if not path.parent.is_dir():
        return
    for entry in path.parent.glob(f"{STAGING_MARK}*-{path.name}"):
        writer = entry_writer(entry.name, path.name)
        if writer is None or writer.pid != (os.getpid() if pid is None else pid) or writer.host != host_id():
            continue
        if entry.is_dir():
            shutil.rmtree(entry, ignore_errors=True)
        else:
            entry.unlink(missing_ok=True)
