"""Glue Data Catalog tables from dataset schemas: Hive types, SerDes per format, symlink
manifests for single files, partition keys for hive directories — and, under Pulumi's mocks
with the real pulumi_aws v7 classes, table columns equal to the DAG's derived schemas."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import polars as pl
import pulumi
import pulumi_aws as aws
import pytest

from glacier import load_pipelines
from glacier.dag.schema import DatasetSchema, schema_from_declaration
from glacier.deploy.catalog import (
    CatalogDeclaration,
    declare_database,
    declare_tables,
    hive_type,
    table_name,
    table_spec,
)
from glacier.deploy.plan import run_under_mocks
from glacier.errors import DeploymentError
from glacier.formats import Format
from glacier.runtime.event import partition_columns
from glacier.schema.derive import derive_pipelines

REPO = Path(__file__).resolve().parents[2]
TABLE = "aws:glue/catalogTable:CatalogTable"


@pytest.mark.parametrize(
    ("dtype", "hive"),
    [
        (pl.Int64, "bigint"),
        (pl.Int32, "int"),
        (pl.Int16, "smallint"),
        (pl.Int8, "tinyint"),
        (pl.UInt32, "bigint"),
        (pl.Float64, "double"),
        (pl.Float32, "float"),
        (pl.String, "string"),
        (pl.Boolean, "boolean"),
        (pl.Date, "date"),
        (pl.Datetime("ms", "UTC"), "timestamp"),
        (pl.Decimal(12, 3), "decimal(12,3)"),
        (pl.List(pl.String), "array<string>"),
        (pl.Array(pl.Float64, 3), "array<double>"),
        (pl.Struct({"Id": pl.Int64, "tags": pl.List(pl.String)}), "struct<id:bigint,tags:array<string>>"),
        (pl.Categorical, "string"),
        (pl.Binary, "binary"),
    ],
)
def test_hive_types(dtype: Any, hive: str) -> None:
    name = schema_from_declaration({"c": dtype}, dataset="d").columns["c"]
    assert hive_type(name, dataset="d", column="c") == hive


def test_unsupported_dtype_names_dataset_and_column() -> None:
    with pytest.raises(DeploymentError, match=r"Dataset 'lake/x\.parquet' column 'wait' is Duration") as info:
        hive_type("Duration(time_unit='us')", dataset="lake/x.parquet", column="wait")
    assert "cast 'wait'" in str(info.value.fix)


def test_storage_per_format() -> None:
    schema = {"id": "Int64", "region": "String"}
    parquet = table_spec(bucket="lake", path="curated/orders.parquet", fmt=Format.PARQUET, schema=schema)
    assert parquet.name == "lake_curated_orders"
    assert parquet.storage.serde == "org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe"
    assert parquet.storage.input_format == "org.apache.hadoop.hive.ql.io.SymlinkTextInputFormat"
    assert parquet.location is None and parquet.manifest_body == "s3://lake/curated/orders.parquet\n"
    assert parquet.manifest_location("artifacts") == "s3://artifacts/glacier-catalog/lake_curated_orders/"

    csv = table_spec(bucket="lake", path="raw/orders.csv", fmt=Format.CSV, schema=schema)
    assert csv.storage.serde == "org.apache.hadoop.hive.serde2.OpenCSVSerde"
    assert dict(csv.storage.table_parameters) == {"skip.header.line.count": "1"}
    ndjson = table_spec(bucket="lake", path="raw/orders.ndjson", fmt=Format.NDJSON, schema=schema)
    assert ndjson.storage.serde == "org.openx.data.jsonserde.JsonSerDe"

    events = table_spec(
        bucket="lake", path="events/", fmt=Format.PARQUET_DIR, schema=schema, partition_by=["region"]
    )
    assert events.location == "s3://lake/events/"
    assert events.storage.input_format == "org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat"
    assert events.columns == (("id", "bigint"),) and events.partition_keys == (("region", "string"),)
    with pytest.raises(DeploymentError, match="partitioned by day"):
        table_spec(bucket="lake", path="events/", fmt=Format.PARQUET_DIR, schema=schema, partition_by=["day"])
    with pytest.raises(DeploymentError, match="ipc, which Athena cannot read"):
        table_spec(bucket="lake", path="x.arrow", fmt=Format.IPC, schema=schema)
    with pytest.raises(DeploymentError, match="differ only in case"):
        table_spec(bucket="lake", path="x.parquet", fmt=Format.PARQUET, schema={"a": "Int64", "A": "Int64"})
    assert table_name("Sales-Reports", "product_ranking/") == "sales_reports_product_ranking"


SALES_SOURCES = {
    "sales-raw/orders.csv": {
        "order_id": pl.Int64,
        "customer_id": pl.Int64,
        "product_id": pl.Int64,
        "quantity": pl.Int64,
        "discount": pl.Float64,
        "status": pl.String,
        "order_ts": pl.String,
        "unit_price": pl.Float64,
    },
    "sales-raw/customers.parquet": {"customer_id": pl.Int64, "region": pl.String, "segment": pl.String},
    "sales-raw/products.ndjson": {"product_id": pl.Int64, "product_name": pl.String, "category": pl.String},
}


def test_catalog_tables_under_mocks_equal_the_dag_schemas() -> None:
    """With no data anywhere: the sales example's derived schemas become the tables' columns."""
    (sales,) = load_pipelines(REPO / "examples/sales/pipelines.py").pipelines
    declared = {k: schema_from_declaration(v, dataset=k) for k, v in SALES_SOURCES.items()}
    (derived,) = derive_pipelines([sales], {"sales": declared})
    assert derived.problems == [] and len(derived.schemas) == len(sales.dag.datasets)
    keys = {task.output: partition_columns(task) or [] for task in sales.dag.tasks}

    def program() -> dict[str, Any]:
        parent = pulumi.ComponentResource("glacier:test:Catalog", "sales")
        child = pulumi.ResourceOptions(parent=parent)
        database = declare_database("sales-catalog", "Glacier Demo", region="us-east-1", opts=child)
        manifests = aws.s3.Bucket("sales-artifacts", bucket="sales-artifacts", opts=child)
        specs = [
            table_spec(
                bucket=ds.bucket,
                path=ds.path,
                fmt=ds.format,
                schema=derived.schemas[ds.id].columns,
                partition_by=keys.get(ds.id, []),
            )
            for ds in sales.dag.datasets
        ]
        registry: dict[str, pulumi.Resource] = {}
        catalog = CatalogDeclaration(database, "us-east-1", {"project": "demo"})
        declare_tables(
            parent, "sales", specs, catalog=catalog, manifest_bucket=manifests.bucket, registry=registry
        )
        again = declare_tables(
            parent, "other", specs, catalog=catalog, manifest_bucket=manifests.bucket, registry=registry
        )
        assert again == {}  # shared datasets: declared once per program
        return {}

    result = run_under_mocks(program)
    (database,) = result.by_type("aws:glue/catalogDatabase:CatalogDatabase")
    assert database.inputs["name"] == "glacier_demo" and database.parent == "sales"
    tables = {r.inputs["name"]: r for r in result.by_type(TABLE)}
    assert len(tables) == len(sales.dag.datasets) == 7
    for ds in sales.dag.datasets:
        table = tables[table_name(ds.bucket, ds.path)]
        assert table.parent == "sales" and table.name.startswith("sales-table-")
        inputs = table.inputs
        assert inputs["databaseName"] == "glacier_demo" and inputs["tableType"] == "EXTERNAL_TABLE"
        descriptor = inputs["storageDescriptor"]
        partition = [(k["name"], k["type"]) for k in inputs.get("partitionKeys", [])]
        columns = [(c["name"], c["type"]) for c in descriptor["columns"]]
        schema: DatasetSchema = derived.schemas[ds.id]
        expected = [
            (name, hive_type(dtype, dataset=ds.id, column=name)) for name, dtype in schema.columns.items()
        ]
        assert sorted(columns + partition) == sorted(expected), ds.id
        assert [c for c, _ in columns + partition] == [c for c, _ in expected if c not in dict(partition)] + [
            c for c, _ in partition
        ]
        if ds.format is Format.PARQUET_DIR:
            assert descriptor["location"] == f"s3://{ds.bucket}/{ds.path}"
        else:
            assert (
                descriptor["location"]
                == f"s3://sales-artifacts/glacier-catalog/{table_name(ds.bucket, ds.path)}/"
            )
    ranking = tables["sales_reports_product_ranking"]
    assert ranking.inputs["partitionKeys"] == [{"name": "category", "type": "string"}]
    summary = tables["sales_reports_executive_summary"].inputs["storageDescriptor"]
    assert summary["serDeInfo"]["serializationLibrary"] == "org.apache.hadoop.hive.serde2.OpenCSVSerde"
    assert ("orders", "bigint") in [(c["name"], c["type"]) for c in summary["columns"]]  # UInt32 widened
    manifests = {
        r.inputs["key"]: r.inputs["content"] for r in result.by_type("aws:s3/bucketObjectv2:BucketObjectv2")
    }
    assert manifests["glacier-catalog/sales_raw_orders/manifest"] == "s3://sales-raw/orders.csv\n"
    assert len(manifests) == 6  # every single-file dataset; the directory needs none
