"""Step Functions Standard bills every state entered ("state transition"). Count them for
one successful run by walking the definition; without one, estimate from the DAG."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from glacier.dag.model import PipelineDAG


def count_transitions(definition: Mapping[str, Any]) -> int:
    """States entered by a successful execution of an ASL definition: the main path from
    ``StartAt`` to its end, every branch of each Parallel, a Map's iterator once (item
    counts are unknown), a Choice's ``Default`` path. Catch targets are not on it."""
    states: Mapping[str, Any] = definition["States"]
    name: str | None = definition["StartAt"]
    seen: set[str] = set()
    count = 0
    while name is not None and name not in seen:
        seen.add(name)
        state = states[name]
        count += 1
        kind = state["Type"]
        if kind == "Parallel":
            count += sum(count_transitions(branch) for branch in state["Branches"])
        elif kind == "Map":
            count += count_transitions(state.get("ItemProcessor") or state["Iterator"])
        if kind in ("Succeed", "Fail") or state.get("End"):
            break
        choice = state.get("Default") or state["Choices"][0]["Next"] if kind == "Choice" else None
        name = choice or state.get("Next")
    return count


def estimate_transitions(dag: PipelineDAG) -> int:
    """Without a definition: one Task state per task, one Parallel per fan-out point, and a
    final Succeed state."""
    fan_outs = sum(1 for task in dag.tasks if len(dag.downstream_tasks(task.name)) > 1)
    sources = {t.name for t in dag.tasks if not dag.upstream_tasks(t.name)}
    fan_outs += 1 if len(sources) > 1 else 0
    return len(dag.tasks) + fan_outs + 1
