"""Runs as the report shows them, whichever history they come from (the local SQLite history
or a deployed state machine's executions), and what is derived from them: the critical path
of one run and each task's trend over the last runs.

A ``RunSource`` yields ``RunView``s newest first. ``LocalRuns`` reads ``glacier.runner.history``
through its public read API only; ``glacier.report.cloud.CloudRuns`` reads Step Functions.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from glacier.dag.model import PipelineDAG
from glacier.errors import GlacierError


class ReportError(GlacierError):
    """The report cannot be built as asked (unknown run, missing asset, bad output path)."""


@dataclass(frozen=True)
class TaskOutcome:
    """One task in one run. ``start`` is wall-clock epoch seconds; ``seconds`` its duration."""

    task: str
    status: str  # succeeded | cached | failed | skipped | running
    attempts: int
    start: float
    seconds: float
    rows: int | None = None
    bytes: int | None = None
    error: str | None = None
    fix: str | None = None

    @property
    def end(self) -> float:
        return self.start + self.seconds


@dataclass(frozen=True)
class RunView:
    run_id: str
    pipeline: str
    status: str
    started_at: float
    seconds: float | None
    origin: str  # "local run history in ..." or "Step Functions execution ..."
    tasks: Mapping[str, TaskOutcome] = field(default_factory=dict)
    error: str | None = None


class RunSource(Protocol):
    """Where runs come from. ``runs`` is newest first."""

    def runs(self, dag: PipelineDAG, limit: int) -> list[RunView]: ...

    def find(self, dag: PipelineDAG, run_id: str) -> RunView | None: ...

    def describe(self) -> str: ...


class LocalRuns:
    """Runs from the local history database in ``state_dir`` (default ``.glacier``).

    ``fixes`` (task -> fix) completes failed tasks whose history row carries no fix: the
    runner's own ``TaskRun.fix`` of a run that just ended."""

    def __init__(self, state_dir: str | Path | None = None, fixes: Mapping[str, str] | None = None) -> None:
        from glacier.runner.history import History

        self.history = History(state_dir)
        self.fixes = dict(fixes or {})

    def describe(self) -> str:
        return f"local run history in {self.history.path}"

    def runs(self, dag: PipelineDAG, limit: int) -> list[RunView]:
        return [self._view(dag, record) for record in self.history.runs(dag.name, limit)]

    def find(self, dag: PipelineDAG, run_id: str) -> RunView | None:
        # History has no lookup by id: its runs are few (one row per run), so scan them.
        for record in self.history.runs(dag.name, limit=1_000_000):
            if record.run_id == run_id:
                return self._view(dag, record)
        return None

    def recent_ids(self, dag: PipelineDAG, limit: int = 5) -> list[str]:
        return [record.run_id for record in self.history.runs(dag.name, limit)]

    def close(self) -> None:
        self.history.close()

    def _view(self, dag: PipelineDAG, record: Any) -> RunView:
        known = {task.name for task in dag.tasks}
        tasks = {
            row.task: TaskOutcome(
                task=row.task,
                status=row.status,
                attempts=row.attempts,
                start=row.started_at,
                seconds=row.seconds,
                rows=row.rows,
                bytes=row.output_bytes,
                error=row.error,
                fix=_fix(row, self.fixes),
            )
            for row in self.history.task_rows(record.run_id)
            if row.task in known  # a task since removed from the pipeline is not drawn
        }
        return RunView(
            run_id=record.run_id,
            pipeline=record.pipeline,
            status=record.status,
            started_at=record.started_at,
            seconds=record.seconds,
            origin=self.describe(),
            tasks=tasks,
            error=record.error,
        )


def _fix(row: Any, fixes: Mapping[str, str]) -> str | None:
    if row.status != "failed":
        return None
    # A history that records the task's own fix (a `fix` column) wins; then the fix the
    # runner handed back for this run; then what the runner itself says with no fix.
    stored = getattr(row, "fix", None)
    if stored:
        return str(stored)
    return fixes.get(row.task) or f"fix task '{row.task}' (its error is above), then run again"


def critical_path(dag: PipelineDAG, run: RunView) -> list[str]:
    """The chain of tasks that set the run's end: from the task that finished last, back
    through the upstream task that finished last before it (the one it waited for)."""
    outcomes = run.tasks
    if not outcomes:
        return []
    end = max(outcomes.values(), key=lambda o: (o.end, o.task)).task
    chain = [end]
    while True:
        upstream = [u for u in dag.upstream_tasks(chain[-1]) if u in outcomes]
        if not upstream:
            break
        chain.append(max(upstream, key=lambda u: (outcomes[u].end, u)))
    return list(reversed(chain))


@dataclass(frozen=True)
class TrendPoint:
    run_id: str
    status: str
    seconds: float
    rows: int | None


def task_trends(dag: PipelineDAG, runs: Sequence[RunView]) -> dict[str, list[TrendPoint]]:
    """Per task, its outcome in each of ``runs`` (given newest first), oldest first."""
    trends: dict[str, list[TrendPoint]] = {task.name: [] for task in dag.tasks}
    for run in reversed(runs):
        for name, outcome in run.tasks.items():
            if name in trends:
                trends[name].append(TrendPoint(run.run_id, outcome.status, outcome.seconds, outcome.rows))
    return trends
