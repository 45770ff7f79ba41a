"""The report in a real browser (Debian's headless Chromium over the DevTools protocol): reports
of real runs load with no console error and no network request, the lineage SVG has one node
per task and dataset, the timeline one bar per task of the run; a screenshot of each is kept in
the test's temp folder."""

from __future__ import annotations

import struct
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from chromium import Chromium

from glacier import load_pipelines
from glacier.config import LocalConfig
from glacier.dag.model import PipelineDAG
from glacier.report import build_report, write_report
from glacier.report.cloud import CloudRuns
from glacier.runner import run_pipeline

pytestmark = pytest.mark.browser

REPO = Path(__file__).resolve().parents[2]
BENCH = REPO / "bench"

COUNTS = """(name => {
  const s = document.querySelector(`section.pipeline[data-pipeline="${name}"]`);
  const q = sel => s.querySelectorAll(sel).length;
  const bars = [...s.querySelectorAll('svg.timeline rect.bar')];
  return {
    tasks: q('svg.lineage g[data-node^="task:"]'),
    datasets: q('svg.lineage g[data-node^="dataset:"]'),
    edges: q('svg.lineage path.edge'),
    bars: bars.length,
    barTasks: bars.map(b => b.getAttribute('data-task')).sort(),
    barStatus: Object.fromEntries(
      bars.map(b => [b.getAttribute('data-task'), b.getAttribute('data-status')])),
    critical: q('svg.timeline rect.bar.critical'),
    failures: [...s.querySelectorAll('tr.failure')].map(r => r.textContent),
    engine: s.querySelector('svg.lineage').getAttribute('data-engine'),
    rows: q('table.tasks tbody tr[data-task]'),
  };
})"""


# Pairs of graph nodes whose boxes overlap (each node: its translate() and its box's size).
OVERLAPS = """(name => {
  const s = document.querySelector(`section.pipeline[data-pipeline="${name}"]`);
  const boxes = [...s.querySelectorAll('svg.lineage g[data-node]')].map(g => {
    const [x, y] = g.getAttribute('transform').match(/-?[0-9.]+(?:e-?[0-9]+)?/g).map(Number);
    const r = g.querySelector('rect.box');
    return [x, y, x + Number(r.getAttribute('width')), y + Number(r.getAttribute('height'))];
  }).sort((a, b) => a[0] - b[0]);
  let overlaps = 0;
  for (let i = 0; i < boxes.length; i++)
    for (let j = i + 1; j < boxes.length && boxes[j][0] < boxes[i][2] - 0.5; j++)
      if (boxes[j][1] < boxes[i][3] - 0.5 && boxes[i][1] < boxes[j][3] - 0.5) overlaps++;
  return overlaps;
})"""


