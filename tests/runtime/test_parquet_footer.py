"""Row counts from a parquet footer (glacier.io.parquet_footer) equal Polars' own count for
files written by Polars and by DuckDB, and anything that is not a readable footer falls back
(None) rather than giving a wrong count."""

from __future__ import annotations

from pathlib import Path

import duckdb
import polars as pl
import pytest

from glacier.formats import Format
from glacier.io import write_atomic
from glacier.io.parquet_footer import parquet_rows

FRAMES = {
    "small": pl.DataFrame({"id": range(1000), "value": range(1000)}),
    "empty": pl.DataFrame(schema={"a": pl.Int64, "b": pl.String}),
    "nested": pl.DataFrame(
        {"s": [{"x": 1, "y": [1, 2]}] * 5000, "l": [[1.0, None]] * 5000, "t": ["a", None] * 2500}
    ),
    "row_groups": pl.DataFrame({"a": range(250_000), "b": [True, False] * 125_000}),
}


@pytest.mark.parametrize("name", sorted(FRAMES))
def test_footer_rows_equal_polars_count(tmp_path: Path, name: str) -> None:
    path = tmp_path / f"{name}.parquet"
    FRAMES[name].write_parquet(path, row_group_size=50_000)
    counted = pl.scan_parquet(path).select(pl.len()).collect().item()
    assert parquet_rows(path) == counted == FRAMES[name].height


def test_footer_rows_of_a_sink_and_of_duckdb(tmp_path: Path) -> None:
    pl.LazyFrame({"a": range(12_345)}).sink_parquet(tmp_path / "sunk.parquet")
    assert parquet_rows(tmp_path / "sunk.parquet") == 12_345
    target = tmp_path / "duck.parquet"
    duckdb.sql(f"COPY (SELECT range AS x, 'a' AS s FROM range(777)) TO '{target}' (FORMAT parquet)")
    assert parquet_rows(target) == 777


def test_what_is_not_a_footer_gives_no_count(tmp_path: Path) -> None:
    good = tmp_path / "good.parquet"
    FRAMES["small"].write_parquet(good)
    cases = {
        "garbage": b"PAR1 this is not parquet at all",
        "truncated": good.read_bytes()[:-3],
        "tiny": b"PAR1",
        "footer cut": good.read_bytes()[:4] + good.read_bytes()[-40:],
    }
    for name, data in cases.items():
        (tmp_path / name).write_bytes(data)
        assert parquet_rows(tmp_path / name) is None, name
    assert parquet_rows(tmp_path / "missing.parquet") is None


def test_a_wide_schema_is_left_to_polars(tmp_path: Path) -> None:
    wide = pl.DataFrame({f"c{i}": [i] for i in range(300)})
    path = tmp_path / "wide.parquet"
    wide.write_parquet(path)
    assert parquet_rows(path) is None  # past _MAX_SCHEMA columns Polars counts faster
    assert write_atomic(wide.lazy(), str(tmp_path / "out.parquet"), Format.PARQUET) == 1


def test_write_atomic_counts_rows_from_the_footer(tmp_path: Path) -> None:
    frame = pl.LazyFrame({"a": range(4321)}).filter(pl.col("a") % 2 == 0)
    assert write_atomic(frame, str(tmp_path / "even.parquet"), Format.PARQUET) == 2161
