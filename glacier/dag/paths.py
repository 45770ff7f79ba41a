"""Paths through a task graph (pure graph algebra over ``task -> tasks it depends on``):
the critical path that bounds a run's duration, used by the cost analysis and by the
state-machine schedule's quality measure."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from glacier.dag.model import stable_order


@dataclass(frozen=True)
class CriticalPath:
    """The longest chain of dependent tasks and its length (the sum of their durations)."""

    tasks: tuple[str, ...]
    seconds: float


def critical_path(deps: Mapping[str, Iterable[str]], seconds: Mapping[str, float]) -> CriticalPath:
    """The chain of dependent tasks with the largest total ``seconds`` (no run can be
    shorter). Ties go to the later task name, so the answer is the same every time."""
    finish: dict[str, float] = {}
    before: dict[str, str | None] = {}
    for task in stable_order(deps):  # every task after the tasks it depends on
        prev = max(deps[task], key=lambda u: (finish[u], u), default=None)
        before[task] = prev
        finish[task] = seconds[task] + (finish[prev] if prev is not None else 0.0)
    end = max(finish, key=lambda t: (finish[t], t), default=None)
    total = finish[end] if end is not None else 0.0
    chain: list[str] = []
    while end is not None:
        chain.append(end)
        end = before[end]
    return CriticalPath(tasks=tuple(reversed(chain)), seconds=total)
