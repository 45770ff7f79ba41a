"""The cost analysis on a small pipeline, checked against a cost computed by hand here."""

from __future__ import annotations

import json
import math

import polars as pl
import pytest

from glacier import Pipeline, Provider
from glacier.analysis import PriceModel, analyze, count_transitions
from glacier.config import AwsConfig, LambdaConfig, SparkConfig
from glacier.dag.model import PipelineDAG
from glacier.errors import ConfigError

MIB8 = 8 * 1024 * 1024

# The history a local run would have recorded (seconds, bytes written, bytes read).
HISTORY = {
    "clean": {"seconds": 4.0, "output_bytes": 50_000_000, "input_bytes": 200_000_000},
    "agg": {"seconds": 100.0, "output_bytes": 1_000_000},
    "summary": {"seconds": 10.0, "bytes": 20_000_000},
    "combine": {"seconds": 0.5, "output_bytes": 500_000},
}


def _pipeline() -> Pipeline:
    """A diamond: clean (Lambda arm64) feeds agg (Glue) and summary (EMR Serverless), which
    combine (Lambda x86_64, 512 MB) joins."""
    provider = Provider(config=AwsConfig(region="us-east-1"))
    big = provider.serverless(config=LambdaConfig(memory=2048, architecture="arm64", ephemeral_storage=1024))
    small = provider.serverless(config=LambdaConfig(memory=512, architecture="x86_64", timeout=60))
    glue = provider.spark(config=SparkConfig(workers=2, worker_type="G.1X"))
    emr = provider.spark(config=SparkConfig(workers=3, worker_type="G.2X", engine="emr-serverless"))
    raw = provider.bucket("lake", "raw/events.parquet")

    @big.task()
    def clean(df: pl.LazyFrame) -> pl.LazyFrame:
        return df.drop_nulls()

    @glue.task()
    def agg(df: pl.LazyFrame) -> pl.LazyFrame:
        return df.group_by("day").len()

    @emr.task()
    def summary(df: pl.LazyFrame) -> pl.LazyFrame:
        return df.head(10)

    @small.task()
    def combine(daily: pl.LazyFrame, report: pl.LazyFrame) -> pl.LazyFrame:
        return daily.join(report, on="day")

    cleaned = raw.transform(clean).to(provider.bucket("lake", "clean/events.parquet"))
    return (
        Pipeline(
            name="costed",
            daily=cleaned.transform(agg).to(provider.bucket("lake", "out/daily.parquet")),
            report=cleaned.transform(summary).to(provider.bucket("lake", "out/report.parquet")),
        )
        .transform(combine)
        .to(provider.bucket("lake", "out/final.parquet"))
    )


@pytest.fixture(scope="module")
def dag() -> PipelineDAG:
    return _pipeline().to_dag()


def _hand_cost() -> dict[str, float]:
    """Every line by hand from the list prices and the documented scaling (docs/cost-model.md)."""
    # clean: Lambda arm64, 2 GB, 1 GB of /tmp; 1 s init + 4 s + (200 MB + 50 MB) / 100 MB/s.
    clean_s = 1 + 4.0 * 1 + 2.5
    clean = 2.0 * clean_s * 0.0000133334 + 0.2e-6 + 0.5 * clean_s * 0.0000000309
    clean_s3 = (1 + math.ceil(200e6 / MIB8)) * 0.0004e-3 + (math.ceil(50e6 / MIB8) + 2) * 0.005e-3
    # agg: Glue, 2 x G.1X = 2 DPU; 30 s start-up + 100 s + 0.51 s -> 131 s billed.
    agg = 2 * 131 / 3600 * 0.44
    agg_s3 = (1 + math.ceil(50e6 / MIB8) + 2) * 0.0004e-3 + 1 * 0.005e-3
    # summary: EMR Serverless, 3 x (8 vCPU, 32 GB); 40.7 s -> the 60 s minimum.
    summary = 3 * 60 / 3600 * (8 * 0.052624 + 32 * 0.0057785)
    summary_s3 = (1 + 6 + 2) * 0.0004e-3 + (math.ceil(20e6 / MIB8) + 2) * 0.005e-3
    # combine: Lambda x86_64 512 MB runs 1769/512 x slower; reads 1 MB + 20 MB, writes 0.5 MB.
    combine_s = 1 + 0.5 * 1769 / 512 + 0.215
    combine = 0.5 * (math.ceil(combine_s * 1000) / 1000) * 0.0000166667 + 0.2e-6
    combine_s3 = (2 + 1 + math.ceil(20e6 / MIB8)) * 0.0004e-3 + 1 * 0.005e-3
    # 4 Task states + 1 Parallel for the fan-out + 1 Succeed.
    transitions = 6 * 0.000025
    return {
        "compute": clean + agg + summary + combine,
        "s3": clean_s3 + agg_s3 + summary_s3 + combine_s3,
        "transitions": transitions,
        "total": clean + agg + summary + combine + clean_s3 + agg_s3 + summary_s3 + combine_s3 + transitions,
        "clean_s": clean_s,
        "combine_s": combine_s,
    }


