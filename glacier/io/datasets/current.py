"""Which files a reader of a directory dataset scans now (the current version), without
Polars: the Polars scan (``directory``) and the Spark read (``spark_io``) both ask here."""

from __future__ import annotations

from glacier.io.datasets.versions_local import LocalVersions, data_files, has_partition_versions
from glacier.io.datasets.versions_s3 import S3Versions
from glacier.io.location import StorageOptions, is_s3


def directory_versions(uri: str, options: StorageOptions | None) -> LocalVersions | S3Versions:
    """The versions of the directory dataset at ``uri`` (ending in '/')."""
    return S3Versions(uri, options) if is_s3(uri) else LocalVersions(uri)


def read_source(uri: str, versions: LocalVersions | S3Versions) -> str | list[str]:
    """What a reader scans now: the current version's directory (or the path itself, or
    the files of an S3 prefix written without a manifest)."""
    if isinstance(versions, S3Versions):
        return versions.read_source()
    current = versions.current()
    if current is None:
        return uri
    if current == versions.path and has_partition_versions(current):
        # A partitioned dataset: each partition is a versioned sub-dataset (a symlink),
        # and Polars skips hidden files but not hidden folders, so list its current files.
        return [str(f) for f in data_files(current)] or uri
    return str(current) + "/"
