"""The Spark entry point (``glacier.runtime.spark_entry``) on real local pyspark: pyspark tasks
over every input format without Polars, whole publishes, co-partitioned Polars tasks equal to
the Polars run, and ``glacier run`` of such a pipeline."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from runtime_helpers import CUSTOMERS, SALES, assert_same

from glacier.formats import Format
from glacier.io import scan_uri, write_atomic
from glacier.runtime.event import TaskEvent

pytestmark = pytest.mark.spark
ROOT = Path(__file__).resolve().parents[2]

TASKS = '''
from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import polars as pl
    from pyspark.sql import DataFrame


def combine(orders: DataFrame, customers: DataFrame, regions: DataFrame, sales: DataFrame) -> DataFrame:
    """pyspark: parquet x csv x jsonl, plus a directory dataset's hive column."""
    from pyspark.sql import functions as F

    per_category = sales.groupBy("category").agg(F.count("*").alias("sales_in_category"))
    return (
        orders.join(customers, on="customer_id")
        .join(regions, on="region")
        .join(per_category, on="category")
        .select("order_id", "customer_id", "region", "zone", "category", "amount", "sales_in_category")
    )


def broken(orders: DataFrame) -> DataFrame:
    raise RuntimeError("broken on purpose")


def not_a_frame(orders: DataFrame) -> DataFrame:
    return 42  # type: ignore[return-value]


def same(df: DataFrame) -> DataFrame:
    return df


def same_polars(df: pl.LazyFrame) -> pl.LazyFrame:
    return df


def totals(orders: pl.LazyFrame, customers: pl.LazyFrame) -> pl.LazyFrame:
    """Polars, key-local: a join and a group-by on the co-partition key."""
    import polars as pl

    return (
        orders.join(customers, on="customer_id", how="left")
        .group_by("customer_id", "region")
        .agg(pl.col("amount").sum().alias("amount"), pl.len().alias("orders"))
    )


def fails_inside(orders: pl.LazyFrame, customers: pl.LazyFrame) -> pl.LazyFrame:
    import polars as pl

    return orders.join(customers, on="customer_id").with_columns(pl.col("region").str.to_integer())
