"""The run-time check on real files: parquet footers (local and moto's S3), a hive directory,
CSV and NDJSON read with the declared dtypes, results checked before they are written."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from glacier.config import AwsConfig
from glacier.dag.schema import DatasetSchema, schema_from_declaration
from glacier.errors import ExecutionError
from glacier.formats import Format
from glacier.io import scan_uri, storage_options
from glacier.runtime.schema_check import check_input, check_output, frame_schema, scan_dtypes

ORDERS = pl.DataFrame(
    {
        "order_id": [1, 2, 3],
        "amount": [9.5, 20.0, 3.25],
        "region": ["emea", "apac", "emea"],
        "placed_at": [dt.datetime(2025, 1, d) for d in (1, 2, 3)],
    }
)
DECLARED = schema_from_declaration(
    {"order_id": pl.Int64, "amount": pl.Float64, "region": pl.String, "placed_at": pl.Datetime("us")},
    dataset="lake/orders.parquet",
)


def scan(path: Path, fmt: Format, declared: DatasetSchema | None = None) -> pl.LazyFrame:
    """The runtime's scan: text formats read the declared columns as declared."""
    return scan_uri(str(path), fmt, dtypes=scan_dtypes(fmt, declared))


def test_matching_parquet_input_passes(tmp_path: Path) -> None:
    ORDERS.write_parquet(tmp_path / "orders.parquet")
    check = check_input(
        "clean", "orders", "lake/orders.parquet", scan(tmp_path / "orders.parquet", Format.PARQUET), DECLARED
    )
    assert check.added == ()


def test_parquet_input_of_another_dtype_fails_naming_dataset_and_column(tmp_path: Path) -> None:
    ORDERS.with_columns(pl.col("amount").cast(pl.String)).write_parquet(tmp_path / "orders.parquet")
    frame = scan(tmp_path / "orders.parquet", Format.PARQUET)
    with pytest.raises(ExecutionError) as info:
        check_input("clean", "orders", "lake/orders.parquet", frame, DECLARED)
    assert info.value.task == "clean"
    assert info.value.problem == (
        "Task 'clean' cannot run: input 'orders' ('lake/orders.parquet') does not match its declared "
        "schema: column 'amount' is String, declared Float64. Nothing was written."
    )
    assert "'amount': pl.String" in str(info.value.fix)


def test_freeze_rejects_new_columns_and_evolve_returns_them(tmp_path: Path) -> None:
    ORDERS.with_columns(channel=pl.lit("web")).write_parquet(tmp_path / "orders.parquet")
    frame = scan(tmp_path / "orders.parquet", Format.PARQUET)
    with pytest.raises(ExecutionError, match="column 'channel' \\(String\\) is not declared"):
        check_input("clean", "orders", "lake/orders.parquet", frame, DECLARED)
    evolving = DECLARED.model_copy(update={"mode": "evolve"})
    check = check_input("clean", "orders", "lake/orders.parquet", frame, evolving)
    assert check.added == ("channel",) and check.added_columns == {"channel": "String"}
    # evolve still refuses a missing declared column
    ORDERS.drop("region").write_parquet(tmp_path / "orders.parquet")
    with pytest.raises(ExecutionError, match="column 'region' \\(String\\) is missing"):
        check_input(
            "clean",
            "orders",
            "lake/orders.parquet",
            scan(tmp_path / "orders.parquet", Format.PARQUET),
            evolving,
        )


def test_the_check_reads_footers_not_data(tmp_path: Path) -> None:
    """A parquet file whose data pages are garbage still has a readable schema."""
    path = tmp_path / "orders.parquet"
    ORDERS.write_parquet(path, statistics=False)
    raw = bytearray(path.read_bytes())
    raw[4:40] = b"\x00" * 36  # the first column chunk's pages, right after the magic bytes
    path.write_bytes(bytes(raw))
    with pytest.raises(pl.exceptions.PolarsError):
        pl.read_parquet(path)
    assert frame_schema(scan(path, Format.PARQUET)) == DECLARED.columns


