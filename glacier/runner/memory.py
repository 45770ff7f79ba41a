"""Memory-aware concurrency: which ready tasks may start now without the run needing more
memory than its largest task needs alone (docs/operations.md, "How many tasks run at once").

A task's working set is estimated as ``EXPANSION`` x the bytes of its inputs on disk (parquet
decompresses to Arrow at a few times its size; a streaming query needs less, a join more):
an input another task of this run wrote is sized by that task's outcome, a source dataset
by one stat when the run starts, so sizing costs no I/O per task. The budget is the largest
estimate known (every task that reads only sources, then each task as it becomes ready),
at least ``FLOOR`` (small tasks always run side by side), and at most ``MEMORY_SHARE`` of
the memory available when the run starts (``/proc/meminfo`` MemAvailable, or the cgroup's
limit when lower). A ready task starts while the estimates of the running tasks plus its own
fit the budget, or when nothing runs (a task bigger than the budget runs alone); the
thread cap (``max_workers``) still applies. ``GLACIER_MEMORY_BUDGET`` overrides the budget:
a size such as ``2G`` or ``512M``, or ``off`` for the thread cap alone.
"""

from __future__ import annotations

import os
from collections import deque
from collections.abc import Callable, Iterable
from pathlib import Path

from glacier.dag.model import PipelineDAG
from glacier.errors import ConfigError
from glacier.io import stat_uri
from glacier.runner.fuse import Group, Unit
from glacier.runner.result import TaskRun
from glacier.runner.task import RunContext

EXPANSION = 4
FLOOR = 256 * 2**20
MEMORY_SHARE = 0.5
BUDGET_ENV = "GLACIER_MEMORY_BUDGET"
_UNITS = {"": 1, "K": 2**10, "M": 2**20, "G": 2**30, "T": 2**40}


def available_memory() -> int | None:
    """Bytes this process can still use: MemAvailable, lowered to the cgroup's headroom."""
    found: list[int] = []
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemAvailable:"):
                found.append(int(line.split()[1]) * 1024)
    except OSError:
        pages = os.sysconf("SC_AVPHYS_PAGES") if hasattr(os, "sysconf") else -1
        if pages > 0:
            found.append(pages * os.sysconf("SC_PAGE_SIZE"))
    try:
        limit = Path("/sys/fs/cgroup/memory.max").read_text().strip()
        if limit != "max":
            used = int(Path("/sys/fs/cgroup/memory.current").read_text())
            found.append(max(0, int(limit) - used))
    except (OSError, ValueError):
        pass
    return min(found) if found else None


def configured_budget(value: str | None = None) -> int | bool | None:
    """``GLACIER_MEMORY_BUDGET``: bytes, False for ``off``, None when unset (automatic)."""
    raw = (os.environ.get(BUDGET_ENV) if value is None else value) or ""
    raw = raw.strip().upper().removesuffix("B")
    if not raw:
        return None
    if raw in ("OFF", "0", "NONE"):
        return False
    number, unit = (raw[:-1], raw[-1]) if raw[-1] in _UNITS else (raw, "")
    try:
        size = float(number) * _UNITS[unit]
    except ValueError:
        raise ConfigError(
            f"{BUDGET_ENV}={raw!r} is not a memory size.",
            fix=f"set {BUDGET_ENV} to a size such as 2G or 512M, or to 'off' (thread cap only).",
        ) from None
    return int(size)


class MemoryGate:
    """Holds ready tasks back while their estimated working set would not fit.

    ``input_bytes(dataset_id)`` sizes one input (None when unknown: counted as 0)."""

    def __init__(
        self, dag: PipelineDAG, input_bytes: Callable[[str], int | None], budget: int | bool | None = None
    ) -> None:
        self.dag = dag
        self.input_bytes = input_bytes
        self.enabled = budget is not False
        fixed = budget if isinstance(budget, int) and not isinstance(budget, bool) else None
        self.fixed = fixed is not None
        available = available_memory()
        self.ceiling = int(MEMORY_SHARE * available) if available else None
        self.budget = fixed if fixed is not None else FLOOR
        self._pending: deque[Unit] = deque()
        self._held: dict[Unit, int] = {}
        self._in_use = 0
        if self.enabled and not self.fixed:
            for task in dag.tasks:  # tasks that read only sources are sized now
                if all(dag.producer(d) is None for d in task.inputs.values()):
                    self._grow(self.estimate(task.name))

    def estimate(self, unit: Unit) -> int:
        """A task's working set; a fused group's is its members' (an input a member
        computes in the group's own query is not stored yet: it counts as 0)."""
        names = unit.members if isinstance(unit, Group) else (unit,)
        sizes = (self.input_bytes(d) for name in names for d in self.dag.task(name).inputs.values())
        return EXPANSION * sum(size or 0 for size in sizes)

    def _grow(self, estimate: int) -> None:
        if not self.fixed:
            budget = max(self.budget, estimate)
            self.budget = min(budget, self.ceiling) if self.ceiling else budget

    def admit(self, ready: Iterable[Unit], running: int, max_workers: int) -> list[Unit]:
        """Which of the ready units (these, and those held back before) start now, in the
        order they became ready; the rest stay held (``running``: units in flight)."""
        self._pending.extend(ready)
        started: list[Unit] = []
        held: list[Unit] = []
        while self._pending and running + len(started) < max_workers:
            name = self._pending.popleft()
            if not self.enabled:
                started.append(name)
                continue
            estimate = self.estimate(name)
            self._grow(estimate)
            if not self._held or self._in_use + estimate <= self.budget:
                started.append(name)
                self._held[name] = estimate
                self._in_use += estimate
            else:
                held.append(name)
        self._pending.extendleft(reversed(held))
        return started

    def finished(self, unit: Unit) -> None:
        self._in_use -= self._held.pop(unit, 0)

    def limit(self) -> int | None:
        """The budget a unit must fit, or None when the cap is off."""
        return self.budget if self.enabled else None

    @property
    def held(self) -> int:
        """How many ready tasks wait for memory (or for a thread)."""
        return len(self._pending)


def run_gate(context: RunContext, outcomes: dict[str, TaskRun]) -> MemoryGate:
    """The gate of one run: inputs sized by their producer's outcome in ``outcomes``, or,
    for source datasets, by one stat each now."""
    dag = context.dag
    budget = configured_budget()
    sources: dict[str, int | None] = {}
    if budget is not False:
        for dataset in dag.source_datasets():
            try:
                stored = stat_uri(context.uri(dataset.id), dataset.format, context.options)
            except Exception:  # the task reading it names the problem (stat_inputs)
                stored = None
            sources[dataset.id] = stored.bytes if stored else None

    def input_bytes(dataset_id: str) -> int | None:
        producer = dag.producer(dataset_id)
        if producer is None:
            return sources.get(dataset_id)
        outcome = outcomes.get(producer)
        return outcome.bytes if outcome is not None else None

    return MemoryGate(dag, input_bytes, budget)
