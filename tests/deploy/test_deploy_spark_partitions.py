"""Spark tasks of a partitioned pipeline: the planned state machine (Pulumi's mocks) hands
the execution's partition to Glue job runs (``Arguments``) and EMR Serverless job runs
(``entryPointArguments``) as it does to Lambda payloads, asl-validator accepts it, and the
Spark entry run with exactly the arguments those states render reads and publishes that one
partition, equal to ``glacier run --partition`` (spark tier)."""

from __future__ import annotations

import json
import re
import subprocess
from functools import cache
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from deploy_helpers import plan, write_project
from test_deploy_asl import VALIDATOR, render_format

from glacier.deploy.component import DeployOptions
from glacier.deploy.plan import PlanResult
from glacier.formats import Format

PROJECT = """
from __future__ import annotations

from typing import TYPE_CHECKING

import polars as pl

from glacier import Pipeline, Provider
from glacier.config import AwsConfig, SparkConfig

if TYPE_CHECKING:
    from pyspark.sql import DataFrame

IMAGE = "123456789012.dkr.ecr.us-east-1.amazonaws.com/glacier-emr:py311"  # emr-7.x + python3.11
provider = Provider(config=AwsConfig(region="us-east-1"))
glue = provider.spark(config=SparkConfig(workers=2))
emr = provider.spark(config=SparkConfig(engine="emr-serverless", emr_image=IMAGE, workers=2))

events = provider.bucket(
    "lake",
    "events/",
    partition_by=["date"],
    schema={"date": pl.Date, "customer_id": pl.Int64, "amount": pl.Float64},
)
customers = provider.bucket("lake", "customers.csv", schema={"customer_id": pl.Int64, "zip": pl.String})


@glue.task()
def clean(events: DataFrame) -> DataFrame:
    return events.filter("amount > 0")


@emr.task(partition_by=["customer_id"])
def totals(cleaned: pl.LazyFrame, customers: pl.LazyFrame) -> pl.LazyFrame:
    return (
        cleaned.join(customers, on="customer_id")
        .group_by("date", "customer_id", "zip")
        .agg(pl.col("amount").sum(), pl.len().cast(pl.Int64).alias("orders"))
    )


cleaned = Pipeline(name="daily_spark", events=events).transform(clean).to(
    provider.bucket("lake", "cleaned/", partition_by=["date"])
)
daily = (
    Pipeline(name="daily_spark", cleaned=cleaned, customers=customers)
    .transform(totals)
    .to(provider.bucket("lake", "totals/", partition_by=["date"]))
)
"""
MODULE = "daily_spark_tasks"
DAY, OTHER_DAY = "2026-11-02", "2026-11-01"
EXECUTION = "run-2026-11-02"


@cache
def _plan(root: Path) -> PlanResult:
    return plan(str(write_project(root, PROJECT, f"{MODULE}.py")), options=DeployOptions(build_layer=False))


@pytest.fixture(scope="module")
def planned(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, PlanResult]:
    root = tmp_path_factory.mktemp("project")
    return root, _plan(root)


def _definition(result: PlanResult) -> dict[str, Any]:
    return json.loads(result.get("daily_spark-sfn").inputs["definition"])


