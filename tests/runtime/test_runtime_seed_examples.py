"""Every seed 000 example runs locally and writes exactly what plain Polars computes."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import polars as pl
import pytest
from runtime_helpers import CUSTOMERS, PRODUCTS, SALES, assert_same, write_sources

from glacier import load_pipelines
from glacier.config import LocalConfig
from glacier.errors import ExecutionError
from glacier.runner import run_pipeline

SEEDS = Path(__file__).resolve().parents[2] / "examples" / "seed_000"


def _import(path: Path) -> ModuleType:
    name = f"_seed_{path.stem}"
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def test_core_single_source_run_mode_local(tmp_path: Path, state_dir: Path) -> None:
    raw = SALES.select("category", "value")
    write_sources(tmp_path, "data-lake", {"raw/data.parquet": raw})
    module = _import(SEEDS / "core_single_source.py")
    result = module.etl_pipeline.run(mode="local", storage=LocalConfig(base_path=str(tmp_path)))
    assert result.ok and [t.status for t in result.tasks.values()] == ["succeeded", "succeeded"]
    cleaned = raw.filter(pl.col("value").is_not_null())
    assert_same(pl.read_parquet(tmp_path / "data-lake/processed/cleaned.parquet"), cleaned)
    expected = cleaned.group_by("category").agg(pl.col("value").sum())
    actual = pl.read_parquet(tmp_path / "data-lake/output/result.parquet")
    assert_same(actual, expected, by=["category"])
    assert result["aggregate"].rows == expected.height
    assert result["aggregate"].bytes == (tmp_path / "data-lake/output/result.parquet").stat().st_size


def test_core_multi_source_and_simple_etl(tmp_path: Path, state_dir: Path) -> None:
    write_sources(tmp_path, "data", {"sales.parquet": SALES, "customers.parquet": CUSTOMERS})
    storage = LocalConfig(base_path=str(tmp_path))
    (pipeline,) = load_pipelines(SEEDS / "core_multi_source.py").pipelines
    run_pipeline(pipeline, storage=storage)
    joined = SALES.join(CUSTOMERS, on="customer_id")
    assert_same(pl.read_parquet(tmp_path / "data/joined.parquet"), joined, by=["order_id"])
    summary = joined.group_by("region").agg(pl.col("amount").sum())
    assert_same(pl.read_parquet(tmp_path / "data/summary.parquet"), summary, by=["region"])

    write_sources(tmp_path, "data", {"raw.parquet": SALES})
    module = _import(SEEDS / "example1_simple_etl.py")
    module.simple_etl.run(storage=storage)
    assert_same(pl.read_parquet(tmp_path / "data/output.parquet"), SALES.filter(pl.col("value") > 0))


def test_example3_three_pipelines_in_data_order(tmp_path: Path, state_dir: Path) -> None:
    write_sources(
        tmp_path,
        "data",
        {"sales.parquet": SALES, "customers.parquet": CUSTOMERS, "products.parquet": PRODUCTS},
    )
    storage = LocalConfig(base_path=str(tmp_path))
    pipelines = load_pipelines(SEEDS / "example3_join.py").pipelines
    assert [p.name for p in pipelines] == ["join_step1", "join_step2", "summarize"]
    for pipeline in pipelines:
        run_pipeline(pipeline, storage=storage)
    expected = (
        SALES.join(CUSTOMERS, on="customer_id")
        .join(PRODUCTS, on="product_id")
        .group_by("region")
        .agg(pl.col("amount").sum())
    )
    assert_same(pl.read_parquet(tmp_path / "data/output.parquet"), expected, by=["region"])


def test_example2_placeholder_tasks_fail_clearly(tmp_path: Path, state_dir: Path) -> None:
    write_sources(tmp_path, "data", {"raw.parquet": SALES})
    (pipeline,) = load_pipelines(SEEDS / "example2_multi_stage.py").pipelines
    with pytest.raises(ExecutionError) as info:
        run_pipeline(pipeline, storage=LocalConfig(base_path=str(tmp_path)))
    assert info.value.task == "clean"
    assert "returned NoneType, not a Polars LazyFrame or DataFrame" in str(info.value)
    result = info.value.result  # type: ignore[attr-defined]
    assert [t.status for t in result.tasks.values()] == ["failed", "skipped", "skipped"]
    assert not (tmp_path / "data/cleaned.parquet").exists()


def test_aws_pipeline_runs_on_local_disk_by_default(
    tmp_path: Path, state_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    write_sources(tmp_path / "data", "data", {"raw.parquet": SALES})
    module = _import(SEEDS / "example1_simple_etl.py")
    result = module.simple_etl.run()
    assert result.storage == f"local:{(tmp_path / 'data').resolve()}"
    assert (tmp_path / "data/data/output.parquet").is_file()


def test_pending_transform_run_writes_nothing(tmp_path: Path) -> None:
    from glacier import Provider

    provider = Provider(config=LocalConfig(base_path=str(tmp_path)))
    write_sources(tmp_path, "data", {"raw.parquet": SALES})
    raw = provider.bucket("data", "raw.parquet")

    @provider.local().task()
    def positive(df: pl.LazyFrame) -> pl.LazyFrame:
        return df.filter(pl.col("value") > 0)

    before = sorted(p.name for p in (tmp_path / "data").iterdir())
    frame = raw.transform(positive).run()
    assert isinstance(frame, pl.LazyFrame)
    assert_same(frame.collect(), SALES.filter(pl.col("value") > 0))
    assert sorted(p.name for p in (tmp_path / "data").iterdir()) == before
    assert_same(raw.scan().collect(), SALES)
