"""Dataset formats, chosen by the path's suffix (pure: no I/O)."""

from __future__ import annotations

from enum import StrEnum

from glacier.errors import FormatError


class Format(StrEnum):
    PARQUET = "parquet"
    CSV = "csv"
    NDJSON = "ndjson"
    IPC = "ipc"
    PARQUET_DIR = "parquet_dir"  # a hive-partitioned directory of parquet files


# Formats whose files store no dtypes: a declared schema says how their columns are read.
TEXT_FORMATS = frozenset({Format.CSV, Format.NDJSON})


_SUFFIXES: dict[str, Format] = {
    ".parquet": Format.PARQUET,
    ".pq": Format.PARQUET,
    ".csv": Format.CSV,
    ".ndjson": Format.NDJSON,
    ".jsonl": Format.NDJSON,
    ".arrow": Format.IPC,
    ".ipc": Format.IPC,
    ".feather": Format.IPC,
}

SUPPORTED_SUFFIXES = tuple(sorted(_SUFFIXES))


def format_for_path(path: str, *, bucket: str | None = None) -> Format:
    """The format a dataset at ``path`` is stored in.

    A path ending in ``/`` is a directory dataset; a path with no suffix is parquet (the
    default); any other suffix must be one we know.
    """
    if path.endswith("/"):
        return Format.PARQUET_DIR
    leaf = path.rsplit("/", 1)[-1]
    if "." not in leaf:
        return Format.PARQUET
    suffix = "." + leaf.rsplit(".", 1)[-1].lower()
    try:
        return _SUFFIXES[suffix]
    except KeyError:
        where = f"bucket '{bucket}' path '{path}'" if bucket else f"path '{path}'"
        raise FormatError(
            f"Unknown format '{suffix}' for {where}.",
            fix=f"use one of {', '.join(SUPPORTED_SUFFIXES)}, or end the path with '/' for a "
            "partitioned parquet directory.",
        ) from None
