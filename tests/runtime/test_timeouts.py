"""Timeouts that end the work: an attempt of a task with ``timeout=`` runs in a child process
(``glacier.runner.isolated``) that is killed past its timeout, waited for, and only then
retried; it publishes nothing, and a later attempt that succeeds is published.

Each task appends ``<pid> start <time>`` (and a Python-heavy one ``<pid> beat <time>`` while
it loops) to a log, and a monitor thread samples which of the logged processes are alive, so
the tests see the processes themselves: never two attempts alive at once, none left after
the run, no work after the kill.
"""

from __future__ import annotations

import itertools
import os
import textwrap
import threading
import time
from pathlib import Path

import polars as pl
import pytest

from glacier.dsl import load_pipelines
from glacier.errors import ExecutionError
from glacier.runner import run_pipeline

_MODULE = """
import os, time
from pathlib import Path

import polars as pl
from glacier import Provider
from glacier.config import LocalConfig

provider = Provider(config=LocalConfig(base_path={data!r}))
local = provider.local()
LOG = Path({log!r})


def note(what):
    with LOG.open("a") as log:
        log.write(f"{{os.getpid()}} {{what}} {{time.time()}}\\n")


def attempts():
    return sum(" start " in line for line in LOG.read_text().splitlines()) if LOG.exists() else 0
"""

_POLARS_HEAVY = """
@local.task(timeout=1, retries=2)
def polars_heavy(df: pl.LazyFrame) -> pl.LazyFrame:
    note("start")
    # A self-join that multiplies rows (minutes of Polars work), then per-row work.
    return df.join(df.head(5000), on="k").with_columns(
        [(pl.col("v") * (i + 1)).sin().cos().alias(f"x{i}") for i in range(20)]
    )


p = provider.bucket("lake", "in.parquet").transform(polars_heavy).to(provider.bucket("lake", "out.parquet"))
"""

_PYTHON_HEAVY = """
@local.task(timeout=1, retries=2)
def python_heavy(df: pl.LazyFrame) -> pl.LazyFrame:
    note("start")
    beat = time.time()
    while True:  # pure Python, forever: only a kill ends it
        if time.time() - beat > 0.05:
            note("beat")
            beat = time.time()


p = provider.bucket("lake", "in.parquet").transform(python_heavy).to(provider.bucket("lake", "out.parquet"))
"""

_FLAKY = """
@local.task(timeout=1, retries=2)
def flaky(df: pl.LazyFrame) -> pl.LazyFrame:
    note("start")
    if attempts() == 1:  # the first attempt hangs; the second is quick
        while True:
            pass
    return df.with_columns(doubled=pl.col("v") * 2)


p = provider.bucket("lake", "in.parquet").transform(flaky).to(provider.bucket("lake", "out.parquet"))
"""

_FAILS = """
@local.task(timeout=30, retries=1)
def fails(df: pl.LazyFrame) -> pl.LazyFrame:
    note("start")
    return check(df)


def check(df):
    raise {error}


p = provider.bucket("lake", "in.parquet").transform(fails).to(provider.bucket("lake", "out.parquet"))
"""


def _project(tmp_path: Path, body: str, name: str, rows: int = 2_000_000) -> tuple[Path, Path, Path]:
    data = tmp_path / "data"
    lake = data / "lake"
    lake.mkdir(parents=True)
    n = pl.int_range(rows, eager=True)
    pl.DataFrame({"k": n % 500, "v": n.cast(pl.Float64)}).write_parquet(lake / "in.parquet")
    log = tmp_path / "attempts.log"
    file = tmp_path / f"{name}.py"
    file.write_text(_MODULE.format(data=str(data), log=str(log)) + textwrap.dedent(body))
    return file, lake, log


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def _lines(log: Path) -> list[tuple[int, str, float]]:
    if not log.exists():
        return []
    rows = [line.split() for line in log.read_text().splitlines()]
    return [(int(pid), what, float(when)) for pid, what, when in rows]


