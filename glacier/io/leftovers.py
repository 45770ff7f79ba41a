"""Removing this process's own staging files of a dataset, when the process is about to end
while a write of it may still run (an interrupted run whose task would not stop in time).
Staging files of processes that ended are removed by the next write (``glacier.io.write``)."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from glacier.io.location import is_s3
from glacier.io.write import _TMP


def discard_own_staging(uri: str) -> None:
    """Remove this process's staging files of the local dataset at ``uri``."""
    if is_s3(uri):
        return  # staging objects of an ended process are removed by the next write
    path = Path(uri.rstrip("/"))
    if not path.parent.is_dir():
        return
    for entry in path.parent.glob(f"{_TMP}{os.getpid()}-*-{path.name}"):
        if entry.is_dir():
            shutil.rmtree(entry, ignore_errors=True)
        else:
            entry.unlink(missing_ok=True)