def test_glue_and_emr_runs_get_the_executions_partition(
    planned: tuple[Path, PlanResult], tmp_path: Path
) -> None:
    states = _definition(planned[1])["States"]
    glue = states["clean"]
    assert glue["Resource"] == "arn:aws:states:::glue:startJobRun.sync"
    assert glue["Parameters"]["Arguments"]["--glacier-partition.$"] == "States.JsonToString($.partition)"
    emr = states["totals"]
    assert emr["Resource"] == "arn:aws:states:::emr-serverless:startJobRun.sync"
    arguments = emr["Parameters"]["JobDriver"]["SparkSubmit"]["EntryPointArguments.$"]
    assert arguments.startswith("States.Array('--glacier-event', States.Format('")
    assert arguments.endswith(", '--glacier-partition', States.JsonToString($.partition))")
    path = tmp_path / "definition.json"
    path.write_text(json.dumps(_definition(planned[1])))
    done = subprocess.run([str(VALIDATOR), "--json-path", str(path)], capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr


# -- what the states send, rendered by AWS's rules ------------------------------------------
_EMR = re.compile(
    r"States\.Array\('--glacier-event', (States\.Format\(.*\)), "
    r"'--glacier-partition', States\.JsonToString\(\$\.partition\)\)"
)


def rendered_arguments(state: dict[str, Any], execution_input: dict[str, Any]) -> list[str]:
    """The job arguments a Task state sends for an execution named ``EXECUTION`` started
    with ``execution_input``: Glue's ``Arguments`` as ``--key value`` pairs (how Glue passes
    them to the script), EMR's ``entryPointArguments`` array as it is."""
    partition = json.dumps(execution_input["partition"], separators=(",", ":"))
    parameters = state["Parameters"]
    if "Arguments" in parameters:
        args = parameters["Arguments"]
        assert args["--glacier-partition.$"] == "States.JsonToString($.partition)"
        return [
            "--job-bookmark-option",  # one of Glue's own, which the entry ignores
            "job-bookmark-disable",
            "--glacier-event",
            render_format(args["--glacier-event.$"], EXECUTION),
            "--glacier-partition",
            partition,
        ]
    match = _EMR.fullmatch(parameters["JobDriver"]["SparkSubmit"]["EntryPointArguments.$"])
    assert match, parameters
    return ["--glacier-event", render_format(match[1], EXECUTION), "--glacier-partition", partition]


def _to_local(arguments: list[str], lake: Path) -> list[str]:
    """The arguments with the lake bucket's S3 URIs moved to a local folder (local Spark has
    no S3 connector): nothing else changes."""
    return [a.replace('"s3://lake/', json.dumps(str(lake) + "/")[:-1]) for a in arguments]


def _write_inputs(base: Path) -> None:
    lake = base / "lake"
    for day, rows in ((OTHER_DAY, [(1, 5.0), (2, 7.0)]), (DAY, [(1, 2.5), (1, 4.0), (2, -1.0), (3, 3.0)])):
        folder = lake / "events" / f"date={day}"
        folder.mkdir(parents=True)
        frame = pl.DataFrame(rows, schema={"customer_id": pl.Int64, "amount": pl.Float64}, orient="row")
        frame.write_parquet(folder / "part-0.parquet")
    # Zip codes with leading zeros: read as declared (String), not as Spark would infer them.
    (lake / "customers.csv").write_text("customer_id,zip\n1,01234\n2,00501\n3,90210\n")


def _days(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if not p.name.startswith(("_", ".")))


@pytest.mark.spark
def test_the_spark_entry_runs_the_rendered_partition_as_glacier_run_does(
    planned: tuple[Path, PlanResult], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from click.testing import CliRunner

    from glacier.cli import app
    from glacier.io import scan_uri
    from glacier.runtime.spark_entry import main

    root, result = planned
    monkeypatch.syspath_prepend(str(root))
    cloud, local = tmp_path / "cloud", tmp_path / "local"
    _write_inputs(cloud)
    _write_inputs(local)
    states = _definition(result)["States"]
    execution_input = {"partition": {"date": DAY}}
    for task in ("clean", "totals"):  # in the state machine's order
        ran = main(_to_local(rendered_arguments(states[task], execution_input), cloud / "lake"))
        assert ran["task"] == task and ran["output"].endswith(f"/date={DAY}/")
    for name in ("cleaned", "totals"):  # only the execution's partition is written
        assert _days(cloud / "lake" / name) == [f"date={DAY}"]

    monkeypatch.chdir(root)
    cli = CliRunner().invoke(
        app, ["run", str(root / f"{MODULE}.py"), "--data-dir", str(local), "--partition", f"date={DAY}"]
    )
    assert cli.exit_code == 0, cli.output
    got = scan_uri(str(cloud / "lake" / "totals") + "/", Format.PARQUET_DIR).collect()
    by_run = scan_uri(str(local / "lake" / "totals") + "/", Format.PARQUET_DIR).collect()
    order = ["customer_id"]
    assert got.sort(order).to_dicts() == by_run.select(got.columns).sort(order).to_dicts()
    assert got.schema == by_run.select(got.columns).schema
    expected = pl.DataFrame(
        {
            "date": [pl.Series([DAY]).str.to_date()[0]] * 2,
            "customer_id": [1, 3],
            "zip": ["01234", "90210"],
            "amount": [6.5, 3.0],
            "orders": [2, 1],
        }
    )
    assert got.select(expected.columns).sort(order).to_dicts() == expected.to_dicts()
