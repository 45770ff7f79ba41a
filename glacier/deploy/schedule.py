"""Turn a task dependency graph into a series-parallel schedule (pure: no pulumi import).

Step Functions can only express series (one state after another) and parallel (a Parallel
state's branches) composition. A dependency graph whose order is series-parallel is mapped
exactly: every task starts as soon as its inputs exist. Any other graph needs some extra
waiting. Where no exact split exists, ``schedule`` cuts the tasks into a "before" down-set
and an "after" rest, choosing the cut whose two critical paths add up to the least: first
with the expected durations, then averaged over a few seeded duration draws (durations are
unknown at deploy time), and for small parts by the length of the full schedule each cut
leads to. The result is deterministic: same graph, same schedule.

Sets of tasks are Python ints used as bitsets over the tasks in topological order, so the
decomposition stays fast for pipelines of hundreds of tasks.
"""

from __future__ import annotations

import random
from collections.abc import Iterator, Mapping
from dataclasses import dataclass

from glacier.dag.model import stable_order

SAMPLES = 8  # duration draws each candidate cut is scored on
SHORTLIST = 12  # cuts kept from the first (expected-duration) ranking
LOOKAHEAD = 3  # cuts compared by the full schedule they lead to...
LOOKAHEAD_MAX_TASKS = 48  # ...when the part being cut is at most this big


@dataclass(frozen=True)
class Leaf:
    task: str


@dataclass(frozen=True)
class Series:
    parts: tuple[Node, ...]


@dataclass(frozen=True)
class Parallel:
    branches: tuple[Node, ...]


Node = Leaf | Series | Parallel


def tasks_of(node: Node) -> list[str]:
    if isinstance(node, Leaf):
        return [node.task]
    children = node.parts if isinstance(node, Series) else node.branches
    return [task for child in children for task in tasks_of(child)]


def makespan(node: Node, durations: Mapping[str, float]) -> float:
    """How long the schedule takes when each task runs for ``durations[task]``."""
    if isinstance(node, Leaf):
        return durations[node.task]
    if isinstance(node, Series):
        return sum(makespan(part, durations) for part in node.parts)
    return max(makespan(branch, durations) for branch in node.branches)


def level_schedule(deps: Mapping[str, set[str]] | Mapping[str, frozenset[str]]) -> Node:
    """The naive schedule: run the DAG level by level, each level a Parallel state."""
    depth: dict[str, int] = {}
    for task in stable_order(deps):
        depth[task] = 1 + max((depth[d] for d in deps[task]), default=-1)
    levels: dict[int, list[str]] = {}
    for task, level in depth.items():
        levels.setdefault(level, []).append(task)
    parts = [_parallel([Leaf(t) for t in sorted(levels[i])]) for i in sorted(levels)]
    return parts[0] if len(parts) == 1 else Series(tuple(parts))


def schedule(
    deps: Mapping[str, set[str]] | Mapping[str, frozenset[str]],
    weights: Mapping[str, float] | None = None,
) -> Node:
    """A series-parallel schedule in which every task runs after all of its dependencies.

    ``deps`` maps each task to the tasks it depends on. ``weights`` are the expected
    durations used to choose where to add waiting (1 each when unknown).
    """
    return _Decomposer(deps, weights).decompose()


def _bits(mask: int) -> Iterator[int]:
    while mask:
        low = mask & -mask
        yield low.bit_length() - 1
        mask ^= low


def _parallel(nodes: list[Node]) -> Node:
    return nodes[0] if len(nodes) == 1 else Parallel(tuple(nodes))


