"""The report's data, from real runs of the sales demo: the graph, the chosen run and its
critical path, per-task trends and cache hits, failures with their fix, the cost estimate;
and the page: one file, everything inline, nothing that could reach the network."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from glacier.report import (
    REPORT_MIN_TASKS,
    LocalRuns,
    RunView,
    TaskOutcome,
    build_report,
    critical_path,
    maybe_report_path,
    write_report,
)
from glacier.report.document import report_document
from glacier.report.html import embed_json

REPO = Path(__file__).resolve().parents[2]


def _document(sales: Any, run_id: str | None = None, **options: Any) -> dict[str, Any]:
    source = LocalRuns(sales.state)
    try:
        return report_document([sales.dag], source, run_id=run_id, state_dir=sales.state, **options)
    finally:
        source.close()


def _data(html: str) -> dict[str, Any]:
    match = re.search(r'<script type="application/json" id="glacier-data">(.*?)</script>', html, re.S)
    assert match
    return dict(json.loads(match.group(1)))


def test_graph_has_every_task_and_dataset_with_executor_and_last_status(sales: Any) -> None:
    (pipeline,) = _document(sales)["pipelines"]
    nodes = {n["id"]: n for n in pipeline["graph"]["nodes"]}
    assert len(nodes) == len(sales.dag.tasks) + len(sales.dag.datasets) == 11
    assert pipeline["graph"]["edges"] == [list(e) for e in sales.dag.edges]
    enrich = nodes["task:enrich_orders"]
    assert enrich["executor"] == "spark" and enrich["detail"] == "glue · 2 x G.1X"
    assert enrich["status"] == "failed"  # the latest run lost its products file
    assert nodes["task:rank_products"]["detail"] == "2048 MB · arm64"
    assert nodes["dataset:sales-raw/orders.csv"]["source"] is True
    assert nodes["dataset:sales-raw/orders.csv"]["format"] == "csv"
    assert nodes["dataset:sales-curated/orders_enriched.parquet"]["source"] is False


def test_latest_run_shows_the_failure_its_fix_and_the_skipped_tasks(sales: Any) -> None:
    (pipeline,) = _document(sales)["pipelines"]
    run = pipeline["run"]
    assert run["id"] == sales.results[2].run_id and run["status"] == "failed"
    by_task = {t["task"]: t for t in run["tasks"]}
    assert set(by_task) == {t.name for t in sales.dag.tasks}
    failed = by_task["enrich_orders"]
    assert failed["status"] == "failed" and "products.ndjson" in failed["error"]
    # The fix the runner recorded in the history with the failure.
    assert failed["fix"] == "create the source data there, or run the pipeline that writes it first."
    assert {by_task[n]["status"] for n in ("rank_products", "revenue_by_region_and_day")} == {"skipped"}
    row = next(t for t in pipeline["tasks"] if t["name"] == "enrich_orders")
    assert row["last"]["status"] == "failed" and row["last"]["fix"] == failed["fix"]


def test_a_chosen_run_gives_its_timeline_and_critical_path(sales: Any) -> None:
    first = sales.results[0]
    (pipeline,) = _document(sales, run_id=first.run_id)["pipelines"]
    run = pipeline["run"]
    assert run["id"] == first.run_id and run["status"] == "succeeded"
    assert len(run["tasks"]) == 4 and run["not_run"] == []
    assert min(t["offset"] for t in run["tasks"]) >= 0
    for task in run["tasks"]:
        measured = first.tasks[task["task"]]
        assert task["seconds"] == pytest.approx(measured.seconds)
        assert task["rows"] == measured.rows and task["attempts"] == measured.attempts
    path = run["critical_path"]
    assert path[0] == "enrich_orders" and path[-1] == "executive_summary"
    assert path[1] in ("rank_products", "revenue_by_region_and_day")
    # The one of the two branches that finished last is the one the summary waited for.
    branches = {n: first.tasks[n].finished_at for n in ("rank_products", "revenue_by_region_and_day")}
    assert path[1] == max(branches, key=lambda n: (branches[n], n))


def test_trends_count_cache_hits_and_the_estimate_sits_beside_measurements(sales: Any) -> None:
    (pipeline,) = _document(sales)["pipelines"]
    rows = {t["name"]: t for t in pipeline["tasks"]}
    enrich = rows["enrich_orders"]
    assert [p["status"] for p in enrich["trend"]] == ["succeeded", "cached", "failed"]
    assert [p["run_id"] for p in enrich["trend"]] == [r.run_id for r in sales.results]
    assert enrich["cache"] is True and enrich["cache_hits"] == 1
    assert rows["rank_products"]["cache_hits"] == 0
    assert enrich["estimate"]["service"] == "glue" and enrich["estimate"]["measured"] is True
    assert rows["rank_products"]["estimate"]["service"] == "lambda"
    assert pipeline["cost"]["per_run_usd"] > 0
    assert pipeline["cost"]["critical_path"]["tasks"][0] == "enrich_orders"
    assert [r["id"] for r in pipeline["runs"]] == [r.run_id for r in reversed(sales.results)]
    limited = _document(sales, trend_runs=2)["pipelines"][0]
    assert len(next(t for t in limited["tasks"] if t["name"] == "enrich_orders")["trend"]) == 2


def test_columns_are_shown_when_the_dag_knows_them(sales: Any) -> None:
    from glacier.report.document import columns

    dataset = sales.dag.datasets[0]
    assert columns(dataset) is None  # today's DatasetNode has no schema field

    class WithSchema:
        model_fields = {"schema": type("F", (), {"alias": None})()}
        schema = {"order_id": "Int64", "region": "String"}

    assert columns(WithSchema()) == [["order_id", "Int64"], ["region", "String"]]  # type: ignore[arg-type]


def test_critical_path_follows_what_each_task_waited_for() -> None:
    from glacier.dag.build import DatasetRef, StepSpec, build_dag
    from glacier.dag.model import ExecutorSpec, TaskDefinition

    def step(name: str, inputs: list[str]) -> StepSpec:
        params = tuple(f"in_{i}" for i in range(len(inputs))) or ("df",)
        definition = TaskDefinition(
            name=name,
            executor=ExecutorSpec(kind="local", config={"kind": "lambda"}),  # type: ignore[arg-type]
            code_ref=f"m:{name}",
            code_hash="0" * 64,
            required_params=params,
        )
        refs = tuple(
            (p, DatasetRef("d", f"{i}.parquet")) for p, i in zip(params, inputs or ["src"], strict=True)
        )
        return StepSpec(definition, refs, DatasetRef("d", f"{name}.parquet"))

    from glacier.config import LocalConfig

    dag = build_dag(
        "diamond",
        [step("a", []), step("b", ["a"]), step("c", ["a"]), step("d", ["b", "c"])],
        storage=LocalConfig(),
    )

    def outcome(task: str, start: float, seconds: float) -> TaskOutcome:
        return TaskOutcome(task, "succeeded", 1, start, seconds)

    run = RunView(
        "r",
        "diamond",
        "succeeded",
        0.0,
        10.0,
        "test",
        {
            "a": outcome("a", 0, 1),
            "b": outcome("b", 1, 5),  # ends at 6: d waited for b
            "c": outcome("c", 1, 2),
            "d": outcome("d", 6, 1),
        },
    )
    assert critical_path(dag, run) == ["a", "b", "d"]
    assert critical_path(dag, RunView("r", "diamond", "running", 0.0, None, "test", {})) == []


def test_page_is_one_self_contained_file(sales: Any, tmp_path: Path) -> None:
    html = build_report(sales.pipelines, state_dir=sales.state)
    assert "<script src" not in html and "<link" not in html and "@import" not in html
    assert "sourceMappingURL" not in html
    assert "default-src 'none'" in html  # the page may not load anything
    assert "dagre" in html and "window.Glacier" in html
    data = _data(html)
    assert data["pipelines"][0]["name"] == "sales"
    assert data["source"].startswith("local run history in")
    out = write_report(sales.pipelines, tmp_path / "nested" / "r.html", state_dir=sales.state)
    assert out == (tmp_path / "nested" / "r.html").resolve() and out.read_text().startswith("<!DOCTYPE html>")


def test_user_text_cannot_close_the_data_script() -> None:
    text = embed_json({"error": "</script><script>alert(1)</script> & \u2028"})
    assert "</script" not in text and "<" not in text and "&" not in text and "\u2028" not in text
    assert json.loads(text) == {"error": "</script><script>alert(1)</script> & \u2028"}


def test_report_after_a_run_uses_that_run_and_the_runners_fix(sales: Any, tmp_path: Path) -> None:
    failed = sales.results[2]
    assert maybe_report_path(sales.pipelines, [failed], state_dir=sales.state, quiet=True) is None
    assert len(failed.tasks) >= REPORT_MIN_TASKS
    assert maybe_report_path(sales.pipelines, [failed], state_dir=sales.state, min_tasks=5) is None
    path = maybe_report_path(sales.pipelines, [sales.results[0]], state_dir=sales.state)
    assert path == (sales.state / "report.html").resolve()
    assert _data(path.read_text())["pipelines"][0]["run"]["id"] == sales.results[0].run_id
    out = maybe_report_path(sales.pipelines, [failed], state_dir=sales.state, output=tmp_path / "f.html")
    assert out is not None
    run = _data(out.read_text())["pipelines"][0]["run"]
    fix = next(t for t in run["tasks"] if t["task"] == "enrich_orders")["fix"]
    assert fix == failed.tasks["enrich_orders"].fix  # the task's own fix, from the runner
    assert "create the source data there" in fix


def test_vendored_layout_library_is_the_pinned_npm_package() -> None:
    from glacier.report.html import LAYOUT_LIBRARY

    package = REPO / "node_modules" / "@dagrejs" / "dagre"
    if not package.exists():
        pytest.fail("node_modules is missing: run `npm ci` (make test does) to check the vendored copy.")
    pinned = json.loads((REPO / "package.json").read_text())["devDependencies"]["@dagrejs/dagre"]
    assert json.loads((package / "package.json").read_text())["version"] == pinned
    assert LAYOUT_LIBRARY.read_bytes() == (package / "dist" / "dagre.min.js").read_bytes(), (
        "run `make vendor`"
    )
    assert (LAYOUT_LIBRARY.parent / "dagre.LICENSE").read_text() == (package / "LICENSE").read_text()
    assert LAYOUT_LIBRARY.stat().st_size < 100_000
