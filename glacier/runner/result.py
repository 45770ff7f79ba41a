"""What a local run returns: per-task status, rows, bytes, seconds, cached."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

# `interrupted`: it was running when the run was stopped; `cancelled`: it never started.
TaskStatus = Literal["succeeded", "cached", "failed", "skipped", "interrupted", "cancelled"]


@dataclass(frozen=True)
class TaskRun:
    name: str
    status: TaskStatus
    output: str
    seconds: float = 0.0
    rows: int | None = None
    bytes: int | None = None
    attempts: int = 0
    error: str | None = None
    fix: str | None = None  # the task's own fix, when its error came with one
    traceback: str | None = None  # the full traceback of a failure
    exception: BaseException | None = field(default=None, repr=False, compare=False)
    started_at: float = 0.0  # time.time() when the task started (for overlap checks)
    finished_at: float = 0.0
    # Columns beyond a schema_mode="evolve" declaration (dataset URI -> column -> dtype), and
    # those of them the task's previous successful run did not meet (``schema_notes``).
    schema_added: dict[str, dict[str, str]] = field(default_factory=dict)
    schema_gained: dict[str, dict[str, str]] = field(default_factory=dict)

    @property
    def cached(self) -> bool:
        return self.status == "cached"

    def schema_notes(self) -> list[str]:
        """``dataset 's3://lake/events/' gained column 'channel' (String)``, one per column."""
        return [
            f"dataset '{dataset}' gained column '{column}' ({dtype}) (schema_mode='evolve')"
            for dataset, columns in sorted(self.schema_gained.items())
            for column, dtype in columns.items()
        ]


@dataclass
class RunResult:
    pipeline: str
    run_id: str
    storage: str
    status: Literal["succeeded", "failed", "interrupted"] = "succeeded"
    seconds: float = 0.0
    tasks: dict[str, TaskRun] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.status == "succeeded"

    @property
    def failed_task(self) -> TaskRun | None:
        return next((t for t in self.tasks.values() if t.status == "failed"), None)

    def __getitem__(self, task: str) -> TaskRun:
        return self.tasks[task]

    def summary(self) -> str:
        """A plain-text table: task, status, rows, bytes, seconds."""
        lines = [f"{self.pipeline}: {self.status} in {self.seconds:.2f} s (run {self.run_id})"]
        for task in self.tasks.values():
            rows = "-" if task.rows is None else f"{task.rows:,}"
            size = "-" if task.bytes is None else f"{task.bytes:,}"
            lines.append(
                f"  {task.name:<30} {task.status:<9} {rows:>12} rows {size:>14} B {task.seconds:8.2f} s"
            )
            lines += [f"    {note}" for note in task.schema_notes()]
        return "\n".join(lines)
