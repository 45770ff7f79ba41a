"""What the Spark entry decides without running Spark (default tier): the mode of a task,
the plain placement note of ``glacier cost``, and the message when pyspark is missing."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING

import polars as pl
import pytest

from glacier import Provider
from glacier.analysis.analysis import spark_placement
from glacier.config import LocalConfig
from glacier.errors import ExecutionError
from glacier.runtime.event import TaskEvent
from glacier.runtime.spark_entry import run_on_spark, spark_mode

if TYPE_CHECKING:
    from pyspark.sql import DataFrame

provider = Provider(config=LocalConfig(base_path="/tmp/unused"))
spark = provider.spark()


@spark.task()
def with_spark(df: DataFrame) -> DataFrame:
    return df


@spark.task(partition_by=["k"])
def keyed(df: pl.LazyFrame) -> pl.LazyFrame:
    return df


@spark.task()
def alone(df: pl.LazyFrame) -> pl.LazyFrame:
    return df


def _event(partition_by: list[str] | None) -> TaskEvent:
    location = {"uri": "/tmp/x.parquet", "format": "parquet"}
    return TaskEvent.model_validate(
        {
            "pipeline": "p",
            "task": "t",
            "code_ref": "m:t",
            "inputs": {"df": location},
            "output": {"uri": "/tmp/y.parquet", "format": "parquet"},
            "partition_by": partition_by,
        }
    )


def test_the_mode_comes_from_the_function_and_the_keys() -> None:
    assert spark_mode(with_spark.func, _event(None)) == "pyspark"
    assert spark_mode(keyed.func, _event(["k"])) == "copartitioned"
    assert spark_mode(alone.func, _event(None)) == "driver"


def test_cost_says_plainly_where_each_spark_task_runs() -> None:
    b = provider.bucket
    chains = [
        b("lake", "a.parquet").transform(with_spark).to(b("lake", "b.parquet")),
        b("lake", "b.parquet").transform(keyed).to(b("lake", "c/")),
        b("lake", "c/").transform(alone).to(b("lake", "d.parquet")),
    ]
    notes = [n for chain in chains for n in spark_placement(chain.to_dag())]
    assert notes == [
        "task 'with_spark' runs pyspark on the cluster",
        "task 'keyed' runs Polars co-partitioned by ['k'] on the cluster's workers",
        "task 'alone' runs on one node (Polars on the Spark driver, no partition_by): give it "
        "partition_by=[keys] to use the workers, or run it on provider.serverless()",
    ]


def test_without_pyspark_a_clear_error_naming_the_task(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    for name in [m for m in sys.modules if m == "pyspark" or m.startswith("pyspark.")]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "pyspark", None)  # import pyspark -> ImportError
    with pytest.raises(
        ExecutionError,
        match=r"Task 't' is a partitioned task on Spark, but pyspark is not installed.*drop partition_by",
    ):
        run_on_spark(_event(["k"]), keyed.func, None)
    with pytest.raises(
        ExecutionError,
        match=r"Task 't' is annotated with pyspark.sql.DataFrame, but pyspark is not installed",
    ):
        run_on_spark(_event(None), with_spark.func, None)
