"""TPC-H Q3 and Q5 as pipelines give the official answers (DuckDB's tpch extension, SF 0.01)."""

from __future__ import annotations

import sys
from pathlib import Path

import polars as pl
from polars.testing import assert_frame_equal

from glacier import load_pipelines
from glacier.config import LocalConfig
from glacier.runner import run_pipeline

BENCH = Path(__file__).resolve().parents[2] / "bench"
SCALE = 0.01


def test_tpch_q3_q5_match_official_answers(tmp_path: Path, state_dir: Path) -> None:
    sys.path.insert(0, str(BENCH))
    try:
        import tpch_pipelines
    finally:
        sys.path.remove(str(BENCH))
    tpch_pipelines.generate(tmp_path, SCALE)
    storage = LocalConfig(base_path=str(tmp_path))
    pipelines = load_pipelines(BENCH / "tpch_pipelines.py").pipelines
    assert [p.name for p in pipelines] == ["tpch_q3", "tpch_q5"]
    for pipeline in pipelines:
        run_pipeline(pipeline, storage=storage)
    for query in (3, 5):
        actual = pl.read_parquet(tmp_path / f"tpch/work/q{query}.parquet")
        expected = tpch_pipelines.answer(query, SCALE)
        assert actual.columns == expected.columns
        assert_frame_equal(
            actual.with_columns(pl.col("revenue").round(2)),
            expected.with_columns(pl.col("revenue").round(2)),
            check_dtypes=False,
        )
