"""``schema_mode="evolve"``: a source that gains a column still runs, and the run records the
new column in history (v4 ``tasks.schema_added``) and says so: the run's output names the
dataset and the column the first time, ``glacier history`` lists it for every run."""

from __future__ import annotations

import sys
from pathlib import Path

import polars as pl
from click.testing import CliRunner

from glacier.cli import app
from glacier.runner.history import History

REPO = Path(__file__).resolve().parents[2]
EXAMPLE_DIR = REPO / "examples" / "schemas"
SOURCE = (EXAMPLE_DIR / "pipelines.py").read_text()
ORDERS = "shop-raw/orders.parquet"
DECLARED_END = '        "placed_at": pl.Datetime("us"),\n    },\n)\ncustomers'
runner = CliRunner()

sys.path.insert(0, str(EXAMPLE_DIR))
from generate import generate  # noqa: E402  (the example's own sample data)

sys.path.remove(str(EXAMPLE_DIR))
sys.modules.pop("generate", None)


def evolving_example(tmp_path: Path) -> str:
    assert DECLARED_END in SOURCE
    path = tmp_path / "evolving.py"
    path.write_text(
        SOURCE.replace(DECLARED_END, DECLARED_END.replace("},\n)", '},\n    schema_mode="evolve",\n)'))
    )
    return str(path)


def flat(text: str) -> str:
    """Text without whitespace (rich wraps long paths at the terminal width)."""
    return "".join(text.split())


def run(example: str, data: Path, state: Path) -> str:
    result = runner.invoke(app, ["run", example, "--data-dir", str(data), "--state-dir", str(state)])
    assert result.exit_code == 0, result.output
    return result.output


def test_a_new_source_column_is_recorded_and_shown(tmp_path: Path) -> None:
    data, state = tmp_path / "data", tmp_path / "state"
    generate(data, orders=40)
    example = evolving_example(tmp_path)
    first = run(example, data, state)
    assert "gained column" not in first

    orders = pl.read_parquet(data / ORDERS).with_columns(channel=pl.lit("web"), score=pl.lit(1, pl.Int64))
    orders.write_parquet(data / ORDERS)
    second = run(example, data, state)
    uri = str(data / ORDERS)
    assert flat(f"dataset '{uri}' gained column 'channel' (String) (schema_mode='evolve')") in flat(second)
    assert flat(f"dataset '{uri}' gained column 'score' (Int64)") in flat(second)

    with History(state) as history:
        latest = history.latest_run()
        assert latest is not None
        clean = {t.task: t for t in history.task_rows(latest.run_id)}["clean"]
        assert clean.schema_added == {uri: {"channel": "String", "score": "Int64"}}
        older = [r for r in history.runs() if r.run_id != latest.run_id]
        assert [t.schema_added for t in history.task_rows(older[0].run_id)] == [{}, {}]

    # Met again: recorded again, but not announced as new.
    third = run(example, data, state)
    assert "gained column" not in third
    shown = runner.invoke(app, ["history", "--state-dir", str(state)])
    assert shown.exit_code == 0, shown.output
    listed = flat(f"clean: '{uri}' has undeclared column(s) 'channel' (String), 'score' (Int64)")
    assert flat(shown.output).count(listed) == 2


def test_freeze_still_refuses_the_new_column(tmp_path: Path) -> None:
    data = tmp_path / "data"
    generate(data, orders=20)
    orders = pl.read_parquet(data / ORDERS).with_columns(channel=pl.lit("web"))
    orders.write_parquet(data / ORDERS)
    example = tmp_path / "frozen.py"
    example.write_text(SOURCE)
    result = runner.invoke(
        app, ["run", str(example), "--data-dir", str(data), "--state-dir", str(tmp_path / "state")]
    )
    assert result.exit_code == 1
    assert flat("column 'channel' (String) is not declared") in flat(result.output)
