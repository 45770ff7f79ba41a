"""``glacier run``: progress and summary, --quiet, --pipeline, exit 1 with one line on failure."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import polars as pl
from click.testing import CliRunner

from glacier.cli import app

ROOT = Path(__file__).resolve().parents[2]
SALES = ROOT / "examples" / "sales"

_FAILING = """
import polars as pl
from glacier import Provider
from glacier.config import LocalConfig

provider = Provider(config=LocalConfig(base_path={base!r}))

@provider.local().task()
def explode(df):
    return df.with_columns(pl.col("name").cast(pl.Int64, strict=True))

broken = provider.bucket("lake", "in.parquet").transform(explode).to(provider.bucket("lake", "out.parquet"))
"""


def _sales_data(tmp_path: Path) -> Path:
    sys.path.insert(0, str(SALES))
    try:
        from generate import generate
    finally:
        sys.path.remove(str(SALES))
    data = tmp_path / "data"
    generate(data, orders=5_000)
    return data


def test_glacier_run_sales_example_matches_polars(tmp_path: Path, state_dir: Path) -> None:
    data = _sales_data(tmp_path)
    result = CliRunner().invoke(app, ["run", str(SALES / "pipelines.py"), "--data-dir", str(data)])
    assert result.exit_code == 0, result.output
    for column in ("task", "status", "rows", "bytes", "seconds", "cached"):
        assert column in result.output
    assert "enrich_orders" in result.output and "executive_summary" in result.output

    # The same computation in plain Polars.
    orders = pl.read_csv(data / "sales-raw/orders.csv")
    customers = pl.read_parquet(data / "sales-raw/customers.parquet")
    products = pl.read_ndjson(data / "sales-raw/products.ndjson")
    enriched = (
        orders.filter(
            (pl.col("status") != "cancelled") & (pl.col("quantity") > 0) & pl.col("customer_id").is_not_null()
        )
        .join(customers, on="customer_id")
        .join(products, on="product_id")
        .with_columns(
            order_date=pl.col("order_ts").str.to_datetime().dt.date(),
            net_amount=pl.col("quantity") * pl.col("unit_price") * (1 - pl.col("discount")),
        )
    )
    written = pl.read_parquet(data / "sales-curated/orders_enriched.parquet")
    assert written.sort("order_id").equals(enriched.sort("order_id"))
    daily = pl.read_parquet(data / "sales-reports/daily_revenue_by_region.parquet")
    assert (
        daily["revenue"].sum() == enriched["net_amount"].sum()
        or abs(daily["revenue"].sum() - enriched["net_amount"].sum()) < 1e-6 * enriched["net_amount"].sum()
    )
    ranking = pl.scan_parquet(data / "sales-reports/product_ranking/", hive_partitioning=True).collect()
    assert set(ranking["category"]) == set(products["category"])

    again = CliRunner().invoke(app, ["run", str(SALES / "pipelines.py"), "--data-dir", str(data), "--quiet"])
    assert again.exit_code == 0 and again.output == ""


def test_glacier_run_failure_exits_1_with_one_line(tmp_path: Path, state_dir: Path) -> None:
    (tmp_path / "lake").mkdir()
    pl.DataFrame({"name": ["a", "b"]}).write_parquet(tmp_path / "lake/in.parquet")
    module = tmp_path / "failing.py"
    module.write_text(_FAILING.format(base=str(tmp_path)))
    proc = subprocess.run(
        [sys.executable, "-c", "from glacier.cli import main; main()", "run", str(module), "--quiet"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 1
    assert "Traceback" not in proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: Pipeline 'broken' failed in task 'explode'")
    assert not (tmp_path / "lake/out.parquet").exists()


def test_glacier_run_unknown_pipeline(tmp_path: Path, state_dir: Path) -> None:
    result = CliRunner().invoke(app, ["run", str(SALES / "pipelines.py"), "--pipeline", "nope"])
    assert result.exit_code == 1 and "No pipeline named 'nope'" in result.output


def test_glacier_version_is_the_installed_distributions() -> None:
    """``glacier --version`` prints the one version pyproject reads from ``glacier.__version__``."""
    from importlib.metadata import version

    result = CliRunner().invoke(app, ["--version"])
    assert result.exit_code == 0, result.output
    assert result.output == f"glacier {version('glacier')}\n"
