"""``glacier schema infer``: schemas read from real files (footers for parquet, the first rows
for csv/ndjson, a hive directory), printed as declarations that paste back as the same schema."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import polars as pl
from schema_helpers import compiled

from glacier.config import LocalConfig
from glacier.dag.schema import schema_from_declaration
from glacier.formats import Format
from glacier.schema.infer import infer_declarations, infer_paths, infer_sources, render_declarations

ORDERS = pl.DataFrame(
    {
        "order_id": pl.Series([1, 2], dtype=pl.Int32),
        "amount": [9.5, 20.0],
        "placed_at": [dt.datetime(2025, 1, 1), dt.datetime(2025, 1, 2)],
        "tags": [["a"], []],
        "price": pl.Series([1.25, 2.5]).cast(pl.Decimal(10, 2)),
        "region": ["emea", "apac"],
    }
)


def passthrough(orders: pl.LazyFrame, customers: pl.LazyFrame) -> pl.LazyFrame:
    return orders.join(customers, on="order_id")


def test_infer_pipeline_sources_prints_declarations_that_round_trip(tmp_path: Path) -> None:
    (tmp_path / "lake").mkdir()
    ORDERS.write_parquet(tmp_path / "lake/orders.parquet")
    pl.DataFrame({"order_id": [1], "name": ["x"]}).write_csv(tmp_path / "lake/customers.csv")
    p = compiled(
        "p",
        [
            (
                passthrough,
                {"orders": "lake/orders.parquet", "customers": "lake/customers.csv"},
                "lake/out.parquet",
            )
        ],
        storage=LocalConfig(base_path=str(tmp_path)),
    )
    found = infer_sources([p])
    assert [f.label for f in found] == [
        "lake/customers.csv",
        "lake/orders.parquet",
    ]  # out is written: not a source
    assert found[1].columns == {name: str(dtype) for name, dtype in ORDERS.schema.items()}

    text = render_declarations(found)
    assert "orders = provider.bucket('lake', 'orders.parquet', schema={" in text
    assert "    'placed_at': pl.Datetime(time_unit='us', time_zone=None)," in text
    assert "    'price': pl.Decimal(precision=10, scale=2)," in text
    assert (
        "customers = provider.bucket('lake', 'customers.csv', schema={  # inferred from the first rows"
        in text
    )

    class Provider:  # what the pasted code calls: check it declares what the files hold
        def bucket(self, bucket: str, path: str, schema: dict[str, object]) -> dict[str, str]:
            return schema_from_declaration(schema, dataset=f"{bucket}/{path}").columns

    namespace: dict[str, object] = {"provider": Provider()}
    exec(compile(text, "<declarations>", "exec"), namespace)
    assert namespace["orders"] == found[1].columns
    assert namespace["customers"] == {"order_id": "Int64", "name": "String"}


def test_missing_source_is_a_comment_not_a_failure(tmp_path: Path) -> None:
    p = compiled(
        "p",
        [(passthrough, {"orders": "lake/orders.parquet", "customers": "lake/c.parquet"}, "lake/out.parquet")],
        storage=LocalConfig(base_path=str(tmp_path)),
    )
    text = infer_declarations([p])
    assert f"# lake/c.parquet: cannot read {tmp_path}/lake/c.parquet" in text
    assert "# lake/orders.parquet: cannot read" in text


def test_infer_files_and_hive_directory_by_path(tmp_path: Path) -> None:
    ORDERS.write_parquet(tmp_path / "events", partition_by="region")
    ORDERS.select("order_id", "amount").write_ndjson(tmp_path / "o.ndjson")
    events, lines = infer_paths([tmp_path / "events", tmp_path / "o.ndjson"])
    assert events.format is Format.PARQUET_DIR
    assert events.columns is not None and events.columns["region"] == "String"
    assert set(events.columns) == set(ORDERS.columns)
    assert lines.columns == {"order_id": "Int64", "amount": "Float64"}
    text = infer_declarations([tmp_path / "o.ndjson"])
    assert (
        f"# {tmp_path}/o.ndjson  # inferred from the first rows\nschema = {{\n    'order_id': pl.Int64,"
        in text
    )
