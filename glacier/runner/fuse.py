"""Fused execution: which tasks of a local run are compiled into one Polars query.

With fusion on (the default; ``glacier run --no-fuse`` / ``run(fuse=False)`` turn it off),
``FusedFrontier`` takes the place of ``Frontier`` in the scheduling loop. Each time tasks
become ready it hands out the ones that cannot be fused one by one, as before, and the
fusable ones together as a ``Group``: the ready fusable tasks, plus every fusable task
downstream of them whose inputs are all either published already or written by a member of
the group in a format that passes the frame on (parquet, Arrow IPC); at most
``MAX_MEMBERS`` per group (more make more groups, which run concurrently). A group runs as ONE
Polars query (``glacier.runner.fused_group``): one lazy sink per output and one
``pl.collect_all``, so a scan or a sub-plan several members share is computed once, and a
member reads its upstream member's plan instead of the file just written.

A task is fused when it is Polars-typed (pyspark tasks run on Spark), has no ``timeout``
(a timeout belongs to one task's attempt: such a task runs alone, under it), and the run is
not a ``--partition`` run and the task has no ``partition_by`` (partitioned writes keep their
own path), and none of its datasets is declared ``schema_mode="evolve"`` (its added columns
are recorded per task). Cache hits are never computed: they are found when the group starts (see
``fused_group``). The rest is in docs/fusion.md.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from glacier.dag.model import TaskNode, dependency_map
from glacier.errors import GlacierError
from glacier.formats import Format
from glacier.runner.task import RunContext
from glacier.runtime.event import partition_columns

# Formats a member hands its frame to a downstream member in: the frame is what reading the
# written file would give back (same columns, dtypes and row order). CSV and NDJSON store
# no dtypes and a directory dataset reads its hive keys back as columns, so a task reading
# one of those waits for the file, as without fusion.
FRAME_FORMATS = frozenset({Format.PARQUET, Format.IPC})


def fusable(context: RunContext, task: TaskNode) -> bool:
    """Whether ``task`` may run inside a fused group (see the module docstring)."""
    if task.dataframe_api != "polars" or task.timeout is not None or context.partition is not None:
        return False
    # A schema_mode="evolve" dataset: the task runs alone, so the columns it meets beyond the
    # declaration are recorded for it (history) as on every unfused run.
    datasets = [context.dag.dataset(d) for d in (*task.inputs.values(), task.output)]
    if any(d.declared_schema is not None and d.declared_schema.mode == "evolve" for d in datasets):
        return False
    try:
        return partition_columns(task) is None
    except GlacierError:  # a bad partition_by: the task's own run names it
        return False


@dataclass(frozen=True)
class Group:
    """Tasks run as one Polars query; ``members`` in the DAG's topological order."""

    members: tuple[str, ...]


Unit = str | Group  # what the scheduling loop starts: one task, or a fused group

# At most this many tasks per group: each member's schema check resolves the plan above it,
# so a group's planning grows with (members x depth); a 2,000-task chain becomes groups of 32.
MAX_MEMBERS = 32


class FusedFrontier:
    """``Frontier``'s contract (``ready`` / ``succeeded`` / ``failed``, linear in tasks plus
    edges), with ``ready()`` returning units: lone task names and ``Group``s."""

    def __init__(
        self,
        context: RunContext,
        estimate: Callable[[str], int] | None = None,
        budget: Callable[[], int | None] | None = None,
    ) -> None:
        # ``estimate``/``budget``: the run's memory gate. Ready tasks are packed into groups
        # first-fit by their estimated working sets, so one group never needs more than the
        # budget a lone task may use (a group is one unit to the gate).
        self._estimate = estimate
        self._budget = budget
        dag = context.dag
        names = [task.name for task in dag.tasks]
        self._position = {name: i for i, name in enumerate(names)}
        self._upstream = dependency_map(dag.tasks)
        self._downstream = {name: tuple(dict.fromkeys(dag.downstream_tasks(name))) for name in names}
        self._waiting = {name: len(self._upstream[name]) for name in names}
        self._fusable = {task.name: fusable(context, task) for task in dag.tasks}
        self._passes_frame = {
            task.name: dag.dataset(task.output).format in FRAME_FORMATS for task in dag.tasks
        }
        self._new = [name for name in names if not self._waiting[name]]
        self._handed: set[str] = set()  # handed out, alone or in a group
        self._done: set[str] = set()
        self._blocked: set[str] = set()

    def ready(self) -> list[Unit]:
        """What may start now, each task handed out once: the groups first (they are the
        most work), then the lone tasks in topological order. A group of one is a lone task."""
        ready = sorted(self._new, key=self._position.__getitem__)
        self._new = []
        self._handed.update(ready)
        groups: list[set[str]] = []
        loads: list[int] = []
        lone: list[Unit] = []
        limit = self._budget() if self._budget else None
        for name in ready:
            if not self._fusable[name]:
                lone.append(name)
                continue
            cost = self._estimate(name) if self._estimate else 0
            fits = (
                i
                for i, members in enumerate(groups)
                if len(members) < MAX_MEMBERS and (limit is None or loads[i] + cost <= limit)
            )
            index = next(fits, None)
            if index is None:
                groups.append(set())
                loads.append(0)
                index = len(groups) - 1
            groups[index].add(name)
            loads[index] += cost
            self._close(groups[index], name)
        units: list[Unit] = []
        for members in groups:
            ordered = sorted(members, key=self._position.__getitem__)
            if len(ordered) == 1:
                lone.append(ordered[0])
            else:
                units.append(Group(tuple(ordered)))
        return units + sorted(lone, key=lambda unit: self._position[str(unit)])

    def _close(self, members: set[str], seed: str) -> None:
        """Add to ``members`` (up to ``MAX_MEMBERS``) every fusable task below ``seed`` whose
        upstream tasks are all done or members that pass their frame on."""
        stack = [seed]
        while stack and len(members) < MAX_MEMBERS:
            name = stack.pop()
            if not self._passes_frame[name]:
                continue
            for child in self._downstream[name]:
                if child in members or child in self._handed or child in self._blocked:
                    continue
                if len(members) >= MAX_MEMBERS:
                    break
                if self._fusable[child] and all(
                    up in self._done or (up in members and self._passes_frame[up])
                    for up in self._upstream[child]
                ):
                    members.add(child)
                    self._handed.add(child)
                    stack.append(child)

    def succeeded(self, name: str) -> None:
        self._done.add(name)
        for child in self._downstream[name]:
            self._waiting[child] -= 1
            if not self._waiting[child] and child not in self._handed and child not in self._blocked:
                self._new.append(child)

    def failed(self, name: str) -> list[str]:
        """Mark ``name`` failed; returns the tasks it newly blocks (everything downstream not
        yet blocked, members of its group included), in topological order: record them as
        skipped."""
        newly: list[str] = []
        stack = list(self._downstream[name])
        while stack:
            child = stack.pop()
            if child not in self._blocked and child not in self._done:
                self._blocked.add(child)
                newly.append(child)
                stack.extend(self._downstream[child])
        newly.sort(key=self._position.__getitem__)
        return newly
