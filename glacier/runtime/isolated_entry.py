"""The entry point of an isolated attempt: a child process the local runner starts for one
attempt of a task that has a ``timeout=`` (``glacier.runner.isolated`` is the parent side).

A thread cannot be killed, and a Polars query cannot be cancelled reliably in-process (see
``glacier.runner.interrupt``); a process can. The child imports the task by its code
reference, runs it through the one read -> call -> write core (``execute_task``) and stages
its output, but publishes only when the parent says so: its ``ParentGate`` asks the parent
before the one step that makes the write visible, and the parent answers only while the
attempt is still wanted (not timed out, the run not stopped). A child the parent kills, or
whose parent died, has therefore published nothing; its staging is removed by the parent (or,
its process being gone, by the next write of the dataset).

Messages on the connection (pickled tuples), child -> parent: ``("ready",)`` once the task is
imported (the timeout counts from here), ``("publish",)`` asking leave to publish,
``("published",)``, ``("ok", TaskResult)``, ``("failed", RemoteFailure)``; parent -> child:
``ChildRequest`` first, then ``("go",)`` in answer to ``("publish",)``.

Imports only the standard library, glacier.code, glacier.io and glacier.runtime.
"""

from __future__ import annotations

import gc
import itertools
import os
import pickle
import signal
import sys
import threading
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from multiprocessing.connection import Connection
from typing import Any

from glacier.code import import_code_ref
from glacier.io import CancelToken, StorageOptions, WriteCancelled
from glacier.runtime.event import TaskEvent

_PARENT_POLL = 0.2  # how often a child looks whether its parent still lives


@dataclass(frozen=True)
class ChildRequest:
    """What the parent sends first: the attempt to make."""

    code_ref: str
    task: str
    event: TaskEvent
    options: StorageOptions | None
    sys_path: list[str]  # the parent's (its loader put the project root on it)
    parent_pid: int


class ChildError(Exception):
    """Stands in for an exception of the task that cannot be pickled back to the parent."""


Frames = list[tuple[str, int]]


@dataclass(frozen=True)
class RemoteFailure:
    """An exception raised in the child, for the parent to raise again: the chain of
    ``__cause__`` (outermost first, each pickled alone: pickle drops the links), each
    exception's traceback frames as (file, line), and the whole traceback's text."""

    chain: list[bytes]
    frames: list[Frames]
    text: str

    @classmethod
    def of(cls, exc: BaseException) -> RemoteFailure:
        chain: list[BaseException] = []
        current: BaseException | None = exc
        while current is not None and len(chain) < 20:
            chain.append(current)
            current = current.__cause__
        frames = [[(f.filename, f.lineno or 0) for f in traceback.extract_tb(e.__traceback__)] for e in chain]
        return cls([_picklable(e) for e in chain], frames, "".join(traceback.format_exception(exc)))

    def exceptions(self) -> list[BaseException]:
        """The chain again, linked by ``__cause__``, outermost first."""
        chain = [pickle.loads(data) for data in self.chain]
        for outer, inner in itertools.pairwise(chain):
            outer.__cause__ = inner
        return chain


def _picklable(exc: BaseException) -> bytes:
    """``exc`` pickled when it comes back whole, else a ``ChildError`` naming its type."""
    if not isinstance(exc, Exception):  # SystemExit, KeyboardInterrupt: not the run's to get
        exc = ChildError(f"{type(exc).__name__}: {exc}")
    try:
        data = pickle.dumps(exc)
        pickle.loads(data)
        return data
    except Exception:
        kind = f"{type(exc).__module__}.{type(exc).__qualname__}"
        return pickle.dumps(ChildError(f"{kind}: {' '.join(str(exc).split())}"))


class ParentGate(CancelToken):
    """The child's cancel token: a publish happens only when the parent answers ``go``."""

    def __init__(self, conn: Connection) -> None:
        super().__init__()
        self._conn = conn

    def publish(self, action: Callable[[], None]) -> None:
        self._conn.send(("publish",))
        try:
            answer = self._conn.recv()
        except EOFError:  # the parent is gone: nobody wants this result any more
            raise WriteCancelled from None
        if answer != ("go",):
            raise WriteCancelled
        action()
        self._conn.send(("published",))


def _watch_parent(parent_pid: int) -> None:
    """End this process when its parent is gone (a SIGKILLed run leaves no task running)."""

    def watch() -> None:
        while os.getppid() == parent_pid:
            time.sleep(_PARENT_POLL)
        os._exit(1)

    threading.Thread(target=watch, name="glacier-parent-watch", daemon=True).start()


def run(conn: Connection) -> None:
    """Make the one attempt the parent asks for and report its outcome."""
    from glacier.runtime.core import execute_task

    request: ChildRequest = conn.recv()
    sys.path[:] = request.sys_path
    _watch_parent(request.parent_pid)
    try:
        func: Any = import_code_ref(request.code_ref, request.task)
        conn.send(("ready",))
        result = execute_task(request.event, func, request.options, cancel=ParentGate(conn))
    except BaseException as exc:  # the parent decides what it means (a SystemExit too)
        conn.send(("failed", RemoteFailure.of(exc)))
        return
    conn.send(("ok", result))


def main() -> None:
    """``python -c 'from glacier.runtime.isolated_entry import main; main()' FD``."""
    # The child has its own process group (no terminal Ctrl-C reaches it), but a signal sent
    # to it by hand must not print a traceback: the parent reports what happened.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    conn = Connection(int(sys.argv[1]))
    try:
        run(conn)
    except (EOFError, BrokenPipeError, ConnectionResetError):
        os._exit(1)  # the parent went away mid-conversation
    finally:
        conn.close()
        # The process ends next, and the parent waits for it before the attempt is over:
        # spare it CPython's exit-time collections over everything Polars and the task made
        # (as glacier.cli.main does).
        gc.freeze()
