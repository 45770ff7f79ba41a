"""Every trigger and alert mistake raises one GlacierError subclass whose message names the
pipeline, bucket or expression and says how to fix it (the ``tests/test_errors.py`` pattern);
docs/errors.md lists these same cases under "Triggers and alerts"."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from glacier import Pipeline, Provider, load_pipelines
from glacier.config import LocalConfig
from glacier.dag import PipelineDAG
from glacier.deploy.alerts import AlertsArgs
from glacier.deploy.options import DeployOptions
from glacier.errors import DefinitionError, DeploymentError, DiscoveryError, GraphError
from tests.error_cases import Case, assert_clear_error

provider = Provider(config=LocalConfig(base_path="/nonexistent/glacier-trigger-errors"))
ex = provider.local()


@ex.task()
def clean(df: pl.LazyFrame) -> pl.LazyFrame:
    return df


raw = provider.bucket("lake", "raw/events/")
out = provider.bucket("lake", "clean/events.parquet")


def etl() -> Pipeline:
    return Pipeline(name="etl").source(raw).transform(clean).to(out)


def in_file(tmp_path: Path, body: str) -> Any:
    path = tmp_path / "trigger_pipelines.py"
    path.write_text(
        "from glacier import Pipeline, Provider\n"
        "p = Provider()\n"
        "ex = p.local()\n"
        "@ex.task\n"
        "def clean(df): return df\n"
        "@ex.task\n"
        "def report(df): return df\n"
        "raw, mid = p.bucket('lake', 'raw/'), p.bucket('lake', 'mid.parquet')\n"
        "out = p.bucket('lake', 'out.parquet')\n" + body
    )
    return load_pipelines(path)


def hand_edited(doc_change: Callable[[dict[str, Any]], None]) -> PipelineDAG:
    doc = etl().on_arrival(raw).to_dag().model_dump(mode="json")
    doc_change(doc)
    return PipelineDAG.model_validate_json(json.dumps(doc))


def _point_arrival_at_output(doc: dict[str, Any]) -> None:
    doc["triggers"][0]["datasets"] = ["lake/clean/events.parquet"]


CASES: dict[str, Case] = {
    "schedule_not_an_expression": Case(
        ".on_schedule('every day')",
        lambda _: etl().on_schedule("every day"),
        DefinitionError,
        "Schedule expression 'every day' is not valid: it must start with rate(, cron( or at(",
        "use EventBridge Scheduler syntax",
    ),
    "schedule_rate_plural": Case(
        ".on_schedule('rate(1 days)')",
        lambda _: etl().on_schedule("rate(1 days)"),
        DefinitionError,
        "Schedule expression 'rate(1 days)' is not valid: say '1 day'",
        "'rate(1 day)'",
    ),
    "schedule_rate_unit": Case(
        ".on_schedule('rate(5 weeks)')",
        lambda _: etl().on_schedule("rate(5 weeks)"),
        DefinitionError,
        "a rate is 'rate(<positive whole number> <minute(s)|hour(s)|day(s)>)'",
        "'rate(15 minutes)'",
    ),
    "schedule_cron_five_fields": Case(
        ".on_schedule('cron(0 6 * * *)')  # Unix cron",
        lambda _: etl().on_schedule("cron(0 6 * * *)"),
        DefinitionError,
        "a cron has 6 fields (minutes hours day-of-month month day-of-week year), got 5",
        "'cron(0 6 * * ? *)'",
    ),
    "schedule_cron_no_question_mark": Case(
        ".on_schedule('cron(0 6 * * * *)')",
        lambda _: etl().on_schedule("cron(0 6 * * * *)"),
        DefinitionError,
        "exactly one of day-of-month and day-of-week must be '?'",
        "'cron(0 6 * * ? *)'",
    ),
    "schedule_cron_out_of_range": Case(
        ".on_schedule('cron(0 25 * * ? *)')",
        lambda _: etl().on_schedule("cron(0 25 * * ? *)"),
        DefinitionError,
        "hours value '25' is not in 0-23",
        "use EventBridge Scheduler syntax",
    ),
    "schedule_at_not_a_date": Case(
        ".on_schedule('at(2026-02-30T06:00:00)')",
        lambda _: etl().on_schedule("at(2026-02-30T06:00:00)"),
        DefinitionError,
        "2026-02-30T06:00:00 is not a date and time",
        "'at(2026-12-01T06:00:00)'",
    ),
    "schedule_unknown_timezone": Case(
        ".on_schedule('rate(1 day)', timezone='Paris')",
        lambda _: etl().on_schedule("rate(1 day)", timezone="Paris"),
        DefinitionError,
        "Schedule time zone 'Paris' is not an IANA time zone name",
        "'Europe/Paris'",
    ),
    "two_schedules": Case(
        ".on_schedule('cron(0 6 * * ? *)').on_schedule('cron(0 18 * * ? *)')",
        lambda _: etl().on_schedule("cron(0 6 * * ? *)").on_schedule("cron(0 18 * * ? *)").to_dag(),
        DefinitionError,
        "Pipeline 'etl' has 2 schedules",
        "'cron(0 6,18 * * ? *)'",
    ),
    "arrival_on_data_not_read": Case(
        ".on_arrival('lake', prefix='other/') on a pipeline reading lake/raw/events/",
        lambda _: etl().on_arrival("lake", prefix="other/").to_dag(),
        DefinitionError,
        "Pipeline 'etl' triggers on arrival in bucket 'lake' under 'other/', but reads no dataset "
        "there (its source datasets: 'lake/raw/events/')",
        "trigger on a dataset the pipeline reads",
    ),
    "arrival_on_own_output": Case(
        ".on_arrival(out) where out is what the pipeline writes",
        lambda _: etl().on_arrival(out).to_dag(),
        DefinitionError,
        "Pipeline 'etl' triggers on arrival in bucket 'lake' under 'clean/events.parquet', but reads "
        "no dataset there",
        "trigger on a dataset the pipeline reads",
    ),
    "arrival_on_another_bucket": Case(
        ".on_arrival('landing') on a pipeline reading only bucket lake",
        lambda _: etl().on_arrival("landing").to_dag(),
        DefinitionError,
        "Pipeline 'etl' triggers on arrival in bucket 'landing', but reads no dataset there",
        "trigger on a dataset the pipeline reads",
    ),
    "arrival_bad_bucket_name": Case(
        ".on_arrival('Landing_Zone')",
        lambda _: etl().on_arrival("Landing_Zone"),
        DefinitionError,
        "Bucket name 'Landing_Zone' is not a valid S3 bucket name",
        "lowercase letters",
    ),
    "arrival_not_a_bucket": Case(
        ".on_arrival(42)",
        lambda _: etl().on_arrival(42),
        DefinitionError,
        "on_arrival() got 42, which is neither a bucket name nor a dataset",
        "pass the source dataset",
    ),
    "arrival_absolute_prefix": Case(
        ".on_arrival('lake', prefix='/raw/')",
        lambda _: etl().on_arrival("lake", prefix="/raw/"),
        DefinitionError,
        "on_arrival('lake', prefix='/raw/'): the prefix must be an object key prefix",
        "without a leading '/'",
    ),
    "trigger_on_bucket_without_lineage": Case(
        "raw.on_schedule('rate(1 day)')  # a source bucket, no pipeline",
        lambda _: raw.on_schedule("rate(1 day)"),
        DefinitionError,
        "Cannot schedule bucket 'lake/raw/events/': it has no lineage",
        "which carries the lineage",
    ),
    "triggers_on_a_chain_inside_a_longer_one": Case(
        "step1 = raw.transform(clean).to(mid).on_arrival(raw); full = step1.transform(report).to(out)",
        lambda tmp: in_file(
            tmp,
            "step1 = raw.transform(clean).to(mid).on_arrival(raw)\nfull = step1.transform(report).to(out)\n",
        ),
        DiscoveryError,
        "Pipeline 'step1' has triggers (.on_schedule/.on_arrival) but is part of the longer pipeline 'full'",
        "declare the triggers on 'full'",
    ),
    "dag_json_arrival_on_an_output": Case(
        "a DAG JSON whose arrival trigger names a dataset the pipeline writes",
        lambda _: hand_edited(_point_arrival_at_output),
        GraphError,
        "Pipeline 'etl' has an arrival trigger on 'lake' naming lake/clean/events.parquet, which is not "
        "a source dataset of it",
        "regenerate the JSON",
    ),
    "alerts_across_regions": Case(
        "alerts on for pipelines deployed to us-east-1 and eu-west-1",
        lambda _: AlertsArgs.for_components(
            {"a": ("us-east-1", "arn-a"), "b": ("eu-west-1", "arn-b")}, DeployOptions()
        ),
        DeploymentError,
        "Failure alerts cover one region, but the stack's pipelines deploy to several ('a' in us-east-1, "
        "'b' in eu-west-1)",
        "set glacier:region for the stack",
    ),
    "alert_email_not_an_address": Case(
        "pulumi config set glacier:alertEmail data-team",
        lambda _: AlertsArgs.for_components(
            {"a": ("us-east-1", "arn-a")}, DeployOptions(alert_email="data-team")
        ),
        DeploymentError,
        "glacier:alertEmail 'data-team' is not an email address",
        "pulumi config set glacier:alertEmail",
    ),
}


@pytest.mark.parametrize("case_id", sorted(CASES))
def test_bad_trigger_raises_a_clear_glacier_error(case_id: str, tmp_path: Path) -> None:
    assert_clear_error(case_id, CASES[case_id], tmp_path)


def test_every_case_is_listed_in_the_docs() -> None:
    doc = (Path(__file__).resolve().parent.parent / "docs" / "errors.md").read_text()
    section = doc.split("## Triggers and alerts", 1)[1].split("\n## ", 1)[0]
    missing = [case_id for case_id in CASES if f"`{case_id}`" not in section]
    assert not missing


@pytest.mark.parametrize(
    "expression",
    [
        "rate(1 minute)",
        "rate(15 minutes)",
        "rate(1 hour)",
        "rate(12 hours)",
        "rate(1 day)",
        "rate(7 days)",
        "cron(0 6 * * ? *)",
        "cron(0/15 * * * ? *)",
        "cron(0 6,18 ? * MON-FRI *)",
        "cron(30 2 L * ? 2026-2030)",
        "cron(0 8 ? * 2#1 *)",
        "cron(0 0 15W JAN,JUL ? *)",
        "at(2026-12-01T06:00:00)",
    ],
)
def test_valid_expressions_are_accepted(expression: str) -> None:
    dag = etl().on_schedule(expression, timezone="Europe/Paris").to_dag()
    (schedule,) = dag.triggers
    assert schedule.kind == "schedule" and schedule.expression == expression
    assert schedule.timezone == "Europe/Paris"
