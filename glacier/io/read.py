"""Read datasets as LazyFrames, and describe what is stored (bytes and a fingerprint)."""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import polars as pl

from glacier.errors import ExecutionError
from glacier.formats import Format
from glacier.io.location import StorageOptions, is_s3, split_s3
from glacier.io.s3 import S3Client

# Files a directory dataset ignores: our staging files, Spark/Hadoop markers.
HIDDEN_PREFIXES = (".", "_")


def scan_uri(uri: str, fmt: Format, options: StorageOptions | None = None) -> pl.LazyFrame:
    """A LazyFrame over the dataset at ``uri`` (nothing is read until it is collected)."""
    kwargs: dict[str, Any] = {"storage_options": options} if options else {}
    if fmt is Format.PARQUET:
        return pl.scan_parquet(uri, **kwargs)
    if fmt is Format.PARQUET_DIR:
        return pl.scan_parquet(
            uri if uri.endswith("/") else uri + "/",
            hive_partitioning=True,
            hidden_file_prefix=HIDDEN_PREFIXES,
            **kwargs,
        )
    if fmt is Format.CSV:
        return pl.scan_csv(uri, **kwargs)
    if fmt is Format.NDJSON:
        return pl.scan_ndjson(uri, **kwargs)
    if fmt is Format.IPC:
        return pl.scan_ipc(uri, **kwargs)
    raise ExecutionError(f"No reader for format '{fmt}' at '{uri}'.", fix="use a supported format.")


@dataclass(frozen=True)
class StoredDataset:
    """What is stored at a location: total bytes and a fingerprint that changes whenever
    any of its files changes (local: size + mtime; S3: size + ETag)."""

    bytes: int
    fingerprint: str
    files: int


def stat_uri(uri: str, fmt: Format, options: StorageOptions | None = None) -> StoredDataset | None:
    """None when nothing is stored there."""
    if is_s3(uri):
        return _stat_s3(uri, fmt, options)
    return _stat_local(Path(uri), fmt)


def _stat_local(path: Path, fmt: Format) -> StoredDataset | None:
    if fmt is not Format.PARQUET_DIR:
        if not path.is_file():
            return None
        st = path.stat()
        return StoredDataset(st.st_size, f"{st.st_size}:{st.st_mtime_ns}", 1)
    if not path.is_dir():
        return None
    digest = hashlib.sha256()
    total = count = 0
    for root, dirs, files in os.walk(path):
        dirs[:] = sorted(d for d in dirs if not d.startswith(HIDDEN_PREFIXES))
        for name in sorted(files):
            if name.startswith(HIDDEN_PREFIXES):
                continue
            full = Path(root, name)
            st = full.stat()
            total += st.st_size
            count += 1
            digest.update(f"{full.relative_to(path)}|{st.st_size}|{st.st_mtime_ns}\n".encode())
    return StoredDataset(total, digest.hexdigest(), count)


def _stat_s3(uri: str, fmt: Format, options: StorageOptions | None) -> StoredDataset | None:
    bucket, key = split_s3(uri)
    client = S3Client(options)
    if fmt is not Format.PARQUET_DIR:
        head = client.head(bucket, key)
        return None if head is None else StoredDataset(head.size, f"{head.size}:{head.etag}", 1)
    prefix = key if key.endswith("/") else key + "/"
    objects = [
        o
        for o in client.list(bucket, prefix)
        if not any(part.startswith(HIDDEN_PREFIXES) for part in o.key[len(prefix) :].split("/"))
    ]
    if not objects:
        return None
    digest = hashlib.sha256()
    for o in objects:
        digest.update(f"{o.key}|{o.size}|{o.etag}\n".encode())
    return StoredDataset(sum(o.size for o in objects), digest.hexdigest(), len(objects))
