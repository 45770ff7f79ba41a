"""The content identity of a stored dataset, for the cache: it changes whenever a byte does.

Size and mtime alone miss a file rewritten with the same size and its mtime put back. The
rule, per storage:

- Local file: ``<size>:<mtime_ns>|blake2b:<digest of the bytes>`` (the stat part keeps
  "rewritten, even with the same bytes" a change, as before; the digest adds "same size and
  mtime, other bytes").
- Local directory dataset: the stat fingerprint of its files plus one digest over
  ``(relative path, file digest)`` of every visible file (hidden ``.``/``_`` files skipped,
  as readers skip them).
- S3 object: ``<size>:<ETag>`` plus the ``VersionId`` when the bucket has versioning. The
  ETag is S3's own content hash (MD5 of the bytes, or of the parts for multipart uploads;
  for SSE-KMS objects a value that changes on every write), so nothing is downloaded.
- S3 directory dataset: ``key|size|ETag`` of every visible object.

Cost: a local file of ``MEMO_MIN_BYTES`` or more is read (hashed at ~600 MB/s) only when
the memo has no entry for its exact ``(path, size, mtime_ns, ctime_ns, inode, device)``:
the memo lives in the user's cache folder (``$GLACIER_CACHE/content_ids.sqlite``, else
``~/.cache/glacier/``), not in a state folder, because a digest is a fact about the file on
this machine, true for every project and state folder that reads it; so an unchanged input
costs one ``stat`` and one lookup per run, also on a project's first run or after
``--state-dir`` changes. Smaller files are simply hashed (cheaper than a lookup).
``ctime`` cannot be set by user code (``os.utime`` resets it to now), so a rewrite whose
mtime was put back is still a memo miss. An entry is trusted only if it was hashed more
than ``RACY_WINDOW_NS`` after the file's last change (a write in the same timestamp tick as
the hash could otherwise go unseen, git's "racy" case): a file hashed right after it was
written is read once more on a later run. Entries older than ``MEMO_MAX_AGE_NS`` are
dropped. Within one run, a file already hashed with the same stat is not read again. An
S3 object costs one HEAD request. A memo that cannot be opened (read-only or corrupt
cache folder) is skipped: every file is then hashed, never trusted blindly.
"""

from __future__ import annotations

import hashlib
import os
import sqlite3
import threading
import time
from pathlib import Path

from glacier.formats import Format
from glacier.io.location import StorageOptions, is_s3, split_s3
from glacier.io.read import HIDDEN_PREFIXES, StoredDataset
from glacier.io.s3 import S3Client
from glacier.io.sqlite_wal import use_wal

RACY_WINDOW_NS = 2_000_000_000  # > the coarsest timestamp tick in use (FAT: 2 s)
MEMO_MAX_AGE_NS = 90 * 24 * 3600 * 1_000_000_000
MEMO_FILE = "content_ids.sqlite"
MEMO_MIN_BYTES = 64 * 1024  # below this, hashing costs less than a memo lookup

_SCHEMA = """
CREATE TABLE IF NOT EXISTS file_digests (
    path TEXT PRIMARY KEY,
    size INTEGER NOT NULL,
    mtime_ns INTEGER NOT NULL,
    ctime_ns INTEGER NOT NULL,
    inode INTEGER NOT NULL,
    device INTEGER NOT NULL,
    digest TEXT NOT NULL,
    hashed_at_ns INTEGER NOT NULL
)
"""

StatKey = tuple[int, int, int, int, int]  # size, mtime_ns, ctime_ns, inode, device


def file_digest(path: Path) -> str:
    """blake2b-256 of the file's bytes, streamed."""
    with open(path, "rb") as handle:
        return hashlib.file_digest(handle, lambda: hashlib.blake2b(digest_size=32)).hexdigest()


def _stat_key(st: os.stat_result) -> StatKey:
    return (st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino, st.st_dev)


