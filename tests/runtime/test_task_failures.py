"""Failures keep their cause: the user's file and line, the full traceback (``--verbose``
and the history), no retry of deterministic errors unless ``retry_on`` asks, inputs named
when they cannot be read, and timed-out attempts that never overlap their retries."""

from __future__ import annotations

import sys
import textwrap
from pathlib import Path

import polars as pl
import pytest
from click.testing import CliRunner

from glacier.cli import app
from glacier.dsl import load_pipelines
from glacier.errors import DefinitionError, ExecutionError
from glacier.runner import History, run_pipeline

_HEADER = """
import threading, time
import polars as pl
from glacier import Provider
from glacier.config import LocalConfig

provider = Provider(config=LocalConfig(base_path={data!r}))
local = provider.local()
raw = provider.bucket("lake", "in.parquet")
out = provider.bucket("lake", "out.parquet")
CALLS = []
"""


def _module(tmp_path: Path, body: str, name: str = "userpipe") -> tuple[Path, Path]:
    data = tmp_path / "data"
    (data / "lake").mkdir(parents=True, exist_ok=True)
    pl.DataFrame({"a": [1, 2, 3]}).write_parquet(data / "lake" / "in.parquet")
    file = tmp_path / f"{name}.py"
    file.write_text(_HEADER.format(data=str(data)) + textwrap.dedent(body))
    return file, data


def _run(file: Path, state: Path) -> ExecutionError:
    (compiled,) = load_pipelines(str(file)).pipelines
    with pytest.raises(ExecutionError) as raised:
        run_pipeline(compiled, state_dir=state, retry_delay=0.01)
    return raised.value


def _line_of(file: Path, text: str) -> int:
    return next(i for i, line in enumerate(file.read_text().splitlines(), 1) if text in line)


def test_a_failing_task_names_the_users_file_and_line_and_keeps_its_cause(tmp_path: Path) -> None:
    file, _ = _module(
        tmp_path,
        """
        def helper():
            raise ValueError("bad threshold")

        @local.task()
        def boom(df):
            helper()
            return df

        p = raw.transform(boom).to(out)
        """,
    )
    error = _run(file, tmp_path / "state")
    assert f"userpipe.py:{_line_of(file, 'raise ValueError')}" in str(error)
    assert "ValueError: bad threshold" in str(error)
    cause = error.__cause__
    assert cause is not None and isinstance(cause.__cause__, ValueError)
    (record,) = History(tmp_path / "state").task_rows(error.result.run_id)  # type: ignore[attr-defined]
    assert record.traceback is not None and "raise ValueError" in record.traceback
    assert record.fix is not None and "boom" in record.fix


def test_an_error_of_the_lazy_query_names_the_task_definition(tmp_path: Path) -> None:
    """A missing column is raised while Polars runs the plan, after the task returned: no
    frame of the user's code is on the stack, so the message points at the task's def."""
    file, _ = _module(
        tmp_path,
        """
        @local.task()
        def typo(df):
            return df.select(pl.col("nope"))

        p = raw.transform(typo).to(out)
        """,
        name="lazypipe",
    )
    error = _run(file, tmp_path / "state")
    where = f"{file}:{_line_of(file, '@local.task()')}"
    assert f"(raised by the query of the task defined at {where})" in str(error), str(error)
    assert "nope" in str(error)


def test_glacier_run_verbose_prints_the_traceback(tmp_path: Path) -> None:
    file, _ = _module(
        tmp_path,
        """
        @local.task()
        def boom(df):
            raise KeyError("missing")

        p = raw.transform(boom).to(out)
        """,
        name="verbosepipe",
    )
    state = str(tmp_path / "state")
    plain = CliRunner().invoke(app, ["run", str(file), "--state-dir", state, "--quiet"])
    verbose = CliRunner().invoke(app, ["run", str(file), "--state-dir", state, "--quiet", "--verbose"])
    assert plain.exit_code == verbose.exit_code == 1
    assert "Traceback" not in plain.output and "verbosepipe.py:" in plain.output
    assert "Traceback (most recent call last)" in verbose.output
    assert 'raise KeyError("missing")' in verbose.output


@pytest.mark.parametrize(
    ("body", "attempts"),
    [
        ("return df.select(pl.col('nope'))", 1),  # ColumnNotFoundError: deterministic
        ("raise TypeError('wrong')", 1),
        ("raise OSError('flaky disk')", 3),  # may pass next time: retried
    ],
)
def test_deterministic_errors_are_not_retried(tmp_path: Path, body: str, attempts: int) -> None:
    file, _ = _module(
        tmp_path,
        f"""
        @local.task(retries=2)
        def t(df):
            {body}

        p = raw.transform(t).to(out)
        """,
        name=f"retry{attempts}{abs(hash(body)) % 1000}",
    )
    error = _run(file, tmp_path / "state")
    run = error.result["t"]  # type: ignore[attr-defined]
    assert run.attempts == attempts, run.error


def test_retry_on_asks_for_a_retry_of_a_deterministic_error(tmp_path: Path) -> None:
    file, _ = _module(
        tmp_path,
        """
        @local.task(retries=2, retry_on=(KeyError,))
        def t(df):
            raise KeyError("later")

        p = raw.transform(t).to(out)
        """,
        name="retryon",
    )
    assert _run(file, tmp_path / "state").result["t"].attempts == 3  # type: ignore[attr-defined]


def test_retry_on_must_hold_exception_classes() -> None:
    from glacier import Provider

    with pytest.raises(DefinitionError, match="retry_on"):
        Provider().local().task(name="t", retry_on=("KeyError",))(lambda df: df)  # type: ignore[arg-type]


