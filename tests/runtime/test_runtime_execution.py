"""Concurrency, failures, retries and timeouts of the local runner (real Polars, real files)."""

from __future__ import annotations

import itertools
import threading
import time
from pathlib import Path

import polars as pl
import pytest
from runtime_helpers import CUSTOMERS, SALES, assert_same, write_sources

from glacier import Pipeline, Provider
from glacier.config import LocalConfig
from glacier.errors import ExecutionError
from glacier.runner import History, run_pipeline


def _provider(tmp_path: Path) -> Provider:
    write_sources(tmp_path, "lake", {"sales.parquet": SALES, "customers.parquet": CUSTOMERS})
    return Provider(config=LocalConfig(base_path=str(tmp_path)))


def _files(folder: Path) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file())


def test_independent_branches_overlap(tmp_path: Path, state_dir: Path) -> None:
    provider = _provider(tmp_path)
    ex = provider.local()
    sales = provider.bucket("lake", "sales.parquet")
    both_started = threading.Barrier(2, timeout=10)

    @ex.task()
    def by_customer(df: pl.LazyFrame) -> pl.LazyFrame:
        both_started.wait()  # only passes if the other branch runs at the same time
        time.sleep(0.2)
        return df.group_by("customer_id").agg(pl.col("amount").sum())

    @ex.task()
    def by_product(df: pl.LazyFrame) -> pl.LazyFrame:
        both_started.wait()
        time.sleep(0.2)
        return df.group_by("product_id").agg(pl.col("amount").sum())

    @ex.task()
    def combine(left: pl.LazyFrame, right: pl.LazyFrame) -> pl.LazyFrame:
        return pl.concat([left.select(pl.col("amount")), right.select(pl.col("amount"))])

    a = sales.transform(by_customer).to(provider.bucket("lake", "a.parquet"))
    b = sales.transform(by_product).to(provider.bucket("lake", "b.parquet"))
    final = provider.bucket("lake", "c.parquet")
    diamond = Pipeline(name="branches", left=a, right=b).transform(combine).to(final)
    compiled = diamond.compile()
    assert compiled.dag.upstream_tasks("combine") == ("by_customer", "by_product")
    # Unfused: each branch's function runs on its own thread. (Fused, one thread builds the
    # group's plan and Polars runs the branches in parallel inside one query.)
    result = run_pipeline(compiled, fuse=False)
    one, two = result["by_customer"], result["by_product"]
    assert one.started_at < two.finished_at and two.started_at < one.finished_at
    assert_same(
        pl.read_parquet(tmp_path / "lake/a.parquet"),
        SALES.group_by("customer_id").agg(pl.col("amount").sum()),
        by=["customer_id"],
    )


def test_failure_stops_downstream_and_keeps_everything_else(tmp_path: Path, state_dir: Path) -> None:
    provider = _provider(tmp_path)
    ex = provider.local()
    sales = provider.bucket("lake", "sales.parquet")
    first, second, final = (provider.bucket("lake", f"{n}.parquet") for n in ("first", "second", "final"))

    @ex.task()
    def stage_one(df: pl.LazyFrame) -> pl.LazyFrame:
        return df.filter(pl.col("amount") > 2)

    @ex.task()
    def stage_two(df: pl.LazyFrame) -> pl.LazyFrame:
        # Fails inside Polars while streaming: 'category' is not numeric.
        return df.with_columns(pl.col("category").cast(pl.Int64, strict=True))

    @ex.task()
    def stage_three(df: pl.LazyFrame) -> pl.LazyFrame:
        return df

    pipeline = Pipeline(name="fails").source(sales).transform(stage_one).to(first)
    pipeline = pipeline.transform(stage_two).to(second).transform(stage_three).to(final)
    previous = pl.DataFrame({"old": [1, 2, 3]})
    previous.write_parquet(tmp_path / "lake/second.parquet")

    with pytest.raises(ExecutionError) as info:
        pipeline.run()
    error = info.value
    assert error.task == "stage_two" and "stage_two" in str(error) and "InvalidOperationError" in str(error)
    statuses = {name: t.status for name, t in error.result.tasks.items()}  # type: ignore[attr-defined]
    assert statuses == {"stage_one": "succeeded", "stage_two": "failed", "stage_three": "skipped"}
    assert_same(pl.read_parquet(tmp_path / "lake/first.parquet"), SALES.filter(pl.col("amount") > 2))
    assert_same(pl.read_parquet(tmp_path / "lake/second.parquet"), previous)  # previous version intact
    assert not (tmp_path / "lake/final.parquet").exists()
    expected_files = ["customers.parquet", "first.parquet", "sales.parquet", "second.parquet"]
    assert _files(tmp_path / "lake") == expected_files
    runs = History(state_dir).runs("fails")
    assert runs[0].status == "failed" and "stage_two" in (runs[0].error or "")


