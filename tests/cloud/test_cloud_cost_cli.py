"""``glacier cost``: text and JSON, the stated assumptions, and user errors as one line."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from glacier.cli import app

EXAMPLE = "examples/seed_000/core_multi_source.py"


def test_cost_text_names_assumptions_path_and_resources(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["cost", EXAMPLE, "--state-dir", str(tmp_path)])
    assert result.exit_code == 0, result.output
    out = result.output
    assert "Estimated cost of pipeline 'sales_join' per run" in out
    assert "no run history for join_data, summarize" in out
    assert "Critical path: join_data -> summarize" in out
    assert "glue jobs                    1" in out and "lambda functions             1" in out


def test_cost_json_for_thirty_runs(tmp_path: Path) -> None:
    one = CliRunner().invoke(app, ["cost", EXAMPLE, "--state-dir", str(tmp_path), "-f", "json"])
    month = CliRunner().invoke(app, ["cost", EXAMPLE, "--state-dir", str(tmp_path), "-f", "json", "-n", "30"])
    assert one.exit_code == 0 and month.exit_code == 0, one.output + month.output
    single, thirty = json.loads(one.output), json.loads(month.output)
    assert thirty["total_usd"] == single["total_usd"] * 30
    # Glue bills a 1-minute minimum: the assumed 30 s + 30 s start-up + I/O exceed it.
    assert single["by_component_usd"]["glue DPU-hours"] > 3 * 60 / 3600 * 0.44
    assert single["history"] is None


def test_cost_user_errors_are_one_line(tmp_path: Path) -> None:
    bad_runs = CliRunner().invoke(app, ["cost", EXAMPLE, "--state-dir", str(tmp_path), "--runs", "0"])
    assert bad_runs.exit_code == 1
    assert "asked for 0 runs" in bad_runs.output and "Traceback" not in bad_runs.output
    missing = CliRunner().invoke(app, ["cost", EXAMPLE, "--pipeline", "nope"])
    assert missing.exit_code == 1 and "nope" in missing.output