class _Monitor:
    """Samples, every 10 ms, how many of the logged attempt processes are alive."""

    def __init__(self, log: Path) -> None:
        self.log = log
        self.most_alive = 0
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._watch, daemon=True)

    def _watch(self) -> None:
        while not self._done.is_set():
            pids = {pid for pid, what, _ in _lines(self.log) if what == "start"}
            self.most_alive = max(self.most_alive, sum(_alive(pid) for pid in pids))
            time.sleep(0.01)

    def __enter__(self) -> _Monitor:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._done.set()
        self._thread.join()


def _run(file: Path, state: Path) -> tuple[ExecutionError | None, _Monitor, float]:
    (compiled,) = load_pipelines(str(file)).pipelines
    started = time.monotonic()
    with _Monitor(Path(str(file.parent / "attempts.log"))) as monitor:
        try:
            run_pipeline(compiled, state_dir=state, retry_delay=0.01)
        except ExecutionError as exc:
            return exc, monitor, time.monotonic() - started
    return None, monitor, time.monotonic() - started


def _staging(lake: Path) -> list[str]:
    return [p.name for p in lake.iterdir() if p.name.startswith(".glacier-")]


def _assert_killed_three_times(tmp_path: Path, body: str, task: str) -> list[tuple[int, str, float]]:
    file, lake, log = _project(tmp_path, body, name=task)
    previous = pl.DataFrame({"old": [1, 2, 3]})
    previous.write_parquet(lake / "out.parquet")
    error, monitor, _ = _run(file, tmp_path / "state")
    assert error is not None and error.task == task
    assert str(error).startswith(
        f"Pipeline 'p' failed in task '{task}': Task '{task}' timed out after 1 s. (after 3 attempts)"
    )
    assert error.result[task].attempts == 3  # type: ignore[attr-defined]
    lines = _lines(log)
    pids = [pid for pid, what, _ in lines if what == "start"]
    assert len(pids) == 3 and len(set(pids)) == 3 and os.getpid() not in pids  # three processes
    assert monitor.most_alive == 1  # never two attempts at once
    assert not any(_alive(pid) for pid in pids)  # each one ended
    time.sleep(0.5)
    assert _lines(log) == lines  # nothing works on after the kill
    assert pl.read_parquet(lake / "out.parquet").equals(previous)  # the earlier output is intact
    assert _staging(lake) == []  # nothing published, nothing left staged
    return lines


@pytest.mark.slow
def test_a_timed_out_polars_query_is_killed_before_each_retry(tmp_path: Path) -> None:
    _assert_killed_three_times(tmp_path, _POLARS_HEAVY, "polars_heavy")


@pytest.mark.slow
def test_a_timed_out_python_loop_is_killed_before_each_retry(tmp_path: Path) -> None:
    lines = _assert_killed_three_times(tmp_path, _PYTHON_HEAVY, "python_heavy")
    spans = {}
    for pid, _, when in lines:
        first, last = spans.get(pid, (when, when))
        spans[pid] = (min(first, when), max(last, when))
    ordered = sorted(spans.values())
    assert all(a[1] < b[0] for a, b in itertools.pairwise(ordered))  # no overlap in time
    beats = [sum(what == "beat" for p, what, _ in lines if p == pid) for pid in spans]
    assert all(count >= 1 for count in beats)  # each attempt was busy in its loop when killed


@pytest.mark.slow
def test_a_task_that_times_out_once_is_retried_and_published(tmp_path: Path) -> None:
    file, lake, log = _project(tmp_path, _FLAKY, name="flaky", rows=1000)
    error, monitor, _ = _run(file, tmp_path / "state")
    assert error is None
    out = pl.read_parquet(lake / "out.parquet")
    assert out.height == 1000 and out["doubled"].sum() == 2 * sum(range(1000))
    pids = [pid for pid, what, _ in _lines(log) if what == "start"]
    assert len(set(pids)) == 2 and monitor.most_alive == 1
    assert not any(_alive(pid) for pid in pids)
    assert _staging(lake) == []


