"""Every ``glacier`` path below ends in one clear line and exit 1, never a traceback."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

_CLI = "from glacier.cli import main; main()"

_PIPELINE = """
import polars as pl
from glacier import Provider
from glacier.config import LocalConfig

provider = Provider(config=LocalConfig(base_path={data!r}))

@provider.local().task()
def copy(df):
    return df

p = provider.bucket("lake", "in.parquet").transform(copy).to(provider.bucket("lake", "out.parquet"))
"""


def _glacier(cwd: Path, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", _CLI, *args], cwd=cwd, capture_output=True, text=True, timeout=120, env=env
    )


def _one_line_error(result: subprocess.CompletedProcess[str], *expected: str) -> None:
    assert result.returncode == 1, (result.stdout, result.stderr)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: "), result.stderr
    assert "Traceback" not in result.stderr + result.stdout
    for text in expected:
        assert text in lines[0], lines[0]


@pytest.fixture
def pipeline(tmp_path: Path) -> Path:
    file = tmp_path / "pipe.py"
    file.write_text(_PIPELINE.format(data=str(tmp_path / "data")))
    return file


def test_state_dir_that_is_a_file(tmp_path: Path, pipeline: Path) -> None:
    (tmp_path / "state").write_text("not a folder")
    _one_line_error(_glacier(tmp_path, "run", str(pipeline), "--state-dir", "state"), "state")


@pytest.mark.skipif(os.geteuid() == 0, reason="root can write into a read-only folder")
def test_state_dir_that_is_read_only(tmp_path: Path, pipeline: Path) -> None:
    state = tmp_path / "state"
    state.mkdir()
    state.chmod(0o500)
    try:
        _one_line_error(_glacier(tmp_path, "run", str(pipeline), "--state-dir", "state"), "state")
    finally:
        state.chmod(0o700)


def test_corrupt_history_database(tmp_path: Path, pipeline: Path) -> None:
    state = tmp_path / "state"
    state.mkdir()
    (state / "history.sqlite").write_bytes(b"this is not a database" * 200)
    _one_line_error(_glacier(tmp_path, "run", str(pipeline), "--state-dir", "state"), "history.sqlite")
    _one_line_error(_glacier(tmp_path, "history", "--state-dir", "state"), "history.sqlite")
    with pytest.raises(sqlite3.DatabaseError):
        sqlite3.connect(state / "history.sqlite").execute("SELECT 1 FROM runs")


def test_run_a_file_that_is_not_python(tmp_path: Path) -> None:
    (tmp_path / "notpy.txt").write_text("hello")
    _one_line_error(_glacier(tmp_path, "run", "notpy.txt"), "notpy.txt", "is not a Python file")


def test_init_onto_an_existing_file(tmp_path: Path) -> None:
    (tmp_path / "taken").write_text("mine")
    _one_line_error(_glacier(tmp_path, "init", "taken"), "'taken'", "is a file")
    assert (tmp_path / "taken").read_text() == "mine"


def test_run_cloud_on_a_local_pipeline(tmp_path: Path, pipeline: Path) -> None:
    _one_line_error(_glacier(tmp_path, "run", str(pipeline), "--cloud"), "Pipeline 'p'", "LocalConfig")


def test_a_module_that_calls_sys_exit_at_import(tmp_path: Path) -> None:
    (tmp_path / "exits.py").write_text("import sys\nsys.exit(3)\n")
    _one_line_error(_glacier(tmp_path, "run", "exits.py"), "exits.py", "sys.exit(3)")


def test_a_pipeline_with_sources_but_no_steps_is_named(tmp_path: Path) -> None:
    (tmp_path / "nosteps.py").write_text(
        "from glacier import Pipeline, Provider\n"
        "raw = Provider().bucket('lake', 'in.parquet')\n"
        "p = Pipeline(name='x').source(raw)\n"
    )
    _one_line_error(_glacier(tmp_path, "run", "nosteps.py"), "Pipeline 'x'", "has no steps")


_PARTITIONED = """
import polars as pl
from glacier import Provider
from glacier.config import LocalConfig

provider = Provider(config=LocalConfig(base_path={data!r}))
events = provider.bucket("lake", "events/", partition_by=["date"], schema={{"date": pl.Date, "v": pl.Int64}})

@provider.local().task()
def daily(events):
    return events

p = events.transform(daily).to(provider.bucket("lake", "daily/", partition_by=["date"]))
"""


@pytest.mark.parametrize(
    "command",
    [
        ["runs", "pipe.py", "--cloud"],
        ["report", "pipe.py", "--cloud"],
        ["backfill", "parts.py", "--cloud", "--from", "2026-11-01", "--to", "2026-11-02"],
    ],
)
def test_cloud_commands_on_a_local_pipeline_without_a_region(
    tmp_path: Path, pipeline: Path, command: list[str]
) -> None:
    """A LocalConfig pipeline names no region; with none in the environment either, botocore's
    NoRegionError used to come out as a traceback."""
    (tmp_path / "parts.py").write_text(_PARTITIONED.format(data=str(tmp_path / "data")))
    env = {k: v for k, v in os.environ.items() if k not in ("AWS_REGION", "AWS_DEFAULT_REGION")}
    env["AWS_CONFIG_FILE"] = str(tmp_path / "no-aws-config")  # no region from ~/.aws/config
    result = _glacier(tmp_path, *command, env=env)
    _one_line_error(result, "Pipeline 'p' names no AWS region", "LocalConfig", "AWS_REGION")


@pytest.mark.parametrize("module", ["glacier", "glacier.cli"])
def test_python_dash_m_is_the_glacier_command(tmp_path: Path, pipeline: Path, module: str) -> None:
    done = subprocess.run(
        [sys.executable, "-m", module, "validate", str(pipeline)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "ok  p: 1 task, 2 datasets"
    (tmp_path / "notpy.txt").write_text("hello")
    _one_line_error(
        subprocess.run(
            [sys.executable, "-m", module, "run", "notpy.txt"],
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=120,
        ),
        "is not a Python file",
    )
