"""Whole publishes of an S3 directory dataset: run-scoped version roots and a manifest.

S3 has no rename and no multi-object transaction, so a listing of a prefix that is being
rewritten can mix old and new files. Instead a write streams under its own hidden root
``<prefix>.glacier-v-<writer>/``, then PUTs the manifest ``<prefix>_glacier_manifest.json``
naming that root and its files (one PUT is atomic: a reader gets the old manifest or the new
one). Readers GET the manifest and scan only the root it names, which no write changes.

- **No manifest**: the prefix itself holds the data (written by an earlier Glacier, or by a
  first publish), read as it is, hidden keys skipped.
- **First publish** onto an empty prefix: the files are copied from the staged root into
  place under a manifest that says "not published yet" (``root: null``), which is deleted
  once every copy exists, so the dataset ends in the plain layout any tool reads, and a reader
  never sees part of it.
- **Later publishes** keep the manifest; the version before stays listed as superseded for
  ``RETAIN_SUPERSEDED_SECONDS`` (readers mid-scan finish), and is deleted by a later publish.
  Roots of abandoned writes (``glacier.io.staging``) are deleted then too.
- Concurrent writers of one dataset: the last manifest PUT wins; readers never see a mix.
"""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import asdict, dataclass, field

from glacier.errors import ExecutionError
from glacier.io.datasets.objects import get_bytes, put_bytes
from glacier.io.datasets.stored import HIDDEN_PREFIXES, StoredDataset
from glacier.io.location import StorageOptions, split_s3
from glacier.io.s3 import S3Client
from glacier.io.staging import (
    MANIFEST_NAME,
    RETAIN_SUPERSEDED_SECONDS,
    VERSION_MARK,
    Writer,
    version_name,
    version_writer,
)

PLAIN = ""  # the root of the plain layout: the prefix itself


@dataclass(frozen=True)
class StoredFile:
    key: str  # relative to the version root
    size: int
    etag: str


@dataclass(frozen=True)
class Superseded:
    root: str
    at: float  # when it stopped being current (unix seconds)


@dataclass(frozen=True)
class Manifest:
    root: str | None  # the published version's root under the prefix; None: not published yet
    writer: str
    files: list[StoredFile] = field(default_factory=list)
    rows: int | None = None
    superseded: list[Superseded] = field(default_factory=list)

    def dumps(self) -> bytes:
        return json.dumps({"glacier_manifest": 1, **asdict(self)}, sort_keys=True).encode()

    @classmethod
    def loads(cls, body: bytes, where: str) -> Manifest:
        try:
            data = json.loads(body)
            return cls(
                root=data["root"],
                writer=data["writer"],
                files=[StoredFile(**f) for f in data["files"]],
                rows=data["rows"],
                superseded=[Superseded(**s) for s in data["superseded"]],
            )
        except (ValueError, KeyError, TypeError) as exc:
            raise ExecutionError(
                f"The manifest {where} of a directory dataset is not one Glacier wrote ({exc}).",
                fix="delete it (the files beside it are then read as a plain directory), or "
                "write the dataset again.",
            ) from None


def fingerprint(files: list[StoredFile]) -> StoredDataset:
    digest = hashlib.sha256()
    for f in files:
        digest.update(f"{f.key}|{f.size}|{f.etag}\n".encode())
    return StoredDataset(sum(f.size for f in files), digest.hexdigest(), len(files))


def _hidden(relative: str) -> bool:
    return any(part.startswith(HIDDEN_PREFIXES) for part in relative.split("/"))


class S3Versions:
    def __init__(self, uri: str, options: StorageOptions | None) -> None:
        self.options = options
        self.bucket, key = split_s3(uri)
        self.prefix = key.rstrip("/") + "/"
        self.manifest_key = self.prefix + MANIFEST_NAME
        self.client = S3Client(options)

    def uri(self, root: str = PLAIN) -> str:
        return f"s3://{self.bucket}/{self.prefix}{root}"

    def manifest(self) -> Manifest | None:
        body = get_bytes(self.bucket, self.manifest_key, self.options)
        return None if body is None else Manifest.loads(body, self.uri(MANIFEST_NAME))

    def files(self, root: str = PLAIN) -> list[StoredFile]:
        """The data files listed under ``root`` (hidden keys skipped), relative to it."""
        start = self.prefix + root
        return [
            StoredFile(o.key[len(start) :], o.size, o.etag)
            for o in self.client.list(self.bucket, start)
            if not _hidden(o.key[len(start) :])
        ]

    def read_source(self) -> str | list[str]:
        """What readers scan: the files (or root) the manifest names, or the plain layout's
        files."""
        manifest = self.manifest()
        if manifest is None:
            return self._plain_source()
        if manifest.root is not None and not self._keyed_prefix():
            return [self.uri(manifest.root + f.key) for f in manifest.files]  # exactly what it names
        if manifest.root is None:
            raise ExecutionError(
                f"Directory dataset '{self.uri()}' has no published version yet: its first write "
                "is being published.",
                fix="read it once the task writing it has finished.",
            )
        return self.uri(manifest.root)

    def _plain_source(self) -> str | list[str]:
        """The plain layout's files, listed here, not by Polars: Polars skips hidden file
        names but not hidden folders, so its listing of the prefix would also take the files
        of a version being staged under it. (With no files, or a keyed prefix, Polars lists.)"""
        if self._keyed_prefix():
            return self.uri()
        files = self.current_files()
        if not files:
            return self.uri()
        return [self.uri(f.key) for f in files]

    def current_files(self, folder: str = "") -> list[StoredFile]:
        """The plain layout's files under ``folder`` (relative to the prefix), a partition
        folder that has a manifest of its own (``date=2026-11-30/``, republished) taken from
        that manifest: its current version only, never the superseded files kept beside it.
        Listed a level at a time, hidden folders (staged and kept versions) skipped, so the
        cost does not grow with the versions kept for readers mid-scan."""
        if folder and _is_partition(folder):
            manifest = S3Versions(self.uri(folder), self.options).manifest()
            if manifest is not None:
                if manifest.root is None:  # its first publish is still copying: not published yet
                    return []
                return [StoredFile(folder + manifest.root + f.key, f.size, f.etag) for f in manifest.files]
        objects, folders = self.client.list_level(self.bucket, self.prefix + folder)
        files = [StoredFile(o.key[len(self.prefix) :], o.size, o.etag) for o in objects]
        files = [f for f in files if not _hidden(f.key)]
        for sub in folders:
            relative = sub[len(self.prefix) :]
            if not _hidden(relative):
                files += self.current_files(relative)
        return files

    def _keyed_prefix(self) -> bool:
        """Whether the prefix itself holds ``key=value`` folders (then only a directory scan
        gives the right hive columns: Polars parses every folder of a listed file's path)."""
        return any("=" in part for part in self.prefix.split("/"))

    def stat(self) -> StoredDataset | None:
        manifest = self.manifest()
        if manifest is None:
            plain = self.files() if self._keyed_prefix() else self.current_files()
            return fingerprint(plain) if plain else None
        return None if manifest.root is None else fingerprint(manifest.files)

    def rows(self) -> int | None:
        manifest = self.manifest()
        return manifest.rows if manifest is not None and manifest.root is not None else None

    def begin(self) -> S3VersionStage:
        return S3VersionStage(self)