class ContentIds:
    """Content identities of the datasets one run reads and writes (see the module doc)."""

    def __init__(self, memo_dir: str | Path | None, options: StorageOptions | None = None) -> None:
        self.memo_path = Path(memo_dir) / MEMO_FILE if memo_dir is not None else None
        self.options = options
        self._fresh: dict[tuple[str, StatKey], str] = {}  # hashed during this run
        self._lock = threading.Lock()
        self._conn: sqlite3.Connection | None = None
        self._unavailable = False

    def identify(self, uri: str, fmt: Format, stored: StoredDataset) -> str:
        """The identity of what is stored at ``uri`` (``stored``: its ``stat_uri``)."""
        if is_s3(uri):
            return self._s3_identity(uri, fmt, stored)
        path = Path(uri)
        files = [path] if fmt is not Format.PARQUET_DIR else _dataset_files(path)
        digests = self._digests(files)
        if fmt is not Format.PARQUET_DIR:
            return f"{stored.fingerprint}|blake2b:{digests[0]}"
        combined = hashlib.blake2b(digest_size=32)
        for file, digest in zip(files, digests, strict=True):
            combined.update(f"{file.relative_to(path).as_posix()}\0{digest}\n".encode())
        return f"{stored.fingerprint}|blake2b:{combined.hexdigest()}"

    # -- S3 ------------------------------------------------------------------------------------
    def _s3_identity(self, uri: str, fmt: Format, stored: StoredDataset) -> str:
        if fmt is Format.PARQUET_DIR:
            return stored.fingerprint  # key|size|ETag of every object
        bucket, key = split_s3(uri)
        head = S3Client(self.options).head(bucket, key)
        if head is None:
            return stored.fingerprint
        return f"{stored.fingerprint}|etag:{head.etag}|version:{head.version_id or '-'}"

    # -- local files -----------------------------------------------------------------------------
    def _digests(self, files: list[Path]) -> list[str]:
        return [self._digest(file) for file in files]

    def _digest(self, file: Path) -> str:
        name = str(file.resolve())
        key = _stat_key(file.stat())
        use_memo = key[0] >= MEMO_MIN_BYTES  # smaller files are read faster than looked up
        with self._lock:
            known = self._fresh.get((name, key))
            if known is None and use_memo:
                known = self._remembered(name, key)
        if known is not None:
            return known
        started = time.time_ns()
        digest = file_digest(file)
        if _stat_key(file.stat()) != key:
            return digest  # changed while it was read: use it for this run, remember nothing
        with self._lock:
            self._fresh[(name, key)] = digest
            if use_memo:
                self._remember(name, key, digest, started)
        return digest

    def _remembered(self, name: str, key: StatKey) -> str | None:
        conn = self._connection()
        if conn is None:
            return None
        try:
            row = conn.execute(
                "SELECT size, mtime_ns, ctime_ns, inode, device, digest, hashed_at_ns "
                "FROM file_digests WHERE path = ?",
                (name,),
            ).fetchone()
        except sqlite3.Error:
            return None
        if row is None or tuple(row[:5]) != key:
            return None
        changed_at = max(key[1], key[2])
        return str(row[5]) if row[6] - changed_at > RACY_WINDOW_NS else None

    def _remember(self, name: str, key: StatKey, digest: str, at: int) -> None:
        conn = self._connection()
        if conn is None:
            return
        try:
            with conn:
                conn.execute(
                    "INSERT OR REPLACE INTO file_digests VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    (name, *key, digest, at),
                )
        except sqlite3.Error:
            pass  # the memo is an optimisation: the digest itself is right either way

    def _connection(self) -> sqlite3.Connection | None:
        """The memo's connection (opened once, shared by the run's threads under the lock),
        or None when the state folder cannot hold it."""
        if self._conn is not None or self._unavailable or self.memo_path is None:
            return self._conn
        conn: sqlite3.Connection | None = None
        try:
            self.memo_path.parent.mkdir(parents=True, exist_ok=True)
            conn = sqlite3.connect(self.memo_path, timeout=5.0, check_same_thread=False)
            use_wal(conn, wait=5.0)  # concurrent runs share the memo (one per user)
            conn.execute("PRAGMA synchronous=NORMAL")
            conn.execute(_SCHEMA)
            with conn:
                conn.execute(
                    "DELETE FROM file_digests WHERE hashed_at_ns < ?", (time.time_ns() - MEMO_MAX_AGE_NS,)
                )
        except (sqlite3.Error, OSError):
            if conn is not None:
                conn.close()
            self._unavailable = True
            return None
        self._conn = conn
        return conn

    def close(self) -> None:
        with self._lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None


def _dataset_files(path: Path) -> list[Path]:
    """The files a directory dataset's readers see, in a stable order."""
    found: list[Path] = []
    for root, dirs, files in os.walk(path):
        dirs[:] = sorted(d for d in dirs if not d.startswith(HIDDEN_PREFIXES))
        found.extend(Path(root, name) for name in sorted(files) if not name.startswith(HIDDEN_PREFIXES))
    return found
