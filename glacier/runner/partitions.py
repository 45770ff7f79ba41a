"""Partition runs and backfills on this machine.

A partition run is a normal run whose events are narrowed to one partition
(``glacier.runtime.partition``): its stats, cache keys and history are that partition's. A
backfill runs many partition runs, ``workers`` at a time (each holds one partition's frames
in memory, so the cap bounds memory), and reports each: a failed partition leaves the others
published, and, with ``cache=True`` tasks, only it runs again next time.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from glacier.config import StorageConfig
from glacier.dag.contract import CompiledPipeline
from glacier.dag.model import PipelineDAG
from glacier.dag.partitions import (
    Partition,
    check_run_partition,
    check_whole_run,
    daily_values,
    partition_label,
    partitioned_datasets,
)
from glacier.errors import ConfigError

PartitionStatus = Literal["succeeded", "cached", "failed"]


def run_partition(dag: PipelineDAG, partition: Mapping[str, str] | None) -> Partition | None:
    """The partition a run processes, checked (None: a whole run, which must not write a
    partitioned dataset)."""
    if partition is None:
        check_whole_run(dag)
        return None
    return check_run_partition(dag, dict(partition))


@dataclass(frozen=True)
class PartitionOutcome:
    partition: str  # ``date=2026-11-30``
    status: PartitionStatus
    seconds: float
    run_id: str
    tasks: dict[str, str]  # task -> its status
    error: str | None = None


@dataclass
class BackfillResult:
    pipeline: str
    partitions: list[PartitionOutcome] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return all(p.status != "failed" for p in self.partitions)

    @property
    def failed(self) -> list[PartitionOutcome]:
        return [p for p in self.partitions if p.status == "failed"]


def partition_key(dag: PipelineDAG) -> str:
    """The one key a backfill ranges over."""
    keys = {ds.partition_by for ds in partitioned_datasets(dag)}
    if not keys:
        raise ConfigError(
            f"Pipeline '{dag.name}' has no partitioned dataset to backfill.",
            fix="declare partition_by=['date'] on its directory datasets, or use glacier run.",
        )
    if len(keys) > 1 or len(next(iter(keys))) != 1:
        raise ConfigError(
            f"Pipeline '{dag.name}' is partitioned by {sorted(map(list, keys))}: a backfill ranges "
            "over one key.",
            fix="partition its datasets by one key (e.g. partition_by=['date']), or run each "
            "partition with glacier run --partition.",
        )
    return next(iter(keys))[0]


def backfill_partitions(
    dag: PipelineDAG,
    values: Sequence[str] | None = None,
    start: str | None = None,
    end: str | None = None,
) -> list[Partition]:
    """The partitions of a backfill, each checked before any runs: ``values``, or every day
    from ``start`` to ``end``."""
    if (values is None) == (start is None and end is None):
        raise ConfigError(
            f"Backfill of pipeline '{dag.name}' needs either a date range or a list of values.",
            fix="pass --from 2026-11-01 --to 2026-11-30, or --values a,b,c (not both).",
        )
    if values is None:
        if start is None or end is None:
            raise ConfigError(
                f"Backfill of pipeline '{dag.name}' got only one end of its date range.",
                fix="pass both --from and --to.",
            )
        values = daily_values(start, end)
    if not values:
        raise ConfigError(f"Backfill of pipeline '{dag.name}' got no values.", fix="pass --values a,b,c.")
    key = partition_key(dag)
    unique = list(dict.fromkeys(values))
    return [check_run_partition(dag, {key: value}) for value in unique]


def backfill(
    compiled: CompiledPipeline,
    *,
    values: Sequence[str] | None = None,
    start: str | None = None,
    end: str | None = None,
    storage: StorageConfig | str | None = None,
    state_dir: str | Path | None = None,
    workers: int | None = None,
    retry_delay: float = 1.0,
) -> BackfillResult:
    """Run every partition of the range (``workers`` partitions at a time); never raises
    for a failing partition: its outcome says so."""
    from glacier.runner.engine import run_pipeline

    partitions = backfill_partitions(compiled.dag, values, start, end)
    cap = workers if workers is not None else min(4, os.cpu_count() or 1)
    if cap < 1:
        raise ConfigError(f"Backfill got workers={cap}.", fix="pass at least 1 worker.")

    def one(partition: Partition) -> PartitionOutcome:
        result = run_pipeline(
            compiled,
            storage=storage,
            state_dir=state_dir,
            retry_delay=retry_delay,
            raise_on_failure=False,
            partition=partition,
        )
        statuses: dict[str, str] = {name: run.status for name, run in result.tasks.items()}
        failed = result.failed_task
        status: PartitionStatus = (
            "failed"
            if not result.ok
            else "cached"
            if all(s == "cached" for s in statuses.values())
            else "succeeded"
        )
        return PartitionOutcome(
            partition=partition_label(partition) or "",
            status=status,
            seconds=result.seconds,
            run_id=result.run_id,
            tasks=statuses,
            error=f"{failed.name}: {failed.error}" if failed else None,
        )

    with ThreadPoolExecutor(max_workers=cap, thread_name_prefix="glacier-backfill") as pool:
        outcomes = list(pool.map(one, partitions))
    return BackfillResult(pipeline=compiled.dag.name, partitions=outcomes)