class S3VersionStage:
    """One write of an S3 directory dataset, staged under its own version root."""

    def __init__(self, versions: S3Versions) -> None:
        self.v = versions
        self.writer = Writer.current()
        self.root = version_name(self.writer) + "/"
        self.target = versions.uri(self.root)
        self.published: Manifest | None = None
        self.expired: set[str] = set()

    def has_data(self) -> bool:
        return bool(self.v.files(self.root))

    def publish(self, rows: int | None) -> None:
        v = self.v
        files = v.files(self.root)
        current = v.manifest()
        abandoned = current is not None and current.root is None and _abandoned(current.writer)
        if (current is None and not v.files()) or abandoned:
            self._publish_in_place(files, rows)
            return
        now = time.time()
        superseded: list[Superseded] = []
        if current is None:
            superseded.append(Superseded(PLAIN, now))
        elif current.root is not None:  # (None: a first publish still copying; nothing of it is out)
            superseded.append(Superseded(current.root, now))
        for old in current.superseded if current is not None else []:
            if now - old.at < RETAIN_SUPERSEDED_SECONDS:
                superseded.append(old)
            else:
                self.expired.add(old.root)
        self.published = Manifest(self.root, self.writer.tag, files, rows, superseded)
        put_bytes(v.bucket, v.manifest_key, self.published.dumps(), v.options)

    def _publish_in_place(self, files: list[StoredFile], rows: int | None) -> None:
        """The first publish: copy into the plain layout while the manifest says 'not yet'."""
        v = self.v
        marker = Manifest(None, self.writer.tag, files, rows)
        put_bytes(v.bucket, v.manifest_key, marker.dumps(), v.options)
        for f in files:
            v.client.copy(v.bucket, v.prefix + self.root + f.key, v.prefix + f.key)
        wanted = {f.key for f in files}
        for stray in v.files():  # copies of an abandoned first publish
            if stray.key not in wanted:
                v.client.delete(v.bucket, v.prefix + stray.key)
        latest = v.manifest()
        if latest is not None and latest.writer == self.writer.tag:
            v.client.delete(v.bucket, v.manifest_key)

    def discard(self) -> None:
        """Remove the staged root unless it was published as the current version."""
        if self.published is not None:
            return
        for obj in self.v.client.list(self.v.bucket, self.v.prefix + self.root):
            self.v.client.delete(self.v.bucket, obj.key)

    def collect_garbage(self) -> None:
        """Delete expired superseded versions, roots of abandoned writes and, once no
        reader may still use it, the plain layout an earlier version left."""
        v = self.v
        published = self.published
        retained = set() if published is None else {published.root, *(s.root for s in published.superseded)}
        for obj in v.client.list(v.bucket, v.prefix):
            relative = obj.key[len(v.prefix) :]
            top, sep, _ = relative.partition("/")
            if top.startswith(VERSION_MARK) and sep:
                root = top + "/"
                writer = version_writer(top)
                if root not in retained and (
                    root in self.expired or (writer is not None and writer.abandoned())
                ):
                    v.client.delete(v.bucket, obj.key)
            elif published is not None and PLAIN not in retained and not _hidden(relative):
                v.client.delete(v.bucket, obj.key)


def _is_partition(folder: str) -> bool:
    """Whether ``folder`` (``date=2026-11-30/``, ``k=1/h=2/``) is a hive partition's."""
    parts = folder.rstrip("/").split("/")
    return bool(folder) and all("=" in part and not part.startswith(HIDDEN_PREFIXES) for part in parts)


def _abandoned(tag: str) -> bool:
    writer = Writer.parse(tag)
    return writer is None or writer.abandoned()
