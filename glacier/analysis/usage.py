"""What each task consumes per run: measured (local run history) or assumed, and how a
local measurement is scaled to the service the task deploys to.

The scaling rules (also in ``docs/cost-model.md``):

- Lambda: ``init + local_seconds * max(1, full_vcpu_mb / memory) + io_bytes / s3_throughput``.
  Lambda gives a function CPU in proportion to its memory (1,769 MB is one full vCPU); a
  smaller function runs proportionally slower than the laptop core the history was measured
  on, a larger one is assumed no faster (Polars tasks of this size are mostly I/O bound).
  Reading and writing S3 replaces the local disk: its bytes over ``s3_throughput``.
- Glue / EMR Serverless: ``spark_startup + local_seconds + io_bytes / s3_throughput``. A
  Polars task runs on the Spark driver, which has at least the laptop's one core.
- Bytes: a task's output bytes come from its own history; its input bytes from the history
  of the tasks that produce them (or its own ``input_bytes`` if the history records them);
  anything unknown is ``default_dataset_bytes``.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict

from glacier.dag.model import PipelineDAG


class UsageAssumptions(BaseModel):
    """The numbers used when the history has nothing to say, and the scaling constants."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    default_task_seconds: float = 30.0
    default_dataset_bytes: int = 100_000_000
    s3_throughput_bytes_per_second: float = 100_000_000.0
    s3_part_bytes: int = 8 * 1024 * 1024  # ranged GET size and multipart part size
    lambda_full_vcpu_mb: int = 1769
    lambda_init_seconds: float = 1.0  # cold start: the runtime and polars import (bench/)
    spark_startup_seconds: float = 30.0  # Spark session + pip install of polars, billed

    def describe(self) -> list[str]:
        return [
            f"S3 throughput {self.s3_throughput_bytes_per_second / 1e6:g} MB/s per task",
            f"S3 ranged reads and multipart parts of {self.s3_part_bytes / 2**20:g} MiB",
            f"Lambda: {self.lambda_init_seconds:g} s cold start per run; local seconds scaled by "
            f"max(1, {self.lambda_full_vcpu_mb} MB / memory)",
            f"Glue / EMR Serverless: {self.spark_startup_seconds:g} s of Spark start-up per run",
        ]


@dataclass(frozen=True)
class TaskUsage:
    """One task's measured or assumed consumption for one run, before scaling."""

    task: str
    local_seconds: float
    input_bytes: dict[str, int]  # dataset id -> bytes read
    output_bytes: int
    rows: int | None
    measured: bool  # False: local_seconds came from the assumptions

    @property
    def total_input_bytes(self) -> int:
        return sum(self.input_bytes.values())


def _field(stats: Any, *names: str) -> Any:
    for name in names:
        value = stats.get(name) if isinstance(stats, Mapping) else getattr(stats, name, None)
        if value is not None:
            return value
    return None


def task_usage(
    dag: PipelineDAG, history: Mapping[str, Any], assumptions: UsageAssumptions
) -> tuple[dict[str, TaskUsage], list[str]]:
    """Per-task usage from history records (any object or mapping with ``seconds``,
    ``output_bytes`` or ``bytes``, optional ``input_bytes`` and ``rows``), plus notes
    saying which numbers were assumed."""
    dataset_bytes: dict[str, int] = {}
    for task in dag.tasks:
        out = _field(history.get(task.name), "output_bytes", "bytes")
        if out is not None:
            dataset_bytes[task.output] = int(out)
    usage: dict[str, TaskUsage] = {}
    assumed_seconds: list[str] = []
    assumed_datasets: set[str] = set()
    for task in dag.tasks:
        stats = history.get(task.name)
        seconds = _field(stats, "seconds")
        recorded_inputs = _field(stats, "input_bytes")
        inputs: dict[str, int] = {}
        for dataset_id in sorted(set(task.inputs.values())):
            if dataset_id in dataset_bytes:
                inputs[dataset_id] = dataset_bytes[dataset_id]
            elif isinstance(recorded_inputs, Mapping) and dataset_id in recorded_inputs:
                inputs[dataset_id] = int(recorded_inputs[dataset_id])
            else:
                inputs[dataset_id] = -1  # filled below
        if isinstance(recorded_inputs, int | float) and -1 in inputs.values():
            # A single recorded total: share what the known inputs do not explain.
            unknown = [d for d, b in inputs.items() if b < 0]
            rest = max(0, int(recorded_inputs) - sum(b for b in inputs.values() if b >= 0))
            for dataset_id in unknown:
                inputs[dataset_id] = rest // len(unknown)
        for dataset_id, size in inputs.items():
            if size < 0:
                inputs[dataset_id] = assumptions.default_dataset_bytes
                assumed_datasets.add(dataset_id)
        output = dataset_bytes.get(task.output)
        if output is None:
            output = assumptions.default_dataset_bytes
            assumed_datasets.add(task.output)
        if seconds is None:
            assumed_seconds.append(task.name)
        rows = _field(stats, "rows")
        usage[task.name] = TaskUsage(
            task=task.name,
            local_seconds=float(seconds) if seconds is not None else assumptions.default_task_seconds,
            input_bytes=inputs,
            output_bytes=int(output),
            rows=int(rows) if rows is not None else None,
            measured=seconds is not None,
        )
    notes: list[str] = []
    if assumed_seconds:
        notes.append(
            f"no run history for {', '.join(assumed_seconds)}: assumed "
            f"{assumptions.default_task_seconds:g} s of local compute each"
        )
    if assumed_datasets:
        notes.append(
            f"size unknown for {', '.join(sorted(assumed_datasets))}: assumed "
            f"{assumptions.default_dataset_bytes / 1e6:g} MB each"
        )
    return usage, notes


def load_history(dag: PipelineDAG, state_dir: str | Path | None) -> tuple[dict[str, Any], str]:
    """The latest successful stats per task from the local run history, and where they came
    from. An absent history database is not an error: the analysis then assumes."""
    try:
        from glacier.runner.history import History
    except ModuleNotFoundError:  # the local runner is not installed: nothing was measured
        return {}, "none"
    folder = Path(state_dir or os.environ.get("GLACIER_STATE_DIR") or ".glacier")
    stats = dict(History(folder).latest_task_stats(dag.name))
    return stats, f"local run history in {folder}"
