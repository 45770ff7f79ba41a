"""The report's data: one JSON-ready document per pipeline (lineage graph, the chosen run,
per-task figures and trends, the cost estimate), read by the page's script.

Everything here is plain data computed from the typed DAG, a ``RunSource`` and
``glacier.analysis.analyze``; nothing is rendered here.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from glacier.config import LambdaConfig, SparkConfig
from glacier.dag.model import DatasetNode, PipelineDAG, TaskNode
from glacier.report.runs import ReportError, RunSource, RunView, TaskOutcome, critical_path, task_trends


def select_runs(
    dags: Sequence[PipelineDAG], source: RunSource, run_id: str | None
) -> dict[str, RunView | None]:
    """The run each pipeline's report shows: ``run_id``'s for its pipeline, else the latest."""
    chosen: dict[str, RunView | None] = {}
    for dag in dags:
        latest = source.runs(dag, 1)
        chosen[dag.name] = latest[0] if latest else None
    if run_id is None:
        return chosen
    for dag in dags:
        found = source.find(dag, run_id)
        if found is not None:
            chosen[dag.name] = found
            return chosen
    names = ", ".join(f"'{dag.name}'" for dag in dags)
    recent = [view.run_id for dag in dags for view in source.runs(dag, 3)]
    hint = f"pass one of the recent runs ({', '.join(recent)})" if recent else "run the pipeline first"
    raise ReportError(
        f"No run '{run_id}' of pipeline(s) {names} in the {source.describe()}.",
        fix=f"{hint}, or leave out --run for the latest run.",
    )


def pipeline_document(
    dag: PipelineDAG,
    run: RunView | None,
    history: Sequence[RunView],
    analysis: Any,
) -> dict[str, Any]:
    """``history``: the last runs, newest first (for trends); ``analysis``: ``analyze(dag)``."""
    estimates = {estimate.task: estimate for estimate in analysis.tasks}
    trends = task_trends(dag, history)
    latest = _latest_outcomes(dag, run, history)
    return {
        "name": dag.name,
        "description": dag.description,
        "storage": dag.storage.kind,
        "graph": {
            "nodes": [_dataset_node(dag, ds) for ds in dag.datasets]
            + [_task_node(task, latest.get(task.name)) for task in dag.tasks],
            "edges": [list(edge) for edge in dag.edges],
        },
        "run": _run(dag, run) if run is not None else None,
        "runs": [_run_summary(view) for view in history],
        "tasks": [
            _task_row(task, latest.get(task.name), trends[task.name], estimates.get(task.name))
            for task in dag.tasks
        ],
        "cost": _cost(analysis),
    }


def _latest_outcomes(
    dag: PipelineDAG, run: RunView | None, history: Sequence[RunView]
) -> dict[str, tuple[str, TaskOutcome]]:
    """Per task, (run id, outcome): from the chosen run, else the newest run that has it."""
    latest: dict[str, tuple[str, TaskOutcome]] = {}
    for view in [run, *history] if run is not None else history:
        for name, outcome in view.tasks.items():
            latest.setdefault(name, (view.run_id, outcome))
    return latest


def columns(dataset: DatasetNode) -> list[list[str]] | None:
    """The dataset's columns as [name, dtype] pairs, when the DAG knows them (a ``schema``
    field: column -> Polars dtype name; DAGs built before schemas carry none)."""
    # Not plain getattr: on a pydantic model without the field, `schema` is pydantic's own
    # (deprecated) classmethod. The field may also be stored under an alias.
    fields = type(dataset).model_fields
    name = next((n for n, f in fields.items() if n == "schema" or f.alias == "schema"), None)
    schema = getattr(dataset, name, None) if name else None
    if not schema or callable(schema):
        return None
    items = schema.items() if isinstance(schema, Mapping) else schema
    return [[str(column), str(dtype)] for column, dtype in items]


def executor_detail(task: TaskNode) -> str:
    config = task.executor.config
    if isinstance(config, SparkConfig):
        return f"{config.engine} · {config.workers} x {config.worker_type}"
    if isinstance(config, LambdaConfig):
        return f"{config.memory} MB · {config.architecture}"
    return ""


def _dataset_node(dag: PipelineDAG, dataset: DatasetNode) -> dict[str, Any]:
    return {
        "id": f"dataset:{dataset.id}",
        "kind": "dataset",
        "label": dataset.id,
        "format": dataset.format.value,
        "columns": columns(dataset),
        "source": dag.producer(dataset.id) is None,
        "managed": dataset.managed,
    }


def _task_node(task: TaskNode, latest: tuple[str, TaskOutcome] | None) -> dict[str, Any]:
    outcome = latest[1] if latest else None
    return {
        "id": f"task:{task.name}",
        "kind": "task",
        "label": task.name,
        "executor": task.executor.kind,
        "detail": executor_detail(task),
        "status": outcome.status if outcome else None,
        "seconds": outcome.seconds if outcome else None,
        "run_id": latest[0] if latest else None,
    }


def _run(dag: PipelineDAG, run: RunView) -> dict[str, Any]:
    # Bars start at the run's start, or at the first task's when it was recorded earlier
    # (clocks: both are wall time, but a cloud execution's start precedes its first state).
    origin = min([run.started_at, *(o.start for o in run.tasks.values())])
    order = {task.name: i for i, task in enumerate(dag.tasks)}
    outcomes = sorted(run.tasks.values(), key=lambda o: (o.start, order.get(o.task, 0)))
    return {
        "id": run.run_id,
        "status": run.status,
        "started_at": run.started_at,
        "seconds": run.seconds,
        "origin": run.origin,
        "error": run.error,
        "critical_path": critical_path(dag, run),
        "not_run": [task.name for task in dag.tasks if task.name not in run.tasks],
        "tasks": [
            {
                "task": o.task,
                "status": o.status,
                "attempts": o.attempts,
                "offset": round(o.start - origin, 6),
                "seconds": o.seconds,
                "rows": o.rows,
                "bytes": o.bytes,
                "error": o.error,
                "fix": o.fix,
            }
            for o in outcomes
        ],
    }


def _run_summary(run: RunView) -> dict[str, Any]:
    return {"id": run.run_id, "status": run.status, "started_at": run.started_at, "seconds": run.seconds}


def _task_row(
    task: TaskNode, latest: tuple[str, TaskOutcome] | None, trend: Sequence[Any], estimate: Any
) -> dict[str, Any]:
    outcome = latest[1] if latest else None
    return {
        "name": task.name,
        "executor": task.executor.kind,
        "detail": executor_detail(task),
        "cache": task.cache,
        "retries": task.retries,
        "inputs": sorted(set(task.inputs.values())),
        "output": task.output,
        "last": (
            {
                "run_id": latest[0],
                "status": outcome.status,
                "attempts": outcome.attempts,
                "seconds": outcome.seconds,
                "rows": outcome.rows,
                "bytes": outcome.bytes,
                "error": outcome.error,
                "fix": outcome.fix,
            }
            if latest and outcome
            else None
        ),
        "trend": [
            {"run_id": p.run_id, "status": p.status, "seconds": p.seconds, "rows": p.rows} for p in trend
        ],
        "cache_hits": sum(1 for p in trend if p.status == "cached"),
        "estimate": (
            {
                "service": estimate.service,
                "seconds": estimate.seconds,
                "measured": estimate.measured,
                "usd": estimate.usd,
            }
            if estimate is not None
            else None
        ),
    }


def _cost(analysis: Any) -> dict[str, Any]:
    cost = analysis.estimated_cost(1)
    return {
        "per_run_usd": cost.per_run,
        "by_component_usd": cost.by_component(),
        "critical_path": {
            "tasks": list(analysis.critical_path.tasks),
            "seconds": analysis.critical_path.seconds,
        },
        "transitions": analysis.transitions,
        "history": analysis.history_source,
        "assumptions": list(analysis.assumptions),
        "warnings": list(analysis.warnings),
    }


def report_document(
    dags: Sequence[PipelineDAG],
    source: RunSource,
    *,
    run_id: str | None = None,
    trend_runs: int = 10,
    state_dir: str | Path | None = None,
    title: str | None = None,
    generated_at: float | None = None,
) -> dict[str, Any]:
    """The whole report's data: every pipeline's document, in the order given."""
    import time

    from glacier import __version__
    from glacier.analysis import analyze

    if trend_runs < 1:
        raise ReportError(
            f"The report was asked for a trend over {trend_runs} runs.",
            fix="pass --runs 1 or more (default 10).",
        )
    chosen = select_runs(dags, source, run_id)
    pipelines = [
        pipeline_document(
            dag, chosen[dag.name], source.runs(dag, trend_runs), analyze(dag, state_dir=state_dir)
        )
        for dag in dags
    ]
    return {
        "title": title or ", ".join(dag.name for dag in dags),
        "generated_at": generated_at if generated_at is not None else time.time(),
        "glacier_version": __version__,
        "source": source.describe(),
        "pipelines": pipelines,
    }
