"""``run(mode="analyze")``: what a pipeline will cost per run on AWS, which chain of tasks
bounds its duration, and which resources it deploys. Reads the typed DAG (and the local
run history) only; nothing is deployed or run."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from glacier.analysis.cost import CostLine, TaskEstimate, estimate_task, service_for
from glacier.analysis.prices import US_EAST_1, PriceModel
from glacier.analysis.transitions import count_transitions, estimate_transitions
from glacier.analysis.usage import UsageAssumptions, load_history, task_usage
from glacier.dag.contract import CompiledPipeline
from glacier.dag.model import PipelineDAG, dependency_map
from glacier.dag.paths import CriticalPath, critical_path
from glacier.errors import ConfigError


@dataclass(frozen=True)
class CostEstimate:
    """The cost of ``runs`` executions, as checkable lines. ``print()`` shows a breakdown."""

    pipeline: str
    runs: int
    lines: tuple[CostLine, ...]
    assumptions: tuple[str, ...]

    @property
    def total(self) -> float:
        return self.runs * sum(line.usd for line in self.lines)

    @property
    def per_run(self) -> float:
        return sum(line.usd for line in self.lines)

    def by_component(self) -> dict[str, float]:
        totals: dict[str, float] = {}
        for line in self.lines:
            totals[line.component] = totals.get(line.component, 0.0) + self.runs * line.usd
        return totals

    def __float__(self) -> float:
        return self.total

    def __str__(self) -> str:
        head = f"Estimated cost of pipeline '{self.pipeline}'"
        head += " per run" if self.runs == 1 else f" for {self.runs} runs"
        rows = [f"{head}: ${self.total:.6f} (us-east-1 list prices)"]
        for component, usd in self.by_component().items():
            rows.append(f"  {component:<30} ${usd:.6f}")
        rows.extend(f"  assumed: {note}" for note in self.assumptions)
        return "\n".join(rows)


@dataclass(frozen=True)
class PipelineAnalysis:
    pipeline: str
    tasks: tuple[TaskEstimate, ...]
    transitions: int
    transitions_source: str  # "definition" or "estimate"
    critical_path: CriticalPath
    resource_counts: dict[str, int]
    assumptions: tuple[str, ...]
    history_source: str | None
    prices: PriceModel = field(repr=False)
    warnings: tuple[str, ...] = ()

    def estimated_cost(self, runs: int = 1) -> CostEstimate:
        if runs < 1:
            raise ConfigError(
                f"Cost of pipeline '{self.pipeline}' asked for {runs} runs.",
                fix="pass runs=1 or more.",
            )
        lines = [line for task in self.tasks for line in task.lines]
        price = self.prices.sfn_transition
        lines.append(CostLine("step functions transitions", None, self.transitions, "transition", price))
        return CostEstimate(self.pipeline, runs, tuple(lines), self.assumptions)

    def to_dict(self, runs: int = 1) -> dict[str, Any]:
        cost = self.estimated_cost(runs)
        return {
            "pipeline": self.pipeline,
            "runs": runs,
            "total_usd": cost.total,
            "per_run_usd": cost.per_run,
            "by_component_usd": cost.by_component(),
            "tasks": [
                {
                    "task": t.task,
                    "service": t.service,
                    "seconds": t.seconds,
                    "measured": t.measured,
                    "usd_per_run": t.usd,
                }
                for t in self.tasks
            ],
            "state_transitions": self.transitions,
            "state_transitions_source": self.transitions_source,
            "critical_path": {"tasks": list(self.critical_path.tasks), "seconds": self.critical_path.seconds},
            "resource_counts": self.resource_counts,
            "history": self.history_source,
            "assumptions": list(self.assumptions),
            "warnings": list(self.warnings),
        }

    def render(self, runs: int = 1) -> str:
        rows = [str(self.estimated_cost(runs)), "", "Per task (one run):"]
        for t in self.tasks:
            origin = "measured" if t.measured else "assumed"
            rows.append(f"  {t.task:<28} {t.service:<15} {t.seconds:9.2f} s ({origin})  ${t.usd:.6f}")
        rows.append(f"  state transitions: {self.transitions} (from the {self.transitions_source})")
        path = " -> ".join(self.critical_path.tasks)
        rows += ["", f"Critical path: {path} ({self.critical_path.seconds:.2f} s)", "", "Resources:"]
        rows.extend(f"  {kind:<28} {count}" for kind, count in self.resource_counts.items())
        rows.append(f"\nHistory: {self.history_source or 'none (every duration and size assumed)'}")
        rows.extend(f"Warning: {w}" for w in self.warnings)
        return "\n".join(rows)

    def __str__(self) -> str:
        return self.render()


def analyze(
    pipeline: CompiledPipeline | PipelineDAG,
    *,
    history: Mapping[str, Any] | None = None,
    state_dir: str | Path | None = None,
    prices: PriceModel | None = None,
    assumptions: UsageAssumptions | None = None,
    definition: Mapping[str, Any] | None = None,
) -> PipelineAnalysis:
    """Analyse a pipeline. ``history`` (task name -> stats with ``seconds``, ``output_bytes``
    or ``bytes``, optionally ``input_bytes``/``rows``) overrides the local run history in
    ``state_dir``; ``definition`` is the state machine definition to count transitions on.
    Analysis reads the DAG only, so a DAG alone (e.g. read back from JSON) will do."""
    dag = pipeline.dag if isinstance(pipeline, CompiledPipeline) else pipeline
    prices = prices or US_EAST_1
    assume = assumptions or UsageAssumptions()
    source: str | None = "given history"
    if history is None:
        history, source = load_history(dag, state_dir)
    if not history:
        source = None
    usage, notes = task_usage(dag, history, assume)
    notes.extend(spark_placement(dag))
    estimates = tuple(estimate_task(dag, t, usage[t.name], prices, assume) for t in dag.tasks)
    if definition is not None:
        transitions, transitions_source = count_transitions(definition), "definition"
    else:
        transitions, transitions_source = estimate_transitions(dag), "estimate"
        notes.append(f"{transitions} state transitions per run (one per task, one per fan-out, one Succeed)")
    return PipelineAnalysis(
        pipeline=dag.name,
        tasks=estimates,
        transitions=transitions,
        transitions_source=transitions_source,
        critical_path=critical_path(dependency_map(dag.tasks), {e.task: e.seconds for e in estimates}),
        resource_counts=resource_counts(dag),
        assumptions=tuple(notes + assume.describe()),
        history_source=source,
        prices=prices,
        warnings=tuple(_timeout_warnings(dag, estimates)),
    )


def resource_counts(dag: PipelineDAG) -> dict[str, int]:
    """AWS resources by kind, as the deployment maps the DAG (``glacier plan`` lists every
    Pulumi resource, including the per-bucket settings counted here as one bucket)."""
    services = Counter(service_for(t) for t in dag.tasks)
    managed = {d.bucket for d in dag.datasets if d.managed}
    external = {d.bucket for d in dag.datasets if not d.managed} - managed
    counts = {
        "lambda functions": services["lambda"],
        "glue jobs": services["glue"],
        "emr-serverless applications": services["emr-serverless"],
        "iam roles": len(dag.tasks) + 1,  # one per task + the state machine's
        "log groups": len(dag.tasks) + 1,
        "state machines": 1,
        "s3 buckets (managed)": len(managed) + 1,  # + the artifacts bucket
        "s3 buckets (external)": len(external),
        "datasets": len(dag.datasets),
        "tasks": len(dag.tasks),
    }
    return counts


def _timeout_warnings(dag: PipelineDAG, estimates: tuple[TaskEstimate, ...]) -> list[str]:
    warnings = []
    for estimate in estimates:
        config = dag.task(estimate.task).executor.config
        limit = getattr(config, "timeout", None)
        if estimate.service == "lambda" and limit is not None and estimate.seconds > limit:
            warnings.append(
                f"task '{estimate.task}' is estimated at {estimate.seconds:.0f} s, beyond its "
                f"Lambda timeout of {limit} s: raise LambdaConfig(timeout=...) or use a spark executor"
            )
    return warnings


def spark_placement(dag: PipelineDAG) -> list[str]:
    """Where each spark task's work runs (the Spark entry's mode), said plainly."""
    from glacier.runtime.event import partition_columns

    notes: list[str] = []
    for task in dag.tasks:
        if task.executor.kind != "spark":
            continue
        keys = partition_columns(task)
        if task.dataframe_api == "pyspark":
            notes.append(f"task '{task.name}' runs pyspark on the cluster")
        elif keys:
            notes.append(f"task '{task.name}' runs Polars co-partitioned by {keys} on the cluster's workers")
        else:
            notes.append(
                f"task '{task.name}' runs on one node (Polars on the Spark driver, no partition_by): "
                "give it partition_by=[keys] to use the workers, or run it on provider.serverless()"
            )
    return notes
