"""The TPC-H pipelines give the official answers (DuckDB's tpch extension, SF 0.01): Q3/Q5 as
two pipelines, and all 22 queries as the one ``tpch_multi`` pipeline, whose plain-Polars twin
(``tpch_plain.py --multi``, the benchmark's reference) writes the very same outputs."""

from __future__ import annotations

import sys
from pathlib import Path
from types import ModuleType

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from glacier import load_pipelines
from glacier.config import LocalConfig
from glacier.runner import run_pipeline

BENCH = Path(__file__).resolve().parents[2] / "bench"
SCALE = 0.01


def _bench_module(name: str) -> ModuleType:
    sys.path.insert(0, str(BENCH))
    try:
        return __import__(name)
    finally:
        sys.path.remove(str(BENCH))


@pytest.fixture(scope="module")
def tpch_data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    base = tmp_path_factory.mktemp("tpch")
    _bench_module("tpch_pipelines").generate(base, SCALE)
    return base


def test_tpch_q3_q5_match_official_answers(tpch_data: Path, state_dir: Path) -> None:
    tpch_pipelines = _bench_module("tpch_pipelines")
    storage = LocalConfig(base_path=str(tpch_data))
    pipelines = load_pipelines(BENCH / "tpch_pipelines.py").pipelines
    assert [p.name for p in pipelines] == ["tpch_q3", "tpch_q5"]
    for pipeline in pipelines:
        run_pipeline(pipeline, storage=storage)
    for query in (3, 5):
        actual = pl.read_parquet(tpch_data / f"tpch/work/q{query}.parquet")
        tpch_pipelines.check_answer(query, actual, SCALE)


def test_tpch_multi_all_22_queries_match_official_answers(tpch_data: Path, state_dir: Path) -> None:
    tpch_pipelines, tpch_plain = _bench_module("tpch_pipelines"), _bench_module("tpch_plain")
    (pipeline,) = load_pipelines(BENCH / "tpch_multi.py").pipelines
    assert pipeline.name == "tpch_multi"
    assert len(pipeline.dag.tasks) == 29
    run_pipeline(pipeline, storage=LocalConfig(base_path=str(tpch_data)))
    work = tpch_data / "tpch/work"
    for query in range(1, 23):
        tpch_pipelines.check_answer(query, pl.read_parquet(work / f"multi/q{query}.parquet"), SCALE)
    report = pl.read_parquet(work / "multi/report.parquet")
    assert report["query"].to_list() == [f"q{n}" for n in range(1, 23)]
    assert report.filter(query="q9")["rows"].item() == 173

    tpch_plain.multi(tpch_data / "tpch")
    outputs = sorted(p.name for p in (work / "multi").glob("*.parquet"))
    assert outputs == sorted(p.name for p in (work / "plain_multi").glob("*.parquet"))
    assert len(outputs) == 29
    for name in outputs:  # intermediate steps have no ORDER BY: rows in any order
        ours, plain = pl.read_parquet(work / "multi" / name), pl.read_parquet(work / "plain_multi" / name)
        assert_frame_equal(ours, plain, check_row_order=False)
