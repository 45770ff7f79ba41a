"""Attempts in a child process, so a timeout or a stop can end the work itself.

An attempt of a task with ``timeout=`` runs in a fresh Python process
(``glacier.runtime.isolated_entry``) started with ``subprocess`` in its own process group (a
terminal's Ctrl-C goes to the run, which then ends its children itself). The child imports
the task by its code reference and stages the output; it publishes only when this side
answers its request, which happens only while the attempt is wanted, under the attempt's
``CancelToken`` lock (so a stop waits for a publish under way, exactly as in-process). Past
the timeout, or when the run stops, the child gets SIGTERM, then SIGKILL after
``KILL_GRACE``; it is waited for and its staging removed before the attempt raises, so a
retry never overlaps the attempt it replaces and a killed attempt publishes nothing.

The timeout counts from the moment the child has imported the task (its start-up, about a
second of Python, Polars and the user's module, is not the task's time). Not isolated (they
keep the in-process attempt of ``glacier.runner.attempt``): tasks a fresh process cannot
import by reference (defined inside a function, in ``__main__``, or a module not importable
from ``sys.path``) and pyspark tasks (local Spark runs in the JVM of this process).
"""

from __future__ import annotations

import importlib.machinery
import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from glacier.dag.model import TaskNode
from glacier.errors import ExecutionError
from glacier.io import CancelToken, StorageOptions, WriteCancelled
from glacier.io.leftovers import discard_own_staging
from glacier.runner.attempt import timed_out
from glacier.runner.failure import REMOTE_FRAMES, REMOTE_TRACEBACK
from glacier.runner.interrupt import track_child, untrack_child
from glacier.runtime.event import TaskEvent, TaskResult
from glacier.runtime.isolated_entry import ChildRequest, RemoteFailure

KILL_GRACE = 0.2  # seconds between SIGTERM and SIGKILL of a child that must stop
START_LIMIT = 300.0  # seconds a child may take to import its task
_SLICE = 0.05  # how often the parent looks at the timeout and the run's stop switch
_ENTRY = "from glacier.runtime.isolated_entry import main; main()"
_GLACIER_HOME = str(Path(__file__).resolve().parents[2])  # the folder holding glacier/


def isolatable(task: TaskNode, func: Callable[..., Any]) -> bool:
    """Whether a fresh process, importing ``task.code_ref``, gets this very function."""
    if task.dataframe_api == "pyspark":
        return False
    module_name, _, qualname = task.code_ref.partition(":")
    module = sys.modules.get(module_name)
    if module is None or module_name == "__main__" or "<locals>" in qualname:
        return False
    obj: Any = module
    for part in qualname.split("."):
        obj = getattr(obj, part, None)
    if getattr(obj, "func", obj) is not func:
        return False
    origin, loaded = _found_on_path(module_name), getattr(module, "__file__", None)
    return origin is not None and loaded is not None and Path(origin).resolve() == Path(loaded).resolve()


def _found_on_path(name: str) -> str | None:
    """The file ``import name`` finds through ``sys.path`` in a fresh process (this one's
    ``sys.modules`` aside: a test or tool may have loaded another file under that name)."""
    search: list[str] | None = None
    origin: str | None = None
    parts = name.split(".")
    for depth in range(1, len(parts) + 1):
        try:
            spec = importlib.machinery.PathFinder.find_spec(".".join(parts[:depth]), search)
        except (ImportError, ValueError):
            return None
        if spec is None:
            return None
        origin = spec.origin
        locations = spec.submodule_search_locations
        search = list(locations) if locations is not None else None
    return origin


def run_isolated(
    task: TaskNode, event: TaskEvent, options: StorageOptions | None, cancel: CancelToken, timeout: float
) -> TaskResult:
    """One attempt in a child process; raises what the task raised (rebuilt from the child),
    ``AttemptTimedOut`` past ``timeout`` or ``WriteCancelled`` when the run stopped, always
    with the child gone."""
    child = _Child(task, event, options)
    try:
        return child.supervise(cancel, timeout)
    finally:
        child.end()


