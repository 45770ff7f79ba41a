"""Declared CSV and NDJSON inputs are read with the declared dtypes (``scan_csv`` /
``scan_ndjson`` ``schema_overrides``), through the one runtime core, locally and in the
Lambda handler on moto's S3; a value that does not parse as declared fails the task naming
the input and the column (in the first rows: before the task runs; further down: while its
result is computed), and nothing is written."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from glacier.dag.schema import DatasetSchema, schema_from_declaration
from glacier.errors import ExecutionError
from glacier.formats import Format
from glacier.io import scan_uri
from glacier.runtime import core, lambda_handler
from glacier.runtime.event import DatasetLocation, TaskEvent
from glacier.runtime.lambda_handler import TaskFailedError
from glacier.runtime.schema_check import SAMPLE_ROWS, scan_dtypes

DECLARED = schema_from_declaration(
    {"order_id": pl.Int64, "amount": pl.Float64, "placed_at": pl.Datetime("us")}, dataset="raw/orders"
)
HEADER = "order_id,amount,placed_at\n"
GOOD_ROW = "{i},{i},2025-01-0{d}T10:00:00.000000\n"
TASK_MODULE = """
import polars as pl


def daily(orders: pl.LazyFrame) -> pl.LazyFrame:
    return orders.group_by(pl.col("placed_at").dt.date().alias("day")).agg(pl.col("amount").sum())
"""


def csv_text(rows: int, bad_at: int | None = None) -> str:
    lines = [GOOD_ROW.format(i=i, d=1 + i % 3) for i in range(rows)]
    if bad_at is not None:
        lines[bad_at] = "x7,1,2025-01-01T10:00:00.000000\n"
    return HEADER + "".join(lines)


def ndjson_text(rows: int, bad_at: int | None = None) -> str:
    lines = [
        f'{{"order_id":{i},"amount":{i},"placed_at":"2025-01-0{1 + i % 3}T10:00:00"}}\n' for i in range(rows)
    ]
    if bad_at is not None:
        lines[bad_at] = '{"order_id":"x7","amount":1,"placed_at":"2025-01-01T10:00:00"}\n'
    return "".join(lines)


def daily(orders: pl.LazyFrame) -> pl.LazyFrame:
    return orders.group_by(pl.col("placed_at").dt.date().alias("day")).agg(pl.col("amount").sum())


def event(source: str, fmt: Format, output: str, declared: DatasetSchema | None = DECLARED) -> TaskEvent:
    return TaskEvent(
        pipeline="shop",
        task="daily",
        code_ref="text_tasks:daily",
        inputs={"orders": DatasetLocation(uri=source, format=fmt, schema_=declared)},
        output=DatasetLocation(uri=output, format=Format.PARQUET),
    )


@pytest.mark.parametrize(("fmt", "text"), [(Format.CSV, csv_text), (Format.NDJSON, ndjson_text)])
def test_declared_text_columns_are_read_as_declared(tmp_path: Path, fmt: Format, text: Any) -> None:
    source = tmp_path / f"orders.{fmt.value}"
    source.write_text(text(30))
    inferred = scan_uri(str(source), fmt).collect_schema()
    assert inferred["amount"] == pl.Int64  # whole numbers: Polars alone infers Int64
    assert inferred["placed_at"] != pl.Datetime("us")  # CSV: String
    read = scan_uri(str(source), fmt, dtypes=scan_dtypes(fmt, DECLARED)).collect_schema()
    assert {k: str(v) for k, v in read.items()} == DECLARED.columns
    out = tmp_path / "daily.parquet"
    result = core.execute_task(event(str(source), fmt, str(out)), daily, None)
    assert result.rows == 3
    assert pl.read_parquet(out).schema == pl.Schema({"day": pl.Date, "amount": pl.Float64})


@pytest.mark.parametrize(("fmt", "text"), [(Format.CSV, csv_text), (Format.NDJSON, ndjson_text)])
@pytest.mark.parametrize("bad_at", [5, SAMPLE_ROWS + 500])
def test_a_value_that_does_not_parse_as_declared_names_dataset_and_column(
    tmp_path: Path, fmt: Format, text: Any, bad_at: int
) -> None:
    """Row 5 fails the check before the task runs; a row past the sampled ones fails while
    the result is computed: either way one message naming the input, nothing written."""
    source = tmp_path / f"orders.{fmt.value}"
    source.write_text(text(SAMPLE_ROWS + 1000, bad_at=bad_at))
    out = tmp_path / "daily.parquet"
    with pytest.raises(ExecutionError) as info:
        core.execute_task(event(str(source), fmt, str(out)), daily, None)
    problem = info.value.problem
    assert problem.startswith(f"Task 'daily' cannot read input 'orders' ('{source}') as declared: ")
    column = "column 'order_id'" if fmt is Format.CSV else "a column"  # NDJSON names none
    assert f"{column} holds 'x7', which is not Int64. Nothing was written." in problem
    assert "declare" in str(info.value.fix) and info.value.task == "daily"
    assert sorted(p.name for p in tmp_path.iterdir()) == [source.name]  # no output, no staging


def test_an_undeclared_text_input_is_still_inferred(tmp_path: Path) -> None:
    source = tmp_path / "orders.csv"
    source.write_text(csv_text(10))
    out = tmp_path / "daily.parquet"
    with pytest.raises(ExecutionError, match="failed"):  # placed_at is a String: no .dt
        core.execute_task(event(str(source), Format.CSV, str(out), declared=None), daily, None)
    assert not out.exists()


def test_the_lambda_handler_reads_a_declared_csv_on_s3(
    s3_client: Any, fresh_bucket: str, moto_endpoint: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    (tmp_path / "text_tasks.py").write_text(TASK_MODULE)
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setenv("AWS_ENDPOINT_URL", moto_endpoint)
    source, out = f"s3://{fresh_bucket}/raw/orders.csv", f"s3://{fresh_bucket}/marts/daily.parquet"
    payload = event(source, Format.CSV, out).model_dump(mode="json", exclude_none=True)
    try:
        s3_client.put_object(Bucket=fresh_bucket, Key="raw/orders.csv", Body=csv_text(40, bad_at=7).encode())
        with pytest.raises(TaskFailedError) as info:
            lambda_handler.handler(payload, None)
        assert f"cannot read input 'orders' ('{source}') as declared: column 'order_id' holds 'x7'" in str(
            info.value
        )
        keys = [o["Key"] for o in s3_client.list_objects_v2(Bucket=fresh_bucket).get("Contents", [])]
        assert keys == ["raw/orders.csv"]  # nothing written
        s3_client.put_object(Bucket=fresh_bucket, Key="raw/orders.csv", Body=csv_text(40).encode())
        result = lambda_handler.handler(payload, None)
        assert result["rows"] == 3
        body = s3_client.get_object(Bucket=fresh_bucket, Key="marts/daily.parquet")["Body"].read()
        assert pl.read_parquet(body).schema == pl.Schema({"day": pl.Date, "amount": pl.Float64})
    finally:
        sys.modules.pop("text_tasks", None)
