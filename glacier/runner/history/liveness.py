"""Is the process that owns a ``running`` run still there?

The rule, in order:

1. A run recorded on this host with a pid: it is alive while that pid exists, is not a
   zombie and (where ``/proc`` tells) started at the recorded time, so a reused pid does
   not keep a dead run alive. The heartbeat does not matter then: a long task may run for
   hours without one.
2. Otherwise (another host sharing the state folder, or a run written before pids were
   recorded): it is alive while its heartbeat (``updated_at``, else ``started_at``) is
   younger than ``stale_after`` seconds.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

STALE_AFTER = 600.0  # seconds without a heartbeat before another host's run counts as dead
HEARTBEAT_EVERY = 30.0  # how often keep_alive() beats; well under STALE_AFTER


@dataclass(frozen=True)
class ProcessStamp:
    """What identifies a process across time: host, pid and the pid's start time."""

    host: str
    pid: int
    start: int | None  # clock ticks after boot (Linux /proc); None where unknown


def this_host() -> str:
    return socket.gethostname()


def this_process() -> ProcessStamp:
    pid = os.getpid()
    return ProcessStamp(host=this_host(), pid=pid, start=_proc_stat(pid)[1])


def _proc_stat(pid: int) -> tuple[str | None, int | None]:
    """The state letter and start time of a process from /proc (None, None where absent)."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None, None
    # The command name (field 2) may hold spaces and parentheses: split after the last ')'.
    fields = text[text.rfind(")") + 2 :].split()
    try:
        return fields[0], int(fields[19])
    except (IndexError, ValueError):
        return None, None


def pid_alive(pid: int, start: int | None) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # it exists, owned by another user: /proc still tells the rest
        return _proc_matches(pid, start)
    return _proc_matches(pid, start)


def _proc_matches(pid: int, start: int | None) -> bool:
    state, started = _proc_stat(pid)
    if state == "Z":  # killed, not yet reaped by its parent
        return False
    return start is None or started is None or started == start


def run_alive(row: Mapping[str, Any], *, host: str, now: float, stale_after: float) -> bool:
    """Whether the process of a ``running`` runs row (any schema version) may still run it."""
    pid = row.get("pid")
    if pid is not None and row.get("host") == host:
        return pid_alive(pid, row.get("pid_start"))
    heartbeat = row.get("updated_at") or row["started_at"]
    return bool(now - heartbeat < stale_after)


def death_note(row: Mapping[str, Any]) -> str:
    """The error a died run is reported with."""
    pid, host = row.get("pid"), row.get("host")
    who = f"its process (pid {pid} on {host})" if pid is not None else "its process"
    return f"The run never finished: {who} ended without recording a result (killed or crashed)."
