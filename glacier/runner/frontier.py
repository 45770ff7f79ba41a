"""Which tasks can start now: the scheduling seam of the local runner.

``Frontier`` wraps ``graphlib.TopologicalSorter`` (``get_ready`` / ``done``), so a whole run
costs time linear in tasks plus edges. A task is ready once every task it depends on has
succeeded (or was served from the cache); a failure blocks everything downstream of it,
and only that. The scheduling loop asks ``ready()`` for work and reports each outcome with
``succeeded`` or ``failed``; an executor that runs several ready tasks together (e.g. one
fused Polars plan for a group) takes its groups from the same ``ready()`` batches.
"""

from __future__ import annotations

import graphlib

from glacier.dag.model import PipelineDAG, dependency_map


class Frontier:
    def __init__(self, dag: PipelineDAG) -> None:
        self._position = {task.name: i for i, task in enumerate(dag.tasks)}
        self._downstream = dag.downstream_tasks
        self._sorter: graphlib.TopologicalSorter[str] = graphlib.TopologicalSorter(dependency_map(dag.tasks))
        self._sorter.prepare()
        self._blocked: set[str] = set()

    def ready(self) -> list[str]:
        """Tasks that may start now, each returned once, in the DAG's topological order.
        Blocked tasks never come out: they are passed through so their own downstream
        tasks (blocked too) drain in the same call."""
        runnable: list[str] = []
        while True:
            batch = self._sorter.get_ready()
            if not batch:
                break
            passed = [name for name in batch if name in self._blocked]
            runnable.extend(name for name in batch if name not in self._blocked)
            if not passed:
                break  # nothing was passed through, so nothing new can be ready
            self._sorter.done(*passed)
        runnable.sort(key=self._position.__getitem__)
        return runnable

    def succeeded(self, name: str) -> None:
        self._sorter.done(name)

    def failed(self, name: str) -> list[str]:
        """Mark ``name`` failed; returns the tasks it newly blocks (all downstream not yet
        blocked), in topological order. They will not run: record them as skipped."""
        newly: list[str] = []
        stack = list(self._downstream(name))
        while stack:
            child = stack.pop()
            if child not in self._blocked:
                self._blocked.add(child)
                newly.append(child)
                stack.extend(self._downstream(child))
        self._sorter.done(name)
        newly.sort(key=self._position.__getitem__)
        return newly
