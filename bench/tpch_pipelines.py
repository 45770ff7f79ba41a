"""TPC-H queries 3 and 5 as two Glacier pipelines (multi-join, two tasks each; the query
functions are in ``tpch_queries.py``), plus the data generator and official answers from
DuckDB's tpch extension. ``tpch_multi.py`` is the larger one-pipeline benchmark.

Datasets live in bucket ``tpch``: ``tpch/<table>.parquet`` (generated), intermediate and
final results under ``tpch/work/``. Importing this module reads and writes nothing.
"""

from __future__ import annotations

import glob
import io
import os
from pathlib import Path

import polars as pl
import tpch_queries as queries

from glacier import Pipeline, Provider
from glacier.config import LocalConfig

provider = Provider(config=LocalConfig(base_path="./data"))
local = provider.local()
TABLES = ("customer", "orders", "lineitem", "supplier", "nation", "region")
table = {name: provider.bucket("tpch", f"{name}.parquet") for name in TABLES}


building_orders = local.task(cache=True)(queries.building_orders)
q3 = local.task(cache=True)(queries.q3)
asia_suppliers = local.task(cache=True)(queries.asia_suppliers)
q5 = local.task(cache=True)(queries.q5)

work = {name: provider.bucket("tpch", f"work/{name}.parquet") for name in ("building", "q3", "asia", "q5")}

tpch_q3 = (
    Pipeline(
        name="tpch_q3",
        orders=Pipeline(name="tpch_q3", customer=table["customer"], orders=table["orders"])
        .transform(building_orders)
        .to(work["building"]),
        lineitem=table["lineitem"],
    )
    .transform(q3)
    .to(work["q3"])
)

tpch_q5 = (
    Pipeline(
        name="tpch_q5",
        customer=table["customer"],
        orders=table["orders"],
        lineitem=table["lineitem"],
        suppliers=Pipeline(
            name="tpch_q5", supplier=table["supplier"], nation=table["nation"], region=table["region"]
        )
        .transform(asia_suppliers)
        .to(work["asia"]),
    )
    .transform(q5)
    .to(work["q5"])
)


# -- data and answers ---------------------------------------------------------------------
def _duckdb_with_tpch():  # type: ignore[no-untyped-def]
    import duckdb
    import duckdb_extension_tpch

    pattern = os.path.join(
        os.path.dirname(duckdb_extension_tpch.__file__), "extensions", "*", "*.duckdb_extension"
    )
    (extension,) = glob.glob(pattern)
    con = duckdb.connect()
    con.execute(f"LOAD '{extension}'")
    return con


def generate(base: Path, scale_factor: float) -> None:
    """Write the eight TPC-H tables as parquet into ``base/tpch/`` (those not there yet)."""
    folder = base / "tpch"
    folder.mkdir(parents=True, exist_ok=True)
    missing = [name for name in queries.TABLES if not (folder / f"{name}.parquet").exists()]
    if not missing:
        return
    con = _duckdb_with_tpch()
    con.execute(f"CALL dbgen(sf={scale_factor})")
    for name in missing:
        con.execute(f"COPY {name} TO '{folder / name}.parquet' (FORMAT parquet)")
    con.close()


def answer(query: int, scale_factor: float) -> pl.DataFrame:
    """The official answer for ``query`` at ``scale_factor`` (0.01, 0.1 or 1)."""
    con = _duckdb_with_tpch()
    rows = con.execute(
        "SELECT answer FROM tpch_answers() WHERE query_nr = ? AND scale_factor = ?", [query, scale_factor]
    ).fetchall()
    con.close()
    return pl.read_csv(io.StringIO(rows[0][0]), separator="|", try_parse_dates=True)


# Queries whose ORDER BY can leave ties (Q11 orders by value alone): compared sorted on
# every column. The other queries order by keys that are unique in their answers.
TIED = {11}


def check_answer(query: int, ours: pl.DataFrame, scale_factor: float) -> None:
    """Assert ``ours`` equals the official answer: same columns, floats within 0.01 (the
    answers print 2 or 4 decimals), other values as text (the CSV's types are guesses)."""
    # Imported here: `glacier run` imports this file as the pipeline module, and the plain
    # script it is timed against does not load polars.testing (~10 ms).
    from polars.testing import assert_frame_equal

    expected = answer(query, scale_factor)
    assert ours.columns == expected.columns, (query, ours.columns, expected.columns)

    def normal(frame: pl.DataFrame, other: pl.DataFrame) -> pl.DataFrame:
        floats = [c for c in frame.columns if pl.Float64 in (frame[c].dtype, other[c].dtype)]
        return frame.with_columns(
            pl.col(floats).cast(pl.Float64), pl.exclude(floats).cast(pl.String).str.strip_chars_end()
        )

    ours, expected = normal(ours, expected), normal(expected, ours)
    if query in TIED:  # rows the query's ORDER BY leaves tied come in any order
        keys = [pl.col(c).round(2) if ours[c].dtype == pl.Float64 else pl.col(c) for c in ours.columns]
        ours, expected = ours.sort(keys), expected.sort(keys)
    try:
        assert_frame_equal(ours, expected, check_dtypes=False, rel_tol=1e-9, abs_tol=0.01)
    except AssertionError as exc:
        raise AssertionError(
            f"TPC-H Q{query} at SF{scale_factor:g} differs from the official answer: {exc}"
        ) from exc