@pytest.mark.parametrize("fuse", [True, False])
def test_a_corrupt_input_is_named_as_the_input(tmp_path: Path, fuse: bool) -> None:
    file, data = _module(
        tmp_path,
        """
        @local.task()
        def t(orders):
            return orders

        p = raw.transform(t).to(out)
        """,
        name="corrupt",
    )
    (data / "lake" / "in.parquet").write_bytes(b"PAR1 this is not parquet at all")
    (compiled,) = load_pipelines(str(file)).pipelines
    with pytest.raises(ExecutionError) as raised:
        run_pipeline(compiled, state_dir=tmp_path / "state", fuse=fuse)
    error = raised.value
    assert "input 'orders'" in str(error) and "in.parquet) could not be read" in str(error)
    assert "out.parquet" not in error.problem


def test_a_corrupt_input_of_a_fused_chains_downstream_task_is_named(tmp_path: Path) -> None:
    """The second task reads its upstream's plan and a file of its own: the file is checked."""
    file, data = _module(
        tmp_path,
        """
        other = provider.bucket("lake", "other.parquet")
        final = provider.bucket("lake", "final.parquet")

        @local.task()
        def first(orders):
            return orders

        @local.task()
        def second(mid, extra):
            return mid.join(extra, on="a")

        from glacier import Pipeline

        step = Pipeline(name="chain", orders=raw).transform(first).to(out)
        p = Pipeline(name="chain", mid=step, extra=other).transform(second).to(final)
        """,
        name="corruptchain",
    )
    (data / "lake" / "other.parquet").write_bytes(b"PAR1 this is not parquet at all")
    (compiled,) = load_pipelines(str(file)).pipelines
    with pytest.raises(ExecutionError) as raised:
        run_pipeline(compiled, state_dir=tmp_path / "state")
    assert raised.value.task == "second"
    assert "input 'extra'" in str(raised.value) and "other.parquet) could not be read" in str(raised.value)
    assert (data / "lake" / "out.parquet").exists()  # the first task's output is kept
    assert not (data / "lake" / "final.parquet").exists()


@pytest.mark.parametrize("fuse", [True, False])
def test_a_cache_hit_does_not_read_its_inputs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fuse: bool
) -> None:
    """A hit's inputs have the content identities of the run that read them: their footers
    are not read again (a cached rerun of many tasks stays cheap)."""
    import glacier.runner.task as task_module

    file, _ = _module(
        tmp_path,
        """
        @local.task(cache=True)
        def t(orders):
            return orders

        p = raw.transform(t).to(out)
        """,
        name="cachedread",
    )
    read: list[str] = []
    footer = task_module.parquet_rows
    monkeypatch.setattr(task_module, "parquet_rows", lambda uri: read.append(uri) or footer(uri))
    (compiled,) = load_pipelines(str(file)).pipelines
    first = run_pipeline(compiled, state_dir=tmp_path / "state", fuse=fuse)
    assert first.tasks["t"].status == "succeeded" and len(read) == 1
    again = run_pipeline(compiled, state_dir=tmp_path / "state", fuse=fuse)
    assert again.tasks["t"].status == "cached" and len(read) == 1


def test_an_empty_directory_source_is_named_as_the_input(tmp_path: Path) -> None:
    file, data = _module(
        tmp_path,
        """
        events = provider.bucket("lake", "events/")

        @local.task()
        def t(events):
            return events

        p = events.transform(t).to(out)
        """,
        name="emptydir",
    )
    (data / "lake" / "events").mkdir()
    error = _run(file, tmp_path / "state")
    assert "input 'events'" in str(error) and "is an empty directory" in str(error)


# The next two are tasks a fresh process cannot import (made inside a function), so their
# timed attempts run in-thread (glacier.runner.attempt); importable ones run isolated in a
# child process that is killed past the timeout (tests/runtime/test_timeouts.py).


def test_an_in_thread_timed_out_attempt_never_overlaps_its_retry(tmp_path: Path) -> None:
    file, _ = _module(
        tmp_path,
        """
        LOCK = threading.Lock()
        STATE = {"now": 0, "most": 0, "bodies": 0}

        def make():
            @local.task(retries=2, timeout=0.2)
            def slow(df):
                with LOCK:
                    STATE["now"] += 1
                    STATE["bodies"] += 1
                    STATE["most"] = max(STATE["most"], STATE["now"])
                time.sleep(0.5)  # past the timeout, but it returns: each attempt stops
                with LOCK:
                    STATE["now"] -= 1
                return df
            return slow

        p = raw.transform(make()).to(out)
        """,
        name="overlap",
    )
    error = _run(file, tmp_path / "state")
    module = sys.modules["overlap"]
    assert module.STATE["bodies"] == 3 and module.STATE["most"] == 1
    assert error.result["slow"].attempts == 3  # type: ignore[attr-defined]
    assert "timed out" in str(error)
    assert not (tmp_path / "data" / "lake" / "out.parquet").exists()


def test_an_in_thread_timed_out_attempt_that_cannot_stop_is_not_retried(tmp_path: Path) -> None:
    file, _ = _module(
        tmp_path,
        """
        STATE = {"bodies": 0}

        def make():
            @local.task(retries=2, timeout=0.2)
            def stuck(df):
                STATE["bodies"] += 1
                time.sleep(2.0)  # longer than the grace after the timeout (1 s)
                return df
            return stuck

        p = raw.transform(make()).to(out)
        """,
        name="stuck",
    )
    error = _run(file, tmp_path / "state")
    assert sys.modules["stuck"].STATE["bodies"] == 1
    assert "could not be stopped, so it was not retried" in str(error)
