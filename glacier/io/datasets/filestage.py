"""Staging and publishing one object (a file dataset), locally and on S3.

A write streams into a hidden staging entry (``glacier.io.staging``: locally
``<parent>/.glacier-tmp-<writer>-<name>``, on S3 under ``<parent>/.glacier-tmp-staging-<name>/``)
and is published in one step: ``os.replace`` locally, one server-side copy on S3 (CopyObject,
multipart above 5 GB), which S3 makes visible whole or not at all. Polars' S3 sink completes
its upload even when the query fails midway, which is why S3 stages too. Opening a stage
first removes the entries of abandoned writers of the same dataset (locally from a listing
of the folder made once per run, ``glacier.io.leftovers``).
"""

from __future__ import annotations

import contextlib
import os
import shutil
from abc import ABC, abstractmethod
from pathlib import Path

from glacier.errors import ExecutionError
from glacier.io.leftovers import removed, staging_entries
from glacier.io.location import StorageOptions, is_s3, split_s3
from glacier.io.s3 import S3Client
from glacier.io.staging import Writer, entry_writer, staging_entry, staging_folder, staging_name


class FileStage(ABC):
    """One write of one object: ``target`` is where the sink writes."""

    target: str

    @abstractmethod
    def size(self) -> int: ...

    @abstractmethod
    def publish(self) -> None: ...

    @abstractmethod
    def discard(self) -> None:
        """Remove what is staged (after a publish there is nothing left to remove)."""


def open_stage(uri: str, options: StorageOptions | None, writer: Writer | None = None) -> FileStage:
    writer = writer or Writer.current()
    if is_s3(uri):
        return S3FileStage(uri, options, writer)
    return LocalFileStage(Path(uri), writer)


def remove_abandoned_local(parent: Path, name: str) -> None:
    """Remove the staging entries of dataset ``name`` in ``parent`` whose writers are gone
    (the folder is listed once per run: ``glacier.io.leftovers``)."""
    for entry in staging_entries(parent, name):
        writer = entry_writer(entry.name, name)
        if writer is None or not writer.abandoned():
            continue
        if entry.is_dir() and not entry.is_symlink():
            shutil.rmtree(entry, ignore_errors=True)
        else:
            entry.unlink(missing_ok=True)
        removed(entry)


class LocalFileStage(FileStage):
    def __init__(self, path: Path, writer: Writer) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        remove_abandoned_local(path.parent, path.name)
        self.staged = path.parent / staging_name(path.name, writer)
        self.target = str(self.staged)

    def size(self) -> int:
        return self.staged.stat().st_size

    def publish(self) -> None:
        os.replace(self.staged, self.path)

    def discard(self) -> None:
        self.staged.unlink(missing_ok=True)


class S3FileStage(FileStage):
    def __init__(self, uri: str, options: StorageOptions | None, writer: Writer) -> None:
        self.bucket, self.key = split_s3(uri)
        parent, _, name = self.key.rpartition("/")
        # Listed without the trailing '/': the role may list '<parent>/.glacier-tmp-*-<name>'.
        self.folder = (f"{parent}/" if parent else "") + staging_folder(name)
        self.client = S3Client(options)
        self._remove_abandoned(name)
        self.staged_key = f"{self.folder}/{staging_entry(name, writer)}"
        self.target = f"s3://{self.bucket}/{self.staged_key}"

    def _remove_abandoned(self, name: str) -> None:
        for obj in self.client.list(self.bucket, self.folder):
            entry = obj.key[len(self.folder) :]
            if not entry.startswith("/"):
                continue  # another dataset's folder that merely starts the same way
            writer = entry_writer(entry[1:], name)
            if writer is not None and writer.abandoned():
                self.client.delete(self.bucket, obj.key)

    def size(self) -> int:
        head = self.client.head(self.bucket, self.staged_key)
        if head is None:
            raise ExecutionError(
                f"The staged write of s3://{self.bucket}/{self.key} disappeared before it was published.",
                fix="run again; if it recurs, check nothing else deletes the bucket's "
                "'.glacier-tmp-' keys while a run writes.",
            )
        return head.size

    def publish(self) -> None:
        self.client.copy(self.bucket, self.staged_key, self.key)

    def discard(self) -> None:
        with contextlib.suppress(ExecutionError):
            self.client.delete(self.bucket, self.staged_key)
