"""``glacier report``: one self-contained HTML file showing pipelines and their runs — the
lineage graph, a run's timeline with its critical path, per-task figures and trends, and the
``glacier cost`` estimate beside the measured durations.

A backend: it takes ``CompiledPipeline``s (or their ``PipelineDAG``s) and a run source (the
local run history, or a deployed state machine's executions with ``glacier.report.cloud``),
never the DSL.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from glacier.dag.contract import CompiledPipeline
from glacier.dag.model import PipelineDAG
from glacier.report.runs import LocalRuns, ReportError, RunSource, RunView, TaskOutcome, critical_path

__all__ = [
    "REPORT_MIN_TASKS",
    "LocalRuns",
    "ReportError",
    "RunSource",
    "RunView",
    "TaskOutcome",
    "build_report",
    "critical_path",
    "default_report_path",
    "maybe_report_path",
    "write_report",
]

# `glacier run` writes a report only for runs of at least this many tasks ("more than a few").
REPORT_MIN_TASKS = 4


def _dags(pipelines: Sequence[CompiledPipeline | PipelineDAG]) -> list[PipelineDAG]:
    return [p.dag if isinstance(p, CompiledPipeline) else p for p in pipelines]


def build_report(
    pipelines: Sequence[CompiledPipeline | PipelineDAG],
    *,
    source: RunSource | None = None,
    state_dir: str | Path | None = None,
    run_id: str | None = None,
    trend_runs: int = 10,
    title: str | None = None,
) -> str:
    """The report page (HTML text). ``source`` defaults to the local history in ``state_dir``;
    ``run_id`` picks the run shown (default: each pipeline's latest)."""
    from glacier.report.document import report_document
    from glacier.report.html import render_html

    dags = _dags(pipelines)
    if not dags:
        raise ReportError("The report was given no pipelines.", fix="pass at least one pipeline.")

    def page(runs: RunSource) -> str:
        return render_html(
            report_document(
                dags, runs, run_id=run_id, trend_runs=trend_runs, state_dir=state_dir, title=title
            )
        )

    if source is not None:
        return page(source)
    local = LocalRuns(state_dir)
    try:
        return page(local)
    finally:
        local.close()


def write_report(
    pipelines: Sequence[CompiledPipeline | PipelineDAG],
    output: str | Path,
    **options: Any,
) -> Path:
    """Build the report (options as ``build_report``) and write it to ``output``; returns
    the file's absolute path."""
    from glacier.report.html import write_html

    return write_html(build_report(pipelines, **options), output)


def default_report_path(state_dir: str | Path | None = None) -> Path:
    """Where ``glacier run`` writes its report: ``<state dir>/report.html``."""
    from glacier.runner.history import default_state_dir

    return (Path(state_dir) if state_dir is not None else default_state_dir()) / "report.html"


def maybe_report_path(
    pipelines: Sequence[CompiledPipeline | PipelineDAG],
    results: Sequence[Any],
    *,
    state_dir: str | Path | None = None,
    quiet: bool = False,
    output: str | Path | None = None,
    min_tasks: int = REPORT_MIN_TASKS,
) -> Path | None:
    """After ``glacier run``: write the report of the runs that just ended and return its
    path, or None when ``quiet`` or when the runs had fewer than ``min_tasks`` tasks.

    ``results`` are the runner's ``RunResult``s (``.run_id``, ``.pipeline``, ``.tasks``: name
    -> ``TaskRun`` with ``.fix``); a failed run's result is ``ExecutionError.result``. Each
    pipeline shows the run in ``results``, and failed tasks the fix the runner gave."""
    if quiet or sum(len(r.tasks) for r in results) < min_tasks:
        return None
    ran = {r.pipeline for r in results}
    dags = [dag for dag in _dags(pipelines) if dag.name in ran]
    fixes: dict[str, str] = {}
    for result in results:
        fixes.update(_fixes(result.tasks))
    source = LocalRuns(state_dir, fixes=fixes)
    try:
        return write_report(
            dags,
            output if output is not None else default_report_path(state_dir),
            source=_PinnedRuns(source, {r.pipeline: r.run_id for r in results}),
            state_dir=state_dir,
        )
    finally:
        source.close()


def _fixes(tasks: Mapping[str, Any]) -> dict[str, str]:
    return {name: run.fix for name, run in tasks.items() if getattr(run, "fix", None)}


class _PinnedRuns:
    """A run source whose latest run per pipeline is the given one (the run that just
    ended, even if another process recorded a later one meanwhile)."""

    def __init__(self, inner: LocalRuns, pinned: Mapping[str, str]) -> None:
        self.inner = inner
        self.pinned = dict(pinned)

    def describe(self) -> str:
        return self.inner.describe()

    def find(self, dag: PipelineDAG, run_id: str) -> RunView | None:
        return self.inner.find(dag, run_id)

    def runs(self, dag: PipelineDAG, limit: int) -> list[RunView]:
        runs = self.inner.runs(dag, limit)
        wanted = self.pinned.get(dag.name)
        if limit == 1 and wanted is not None and (not runs or runs[0].run_id != wanted):
            found = self.inner.find(dag, wanted)
            return [found] if found is not None else runs
        return runs
