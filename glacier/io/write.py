"""Atomic writes with Polars' streaming sinks.

What a reader can observe (the guarantee):

- Local file: the result streams into a hidden temp file beside the target
  (``.glacier-tmp-<pid>-<rand>-<name>``), then ``os.replace`` swaps it in. Readers see the old
  file or the new one, never a part. A failure or a kill leaves the old target untouched; the
  temp file of a killed process is removed by the next write of that target.
- Local directory (hive-partitioned parquet): the whole set is written to a hidden sibling
  directory, then exchanged with the old one in one ``renameat2(RENAME_EXCHANGE)`` (Linux;
  elsewhere two renames, during which the target is briefly absent, never partial).
- S3 file: Polars' S3 sink completes its upload even when the query fails midway (measured
  against moto: a failing query left a truncated object), so the result is written under a
  hidden sibling key and published with one server-side copy (CopyObject; a multipart copy
  above 5 GB), which S3 makes visible whole or not at all. A failed or killed write never
  touches the old object; a killed process can leave its hidden staging key behind.
- S3 directory: the set is written under a hidden sibling prefix first; only once all of it
  exists is each object copied server-side into place and stale objects deleted. A failed
  write never touches the old set. S3 has no multi-object transaction, so a reader listing the
  prefix during the (short, copy-only) publish step may see old and new files together.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import secrets
import shutil
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import polars as pl

from glacier.errors import ExecutionError
from glacier.formats import Format
from glacier.io.location import StorageOptions, is_s3, split_s3
from glacier.io.s3 import S3Client

_TMP = ".glacier-tmp-"
_FILE_BYTES = 256 * 1024 * 1024  # unkeyed directory datasets: split files at about this size


class WriteCancelled(Exception):
    """The write was abandoned (its task timed out) before it was published."""


class CancelToken:
    """Lets a runner abandon a write: after ``cancel()``, nothing is published."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.cancelled = False

    def cancel(self) -> None:
        with self._lock:
            self.cancelled = True

    def check(self) -> None:
        if self.cancelled:
            raise WriteCancelled

    def publish(self, action: Callable[[], None]) -> None:
        with self._lock:
            if self.cancelled:
                raise WriteCancelled
            action()


def write_atomic(
    frame: pl.LazyFrame,
    uri: str,
    fmt: Format,
    options: StorageOptions | None = None,
    *,
    partition_by: list[str] | None = None,
    cancel: CancelToken | None = None,
) -> int | None:
    """Write ``frame`` to ``uri`` atomically; returns the row count when the format stores it
    (parquet, ipc) and None when counting would re-read the data (csv, ndjson)."""
    if is_s3(uri):
        if fmt is Format.PARQUET_DIR:
            return _write_s3_directory(frame, uri, options, partition_by, cancel)
        return _write_s3_file(frame, uri, fmt, options, cancel)
    if fmt is Format.PARQUET_DIR:
        return _write_local_directory(frame, Path(uri), partition_by, cancel)
    return _write_local_file(frame, Path(uri), fmt, cancel)


# -- sinks ----------------------------------------------------------------------------------
def sink(
    frame: pl.LazyFrame,
    target: str,
    fmt: Format,
    options: StorageOptions | None,
    partition_by: list[str] | None = None,
) -> None:
    """Stream ``frame`` into ``target``; collect only if Polars cannot stream the plan."""
    kwargs: dict[str, Any] = {"storage_options": options} if options else {}
    destination: Any = target
    if fmt is Format.PARQUET_DIR:
        destination = (
            pl.PartitionBy(target, key=partition_by)
            if partition_by
            else pl.PartitionBy(target, approximate_bytes_per_file=_FILE_BYTES)
        )
    if not is_s3(target):
        kwargs["mkdir"] = True
    sinks: dict[Format, Callable[..., Any]] = {
        Format.PARQUET: frame.sink_parquet,
        Format.PARQUET_DIR: frame.sink_parquet,
        Format.CSV: frame.sink_csv,
        Format.NDJSON: frame.sink_ndjson,
        Format.IPC: frame.sink_ipc,
    }
    try:
        sinks[fmt](destination, **kwargs)
    except pl.exceptions.InvalidOperationError as exc:
        if "stream" not in str(exc).lower() and "sink" not in str(exc).lower():
            raise
        # This plan cannot stream: run it in memory and write the frame.
        _write_eager(frame.collect(), destination, fmt, kwargs)


def _write_eager(df: pl.DataFrame, destination: Any, fmt: Format, kwargs: dict[str, Any]) -> None:
    lazy = df.lazy()
    if fmt in (Format.PARQUET, Format.PARQUET_DIR):
        lazy.sink_parquet(destination, **kwargs)
    elif fmt is Format.CSV:
        lazy.sink_csv(destination, **kwargs)
    elif fmt is Format.NDJSON:
        lazy.sink_ndjson(destination, **kwargs)
    else:
        lazy.sink_ipc(destination, **kwargs)


