"""Stopping a local run: Ctrl-C (SIGINT), SIGTERM, and the tokens that cancel its attempts.

``RunStop`` is the run's one stop switch. Every attempt takes a ``CancelToken`` from it; a
stop cancels them all, so no attempt publishes after it (``CancelToken.publish`` holds the
token's lock across the publish, so a publish under way completes whole first).
``interrupts(stop)`` turns the first SIGINT/SIGTERM into a stop request that the scheduling
loop acts on within one poll; a second SIGINT ends the process at once (exit 130), killing
the child processes of isolated attempts first.

An attempt with a timeout runs in a child process (``glacier.runner.isolated``): its
cancelled token makes its parent kill it within ``KILL_GRACE``, so a stop ends its work for
real. The children are tracked here (``track_child``) so that no way out of the run leaves
one running: the second Ctrl-C and the end of ``interrupts()`` after a stop SIGKILL what is
left (a child also ends itself when its parent is gone, e.g. after a SIGKILL).

An untimed attempt runs on a worker thread. Neither a Polars query nor a Python thread can
be stopped from outside here: Polars' cancellable mode (``collect(background=True)`` on a
sink) runs sinks on its in-memory engine, which computed wrong answers (TPC-H Q14: 722 rows
for 1, ``when(len() > 0).then(sum)`` after a join; Polars 2.1), and its ``cancel()`` did not
stop joins. So the loop waits
``STOP_GRACE`` seconds for running attempts, then records the run ``interrupted``, removes
this process's staging files of what still runs, and raises ``RunInterrupted``; the CLI then
ends the process, which ends the query or the busy thread with it. Nothing it computes can be
published: its token is cancelled.
"""

from __future__ import annotations

import os
import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from types import FrameType
from typing import TYPE_CHECKING

from glacier.io import CancelToken

if TYPE_CHECKING:
    from glacier.runner.result import RunResult

STOP_GRACE = 0.5  # seconds a stopped run waits for its running attempts to return
_SIGNALS = (signal.SIGINT, signal.SIGTERM)

_children_lock = threading.Lock()
_children: set[int] = set()  # pids of isolated attempts' processes still running


def track_child(pid: int) -> None:
    with _children_lock:
        _children.add(pid)


def untrack_child(pid: int) -> None:
    """Forget ``pid`` (call once it has been waited for: its pid may then be reused)."""
    with _children_lock:
        _children.discard(pid)


def kill_children() -> None:
    """SIGKILL every tracked child process (the process is about to end without them)."""
    with _children_lock:
        pids = list(_children)
    for pid in pids:
        with suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)


class RunStop:
    """The stop switch of one run and the cancel tokens of its attempts."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._tokens: set[CancelToken] = set()
        self._requested = threading.Event()
        self._stopped = threading.Event()
        self.signal: signal.Signals | None = None

    def request(self, signum: signal.Signals) -> None:
        """Ask for a stop (safe in a signal handler: it only sets a flag)."""
        self.signal = signum
        self._requested.set()

    @property
    def requested(self) -> bool:
        return self._requested.is_set()

    @property
    def stopped(self) -> bool:
        return self._stopped.is_set()

    def stop(self) -> None:
        """Cancel every attempt's token; tokens taken later come out cancelled."""
        with self._lock:
            self._stopped.set()
            tokens = list(self._tokens)
        for token in tokens:
            token.cancel()  # waits for a publish under way to finish

    def token(self) -> CancelToken:
        token = CancelToken()
        with self._lock:
            self._tokens.add(token)
            if self.stopped:
                token.cancel()
        return token

    def release(self, token: CancelToken) -> None:
        with self._lock:
            self._tokens.discard(token)


class RunInterrupted(KeyboardInterrupt):
    """The run was stopped by Ctrl-C or SIGTERM; it is recorded ``interrupted``."""

    def __init__(self, message: str, result: RunResult, signum: signal.Signals) -> None:
        super().__init__(message)
        self.message = message
        self.result = result
        self.exit_code = 128 + int(signum)  # 130 for SIGINT, 143 for SIGTERM


@contextmanager
def interrupts(stop: RunStop) -> Iterator[None]:
    """While the block runs, SIGINT and SIGTERM request a stop of the run (only in the main
    thread, where Python delivers signals); a second SIGINT exits the process at once."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handle(signum: int, frame: FrameType | None) -> None:
        if stop.requested and signum == signal.SIGINT:
            kill_children()
            os._exit(130)
        stop.request(signal.Signals(signum))

    previous = {sig: signal.signal(sig, handle) for sig in _SIGNALS}
    try:
        yield
    finally:
        if stop.requested:
            kill_children()  # attempts that did not stop within STOP_GRACE
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def interrupted_message(pipeline: str, stopped: list[str]) -> str:
    """The one line an interrupted run prints."""
    if stopped:
        tasks = ("task " if len(stopped) == 1 else "tasks ") + ", ".join(stopped) + " cancelled"
    else:
        tasks = "no task was running"
    return (
        f"Interrupted: pipeline {pipeline} stopped; {tasks}; nothing partial was published. "
        "Run again to continue."
    )
