"""What every dataset module shares without Polars: the hidden-file prefixes and what is
stored at a location (the Spark path, which has no Polars, imports only this)."""

from __future__ import annotations

from dataclasses import dataclass

# Files a directory dataset ignores: our staging and version entries, Spark/Hadoop markers.
HIDDEN_PREFIXES = (".", "_")


@dataclass(frozen=True)
class StoredDataset:
    """What is stored at a location: total bytes and a fingerprint that changes whenever
    any of its files changes (local: size + mtime; S3: size + ETag)."""

    bytes: int
    fingerprint: str
    files: int
