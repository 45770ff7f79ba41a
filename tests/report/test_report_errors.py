"""Every way `glacier report` can be asked for something impossible gives one ReportError that
names the culprit and the fix (docs/errors.md lists these cases); on the command line it is
one line on stderr and exit 1."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from glacier.report import ReportError, build_report, write_report

REPO = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class Case:
    bad_input: str
    trigger: Callable[[Any, Path, pytest.MonkeyPatch], object]
    culprit: str
    fix: str


def _missing_library(sales: Any, tmp: Path, monkeypatch: pytest.MonkeyPatch) -> object:
    import glacier.report.html as page

    monkeypatch.setattr(page, "LAYOUT_LIBRARY", tmp / "gone" / "dagre.min.js")
    return build_report(sales.pipelines, state_dir=sales.state)


CASES: dict[str, Case] = {
    "report_unknown_run": Case(
        "glacier report examples/sales/pipelines.py --run nope",
        lambda s, _t, _m: build_report(s.pipelines, state_dir=s.state, run_id="nope"),
        "No run 'nope' of pipeline(s) 'sales' in the local run history",
        "pass one of the recent runs (",
    ),
    "report_output_is_a_directory": Case(
        "glacier report ... -o some_existing_folder/",
        lambda s, t, _m: write_report(s.pipelines, t, state_dir=s.state),
        "is a directory",
        "pass a file name, e.g. -o",
    ),
    "report_output_not_writable": Case(
        "glacier report ... -o /proc/report.html",
        lambda s, _t, _m: write_report(s.pipelines, "/proc/glacier/report.html", state_dir=s.state),
        "Cannot write the report to '/proc/glacier/report.html'",
        "pass -o with a path in a folder you can write to",
    ),
    "report_layout_library_missing": Case(
        "an install without glacier/report/assets/vendor/dagre.min.js",
        _missing_library,
        "The report's graph layout library is missing",
        "run `make vendor`",
    ),
    "report_trend_over_no_runs": Case(
        "glacier report ... --runs 0",
        lambda s, _t, _m: build_report(s.pipelines, state_dir=s.state, trend_runs=0),
        "asked for a trend over 0 runs",
        "pass --runs 1 or more",
    ),
    "report_of_no_pipelines": Case(
        "build_report([])",
        lambda s, _t, _m: build_report([], state_dir=s.state),
        "given no pipelines",
        "pass at least one pipeline",
    ),
}


@pytest.mark.parametrize("case_id", sorted(CASES))
def test_bad_report_request_is_one_clear_error(
    case_id: str, sales: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    case = CASES[case_id]
    with pytest.raises(ReportError) as caught:
        case.trigger(sales, tmp_path, monkeypatch)
    error = caught.value
    assert case.culprit in error.problem, str(error)
    assert error.fix and case.fix in error.fix, str(error)
    assert str(error) == f"{error.problem} Fix: {error.fix}" and "\n" not in str(error)


def test_every_case_is_listed_in_the_docs() -> None:
    doc = (REPO / "docs" / "errors.md").read_text()
    listed = [*CASES, "report_cloud_without_executions"]  # the last: tests/report/test_report_cloud.py
    assert [case for case in listed if f"`{case}`" not in doc] == []


def test_cli_prints_one_line_and_exits_1(sales: Any) -> None:
    done = subprocess.run(
        [
            sys.executable,
            "-c",
            "from glacier.cli import main; main()",
            "report",
            str(REPO / "examples/sales/pipelines.py"),
            "--state-dir",
            str(sales.state),
            "--run",
            "nope",
        ],
        capture_output=True,
        text=True,
        cwd=sales.work,
    )
    assert done.returncode == 1
    assert (
        done.stderr.startswith("Error: No run 'nope' of pipeline(s) 'sales'")
        and "Traceback" not in done.stderr
    )
    assert done.stderr.count("\n") == 1


def test_cli_writes_the_report_and_prints_its_path(sales: Any) -> None:
    out = sales.work / "cli" / "sales.html"
    done = subprocess.run(
        [
            sys.executable,
            "-c",
            "from glacier.cli import main; main()",
            "report",
            str(REPO / "examples/sales/pipelines.py"),
            "--state-dir",
            str(sales.state),
            "-o",
            str(out),
            "--run",
            sales.results[0].run_id,
        ],
        capture_output=True,
        text=True,
        cwd=sales.work,
        check=True,
    )
    assert done.stdout == f"Report: {out.resolve()}\n"
    assert sales.results[0].run_id in out.read_text()
