"""What a failed attempt says: the user's file and line, the full traceback, and whether
trying again can help.

The location is the traceback's last frame inside the module that defines the task (else
the last frame outside Glacier, Polars and the standard library), so the message points at
the user's line, not at the library that raised. Deterministic errors (a missing column, a
schema or dtype mismatch, a type, key, attribute or name error) recur on every attempt, so
they are not retried unless the task lists them in ``retry_on``.
"""

from __future__ import annotations

import inspect
import sys
import sysconfig
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import polars as pl

from glacier.dag.model import TaskNode
from glacier.errors import GlacierError
from glacier.io import WriteCancelled

_DETERMINISTIC: tuple[type[BaseException], ...] = (
    pl.exceptions.ColumnNotFoundError,
    pl.exceptions.SchemaError,
    pl.exceptions.SchemaFieldNotFoundError,
    pl.exceptions.InvalidOperationError,
    TypeError,
    KeyError,
    AttributeError,
    NameError,
)
# An exception raised in an isolated attempt's process (glacier.runner.isolated) carries
# that process's traceback under these attributes: its frames as (file, line), and its text.
REMOTE_FRAMES = "_glacier_remote_frames"
REMOTE_TRACEBACK = "_glacier_remote_traceback"
_GLACIER = str(Path(__file__).resolve().parents[1])
_LIBRARIES = tuple(
    {_GLACIER, str(Path(pl.__file__).resolve().parent), sysconfig.get_paths()["stdlib"], sys.prefix}
)


@dataclass(frozen=True)
class Location:
    file: str
    line: int
    defined: bool = False  # the task's ``def`` line: no frame of the user's code raised it

    def __str__(self) -> str:
        return f"{self.file}:{self.line}"


def root_cause(exc: BaseException) -> BaseException:
    """The user's own exception behind Glacier's wrapping (``raise ... from exc``)."""
    while isinstance(exc, GlacierError) and exc.__cause__ is not None:
        exc = exc.__cause__
    return exc


def user_location(exc: BaseException, func: Callable[..., Any] | None) -> Location | None:
    """The last traceback frame in the task's module (else outside the libraries)."""
    cause = root_cause(exc)
    frames: list[tuple[str, int]] = getattr(cause, REMOTE_FRAMES, None) or [
        (f.filename, f.lineno or 0) for f in traceback.extract_tb(cause.__traceback__)
    ]
    own = _source_file(func)
    if own is not None:
        inside = [f for f in frames if _same(f[0], own)]
        if inside:
            return Location(_shown(inside[-1][0]), inside[-1][1])
    outside = [f for f in frames if not Path(f[0]).resolve().as_posix().startswith(_LIBRARIES)]
    if outside:
        return Location(_shown(outside[-1][0]), outside[-1][1])
    # Raised while Polars ran the query the task built (a lazy plan has no user frames):
    # the task's definition is the place to look.
    code = getattr(inspect.unwrap(func), "__code__", None) if func is not None else None
    return Location(_shown(code.co_filename), code.co_firstlineno, defined=True) if code else None


def traceback_text(exc: BaseException) -> str:
    remote: str | None = getattr(exc, REMOTE_TRACEBACK, None)
    return remote if remote is not None else "".join(traceback.format_exception(exc))


def is_deterministic(exc: BaseException) -> bool:
    cause = root_cause(exc)
    if isinstance(cause, pl.exceptions.ComputeError):
        text = str(cause).lower()
        return "schema" in text or "dtype" in text or "cast" in text
    return isinstance(cause, _DETERMINISTIC)


def retryable(task: TaskNode, exc: BaseException) -> bool:
    """Whether another attempt may succeed: ``retry_on`` when the task gives it, else
    anything but a deterministic error (and never a cancelled attempt)."""
    if isinstance(exc, WriteCancelled | KeyboardInterrupt):
        return False
    if task.retry_on:
        names = {name for cls in (type(exc), type(root_cause(exc))) for name in _names(cls)}
        return bool(names & set(task.retry_on))
    return not is_deterministic(exc)


def _names(cls: type) -> set[str]:
    return {f"{c.__module__}.{c.__qualname__}" for c in cls.__mro__}


def _source_file(func: Callable[..., Any] | None) -> str | None:
    code = getattr(getattr(func, "__wrapped__", func), "__code__", None)
    return code.co_filename if code is not None else None


def _same(a: str, b: str) -> bool:
    return Path(a).resolve() == Path(b).resolve()


def _shown(file: str) -> str:
    """Relative to the current directory when under it (what the user typed)."""
    path = Path(file).resolve()
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)
