"""Whole publishes of a local directory dataset: immutable versions behind a symlink.

``<parent>/<name>`` is a symlink to ``.glacier-v-<name>/<writer>`` (relative, so the data
folder can move). A write fills ``.glacier-tmp-<writer>-<name>/`` beside it, renames it
into the versions folder, and points the symlink at it with one ``os.replace`` (rename(2) is
atomic). A reader resolves the symlink once (``current``) and scans that version, which
nothing changes while it is current or recently superseded, so a scan never mixes two
versions, whatever it lists or opens and however long it takes.

Garbage: after a publish, versions that were superseded more than
``RETAIN_SUPERSEDED_SECONDS`` ago are deleted (a version's mtime is set when it is published
and again when it is superseded), so at rest a dataset holds its current version and the one
before it. A directory written by an earlier Glacier (a real directory, no symlink) is read as
it is; its first publish exchanges it for the symlink with ``renameat2(RENAME_EXCHANGE)``
(elsewhere: two renames, during which the path is briefly absent) and keeps it as a
superseded version.
"""

from __future__ import annotations

import ctypes
import hashlib
import os
import shutil
import time
from pathlib import Path

from glacier.io.datasets.filestage import remove_abandoned_local
from glacier.io.datasets.stored import HIDDEN_PREFIXES, StoredDataset
from glacier.io.staging import RETAIN_SUPERSEDED_SECONDS, Writer, staging_name, versions_folder


def data_files(root: Path) -> list[Path]:
    """The files of a directory dataset under ``root`` (hidden files and folders skipped;
    a partition's symlink is followed to its current version)."""
    found: list[Path] = []
    for folder, dirs, files in os.walk(root, followlinks=True):
        dirs[:] = sorted(d for d in dirs if not d.startswith(HIDDEN_PREFIXES))
        found.extend(Path(folder, f) for f in sorted(files) if not f.startswith(HIDDEN_PREFIXES))
    return found


def has_partition_versions(root: Path) -> bool:
    """True for a partitioned dataset's root: its partitions are symlinked versions."""
    return any(entry.is_symlink() and not entry.name.startswith(HIDDEN_PREFIXES) for entry in root.iterdir())


class LocalVersions:
    def __init__(self, uri: str) -> None:
        self.path = Path(uri.rstrip("/"))
        self.name = self.path.name
        self.versions = self.path.parent / versions_folder(self.name)

    def current(self) -> Path | None:
        """The directory readers see: the version the symlink names, or a directory written
        by an earlier Glacier (no symlink); None when nothing is there."""
        try:
            target = os.readlink(self.path)
        except FileNotFoundError:
            return None
        except OSError:  # not a symlink
            return self.path if self.path.is_dir() else None
        return self.path.parent / target

    def stat(self) -> StoredDataset | None:
        root = self.current()
        if root is None or not root.is_dir():
            return None
        digest = hashlib.sha256()
        total = 0
        files = data_files(root)
        for full in files:
            st = full.stat()
            total += st.st_size
            digest.update(f"{full.relative_to(root)}|{st.st_size}|{st.st_mtime_ns}\n".encode())
        return StoredDataset(total, digest.hexdigest(), len(files))

    def begin(self) -> LocalVersionStage:
        return LocalVersionStage(self)


class LocalVersionStage:
    """One write of a local directory dataset."""

    def __init__(self, versions: LocalVersions) -> None:
        self.v = versions
        self.writer = Writer.current()
        versions.path.parent.mkdir(parents=True, exist_ok=True)
        remove_abandoned_local(versions.path.parent, versions.name)
        self.staged = versions.path.parent / staging_name(versions.name, self.writer)
        self.staged.mkdir()
        self.target = str(self.staged) + "/"

    def has_data(self) -> bool:
        return bool(data_files(self.staged))

    def publish(self, rows: int | None) -> None:
        v = self.v
        v.versions.mkdir(exist_ok=True)
        version = v.versions / self.writer.tag
        os.rename(self.staged, version)
        os.utime(version)  # its age counts from its publish (garbage collection keeps it)
        previous = v.current()
        os.symlink(os.path.join(v.versions.name, version.name), self.staged)
        if v.path.is_symlink() or not v.path.exists():
            os.replace(self.staged, v.path)
        else:
            previous = self._replace_legacy_directory()
        if previous is not None and previous.exists():
            os.utime(previous)  # superseded now: kept a while for readers still scanning it

    def _replace_legacy_directory(self) -> Path:
        """Swap the symlink (at ``staged``) with a directory an earlier Glacier wrote in place."""
        v = self.v
        legacy = v.versions / f"legacy-{self.writer.tag}"
        if _exchange(self.staged, v.path):
            os.rename(self.staged, legacy)
        else:
            os.rename(v.path, legacy)
            os.rename(self.staged, v.path)
        return legacy

    def discard(self) -> None:
        if self.staged.is_symlink():
            self.staged.unlink()
        elif self.staged.exists():
            shutil.rmtree(self.staged, ignore_errors=True)

    def collect_garbage(self) -> None:
        """Delete versions superseded more than ``RETAIN_SUPERSEDED_SECONDS`` ago."""
        current = self.v.current()
        if not self.v.versions.is_dir():
            return
        horizon = time.time() - RETAIN_SUPERSEDED_SECONDS
        for entry in self.v.versions.iterdir():
            if entry == current:
                continue
            try:
                expired = entry.lstat().st_mtime < horizon
            except FileNotFoundError:
                continue  # another writer removed it
            if expired:
                shutil.rmtree(entry, ignore_errors=True)


_RENAME_EXCHANGE = 2
_AT_FDCWD = -100


def _exchange(a: Path, b: Path) -> bool:
    """Swap two paths in one step (Linux ``renameat2``); False where it is not available."""
    try:
        renameat2 = ctypes.CDLL(None, use_errno=True).renameat2
    except (AttributeError, OSError):
        return False
    result = renameat2(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE)
    return bool(result == 0)