def count_rows(uri: str, fmt: Format, options: StorageOptions | None = None) -> int | None:
    """Rows stored, read from file metadata; None for formats that would need a full read."""
    kwargs: dict[str, Any] = {"storage_options": options} if options else {}
    if fmt is Format.PARQUET:
        return int(pl.scan_parquet(uri, **kwargs).select(pl.len()).collect().item())
    if fmt is Format.PARQUET_DIR:
        scan = pl.scan_parquet(uri, hive_partitioning=False, hidden_file_prefix=(".", "_"), **kwargs)
        return int(scan.select(pl.len()).collect().item())
    if fmt is Format.IPC:
        return int(pl.scan_ipc(uri, **kwargs).select(pl.len()).collect().item())
    return None


# -- local ----------------------------------------------------------------------------------
def _temp_name(name: str) -> str:
    return f"{_TMP}{os.getpid()}-{secrets.token_hex(4)}-{name}"


def _remove_stale(parent: Path, name: str) -> None:
    """Remove temp files/dirs of ``name`` left by processes that no longer run."""
    if not parent.is_dir():
        return
    for entry in parent.glob(f"{_TMP}*-{name}"):
        pid_text = entry.name[len(_TMP) :].split("-", 1)[0]
        if pid_text.isdigit() and not _alive(int(pid_text)):
            if entry.is_dir():
                shutil.rmtree(entry, ignore_errors=True)
            else:
                entry.unlink(missing_ok=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _write_local_file(frame: pl.LazyFrame, path: Path, fmt: Format, cancel: CancelToken | None) -> int | None:
    path.parent.mkdir(parents=True, exist_ok=True)
    _remove_stale(path.parent, path.name)
    temp = path.parent / _temp_name(path.name)
    try:
        sink(frame, str(temp), fmt, None)
        rows = count_rows(str(temp), fmt)
        (cancel or CancelToken()).publish(lambda: os.replace(temp, path))
        return rows
    finally:
        temp.unlink(missing_ok=True)


def _write_local_directory(
    frame: pl.LazyFrame, path: Path, partition_by: list[str] | None, cancel: CancelToken | None
) -> int | None:
    path = Path(str(path).rstrip("/"))
    path.parent.mkdir(parents=True, exist_ok=True)
    _remove_stale(path.parent, path.name)
    temp = path.parent / _temp_name(path.name)
    try:
        temp.mkdir()
        sink(frame, str(temp) + "/", Format.PARQUET_DIR, None, partition_by)
        rows = count_rows(str(temp) + "/", Format.PARQUET_DIR)
        (cancel or CancelToken()).publish(lambda: _swap_in(temp, path))
        return rows
    finally:
        shutil.rmtree(temp, ignore_errors=True)


def _swap_in(new: Path, target: Path) -> None:
    """Put directory ``new`` at ``target``; the old content ends up at ``new`` (removed by
    the caller)."""
    if not target.exists():
        os.rename(new, target)
        return
    if _exchange(new, target):
        return
    old = target.parent / _temp_name(target.name)
    os.rename(target, old)
    os.rename(new, target)
    os.rename(old, new)


_RENAME_EXCHANGE = 2
_AT_FDCWD = -100


def _exchange(a: Path, b: Path) -> bool:
    try:
        renameat2 = ctypes.CDLL(None, use_errno=True).renameat2
    except (AttributeError, OSError):
        return False
    result = renameat2(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE)
    return bool(result == 0)


# -- S3 -------------------------------------------------------------------------------------
def _write_s3_file(
    frame: pl.LazyFrame, uri: str, fmt: Format, options: StorageOptions | None, cancel: CancelToken | None
) -> int | None:
    # Polars completes its upload even when the query fails midway (it writes what it has),
    # so the result is staged under a hidden key and published by a server-side copy.
    bucket, key = split_s3(uri)
    parent, _, name = key.rpartition("/")
    staged_key = f"{parent}/{_temp_name(name)}" if parent else _temp_name(name)
    client = S3Client(options)
    try:
        sink(frame, f"s3://{bucket}/{staged_key}", fmt, options)
        rows = count_rows(f"s3://{bucket}/{staged_key}", fmt, options)
        (cancel or CancelToken()).publish(lambda: client.copy(bucket, staged_key, key))
        return rows
    finally:
        with contextlib.suppress(ExecutionError):
            client.delete(bucket, staged_key)


def _write_s3_directory(
    frame: pl.LazyFrame,
    uri: str,
    options: StorageOptions | None,
    partition_by: list[str] | None,
    cancel: CancelToken | None,
) -> int | None:
    bucket, key = split_s3(uri)
    prefix = key.rstrip("/") + "/"
    parent, _, name = prefix.rstrip("/").rpartition("/")
    staged = (f"{parent}/" if parent else "") + _temp_name(name) + "/"
    client = S3Client(options)
    try:
        sink(frame, f"s3://{bucket}/{staged}", Format.PARQUET_DIR, options, partition_by)
        rows = count_rows(f"s3://{bucket}/{staged}", Format.PARQUET_DIR, options)

        def publish() -> None:
            new = {o.key[len(staged) :] for o in client.list(bucket, staged)}
            for relative in sorted(new):
                client.copy(bucket, staged + relative, prefix + relative)
            for old in client.list(bucket, prefix):
                if old.key[len(prefix) :] not in new:
                    client.delete(bucket, old.key)

        (cancel or CancelToken()).publish(publish)
        return rows
    finally:
        for obj in client.list(bucket, staged):
            client.delete(bucket, obj.key)