@pytest.mark.slow
def test_an_isolated_failure_keeps_the_users_line_its_cause_and_retry_rules(tmp_path: Path) -> None:
    file, _, _ = _project(tmp_path, _FAILS.format(error='ValueError("bad threshold")'), "fails", 10)
    error, _, _ = _run(file, tmp_path / "state")
    assert error is not None
    line = next(i for i, text in enumerate(file.read_text().splitlines(), 1) if "raise ValueError" in text)
    assert f"Task 'fails' failed: ValueError: bad threshold (at {file}:{line})" in str(error)
    assert isinstance(error.__cause__.__cause__, ValueError)  # type: ignore[union-attr]
    assert "(after 2 attempts)" in str(error)  # a ValueError may be transient: retried
    assert "in check" in error.result["fails"].traceback  # type: ignore[attr-defined]


def test_an_isolated_deterministic_error_is_not_retried(tmp_path: Path) -> None:
    file, _, log = _project(tmp_path, _FAILS.format(error='KeyError("amount")'), "fails_key", 10)
    error, _, _ = _run(file, tmp_path / "state")
    assert error is not None and "attempts" not in str(error)
    line = next(i for i, text in enumerate(file.read_text().splitlines(), 1) if "raise KeyError" in text)
    assert f"Task 'fails' failed: KeyError: 'amount' (at {file}:{line})" in str(error)
    assert isinstance(error.__cause__.__cause__, KeyError)  # type: ignore[union-attr]
    assert len([1 for _, what, _ in _lines(log) if what == "start"]) == 1


def test_a_module_that_a_fresh_process_would_import_from_another_file_is_not_isolated(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import importlib.util
    import sys

    from glacier.dag.model import TaskNode
    from glacier.runner.isolated import isolatable

    for folder in ("first", "second"):
        (tmp_path / folder).mkdir()
        (tmp_path / folder / "shadowmod.py").write_text("def task(df):\n    return df\n")
    monkeypatch.syspath_prepend(str(tmp_path / "first"))
    spec = importlib.util.spec_from_file_location("shadowmod", tmp_path / "second" / "shadowmod.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    monkeypatch.setitem(sys.modules, "shadowmod", module)
    task = TaskNode.model_construct(name="task", code_ref="shadowmod:task", dataframe_api="polars")
    assert not isolatable(task, module.task)  # 'import shadowmod' would find first/, not second/
    monkeypatch.syspath_prepend(str(tmp_path / "second"))
    assert isolatable(task, module.task)


_EXIT_PROBE = """
import atexit, gc

PARENT = {parent}


@atexit.register
def freeze_count():  # runs as an attempt's process exits, after glacier's entry returned
    if os.getpid() != PARENT:
        note(f"frozen={{gc.get_freeze_count()}}")


@local.task(timeout=30)
def quick(df: pl.LazyFrame) -> pl.LazyFrame:
    note("start")
    return df.with_columns(doubled=pl.col("v") * 2)


p = provider.bucket("lake", "in.parquet").transform(quick).to(provider.bucket("lake", "out.parquet"))
"""


def test_an_attempts_process_freezes_its_objects_as_it_exits(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The parent waits for the child to end before the attempt is over; frozen, its objects
    are not walked by CPython's exit-time collections (~0.1 s an attempt, BENCHMARKS.md)."""
    import glacier.runner.isolated

    # The parent ends a child that is slow to exit after reporting; here it waits, so the
    # probe below always runs however loaded the machine is.
    monkeypatch.setattr(glacier.runner.isolated, "KILL_GRACE", 60.0)
    body = _EXIT_PROBE.format(parent=os.getpid())
    file, lake, log = _project(tmp_path, body, "exit_probe", 10)
    error, _, _ = _run(file, tmp_path / "state")
    assert error is None
    lines = _lines(log)
    (child,) = {pid for pid, what, _ in lines if what == "start"}
    assert child != os.getpid()  # the attempt ran in its own process
    frozen = [int(what.removeprefix("frozen=")) for pid, what, _ in lines if pid == child and what != "start"]
    assert len(frozen) == 1 and frozen[0] > 1000
    assert pl.read_parquet(lake / "out.parquet")["doubled"].to_list() == [v * 2 for v in range(10)]