class _Child:
    def __init__(self, task: TaskNode, event: TaskEvent, options: StorageOptions | None) -> None:
        self.task = task
        self.event = event
        self.reported = False  # the child sent its outcome (it then exits by itself)
        ours, theirs = socket.socketpair()
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(p for p in (_GLACIER_HOME, env.get("PYTHONPATH")) if p)
        with theirs:
            self.process = subprocess.Popen(
                [sys.executable, "-c", _ENTRY, str(theirs.fileno())],
                pass_fds=(theirs.fileno(),),
                stdin=subprocess.DEVNULL,
                env=env,
                process_group=0,  # a terminal's Ctrl-C is the run's to handle, not the child's
            )
        track_child(self.process.pid)
        self.conn = Connection(ours.detach())
        self.conn.send(ChildRequest(task.code_ref, task.name, event, options, list(sys.path), os.getpid()))

    def supervise(self, cancel: CancelToken, timeout: float) -> TaskResult:
        started = time.monotonic()
        deadline: float | None = None  # set once the child has imported the task
        published = False
        while True:
            now = time.monotonic()
            if not published:
                if cancel.cancelled:
                    raise WriteCancelled
                if deadline is not None and now >= deadline:
                    raise timed_out(self.task, timeout, stopped=True)
                if deadline is None and now - started > START_LIMIT:
                    raise self._failure(f"did not import its task within {START_LIMIT:g} s")
            wait = _SLICE if deadline is None or published else max(0.0, min(_SLICE, deadline - now))
            if not self.conn.poll(wait):
                continue
            message = self._receive()
            if message[0] == "ready":
                deadline = time.monotonic() + timeout
            elif message[0] == "publish":
                if deadline is not None and time.monotonic() >= deadline:
                    raise timed_out(self.task, timeout, stopped=True)
                cancel.publish(self._let_publish)  # WriteCancelled once the run stopped
                published = True
            elif message[0] == "ok":
                self.reported = True
                result: TaskResult = message[1]
                return result
            elif message[0] == "failed":
                self.reported = True
                raise _rebuilt(message[1])

    def _let_publish(self) -> None:
        """Let the child publish and wait until it has (never killed half way)."""
        self.conn.send(("go",))
        message = self._receive()
        if message[0] == "failed":
            self.reported = True
            raise _rebuilt(message[1])
        if message[0] != "published":
            raise self._failure(f"sent {message[0]!r} while publishing")

    def _receive(self) -> tuple[Any, ...]:
        try:
            message: tuple[Any, ...] = self.conn.recv()
        except (EOFError, OSError):
            raise self._failure(_ended(self.process)) from None
        return message

    def _failure(self, what: str) -> ExecutionError:
        return ExecutionError(
            f"Task '{self.task.name}': the process running its attempt {what}; nothing was published.",
            task=self.task.name,
            fix="run again; if it recurs, look for a crash in the task's native code or memory use.",
        )

    def end(self) -> None:
        """Stop the child (SIGTERM, then SIGKILL), wait for it, remove its staging."""
        process = self.process
        try:
            if self.reported:  # it sent its outcome and is ending by itself
                _wait(process, KILL_GRACE)
            if process.poll() is None:
                process.terminate()
                if not _wait(process, KILL_GRACE):
                    process.kill()
                    process.wait()
        finally:
            untrack_child(process.pid)
            self.conn.close()
        discard_own_staging(self.event.output.uri, pid=process.pid)


def _wait(process: subprocess.Popen[bytes], seconds: float) -> bool:
    try:
        process.wait(seconds)
    except subprocess.TimeoutExpired:
        return False
    return True


def _ended(process: subprocess.Popen[bytes]) -> str:
    if not _wait(process, KILL_GRACE):
        return "closed its connection"
    code = process.returncode
    if code < 0:
        return f"was killed by signal {-code}" + (" (out of memory?)" if -code == 9 else "")
    return f"ended with exit code {code}"


def _rebuilt(failure: RemoteFailure) -> BaseException:
    """The child's exception, its chain linked again, with the child's traceback attached
    (``glacier.runner.failure`` reads the user's file and line from it)."""
    try:
        chain = failure.exceptions()
    except Exception as unreadable:  # a class the child could import and this process cannot
        last = failure.text.strip().splitlines()[-1]
        return ExecutionError(f"{last} (its exception could not be read here: {unreadable})")
    for exc, frames in zip(chain, failure.frames, strict=False):
        setattr(exc, REMOTE_FRAMES, frames)
    setattr(chain[0], REMOTE_TRACEBACK, failure.text)
    return chain[0]