'''

ORDERS = SALES.with_columns(pl.col("customer_id").cast(pl.Int64)).drop("value")
REGIONS = pl.DataFrame({"region": ["eu", "us", "apac"], "zone": ["emea", "amer", "apj"]})


def _lake(tmp_path: Path) -> Path:
    lake = tmp_path / "lake"
    lake.mkdir()
    (tmp_path / "sparktasks.py").write_text(TASKS)
    ORDERS.write_parquet(lake / "orders.parquet")
    CUSTOMERS.write_csv(lake / "customers.csv")
    REGIONS.write_ndjson(lake / "regions.jsonl")
    write_atomic(SALES.lazy(), str(lake / "sales") + "/", Format.PARQUET_DIR, partition_by=["category"])
    return lake


def _event(
    lake: Path, task: str, inputs: dict[str, tuple[str, str]], output: tuple[str, str], **extra: Any
) -> dict[str, Any]:
    return {
        "pipeline": "spark_entry",
        "task": task,
        "code_ref": f"sparktasks:{task}",
        "inputs": {p: {"uri": str(lake / path), "format": fmt} for p, (path, fmt) in inputs.items()},
        "output": {"uri": str(lake / output[0]), "format": output[1]},
        **extra,
    }


ALL_FORMATS = {
    "orders": ("orders.parquet", "parquet"),
    "customers": ("customers.csv", "csv"),
    "regions": ("regions.jsonl", "ndjson"),
    "sales": ("sales/", "parquet_dir"),
}

# Polars is made unimportable before anything else runs: the pyspark path must not need it.
NO_POLARS = textwrap.dedent(
    """
    import sys, runpy

    class NoPolars:
        def find_spec(self, name, path=None, target=None):
            if name == "polars" or name.startswith("polars."):
                raise ImportError("polars is blocked in this test")
            return None

    sys.meta_path.insert(0, NoPolars())
    sys.argv = ["spark_entry.py", *sys.argv[1:]]
    runpy.run_module("glacier.runtime.spark_entry", run_name="__main__")
    assert not any(m == "polars" or m.startswith("polars.") for m in sys.modules), "polars was imported"
    """
)


def _expected_combine() -> pl.DataFrame:
    per_category = SALES.group_by("category").agg(pl.len().cast(pl.Int64).alias("sales_in_category"))
    return (
        ORDERS.join(CUSTOMERS, on="customer_id")
        .join(REGIONS, on="region")
        .join(per_category, on="category")
        .select("order_id", "customer_id", "region", "zone", "category", "amount", "sales_in_category")
    )


def test_pyspark_entry_reads_every_format_without_polars(tmp_path: Path) -> None:
    lake = _lake(tmp_path)
    event = _event(lake, "combine", ALL_FORMATS, ("combined/", "parquet_dir"), partition_by=["region"])
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(ROOT), str(tmp_path)]),
        "SPARK_LOCAL_IP": "127.0.0.1",
    }
    done = subprocess.run(
        [
            sys.executable,
            "-c",
            NO_POLARS,
            "--job-bookmark-option",
            "job-bookmark-disable",
            "--glacier-event",
            json.dumps(event),
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=2400,  # a loaded CI machine: the JVM alone can take minutes to start
    )
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["rows"] == _expected_combine().height and result["bytes"] > 0 and result["seconds"] > 0
    assert ", pyspark)" in done.stderr  # the log line names the mode
    combined = scan_uri(str(lake / "combined") + "/", Format.PARQUET_DIR).collect()
    expected = _expected_combine()
    assert_same(
        combined.select(expected.columns), expected.with_columns(pl.col("sales_in_category")), by=["order_id"]
    )
    assert (lake / "combined").is_symlink()  # published as a version, whole
    assert sorted(p.name for p in (lake / "combined").iterdir() if not p.name.startswith(("_", "."))) == [
        f"region={r}" for r in ("apac", "eu", "us")
    ]


def test_a_failing_spark_job_leaves_the_previous_version(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from glacier.runtime.spark_entry import main

    lake = _lake(tmp_path)
    monkeypatch.syspath_prepend(str(tmp_path))
    first = main(
        ["--glacier-event", json.dumps(_event(lake, "combine", ALL_FORMATS, ("out.parquet", "parquet")))]
    )
    assert (
        first["rows"] == _expected_combine().height
        and first["bytes"] == (lake / "out.parquet").stat().st_size
    )
    before = (lake / "out.parquet").read_bytes()
    for task, message in (
        (
            "broken",
            r"Task 'broken' of pipeline 'spark_entry' failed: "
            r"Task 'broken' failed on Spark: RuntimeError: broken",
        ),
        (
            "not_a_frame",
            r"Task 'not_a_frame' is a pyspark task but returned int.*Fix: make 'not_a_frame' return",
        ),
    ):
        event = _event(lake, task, {"orders": ALL_FORMATS["orders"]}, ("out.parquet", "parquet"))
        with pytest.raises(SystemExit, match=message):
            main(["--glacier-event", json.dumps(event)])
        assert (lake / "out.parquet").read_bytes() == before
    assert not [p.name for p in lake.iterdir() if p.name.startswith(".glacier-tmp-")]


# Text inputs whose values Spark would infer otherwise: zip codes with leading zeros (an int
# to Spark), small integers (int32 / long), a date held as a JSON string, a whole-number ratio.
DECLARED_TEXT = {
    "csv": (
        "people.csv",
        "customer_id,zip,since,score\n1,01234,2026-11-01,1.5\n2,00501,2026-11-02,2\n",
        {"customer_id": "Int64", "zip": "String", "since": "Date", "score": "Float64"},
    ),
    "ndjson": (
        "codes.jsonl",
        '{"id": 1, "code": "007", "day": "2026-11-01", "ratio": 1}\n'
        '{"id": 2, "code": "042", "day": "2026-11-02", "ratio": 2.5}\n',
        {"id": "Int32", "code": "String", "day": "Date", "ratio": "Float64"},
    ),
}


@pytest.mark.parametrize("fmt", sorted(DECLARED_TEXT))
def test_declared_text_inputs_read_as_declared_on_spark_as_on_polars(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fmt: str
) -> None:
    from glacier.errors import ExecutionError
    from glacier.runtime import core
    from glacier.runtime.spark_entry import run_on_spark

    monkeypatch.syspath_prepend(str(tmp_path))
    (tmp_path / "sparktasks.py").write_text(TASKS)
    import sparktasks

    name, text, columns = DECLARED_TEXT[fmt]
    (tmp_path / name).write_text(text)

    def event(task: str, out: str) -> TaskEvent:
        source = {"uri": str(tmp_path / name), "format": fmt, "schema": {"columns": columns}}
        return TaskEvent.model_validate(
            {
                "pipeline": "declared",
                "task": task,
                "code_ref": f"sparktasks:{task}",
                "inputs": {"df": source},
                "output": {"uri": str(tmp_path / out), "format": "parquet"},
            }
        )

    run = run_on_spark(event("same", "spark.parquet"), sparktasks.same, None)
    core.execute_task(event("same_polars", "polars.parquet"), sparktasks.same_polars, None)
    assert run.mode == "pyspark"
    on_spark = pl.read_parquet(tmp_path / "spark.parquet")
    on_polars = pl.read_parquet(tmp_path / "polars.parquet")
    assert dict(on_spark.schema) == {c: getattr(pl, d)() for c, d in columns.items()}  # as declared
    assert_same(on_spark, on_polars, by=[next(iter(columns))])

    # A value that is not what is declared fails the read (as on Polars), never a null.
    bad = text.replace("2026-11-02", "not-a-date")
    (tmp_path / name).write_text(bad)
    before = (tmp_path / "spark.parquet").read_bytes()
    with pytest.raises(
        ExecutionError,
        match=rf"Task 'same' cannot read input 'df' \('{re.escape(str(tmp_path / name))}'\) as declared: "
        r"the record \[.*\] holds a value .*not-a-date.*Fix: correct that value",
    ):
        run_on_spark(event("same", "spark.parquet"), sparktasks.same, None)
    assert (tmp_path / "spark.parquet").read_bytes() == before


def _copartitioned(lake: Path, task: str, output: tuple[str, str]) -> TaskEvent:
    inputs = {"orders": ALL_FORMATS["orders"], "customers": ALL_FORMATS["customers"]}
    return TaskEvent.model_validate(_event(lake, task, inputs, output, partition_by=["customer_id"]))


def test_copartitioned_polars_join_equals_the_polars_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from glacier.errors import ExecutionError
    from glacier.runtime.spark_engine import spark_session
    from glacier.runtime.spark_entry import run_on_spark

    lake = _lake(tmp_path)
    monkeypatch.syspath_prepend(str(tmp_path))
    import sparktasks

    spark = spark_session()
    spark.conf.set("spark.glacier.copartitions", "4")
    try:
        run = run_on_spark(
            _copartitioned(lake, "totals", ("totals.parquet", "parquet")), sparktasks.totals, None
        )
        failing = _copartitioned(lake, "fails_inside", ("totals.parquet", "parquet"))
        before = (lake / "totals.parquet").read_bytes()
        with pytest.raises(
            ExecutionError, match=r"Task 'fails_inside' failed on Spark: \w+Error: .*Fix: fix the"
        ):
            run_on_spark(failing, sparktasks.fails_inside, None)
        assert (lake / "totals.parquet").read_bytes() == before
    finally:
        spark.conf.unset("spark.glacier.copartitions")
    expected = sparktasks.totals(ORDERS.lazy(), pl.scan_csv(lake / "customers.csv")).collect()
    expected = expected.with_columns(pl.col("orders").cast(pl.Int64))  # Spark has no unsigned types
    got = pl.read_parquet(lake / "totals.parquet")
    assert_same(got, expected, by=["customer_id"])  # dtypes included: Polars' own, not Spark's
    assert run.mode == "copartitioned" and run.copartitions == 4
    assert run.partitions_used > 1  # the work was spread over several Spark tasks
    assert run.result.rows == expected.height
    assert not [p.name for p in lake.iterdir() if p.name.startswith(".glacier-tmp-")]


def test_copartition_key_an_input_lacks_is_a_clear_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from glacier.errors import ExecutionError
    from glacier.runtime.spark_entry import run_on_spark

    lake = _lake(tmp_path)
    monkeypatch.syspath_prepend(str(tmp_path))
    import sparktasks

    event = _copartitioned(lake, "totals", ("totals.parquet", "parquet")).model_copy(
        update={"partition_by": ["zone"]}
    )
    with pytest.raises(
        ExecutionError,
        match=r"Task 'totals' has partition_by=\['zone'\], but its input 'orders'"
        r".*Fix: partition by columns every input",
    ):
        run_on_spark(event, sparktasks.totals, None)


PIPELINE = """
import polars as pl

from glacier import Pipeline, Provider
from glacier.config import LocalConfig, SparkConfig

provider = Provider(config=LocalConfig(base_path={base!r}))
spark = provider.spark(config=SparkConfig(workers=2))


@spark.task(partition_by=["customer_id"])
def totals(orders: pl.LazyFrame, customers: pl.LazyFrame) -> pl.LazyFrame:
    return (
        orders.join(customers, on="customer_id", how="left")
        .group_by("customer_id", "region")
        .agg(pl.col("amount").sum().alias("amount"), pl.len().alias("orders"))
    )


@provider.local().task()
def biggest(df: pl.LazyFrame) -> pl.LazyFrame:
    # customer_id breaks the tie of 2 and 5 (14.5 each): head(2) must not depend on row order.
    return df.sort("amount", "customer_id", descending=True).head(2)


pipeline = (
    Pipeline(
        name="copartitioned",
        orders=provider.bucket("lake", "orders.parquet"),
        customers=provider.bucket("lake", "customers.csv"),
    )
    .transform(totals)
    .to(provider.bucket("lake", "totals/"))
    .transform(biggest)
    .to(provider.bucket("lake", "biggest.parquet"))
)
"""


def test_glacier_run_runs_a_copartitioned_pipeline_on_local_spark(
    tmp_path: Path, state_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from click.testing import CliRunner

    from glacier.cli import app

    lake = _lake(tmp_path)
    module = tmp_path / "copart_pipeline.py"
    module.write_text(PIPELINE.format(base=str(tmp_path)))
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(app, ["run", str(module)])
    assert result.exit_code == 0, result.output
    expected = (
        ORDERS.join(pl.read_csv(lake / "customers.csv"), on="customer_id", how="left")
        .group_by("customer_id", "region")
        .agg(pl.col("amount").sum().alias("amount"), pl.len().cast(pl.Int64).alias("orders"))
    )  # pl.len() is UInt32, stored as Int64 by Spark (it has no unsigned types)
    totals = scan_uri(str(lake / "totals") + "/", Format.PARQUET_DIR).collect()
    # The output directory is hive-partitioned by the keys, as the Polars run writes it.
    assert sorted(p.name for p in (lake / "totals").iterdir() if not p.name.startswith(("_", "."))) == [
        f"customer_id={c}" for c in sorted(set(ORDERS["customer_id"]))
    ]
    assert_same(
        totals.select(expected.columns).with_columns(pl.col("customer_id").cast(pl.Int64)),
        expected,
        by=["customer_id"],
    )
    biggest = pl.read_parquet(lake / "biggest.parquet").select(expected.columns)
    assert_same(biggest, expected.sort("amount", "customer_id", descending=True).head(2), by=["customer_id"])