class _Decomposer:
    def __init__(
        self,
        deps: Mapping[str, set[str]] | Mapping[str, frozenset[str]],
        weights: Mapping[str, float] | None,
    ) -> None:
        self.names = stable_order(deps)
        self.index = index = {name: i for i, name in enumerate(self.names)}
        self.preds = [[index[d] for d in sorted(deps[name])] for name in self.names]
        self.succs: list[list[int]] = [[] for _ in self.names]
        for child, parents in enumerate(self.preds):
            for parent in parents:
                self.succs[parent].append(child)
        self.weight = [float((weights or {}).get(name, 1.0)) for name in self.names]
        n = len(self.names)
        # Durations are unknown at deploy time: score cuts over seeded draws around the weights.
        rng = random.Random(0)
        self.samples = [[w * rng.uniform(0.2, 1.8) for w in self.weight] for _ in range(SAMPLES)]
        self.span_cache: dict[int, tuple[Node, tuple[float, ...]]] = {}  # keeps nodes alive
        self.memo: dict[int, Node] = {}
        self.anc = [0] * n  # strict ancestors
        for i in range(n):
            for p in self.preds[i]:
                self.anc[i] |= self.anc[p] | (1 << p)
        self.desc = [0] * n  # strict descendants
        for i in range(n):
            for a in _bits(self.anc[i]):
                self.desc[a] |= 1 << i

    def decompose(self, mask: int | None = None) -> Node:
        if mask is None:
            mask = (1 << len(self.names)) - 1
        if mask not in self.memo:
            self.memo[mask] = self._decompose(mask)
        return self.memo[mask]

    def _decompose(self, mask: int) -> Node:
        members = list(_bits(mask))
        if len(members) == 1:
            return Leaf(self.names[members[0]])
        components = self._components(mask, members)
        if len(components) > 1:
            return Parallel(tuple(self.decompose(c) for c in components))
        parts = self._series_cuts(mask, members) or self._best_split(mask, members)
        nodes: list[Node] = []
        for part in parts:
            node = self.decompose(part)
            nodes.extend(node.parts if isinstance(node, Series) else (node,))
        return Series(tuple(nodes))

    def _components(self, mask: int, members: list[int]) -> list[int]:
        """Sets of tasks with no ordering between sets: they run as parallel branches."""
        remaining = mask
        components: list[int] = []
        for start in members:
            if not remaining >> start & 1:
                continue
            component = 1 << start
            frontier = component
            while frontier:
                reached = 0
                for i in _bits(frontier):
                    reached |= (self.anc[i] | self.desc[i]) & mask
                frontier = reached & ~component
                component |= frontier
            components.append(component)
            remaining &= ~component
        return components

    def _series_cuts(self, mask: int, members: list[int]) -> list[int]:
        """Exact series split: prefixes (in topological order) that all of the rest follows."""
        parts: list[int] = []
        prefix = 0
        part = 0
        common = mask
        for i in members[:-1]:
            prefix |= 1 << i
            part |= 1 << i
            common &= self.desc[i]
            rest = mask & ~prefix
            if rest & ~common == 0:
                parts.append(part)
                part = 0
        if not parts:
            return []
        parts.append(mask & ~sum(parts))
        return parts

    def _chains(self, members: list[int], mask: int, weight: list[float]) -> tuple[list[float], list[float]]:
        """Per task of ``mask``: the longest chain ending at it and the longest starting at it.

        For a cut into a down-set and the rest, the down-set's critical path is its largest
        ``head`` and the rest's is its largest ``tail``: no chain leaves either part."""
        head = [0.0] * len(self.names)
        for i in members:
            head[i] = weight[i] + max((head[p] for p in self.preds[i] if mask >> p & 1), default=0.0)
        tail = [0.0] * len(self.names)
        for i in reversed(members):
            tail[i] = weight[i] + max((tail[c] for c in self.succs[i] if mask >> c & 1), default=0.0)
        return head, tail

    def _best_split(self, mask: int, members: list[int]) -> list[int]:
        """No exact split exists: cut into a down-set and the rest, adding the least waiting."""
        head, tail = self._chains(members, mask, self.weight)
        candidates: set[int] = set()
        for threshold in sorted({head[i] for i in members}):
            candidates.add(sum(1 << i for i in members if head[i] <= threshold))
        for threshold in sorted({tail[i] for i in members}):
            candidates.add(mask & ~sum(1 << i for i in members if tail[i] <= threshold))
        for down in list(candidates):
            rest = mask & ~down
            needed = 0  # the part of `down` that `rest` really waits for
            for i in _bits(rest):
                needed |= self.anc[i] & down
            candidates.add(needed)
        candidates.discard(0)
        candidates.discard(mask)

        def length(down: int, chains: tuple[list[float], list[float]]) -> float:
            return max(chains[0][i] for i in _bits(down)) + max(chains[1][i] for i in _bits(mask & ~down))

        # Cheap first: rank every cut by the expected weights, then the best few by the
        # duration draws, then (for parts small enough) by the full schedule each would get.
        expected = (head, tail)
        ranked = sorted(candidates, key=lambda down: (length(down, expected), down.bit_count(), down))
        ranked = ranked[:SHORTLIST]
        draws = [self._chains(members, mask, w) for w in self.samples]
        ranked.sort(key=lambda down: (sum(length(down, c) for c in draws), down.bit_count(), down))
        if mask.bit_count() > LOOKAHEAD_MAX_TASKS:
            best = ranked[0]
        else:
            best = min(ranked[:LOOKAHEAD], key=lambda down: (self._schedule_cost(down, mask & ~down), down))
        return [best, mask & ~best]

    def _schedule_cost(self, down: int, rest: int) -> float:
        first, then = self.decompose(down), self.decompose(rest)
        return sum(self._spans(first)) + sum(self._spans(then))

    def _spans(self, node: Node) -> tuple[float, ...]:
        """The node's makespan under each duration draw (cached: memoised nodes recur)."""
        key = id(node)
        if key not in self.span_cache:
            if isinstance(node, Leaf):
                i = self.index[node.task]
                spans = tuple(w[i] for w in self.samples)
            elif isinstance(node, Series):
                spans = tuple(map(sum, zip(*(self._spans(p) for p in node.parts), strict=True)))
            else:
                spans = tuple(map(max, zip(*(self._spans(b) for b in node.branches), strict=True)))
            self.span_cache[key] = (node, spans)
        return self.span_cache[key][1]