def test_cost_per_run_matches_the_hand_computation(dag: PipelineDAG) -> None:
    analysis = analyze(dag, history=HISTORY)
    cost = analysis.estimated_cost()
    hand = _hand_cost()
    assert cost.total == pytest.approx(hand["total"], rel=1e-9)
    parts = cost.by_component()
    s3 = parts["s3 GET requests"] + parts["s3 PUT/LIST requests"]
    assert s3 == pytest.approx(hand["s3"], rel=1e-9)
    assert parts["step functions transitions"] == pytest.approx(hand["transitions"])
    assert analysis.transitions == 6 and analysis.transitions_source == "estimate"
    assert all(task.measured for task in analysis.tasks)
    seconds = {t.task: t.seconds for t in analysis.tasks}
    assert seconds["clean"] == pytest.approx(hand["clean_s"])
    assert seconds["combine"] == pytest.approx(hand["combine_s"])


def test_cost_scales_with_runs_and_prints_a_breakdown(dag: PipelineDAG) -> None:
    analysis = analyze(dag, history=HISTORY)
    hundred = analysis.estimated_cost(runs=100)
    assert hundred.total == pytest.approx(100 * _hand_cost()["total"])
    text = str(analysis.estimated_cost())
    assert (
        "glue DPU-hours" in text and "emr-serverless vCPU-hours" in text and "lambda duration (arm64)" in text
    )
    assert f"${_hand_cost()['total']:.6f}" in text
    with pytest.raises(ConfigError, match="costed"):
        analysis.estimated_cost(runs=0)


def test_critical_path_follows_the_slowest_branch(dag: PipelineDAG) -> None:
    analysis = analyze(dag, history=HISTORY)
    hand = _hand_cost()
    assert analysis.critical_path.tasks == ("clean", "agg", "combine")
    assert analysis.critical_path.seconds == pytest.approx(hand["clean_s"] + 130.51 + hand["combine_s"])


def test_resource_counts(dag: PipelineDAG) -> None:
    counts = analyze(dag, history=HISTORY).resource_counts
    assert counts["lambda functions"] == 2
    assert counts["glue jobs"] == 1
    assert counts["emr-serverless applications"] == 1
    assert counts["iam roles"] == 5  # four tasks + the state machine
    assert counts["s3 buckets (managed)"] == 2  # "lake" + the artifacts bucket
    assert counts["state machines"] == 1 and counts["tasks"] == 4


def test_transitions_counted_on_a_definition(dag: PipelineDAG) -> None:
    definition = {
        "StartAt": "clean",
        "States": {
            "clean": {"Type": "Task", "Resource": "x", "Next": "fan", "Catch": [{"Next": "Failed"}]},
            "fan": {
                "Type": "Parallel",
                "Next": "combine",
                "Branches": [
                    {"StartAt": "agg", "States": {"agg": {"Type": "Task", "Resource": "x", "End": True}}},
                    {
                        "StartAt": "summary",
                        "States": {"summary": {"Type": "Task", "Resource": "x", "End": True}},
                    },
                ],
            },
            "combine": {"Type": "Task", "Resource": "x", "Next": "Done"},
            "Done": {"Type": "Succeed"},
            "Failed": {"Type": "Fail"},
        },
    }
    assert count_transitions(definition) == 6  # clean, fan, agg, summary, combine, Done
    analysis = analyze(dag, history=HISTORY, definition=definition)
    assert analysis.transitions_source == "definition"
    assert analysis.estimated_cost().by_component()["step functions transitions"] == pytest.approx(
        6 * 0.000025
    )


def test_without_history_the_analysis_says_what_it_assumed(dag: PipelineDAG) -> None:
    analysis = analyze(dag, history={})
    assert analysis.history_source is None
    assert not any(task.measured for task in analysis.tasks)
    text = analysis.render()
    assert "no run history for clean, agg, summary, combine: assumed 30 s" in text
    assert "size unknown for" in text and "assumed 100 MB each" in text
    assert "none (every duration and size assumed)" in text
    # combine: 1 s + 30 s x 1769/512 + (100 + 100 + 100) MB / 100 MB/s, past its 60 s timeout.
    assert any("combine" in w and "timeout of 60 s" in w for w in analysis.warnings)


def test_a_price_model_can_be_swapped(dag: PipelineDAG) -> None:
    doubled = PriceModel(glue_dpu_hour=0.88)
    base = analyze(dag, history=HISTORY).estimated_cost().by_component()["glue DPU-hours"]
    other = analyze(dag, history=HISTORY, prices=doubled).estimated_cost().by_component()["glue DPU-hours"]
    assert other == pytest.approx(2 * base)


def test_run_mode_analyze_and_json(dag: PipelineDAG) -> None:
    analysis = _pipeline().run(mode="analyze", history=HISTORY)
    data = json.loads(json.dumps(analysis.to_dict(runs=30)))
    assert data["pipeline"] == "costed"
    assert data["total_usd"] == pytest.approx(30 * _hand_cost()["total"])
    assert data["critical_path"]["tasks"] == ["clean", "agg", "combine"]
