"""Run a Polars query so that a ``CancelToken`` can stop it.

The query runs in Polars' own thread pool (``collect(background=True)``); the calling thread
polls it every ``POLL_SECONDS`` and, once the token is cancelled, cancels the query and waits
for Polars to stop it before raising ``WriteCancelled``: so the caller's clean-up of its
staging files runs after the last byte is written, and a cancelled attempt has stopped
before anyone retries it.
"""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path

import polars as pl

from glacier.io.location import is_s3
from glacier.io.write import _TMP, CancelToken, WriteCancelled

POLL_SECONDS = 0.02  # how late a cancel may reach a running query


def run_query(query: pl.LazyFrame, cancel: CancelToken | None) -> pl.DataFrame:
    """Collect ``query`` (a frame, or a sink made with ``lazy=True``); raises
    ``WriteCancelled`` once the token is cancelled, after the query stopped."""
    if cancel is None:
        return query.collect()
    cancel.check()
    running = query.collect(background=True)
    while (result := running.fetch()) is None:
        try:
            cancel.check()
        except WriteCancelled:
            running.cancel()
            running.fetch_blocking()
            raise
        time.sleep(POLL_SECONDS)
    return result


def discard_own_staging(uri: str) -> None:
    """Remove this process's staging files of the local dataset at ``uri`` (a query that
    would not stop when cancelled may still write them; the process is about to end)."""
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
