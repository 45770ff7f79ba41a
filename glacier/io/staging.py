"""Names of the hidden things a write leaves beside a dataset, and when they are abandoned.

Pure (standard library only): the runtime names and cleans staging entries with it, and the
IAM policies (``glacier.deploy.iam``) grant the task roles exactly these keys.

- **Staging** (in-flight writes) of dataset ``<parent>/<name>``: locally the hidden entry
  ``<parent>/.glacier-tmp-<writer>-<name>`` beside it (a file, or a directory); on S3 the key
  ``<parent>/.glacier-tmp-staging-<name>/<writer>-<name>``, one folder per dataset, so the next
  write finds a killed write's leftovers by listing a prefix its role may list (the policy
  allows ``<parent>/.glacier-tmp-*-<name>``). A directory dataset on S3 stages as a version
  root under its own prefix instead.
- **Versions** (published directory datasets): locally ``<parent>/.glacier-v-<name>/<writer>/``
  behind the symlink ``<parent>/<name>``; on S3 ``<prefix>.glacier-v-<writer>/`` under the
  dataset's own prefix, named by the manifest ``<prefix>_glacier_manifest.json``.
- **Writer** ``<started>-<host>-<pid>-<token>``: when the write began (unix seconds), a hash of
  the machine (host name and boot id), the process and a random token.

A staging entry is *abandoned* when its writer cannot still be running: it ran on this
machine and its process is gone, or it began more than ``ABANDONED_AFTER_SECONDS`` ago (no
Glacier task runs longer: a Glue/EMR job stops at 48 hours, a Lambda at 15 minutes).
"""

from __future__ import annotations

import hashlib
import os
import secrets
import socket
import time
from dataclasses import dataclass
from functools import cache
from pathlib import Path

STAGING_MARK = ".glacier-tmp-"  # THE staging-name mark (IAM grants keys that carry it)
STAGING_FOLDER = STAGING_MARK + "staging-"
VERSION_MARK = ".glacier-v-"
MANIFEST_NAME = "_glacier_manifest.json"

ABANDONED_AFTER_SECONDS = 49 * 3600  # the longest task (48 h Glue/EMR timeout) + a margin
# A superseded version of a directory dataset is kept this long (then deleted by a later
# publish), so a reader that resolved it just before a publish can finish reading it.
RETAIN_SUPERSEDED_SECONDS = 15 * 60


@cache
def host_id() -> str:
    """This machine (host name + boot id): two containers or two boots never share it."""
    boot = Path("/proc/sys/kernel/random/boot_id")
    boot_id = boot.read_text().strip() if boot.exists() else ""
    return hashlib.sha256(f"{socket.gethostname()}|{boot_id}".encode()).hexdigest()[:8]


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # it exists, it is just not ours
    return True


@dataclass(frozen=True)
class Writer:
    """Who stages a write: enough to tell later whether it may still be running."""

    started: int
    host: str
    pid: int
    token: str

    @classmethod
    def current(cls) -> Writer:
        return cls(int(time.time()), host_id(), os.getpid(), secrets.token_hex(4))

    @property
    def tag(self) -> str:
        return f"{self.started}-{self.host}-{self.pid}-{self.token}"

    @classmethod
    def parse(cls, tag: str) -> Writer | None:
        parts = tag.split("-")
        if len(parts) != 4 or not (parts[0].isdigit() and parts[2].isdigit()):
            return None
        return cls(int(parts[0]), parts[1], int(parts[2]), parts[3])

    def abandoned(self, now: float | None = None) -> bool:
        if (now if now is not None else time.time()) - self.started > ABANDONED_AFTER_SECONDS:
            return True
        return self.host == host_id() and not pid_alive(self.pid)


def staging_name(name: str, writer: Writer) -> str:
    """A local write's hidden entry beside dataset ``name``."""
    return f"{STAGING_MARK}{writer.tag}-{name}"


def staging_folder(name: str) -> str:
    """The hidden S3 folder, beside dataset ``name``, that holds its in-flight writes."""
    return f"{STAGING_FOLDER}{name}"


def staging_entry(name: str, writer: Writer) -> str:
    """One write's entry in the S3 staging folder of ``name``."""
    return f"{writer.tag}-{name}"


def entry_writer(entry: str, name: str) -> Writer | None:
    """The writer of staging entry ``entry`` of dataset ``name`` (an S3 folder entry, or a
    local ``staging_name``); None when it is not one of ours."""
    suffix = f"-{name}"
    if not entry.endswith(suffix):
        return None
    tag = entry[: -len(suffix)].removeprefix(STAGING_MARK)
    pid, _, token = tag.partition("-")
    if pid.isdigit() and token and "-" not in token:
        # An earlier Glacier's local entry, '<pid>-<random>': judged by its process alone.
        return Writer(int(time.time()), host_id(), int(pid), token)
    return Writer.parse(tag)


def version_name(writer: Writer) -> str:
    """An S3 version root under a directory dataset's prefix (hidden from readers)."""
    return f"{VERSION_MARK}{writer.tag}"


def version_writer(root: str) -> Writer | None:
    """The writer of S3 version root ``root`` (``.glacier-v-<writer>``), if it is one."""
    if not root.startswith(VERSION_MARK):
        return None
    return Writer.parse(root[len(VERSION_MARK) :])


def versions_folder(name: str) -> str:
    """The hidden folder, beside local directory dataset ``name``, holding its versions."""
    return f"{VERSION_MARK}{name}"
