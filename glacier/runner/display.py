"""What people see: a live line per running task, then a per-task summary table (rich)."""

from __future__ import annotations

import threading
import time
from types import TracebackType

from rich.console import Console, Group, RenderableType
from rich.live import Live
from rich.spinner import Spinner
from rich.table import Table
from rich.text import Text

from glacier.runner.result import RunResult, TaskRun

_STYLE = {
    "succeeded": "green",
    "cached": "cyan",
    "failed": "bold red",
    "skipped": "yellow",
    "interrupted": "bold yellow",
    "cancelled": "yellow",
}


class ProgressDisplay:
    """A Reporter: while a run is in progress, one spinner line per running task. Shown only
    on a terminal (and never with --quiet); finished tasks print one line each."""

    def __init__(self, console: Console, *, live: bool | None = None) -> None:
        self.console = console
        self._live_enabled = console.is_terminal if live is None else live
        self._running: dict[tuple[str, str], float] = {}
        self._lock = threading.Lock()
        self._live: Live | None = None

    def __enter__(self) -> ProgressDisplay:
        if self._live_enabled:
            self._live = Live(
                self, console=self.console, refresh_per_second=8, transient=True, redirect_stdout=False
            )
            self._live.__enter__()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._live is not None:
            self._live.__exit__(kind, exc, tb)
            self._live = None

    def __rich__(self) -> RenderableType:
        with self._lock:
            running = sorted(self._running.items(), key=lambda item: item[1])
        now = time.monotonic()
        return Group(
            *(
                Spinner("dots", text=Text(f"{task}  ({pipeline})  {now - since:5.1f} s"))
                for (pipeline, task), since in running
            )
        )

    # -- Reporter --------------------------------------------------------------------------
    def task_started(self, pipeline: str, task: str) -> None:
        with self._lock:
            self._running[(pipeline, task)] = time.monotonic()

    def task_retrying(self, pipeline: str, task: str, attempt: int, error: str) -> None:
        self.console.print(f"[yellow]retry[/] {task}: attempt {attempt} failed: {error}", highlight=False)

    def task_finished(self, pipeline: str, run: TaskRun) -> None:
        with self._lock:
            self._running.pop((pipeline, run.name), None)
        style = _STYLE.get(run.status, "")
        self.console.print(
            f"[{style}]{run.status:>9}[/] {run.name} ({pipeline}) {run.seconds:.2f} s", highlight=False
        )
        for note in run.schema_notes():
            self.console.print(f"          [cyan]{note}[/]", highlight=False)


def summary_table(result: RunResult) -> Table:
    table = Table(
        title=f"{result.pipeline}: {result.status} in {result.seconds:.2f} s",
        title_justify="left",
        show_edge=False,
    )
    for column, justify in (
        ("task", "left"),
        ("status", "left"),
        ("rows", "right"),
        ("bytes", "right"),
        ("seconds", "right"),
        ("cached", "center"),
    ):
        table.add_column(column, justify=justify)  # type: ignore[arg-type]
    for task in result.tasks.values():
        table.add_row(
            task.name,
            Text(task.status, style=_STYLE.get(task.status, "")),
            "-" if task.rows is None else f"{task.rows:,}",
            "-" if task.bytes is None else f"{task.bytes:,}",
            f"{task.seconds:.2f}",
            "yes" if task.cached else "no",
        )
    return table
