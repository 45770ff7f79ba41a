"""Spark executor locally: pyspark-typed tasks run on local Spark; Polars-typed ones on Polars."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import TYPE_CHECKING

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