def test_missing_input_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ExecutionError, match=r"cannot read the schema of 'lake/orders\.parquet'") as info:
        check_input(
            "clean",
            "orders",
            "lake/orders.parquet",
            scan(tmp_path / "nope.parquet", Format.PARQUET),
            DECLARED,
        )
    assert "run the task that writes it first" in str(info.value.fix)


def test_hive_directory_input(tmp_path: Path) -> None:
    ORDERS.write_parquet(tmp_path / "events", partition_by="region")
    frame = scan(tmp_path / "events", Format.PARQUET_DIR)
    check_input("clean", "events", "lake/events/", frame, DECLARED)
    wrong = DECLARED.model_copy(update={"columns": {**DECLARED.columns, "region": "Int64"}})
    with pytest.raises(ExecutionError, match="column 'region' is String, declared Int64"):
        check_input("clean", "events", "lake/events/", frame, wrong)


def test_csv_and_ndjson_read_with_declared_dtypes(tmp_path: Path) -> None:
    # Whole-number amounts: without the declaration a CSV reader would infer Int64.
    text = ORDERS.with_columns(pl.col("amount").floor().cast(pl.Int64))
    text.write_csv(tmp_path / "orders.csv")
    text.write_ndjson(tmp_path / "orders.ndjson")
    for fmt, name in ((Format.CSV, "orders.csv"), (Format.NDJSON, "orders.ndjson")):
        assert scan(tmp_path / name, fmt).collect_schema()["amount"] == pl.Int64
        frame = scan(tmp_path / name, fmt, DECLARED)
        check_input("clean", "orders", name, frame, DECLARED, fmt)
        assert frame.collect()["amount"].to_list() == [9.0, 20.0, 3.0]
        missing = DECLARED.model_copy(update={"columns": {**DECLARED.columns, "channel": "String"}})
        frame = scan(tmp_path / name, fmt, missing)
        with pytest.raises(ExecutionError, match="column 'channel' \\(String\\) is missing"):
            check_input("clean", "orders", name, frame, missing, fmt)
    assert scan_dtypes(Format.PARQUET, DECLARED) == {}


def test_output_checked_before_it_is_written(tmp_path: Path) -> None:
    ORDERS.write_parquet(tmp_path / "orders.parquet")
    result = scan(tmp_path / "orders.parquet", Format.PARQUET).group_by("region").agg(n=pl.len())
    declared = schema_from_declaration({"region": pl.String, "n": pl.Int64}, dataset="lake/counts.parquet")
    with pytest.raises(ExecutionError) as info:
        check_output("count", "lake/counts.parquet", result, declared)
    assert info.value.problem == (
        "Task 'count' produced a result that does not match the declared schema of 'lake/counts.parquet': "
        "column 'n' is UInt32, declared Int64. Nothing was written."
    )
    assert "pl.col('n').cast(pl.Int64)" in str(info.value.fix)
    fixed = result.with_columns(pl.col("n").cast(pl.Int64))
    assert check_output("count", "lake/counts.parquet", fixed, declared).added == ()
    assert check_output("count", "lake/counts.parquet", result, None).added == ()


def test_s3_input_schema_from_moto(
    tmp_path: Path, moto_endpoint: str, fresh_bucket: str, s3_client: Any
) -> None:
    ORDERS.with_columns(pl.col("order_id").cast(pl.Int32)).write_parquet(tmp_path / "orders.parquet")
    s3_client.upload_file(str(tmp_path / "orders.parquet"), fresh_bucket, "raw/orders.parquet")
    options = storage_options(AwsConfig(region="us-east-1", endpoint_url=moto_endpoint))
    frame = scan_uri(f"s3://{fresh_bucket}/raw/orders.parquet", Format.PARQUET, options)
    with pytest.raises(ExecutionError, match="column 'order_id' is Int32, declared Int64"):
        check_input("clean", "orders", f"s3://{fresh_bucket}/raw/orders.parquet", frame, DECLARED)