def test_retries_with_backoff_then_success(tmp_path: Path, state_dir: Path) -> None:
    provider = _provider(tmp_path)
    calls: list[float] = []

    @provider.local().task(retries=3)
    def flaky(df: pl.LazyFrame) -> pl.LazyFrame:
        calls.append(time.monotonic())
        if len(calls) < 3:
            raise ConnectionError("transient")
        return df

    out = provider.bucket("lake", "sales.parquet").transform(flaky).to(provider.bucket("lake", "out.parquet"))
    result = out.run(retry_delay=0.05)
    assert result["flaky"].attempts == 3 and result["flaky"].status == "succeeded"
    gaps = [b - a for a, b in itertools.pairwise(calls)]
    assert gaps[0] >= 0.05 and gaps[1] >= 0.1  # exponential: 0.05 then 0.1
    assert_same(pl.read_parquet(tmp_path / "lake/out.parquet"), SALES)


def test_retries_exhausted_reports_attempts(tmp_path: Path, state_dir: Path) -> None:
    provider = _provider(tmp_path)

    @provider.local().task(retries=1)
    def broken(df: pl.LazyFrame) -> pl.LazyFrame:
        raise ZeroDivisionError("always")

    sales = provider.bucket("lake", "sales.parquet")
    out = sales.transform(broken).to(provider.bucket("lake", "out.parquet"))
    with pytest.raises(ExecutionError, match=r"Task 'broken' failed: ZeroDivisionError: always.*2 attempts"):
        out.run(retry_delay=0.01)


def test_timeout_fails_clearly_and_never_publishes(tmp_path: Path, state_dir: Path) -> None:
    provider = _provider(tmp_path)
    release = threading.Event()

    @provider.local().task(timeout=0.3)
    def slow(df: pl.LazyFrame) -> pl.LazyFrame:
        release.wait(5)
        return df

    out = provider.bucket("lake", "sales.parquet").transform(slow).to(provider.bucket("lake", "out.parquet"))
    started = time.monotonic()
    with pytest.raises(ExecutionError, match=r"Task 'slow' timed out after 0.3 s") as info:
        out.run()
    assert time.monotonic() - started < 3
    assert info.value.task == "slow"
    release.set()  # the abandoned attempt now finishes: its write must not be published
    time.sleep(0.5)
    assert not (tmp_path / "lake/out.parquet").exists()
    assert _files(tmp_path / "lake") == ["customers.parquet", "sales.parquet"]


def test_missing_source_names_task_and_dataset(tmp_path: Path, state_dir: Path) -> None:
    provider = Provider(config=LocalConfig(base_path=str(tmp_path)))

    @provider.local().task()
    def copy(df: pl.LazyFrame) -> pl.LazyFrame:
        return df

    out = provider.bucket("lake", "absent.parquet").transform(copy).to(provider.bucket("lake", "o.parquet"))
    with pytest.raises(ExecutionError, match=r"Task 'copy' input 'df' \(dataset 'lake/absent.parquet'\)"):
        out.run()


def test_dataframe_results_and_eager_tasks(tmp_path: Path, state_dir: Path) -> None:
    provider = _provider(tmp_path)

    @provider.local().task()
    def eager(df: pl.LazyFrame) -> pl.DataFrame:
        frame = df.collect()
        return frame.pivot(on="category", index="customer_id", values="amount", aggregate_function="sum")

    out = provider.bucket("lake", "sales.parquet").transform(eager).to(provider.bucket("lake", "p.parquet"))
    result = out.run()
    expected = SALES.pivot(on="category", index="customer_id", values="amount", aggregate_function="sum")
    assert_same(pl.read_parquet(tmp_path / "lake/p.parquet"), expected, by=["customer_id"])
    assert result["eager"].rows == expected.height
