"""cache=True: skip exactly when code, config, inputs and output are unchanged; history."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import polars as pl
from click.testing import CliRunner
from runtime_helpers import CUSTOMERS, SALES, assert_same, write_sources

from glacier import Pipeline, Provider
from glacier.cli import app
from glacier.config import LocalConfig
from glacier.runner import History, run_pipeline


def _statuses(result: Any) -> dict[str, str]:
    return {name: task.status for name, task in result.tasks.items()}


def _build(tmp_path: Path, *, version: int = 1, threshold: float = 2.0) -> Any:
    """sales -> clean -> {by_region -> region_rank, by_product} -> report, all cached; ``version``
    swaps in a different body for by_region (a code change), ``threshold`` its config."""
    provider = Provider(config=LocalConfig(base_path=str(tmp_path)))
    ex = provider.local()
    sales = provider.bucket("lake", "sales.parquet")
    customers = provider.bucket("lake", "customers.parquet")

    @ex.task(cache=True)
    def clean(df: pl.LazyFrame) -> pl.LazyFrame:
        return df.filter(pl.col("amount") > 2)

    if version == 1:

        @ex.task(name="by_region", cache=True, threshold=threshold)
        def by_region_v1(df: pl.LazyFrame, customers: pl.LazyFrame) -> pl.LazyFrame:
            return df.join(customers, on="customer_id").group_by("region").agg(pl.col("amount").sum())

        by_region = by_region_v1
    else:

        @ex.task(name="by_region", cache=True, threshold=threshold)
        def by_region_v2(df: pl.LazyFrame, customers: pl.LazyFrame) -> pl.LazyFrame:
            return df.join(customers, on="customer_id").group_by("region").agg(pl.col("amount").max())

        by_region = by_region_v2

    @ex.task(cache=True)
    def region_rank(df: pl.LazyFrame) -> pl.LazyFrame:
        return df.sort("amount", descending=True)

    @ex.task(cache=True)
    def by_product(df: pl.LazyFrame) -> pl.LazyFrame:
        return df.group_by("product_id").agg(pl.len())

    cleaned = sales.transform(clean).to(provider.bucket("lake", "clean.parquet"))
    regions = (
        Pipeline(name="regions", df=cleaned, customers=customers)
        .transform(by_region)
        .to(provider.bucket("lake", "regions.parquet"))
        .transform(region_rank)
        .to(provider.bucket("lake", "ranked.parquet"))
    )
    products = cleaned.transform(by_product).to(provider.bucket("lake", "products.parquet"))

    @ex.task(cache=True)
    def report(ranked: pl.LazyFrame, products: pl.LazyFrame) -> pl.LazyFrame:
        return pl.concat([ranked.select(n=pl.len()), products.select(n=pl.len())])

    final = provider.bucket("lake", "report.csv")
    return Pipeline(name="cached", ranked=regions, products=products).transform(report).to(final).compile()


def test_cache_rules(tmp_path: Path, state_dir: Path) -> None:
    write_sources(tmp_path, "lake", {"sales.parquet": SALES, "customers.parquet": CUSTOMERS})
    first = run_pipeline(_build(tmp_path))
    assert set(_statuses(first).values()) == {"succeeded"}

    # Unchanged: everything is skipped and the outputs are untouched.
    mtime = (tmp_path / "lake/ranked.parquet").stat().st_mtime_ns
    again = run_pipeline(_build(tmp_path))
    assert set(_statuses(again).values()) == {"cached"}
    assert all(t.cached for t in again.tasks.values())
    assert again["region_rank"].rows == first["region_rank"].rows
    assert (tmp_path / "lake/ranked.parquet").stat().st_mtime_ns == mtime

    # A code change re-runs that task and everything downstream of it, nothing else.
    changed = run_pipeline(_build(tmp_path, version=2))
    assert _statuses(changed) == {
        "clean": "cached",
        "by_product": "cached",
        "by_region": "succeeded",
        "region_rank": "succeeded",
        "report": "succeeded",
    }
    expected = (
        SALES.filter(pl.col("amount") > 2)
        .join(CUSTOMERS, on="customer_id")
        .group_by("region")
        .agg(pl.col("amount").max())
    )
    assert_same(pl.read_parquet(tmp_path / "lake/regions.parquet"), expected, by=["region"])

    # A config change re-runs the task (and downstream).
    config = run_pipeline(_build(tmp_path, version=2, threshold=3.0))
    assert _statuses(config)["by_region"] == "succeeded" and _statuses(config)["clean"] == "cached"

    # An input change re-runs whoever reads it (here: the whole pipeline).
    write_sources(tmp_path, "lake", {"sales.parquet": SALES.head(8)})
    inputs = run_pipeline(_build(tmp_path, version=2, threshold=3.0))
    assert set(_statuses(inputs).values()) == {"succeeded"}

    # A deleted output re-runs its task; its downstream sees the same content but a new file,
    # so it re-runs too; the other branch stays cached.
    (tmp_path / "lake/products.parquet").unlink()
    missing = run_pipeline(_build(tmp_path, version=2, threshold=3.0))
    assert _statuses(missing) == {
        "clean": "cached",
        "by_product": "succeeded",
        "by_region": "cached",
        "region_rank": "cached",
        "report": "succeeded",
    }

    # History: every run, with per-task stats the analysis reads.
    history = History(state_dir)
    assert len(history.runs("cached", limit=50)) == 6
    stats = history.latest_task_stats("cached")
    assert set(stats) == {"clean", "by_product", "by_region", "region_rank", "report"}
    assert stats["by_product"].bytes == (tmp_path / "lake/products.parquet").stat().st_size
    assert stats["by_region"].input_bytes["lake/customers.parquet"] == (
        (tmp_path / "lake/customers.parquet").stat().st_size
    )
    assert stats["clean"].rows == SALES.head(8).filter(pl.col("amount") > 2).height


def test_uncached_task_always_runs(tmp_path: Path, state_dir: Path) -> None:
    write_sources(tmp_path, "lake", {"sales.parquet": SALES})
    provider = Provider(config=LocalConfig(base_path=str(tmp_path)))

    @provider.local().task()
    def plain(df: pl.LazyFrame) -> pl.LazyFrame:
        return df

    sales = provider.bucket("lake", "sales.parquet")
    out = sales.transform(plain).to(provider.bucket("lake", "o.parquet"))
    assert out.run()["plain"].status == "succeeded"
    assert out.run()["plain"].status == "succeeded"


def test_history_cli(tmp_path: Path, state_dir: Path) -> None:
    write_sources(tmp_path, "lake", {"sales.parquet": SALES, "customers.parquet": CUSTOMERS})
    run_pipeline(_build(tmp_path))
    result = CliRunner().invoke(app, ["history", "--state-dir", str(state_dir)])
    assert result.exit_code == 0, result.output
    assert "cached" in result.output and "by_region" in result.output and "succeeded" in result.output
    empty = CliRunner().invoke(app, ["history", "--state-dir", str(tmp_path / "none")])
    assert empty.exit_code == 0 and "No runs recorded" in empty.output
    assert not (tmp_path / "none").exists()
    negative = CliRunner().invoke(app, ["history", "--state-dir", str(state_dir), "--limit", "-1"])
    assert negative.exit_code == 2 and "-1 is not in the range x>=1" in negative.output  # not "all runs"


_HELPER_MODULE = """
import polars as pl
from glacier import Provider
from glacier.config import LocalConfig

provider = Provider(config=LocalConfig(base_path={base!r}))


def threshold() -> float:
    return {value}


@provider.local().task(cache=True)
def keep(df):
    return df.filter(pl.col("amount") > threshold())


out = provider.bucket("lake", "sales.parquet").transform(keep).to(provider.bucket("lake", "kept.parquet"))
"""


def test_editing_a_helper_invalidates_the_cache(tmp_path: Path, state_dir: Path) -> None:
    from glacier import load_pipelines

    write_sources(tmp_path, "lake", {"sales.parquet": SALES})
    module = tmp_path / "helper_pipeline.py"

    def run(value: float) -> str:
        module.write_text(_HELPER_MODULE.format(base=str(tmp_path), value=value))
        (pipeline,) = load_pipelines(module).pipelines
        return run_pipeline(pipeline)["keep"].status

    assert run(2.0) == "succeeded"
    assert run(2.0) == "cached"
    assert run(5.0) == "succeeded"  # only the helper changed
    assert pl.read_parquet(tmp_path / "lake/kept.parquet").height == SALES.filter(pl.col("amount") > 5).height