def _png_size(path: Path) -> tuple[int, int]:
    head = path.read_bytes()[:24]
    assert head[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", head[16:24])
    return int(width), int(height)


def check_report(
    browser: Chromium, page: Path, dags: list[PipelineDAG], shot: Path, run_tasks: dict[str, int]
) -> dict[str, dict[str, Any]]:
    """Load ``page``; per pipeline, the graph and timeline counts. ``run_tasks``: pipeline ->
    tasks in the run shown (one bar each)."""
    browser.open(page)
    assert browser.problems() == []
    found = {}
    for dag in dags:
        counts = browser.evaluate(f"{COUNTS}({dag.name!r})")
        assert counts["tasks"] == len(dag.tasks), dag.name
        assert counts["datasets"] == len(dag.datasets), dag.name
        assert counts["edges"] == len(dag.edges), dag.name
        assert counts["bars"] == run_tasks[dag.name] == len(set(counts["barTasks"])), dag.name
        assert counts["rows"] == len(dag.tasks)
        assert browser.evaluate(f"{OVERLAPS}({dag.name!r})") == 0, f"{dag.name}: graph nodes overlap"
        found[dag.name] = counts
    browser.screenshot(shot)
    width, height = _png_size(shot)
    assert width >= 1400 and height > 600
    return found


def test_sales_report_failed_and_succeeded_runs(sales: Any, browser: Chromium, tmp_path: Path) -> None:
    dag = sales.dag
    latest = write_report(sales.pipelines, tmp_path / "latest.html", state_dir=sales.state)
    counts = check_report(browser, latest, [dag], tmp_path / "sales-failed.png", {"sales": 4})["sales"]
    assert counts["engine"] == "dagre"
    assert counts["barStatus"] == {
        "enrich_orders": "failed",
        "rank_products": "skipped",
        "revenue_by_region_and_day": "skipped",
        "executive_summary": "skipped",
    }
    (failure,) = counts["failures"]
    assert "Error: Task 'enrich_orders' input 'products'" in failure and "Fix: " in failure

    first = sales.results[0].run_id
    chosen = write_report(sales.pipelines, tmp_path / "first.html", state_dir=sales.state, run_id=first)
    counts = check_report(browser, chosen, [dag], tmp_path / "sales.png", {"sales": 4})["sales"]
    assert set(counts["barStatus"].values()) == {"succeeded"}
    assert counts["critical"] == 3  # enrich_orders -> one report -> executive_summary
    shown = browser.evaluate("document.querySelector('tr.selected td.name').textContent")
    assert shown.startswith(first)
    cached = write_report(
        sales.pipelines, tmp_path / "cached.html", state_dir=sales.state, run_id=sales.results[1].run_id
    )
    counts = check_report(browser, cached, [dag], tmp_path / "sales-cached.png", {"sales": 4})["sales"]
    assert counts["barStatus"]["enrich_orders"] == "cached"
    fill = browser.evaluate("document.querySelector('rect.bar.status-cached').getAttribute('fill')")
    assert fill.startswith("url(#hatch-")


@pytest.fixture(scope="module")
def tpch(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[Any]]:
    """The TPC-H pipelines at SF 0.01 (as tests/runtime/test_runtime_tpch.py builds them): the
    22-query pipeline and the Q3/Q5 pair, each run for real."""
    sys.path.insert(0, str(BENCH))
    try:
        import tpch_pipelines
    finally:
        sys.path.remove(str(BENCH))
    base = tmp_path_factory.mktemp("tpch")
    tpch_pipelines.generate(base, 0.01)
    state = base / ".glacier"
    pipelines = [
        *load_pipelines(BENCH / "tpch_multi.py").pipelines,
        *load_pipelines(BENCH / "tpch_pipelines.py").pipelines,
    ]
    for pipeline in pipelines:
        run_pipeline(pipeline, storage=LocalConfig(base_path=str(base)), state_dir=state)
    return state, pipelines


def test_tpch_report(tpch: tuple[Path, list[Any]], browser: Chromium, tmp_path: Path) -> None:
    state, pipelines = tpch
    page = write_report(pipelines, tmp_path / "tpch.html", state_dir=state)
    dags = [p.dag for p in pipelines]
    assert [d.name for d in dags] == ["tpch_multi", "tpch_q3", "tpch_q5"]
    found = check_report(browser, page, dags, tmp_path / "tpch.png", {d.name: len(d.tasks) for d in dags})
    assert found["tpch_multi"]["tasks"] == 29
    assert all(set(c["barStatus"].values()) == {"succeeded"} for c in found.values())
    assert found["tpch_multi"]["critical"] >= 2


def test_500_task_report_draws_with_the_layered_layout(browser: Chromium, tmp_path: Path) -> None:
    sys.path.insert(0, str(BENCH))
    try:
        import report_render
    finally:
        sys.path.remove(str(BENCH))
    page, tasks, datasets = report_render.build(tmp_path, 500, 1, 500)
    (compiled,) = load_pipelines(tmp_path / "report500.py").pipelines
    counts = check_report(browser, page, [compiled.dag], tmp_path / "report500.png", {"report500": 500})
    assert counts["report500"]["engine"] == "layered"
    assert (tasks, datasets) == (500, 503)


def test_cloud_report(lake: Any, browser: Chromium, tmp_path: Path) -> None:
    page = tmp_path / "cloud.html"
    page.write_text(build_report([lake.pipeline], source=CloudRuns(endpoint_url=lake.endpoint)))
    counts = check_report(browser, page, [lake.pipeline.dag], tmp_path / "cloud.png", {"lake": 3})["lake"]
    assert counts["barStatus"] == {"clean": "succeeded", "left": "succeeded", "right": "failed"}
    (failure,) = counts["failures"]
    assert "Fix: read the log group /aws/lambda/lake-right" in failure
    note = browser.evaluate("document.querySelector('.timeline-section p.muted:last-child').textContent")
    assert note == "Not in this run: merge"
    attempts = browser.evaluate(
        "[...document.querySelectorAll('svg.timeline text.note')].map(t => t.textContent)"
    )
    assert "2 attempts" in attempts


def test_make_demo_ends_by_writing_the_report(browser: Chromium, tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, str(REPO / "examples" / "demo.py"), str(tmp_path / "demo")],
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    last = done.stdout.strip().splitlines()[-1]
    assert last == f"Report: {tmp_path / 'demo' / 'report.html'}"
    (sales,) = load_pipelines(REPO / "examples" / "sales" / "pipelines.py").pipelines
    counts = check_report(
        browser, Path(last.split(": ", 1)[1]), [sales.dag], tmp_path / "demo.png", {"sales": 4}
    )
    assert counts["sales"]["barStatus"]["enrich_orders"] == "cached"  # the demo's second run


HOSTILE = '''
import polars as pl

from glacier import Provider
from glacier.config import LocalConfig

provider = Provider(config=LocalConfig(base_path="./data"))
local = provider.local()


@local.task()
def explode(df: pl.LazyFrame) -> pl.LazyFrame:
    raise ValueError("""<img src=x onerror="document.title='owned'"></script><b>bold</b> & co""")


hostile = provider.bucket("lake", "in.parquet").transform(explode).to(provider.bucket("lake", "out.parquet"))
'''


def test_user_text_stays_text(browser: Chromium, tmp_path: Path) -> None:
    """An error message full of markup is shown as text: no element of it reaches the page."""
    import polars as pl

    from glacier.errors import ExecutionError

    module = tmp_path / "hostile_pipelines.py"
    module.write_text(HOSTILE)
    (tmp_path / "data" / "lake").mkdir(parents=True)
    pl.DataFrame({"a": [1]}).write_parquet(tmp_path / "data" / "lake" / "in.parquet")
    (compiled,) = load_pipelines(module).pipelines
    with pytest.raises(ExecutionError):
        run_pipeline(
            compiled, storage=LocalConfig(base_path=str(tmp_path / "data")), state_dir=tmp_path / "s"
        )
    page = write_report([compiled], tmp_path / "hostile.html", state_dir=tmp_path / "s")
    browser.open(page)
    assert browser.problems() == []
    assert browser.evaluate("document.querySelectorAll('main img, main b, main script').length") == 0
    assert browser.evaluate("document.title") == "Glacier report: hostile"
    failure = browser.evaluate("document.querySelector('tr.failure .error').textContent")
    assert """<img src=x onerror="document.title='owned'"></script><b>bold</b> & co""" in failure
    tip = browser.evaluate("document.querySelector('rect.bar.status-failed').getAttribute('data-tip')")
    assert "</script><b>bold</b>" in tip
