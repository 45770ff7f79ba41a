"""The one critical-path function (glacier.dag.paths), used by the cost analysis and by the
state-machine schedule's measures."""

from __future__ import annotations

import pytest

from glacier.config import WORKER_SIZES, SparkConfig
from glacier.dag.paths import CriticalPath, critical_path


def test_the_longest_chain_by_seconds() -> None:
    #   a(1) -> b(5) -> d(1)
    #   a(1) -> c(2) -> d(1)     e(6) alone
    deps = {"a": set(), "b": {"a"}, "c": {"a"}, "d": {"b", "c"}, "e": set()}
    seconds = {"a": 1.0, "b": 5.0, "c": 2.0, "d": 1.0, "e": 6.0}
    assert critical_path(deps, seconds) == CriticalPath(tasks=("a", "b", "d"), seconds=7.0)
    seconds["e"] = 8.0
    assert critical_path(deps, seconds) == CriticalPath(tasks=("e",), seconds=8.0)


def test_ties_are_broken_the_same_way_every_time() -> None:
    deps = {"x": set(), "y": set(), "z": {"x", "y"}}
    first = critical_path(deps, {"x": 1.0, "y": 1.0, "z": 1.0})
    assert first == critical_path(dict(reversed(list(deps.items()))), {"z": 1.0, "y": 1.0, "x": 1.0})
    assert first.tasks == ("y", "z") and first.seconds == pytest.approx(2.0)


def test_no_tasks_no_path() -> None:
    assert critical_path({}, {}) == CriticalPath(tasks=(), seconds=0.0)


def test_one_worker_size_table_covers_every_worker_type() -> None:
    from glacier.analysis.prices import EMR_WORKER_SHAPE, GLUE_DPU_PER_WORKER

    kinds = set(SparkConfig.model_fields["worker_type"].annotation.__args__)  # type: ignore[union-attr]
    assert set(WORKER_SIZES) == kinds
    for kind, size in WORKER_SIZES.items():
        assert size.dpu == size.memory_gb / 16  # a DPU is 16 GB (and 4 vCPU, G.025X aside)
        assert GLUE_DPU_PER_WORKER[kind] == size.dpu
        assert EMR_WORKER_SHAPE[kind] == (size.vcpu, size.memory_gb)
