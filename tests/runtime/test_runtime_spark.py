"""Spark executor locally: pyspark-typed tasks run on local Spark; Polars-typed ones on Polars."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import TYPE_CHECKING, Any

import polars as pl
import pytest
from runtime_helpers import CUSTOMERS, SALES, assert_same, write_sources

from glacier import Pipeline, Provider
from glacier.config import LocalConfig, SparkConfig
from glacier.errors import ExecutionError

if TYPE_CHECKING:  # annotations only: the module imports without pyspark
    import pyspark.sql

HAS_PYSPARK = importlib.util.find_spec("pyspark") is not None


def _pipeline(tmp_path: Path) -> Pipeline:
    provider = Provider(config=LocalConfig(base_path=str(tmp_path)))
    spark = provider.spark(config=SparkConfig(workers=2))

    @spark.task()
    def join_spark(
        sales_df: pyspark.sql.DataFrame, customers_df: pyspark.sql.DataFrame
    ) -> pyspark.sql.DataFrame:
        return sales_df.join(customers_df, on="customer_id").select("order_id", "region", "amount")

    @spark.task()
    def total_polars(df: pl.LazyFrame) -> pl.LazyFrame:
        return df.group_by("region").agg(pl.col("amount").sum())

    write_sources(tmp_path, "lake", {"sales.parquet": SALES, "customers.csv": CUSTOMERS})
    CUSTOMERS.write_csv(tmp_path / "lake/customers.csv")
    return (
        Pipeline(
            name="spark_local",
            sales_df=provider.bucket("lake", "sales.parquet"),
            customers_df=provider.bucket("lake", "customers.csv"),
        )
        .transform(join_spark)
        .to(provider.bucket("lake", "joined.parquet"))
        .transform(total_polars)
        .to(provider.bucket("lake", "totals.parquet"))
    )


def test_pyspark_task_is_detected(tmp_path: Path) -> None:
    dag = _pipeline(tmp_path).to_dag()
    assert {t.name: t.dataframe_api for t in dag.tasks} == {"join_spark": "pyspark", "total_polars": "polars"}


@pytest.mark.skipif(HAS_PYSPARK, reason="checks the message shown without the spark extra")
def test_without_pyspark_a_clear_error(tmp_path: Path, state_dir: Path) -> None:
    with pytest.raises(ExecutionError, match=r"Task 'join_spark' is annotated with pyspark.*spark extra"):
        _pipeline(tmp_path).run()


@pytest.mark.spark
def test_pyspark_task_runs_on_local_spark(tmp_path: Path, state_dir: Path) -> None:
    result = _pipeline(tmp_path).run()
    assert result["join_spark"].status == "succeeded" and result["join_spark"].rows == SALES.height
    joined = SALES.join(CUSTOMERS, on="customer_id").select("order_id", "region", "amount")
    assert_same(pl.read_parquet(tmp_path / "lake/joined.parquet"), joined, by=["order_id"])
    totals = joined.group_by("region").agg(pl.col("amount").sum())
    assert_same(pl.read_parquet(tmp_path / "lake/totals.parquet"), totals, by=["region"])


def _format_chains(tmp_path: Path, fail: bool = False) -> list[Any]:
    """pyspark tasks over a directory dataset (partition columns), ndjson and Arrow inputs,
    writing a partitioned directory, csv, ndjson, Arrow, a zero-row csv and directory."""
    provider = Provider(config=LocalConfig(base_path=str(tmp_path)))
    spark = provider.spark(config=SparkConfig(workers=2))

    @spark.task(partition_by=["region"])
    def by_region(
        sales_df: pyspark.sql.DataFrame, customers_df: pyspark.sql.DataFrame
    ) -> pyspark.sql.DataFrame:
        if fail:
            raise RuntimeError("broken on purpose")
        return sales_df.join(customers_df, on="customer_id").select("order_id", "region", "amount")

    @spark.task()
    def totals(df: pyspark.sql.DataFrame) -> pyspark.sql.DataFrame:
        from pyspark.sql import functions as F

        return df.groupBy("region").agg(F.sum("amount").alias("amount"))

    @spark.task()
    def regions(df: pyspark.sql.DataFrame) -> pyspark.sql.DataFrame:
        return df.select("region").distinct()

    @spark.task()
    def none(df: pyspark.sql.DataFrame) -> pyspark.sql.DataFrame:
        return df.filter("amount < 0")

    bucket = provider.bucket
    regional = bucket("lake", "by_region/")
    chains = [
        Pipeline(
            name="spark_formats", sales_df=bucket("lake", "sales/"), customers_df=bucket("lake", "c.jsonl")
        )
        .transform(by_region)
        .to(regional)
    ]
    if not fail:
        chains += [
            regional.transform(totals).to(bucket("lake", "totals.csv")),
            regional.transform(regions).to(bucket("lake", "regions.jsonl")),
            bucket("lake", "regions.jsonl").transform(regions).to(bucket("lake", "regions.arrow")),
            bucket("lake", "regions.arrow").transform(regions).to(bucket("lake", "again.parquet")),
            regional.transform(none).to(bucket("lake", "none.csv")),
            regional.transform(none).to(bucket("lake", "empty/")),
        ]
    return chains


@pytest.mark.spark
def test_pyspark_tasks_read_and_write_every_format_published_whole(tmp_path: Path, state_dir: Path) -> None:
    from glacier.formats import Format
    from glacier.io import scan_uri, write_atomic

    lake = tmp_path / "lake"
    write_atomic(SALES.lazy(), str(lake / "sales") + "/", Format.PARQUET_DIR, partition_by=["category"])
    CUSTOMERS.write_ndjson(lake / "c.jsonl")
    for chain in _format_chains(tmp_path):
        result = chain.run()
        assert all(run.status == "succeeded" for run in result.tasks.values()), result.tasks
    joined = SALES.join(CUSTOMERS, on="customer_id").select("order_id", "region", "amount")
    assert (lake / "by_region").is_symlink()  # a version, published whole
    assert sorted(p.name for p in (lake / "by_region").iterdir() if not p.name.startswith((".", "_"))) == [
        f"region={r}" for r in sorted(set(CUSTOMERS["region"]))
    ]
    by_region = scan_uri(str(lake / "by_region") + "/", Format.PARQUET_DIR).collect()
    assert_same(by_region.select(joined.columns), joined, by=["order_id"])
    totals = pl.read_csv(lake / "totals.csv")
    assert_same(totals, joined.group_by("region").agg(pl.col("amount").sum()), by=["region"])
    regions = sorted(set(CUSTOMERS["region"]))
    assert sorted(pl.read_ndjson(lake / "regions.jsonl")["region"]) == regions
    assert sorted(pl.read_ipc(lake / "regions.arrow")["region"]) == regions  # Spark -> Polars -> Arrow
    assert sorted(pl.read_parquet(lake / "again.parquet")["region"]) == regions  # Arrow read for Spark
    none = pl.read_csv(lake / "none.csv")
    assert none.height == 0 and sorted(none.columns) == ["amount", "order_id", "region"]  # the header
    empty = scan_uri(str(lake / "empty") + "/", Format.PARQUET_DIR).collect()
    assert empty.height == 0 and set(empty.columns) == {"order_id", "region", "amount"}
    assert not list(lake.glob(".glacier-tmp-*"))
    # A failing Spark task publishes nothing: the version before stays.
    with pytest.raises(ExecutionError, match=r"Task 'by_region' failed on Spark: RuntimeError: broken"):
        _format_chains(tmp_path, fail=True)[0].run()
    again = scan_uri(str(lake / "by_region") + "/", Format.PARQUET_DIR).collect()
    assert_same(again.select(joined.columns), joined, by=["order_id"])
