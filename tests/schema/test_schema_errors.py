"""Every schema-contract mistake raises one GlacierError subclass whose message names the
dataset, task and column and says how to fix it (the ``tests/test_errors.py`` pattern);
docs/errors.md lists these same cases under "Schema contracts"."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from schema_helpers import compiled

from glacier import Pipeline, Provider
from glacier.config import AwsConfig, LocalConfig
from glacier.dag.schema import SchemaContractError, schema_from_declaration
from glacier.deploy.catalog import CatalogTableSpec, declare_tables, table_spec
from glacier.deploy.options import DeployOptions
from glacier.deploy.program import one_catalog_region
from glacier.errors import DefinitionError, DeploymentError, ExecutionError
from glacier.formats import Format
from glacier.runtime.schema_check import check_input, check_output
from glacier.schema.derive import derive_pipelines, derive_schemas
from tests.error_cases import Case, assert_clear_error

ORDERS = {"order_id": pl.Int64, "amount": pl.Float64, "placed_at": pl.Datetime}


def declared(columns: dict[str, Any], dataset: str = "lake/orders.parquet", mode: str = "freeze") -> Any:
    return schema_from_declaration(columns, dataset=dataset, mode=mode)


def totals(orders: pl.LazyFrame) -> pl.LazyFrame:
    return orders.group_by("order_id").agg(total=pl.col("amout").sum())


def counts(orders: pl.LazyFrame) -> pl.LazyFrame:
    return orders.group_by("order_id").agg(n=pl.len())


def add_text(orders: pl.LazyFrame) -> pl.LazyFrame:
    return orders.with_columns(label=pl.col("amount") + pl.lit("x"))


def derive_one(func: Callable[..., Any], out: dict[str, Any] | None = None) -> None:
    pipeline = compiled("p", [(func, {"orders": "lake/orders.parquet"}, "lake/out.parquet")])
    schemas = {"lake/orders.parquet": declared(ORDERS)}
    if out is not None:
        schemas["lake/out.parquet"] = declared(out, "lake/out.parquet")
    derive_schemas(pipeline, schemas).raise_first()


def pipelines_disagree(_: Path) -> None:
    def summary(df: pl.LazyFrame) -> pl.LazyFrame:
        return df

    first = compiled("daily", [(counts, {"orders": "lake/orders.parquet"}, "lake/counts.parquet")])
    second = compiled("report", [(summary, {"df": "lake/counts.parquet"}, "lake/report.parquet")])
    results = derive_pipelines(
        [first, second],
        {
            "daily": {"lake/orders.parquet": declared(ORDERS)},
            "report": {
                "lake/counts.parquet": declared({"order_id": pl.Int64, "n": pl.Int64}, "lake/counts.parquet")
            },
        },
    )
    for result in results:
        result.raise_first()


def input_breaks_declaration(tmp: Path) -> None:
    pl.DataFrame({"order_id": ["1"], "amount": [2.0], "placed_at": [dt.datetime(2025, 1, 1)]}).write_parquet(
        tmp / "orders.parquet"
    )
    frame = pl.scan_parquet(tmp / "orders.parquet")
    check_input("totals", "orders", "lake/orders.parquet", frame, declared(ORDERS))


def output_breaks_declaration(_: Path) -> None:
    frame = pl.LazyFrame({"order_id": [1]}).group_by("order_id").agg(n=pl.len())
    check_output("counts", "lake/counts.parquet", frame, declared({"order_id": pl.Int64, "n": pl.Int64}))


def table_names_collide(_: Path) -> None:
    specs: list[CatalogTableSpec] = [
        table_spec(bucket="lake", path=path, fmt=Format.PARQUET, schema={"a": "Int64"})
        for path in ("daily-sales.parquet", "daily_sales.parquet")
    ]
    declare_tables(None, "p", specs, catalog=None, manifest_bucket="artifacts")  # type: ignore[arg-type]


def mode_without_schema(tmp: Path) -> None:
    Provider(config=LocalConfig(base_path=str(tmp))).bucket("lake", "orders.parquet", schema_mode="evolve")


def declared_twice(tmp: Path) -> None:
    provider = Provider(config=LocalConfig(base_path=str(tmp)))
    merge = provider.local().task(name="merge")(lambda a, b: a)
    a = provider.bucket("lake", "orders.parquet", schema={"order_id": pl.Int64})
    b = provider.bucket("lake", "orders.parquet", schema={"order_id": pl.String})
    Pipeline(a=a, b=b).transform(merge).to(provider.bucket("lake", "out.parquet")).to_dag()


def catalog_in_two_regions(_: Path) -> None:
    def keep(df: pl.LazyFrame) -> pl.LazyFrame:
        return df

    east = compiled(
        "east", [(keep, {"df": "lake/a.parquet"}, "lake/b.parquet")], storage=AwsConfig(region="us-east-1")
    )
    west = compiled(
        "west", [(keep, {"df": "lake/c.parquet"}, "lake/d.parquet")], storage=AwsConfig(region="eu-west-1")
    )
    one_catalog_region([east.dag, west.dag], DeployOptions())


CASES: dict[str, Case] = {
    "schema_mode_without_schema": Case(
        "provider.bucket('lake', 'orders.parquet', schema_mode='evolve')",
        mode_without_schema,
        DefinitionError,
        "Dataset 'lake/orders.parquet' has schema_mode='evolve' but no schema=",
        "declare its columns with schema={...} too",
    ),
    "dataset_declared_twice": Case(
        "two provider.bucket('lake', 'orders.parquet', schema=...) with other dtypes in one pipeline",
        declared_twice,
        DefinitionError,
        "Dataset 'lake/orders.parquet' is declared twice with different schemas (column 'order_id' is "
        "String, declared Int64)",
        "declare it once",
    ),
    "catalog_pipelines_in_two_regions": Case(
        "pipelines with schemas deployed from us-east-1 and eu-west-1 in one program",
        catalog_in_two_regions,
        DeploymentError,
        "Pipelines with schemas deploy to different regions ('east' in us-east-1, 'west' in eu-west-1)",
        "deploy them from one AwsConfig region",
    ),
    "schema_dtype_not_polars": Case(
        "schema={'amount': 3}",
        lambda _: declared({"amount": 3}),
        DefinitionError,
        "Dataset 'lake/orders.parquet' declares column 'amount' as 3, which is not a Polars dtype",
        "declare each column with a Polars dtype",
    ),
    "schema_nested_dtype_without_inner": Case(
        "schema={'tags': pl.List}",
        lambda _: declared({"tags": pl.List}),
        DefinitionError,
        "declares column 'tags' as List, which is not a Polars dtype (nested types need their inner type",
        "declare each column with a Polars dtype",
    ),
    "schema_empty": Case(
        "schema={}",
        lambda _: declared({}),
        DefinitionError,
        "Dataset 'lake/orders.parquet' has schema={}",
        "pass a non-empty dict of column name -> Polars dtype",
    ),
    "schema_mode_unknown": Case(
        "schema_mode='strict'",
        lambda _: declared(ORDERS, mode="strict"),
        DefinitionError,
        "Dataset 'lake/orders.parquet' has schema_mode='strict'",
        "use schema_mode='freeze'",
    ),
    "task_uses_missing_column": Case(
        "pl.col('amout') in a task reading a declared source",
        lambda _: derive_one(totals),
        SchemaContractError,
        "Task 'totals' uses column 'amout', which input 'orders' ('lake/orders.parquet', declared) "
        "does not provide",
        "use 'amount' (the closest existing column)",
    ),
    "declared_output_other_dtype": Case(
        "an output declared {'n': pl.Int64} that the task produces as UInt32",
        lambda _: derive_one(counts, {"order_id": pl.Int64, "n": pl.Int64}),
        SchemaContractError,
        "Task 'counts' does not produce the declared schema of 'lake/out.parquet': column 'n' is UInt32, "
        "declared Int64",
        "pl.col('n').cast(pl.Int64)",
    ),
    "declared_output_missing_column": Case(
        "an output declared with a column the task does not produce",
        lambda _: derive_one(counts, {"order_id": pl.Int64, "n": pl.UInt32, "total": pl.Float64}),
        SchemaContractError,
        "column 'total' (Float64) is missing",
        "produce column 'total' in task 'counts'",
    ),
    "task_does_not_fit_input_dtypes": Case(
        "pl.col('amount') + pl.lit('x') on a Float64 column",
        lambda _: derive_one(add_text),
        SchemaContractError,
        "Task 'add_text' does not fit its inputs' schemas: arithmetic on dtypes",
        "match the input dtypes (cast where needed)",
    ),
    "pipelines_disagree_about_a_schema": Case(
        "pipeline 'report' declares {'n': pl.Int64} for what 'daily' derives as UInt32",
        pipelines_disagree,
        SchemaContractError,
        "Pipelines disagree about dataset 'lake/counts.parquet'",
        "declare 'lake/counts.parquet' once, with the same schema=",
    ),
    "input_breaks_its_declaration": Case(
        "a source file whose 'order_id' is String, declared Int64",
        input_breaks_declaration,
        ExecutionError,
        "Task 'totals' cannot run: input 'orders' ('lake/orders.parquet') does not match its declared "
        "schema: column 'order_id' is String, declared Int64",
        "change its declaration to what it holds ('order_id': pl.String)",
    ),
    "output_breaks_its_declaration": Case(
        "a task result whose 'n' is UInt32, declared Int64",
        output_breaks_declaration,
        ExecutionError,
        "Task 'counts' produced a result that does not match the declared schema of 'lake/counts.parquet'",
        "pl.col('n').cast(pl.Int64)",
    ),
    "catalog_unsupported_dtype": Case(
        "a dataset with a Duration column deployed to the Glue catalog",
        lambda _: table_spec(
            bucket="lake", path="t.parquet", fmt=Format.PARQUET, schema={"wait": "Duration(time_unit='us')"}
        ),
        DeploymentError,
        "Dataset 'lake/t.parquet' column 'wait' is Duration(time_unit='us')",
        "cast 'wait' to a supported type",
    ),
    "catalog_partition_key_not_in_schema": Case(
        "a directory dataset partitioned by a column its schema lacks",
        lambda _: table_spec(
            bucket="lake", path="events/", fmt=Format.PARQUET_DIR, schema={"a": "Int64"}, partition_by=["day"]
        ),
        DeploymentError,
        "Dataset 'lake/events/' is partitioned by day",
        "partition by columns the dataset has",
    ),
    "catalog_ipc_dataset": Case(
        "an .arrow dataset with a schema deployed to the Glue catalog",
        lambda _: table_spec(bucket="lake", path="t.arrow", fmt=Format.IPC, schema={"a": "Int64"}),
        DeploymentError,
        "Dataset 'lake/t.arrow' is stored as ipc",
        "store it as .parquet, .csv or .ndjson",
    ),
    "catalog_table_names_collide": Case(
        "datasets 'lake/daily-sales.parquet' and 'lake/daily_sales.parquet'",
        table_names_collide,
        DeploymentError,
        "both map to Glue table 'lake_daily_sales'",
        "give one of them a path that differs",
    ),
}


@pytest.mark.parametrize("case_id", sorted(CASES))
def test_schema_mistake_raises_a_clear_glacier_error(case_id: str, tmp_path: Path) -> None:
    assert_clear_error(case_id, CASES[case_id], tmp_path)


def test_every_schema_case_is_listed_in_the_docs() -> None:
    doc = (Path(__file__).resolve().parents[2] / "docs" / "errors.md").read_text()
    missing = [case_id for case_id in CASES if f"`{case_id}`" not in doc]
    assert not missing
