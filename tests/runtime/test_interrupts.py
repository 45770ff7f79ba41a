"""Ctrl-C in a real terminal, SIGTERM and SIGKILL against ``glacier run``.

Each run is a child process on a pseudo-terminal (``pty.fork``): writing ``\\x03`` to the
master makes the terminal driver send SIGINT to the foreground process group, the real
Ctrl-C path. A task marks the moment it is busy (a file, or the output's staging file), then
the test presses Ctrl-C and times how long the process takes to exit.
"""

from __future__ import annotations

import os
import pty
import select
import signal
import subprocess
import sys
import time
from pathlib import Path

import polars as pl
import pytest

_PIPELINE = """
import os
import time
from pathlib import Path

import polars as pl
import pytest
from glacier import Provider
from glacier.config import LocalConfig

provider = Provider(config=LocalConfig(base_path={data!r}))
MARK = Path({mark!r})


@provider.local().task()
def heavy_polars(df: pl.LazyFrame) -> pl.LazyFrame:
    # A self-join that multiplies rows (runs for minutes), then per-row work.
    return df.join(df.head(5000), on="k").with_columns(
        [(pl.col("v") * (i + 1)).sin().cos().alias(f"x{{i}}") for i in range(20)]
    )


@provider.local().task()
def heavy_python(df: pl.LazyFrame) -> pl.LazyFrame:
    MARK.write_text("busy")
    total, deadline = 0, time.time() + 120
    while time.time() < deadline:  # pure Python: no Polars call to cancel
        total += 1
    return df


@provider.local().task(timeout=120)
def timed_python(df: pl.LazyFrame) -> pl.LazyFrame:
    MARK.write_text(str(os.getpid()))  # a timed task runs in a process of its own
    while True:
        pass


{which} = provider.bucket("lake", "in.parquet").transform({which}).to(provider.bucket("lake", "out.parquet"))
"""

_CLI = "from glacier.cli import main; main()"


def _project(tmp_path: Path, which: str, rows: int = 2_000_000) -> tuple[Path, Path, Path]:
    data = tmp_path / "data"
    (data / "lake").mkdir(parents=True, exist_ok=True)
    n = pl.int_range(rows, eager=True)
    pl.DataFrame({"k": n % 500, "v": n.cast(pl.Float64)}).write_parquet(data / "lake" / "in.parquet")
    mark = tmp_path / "busy"
    file = tmp_path / f"{which}.py"
    file.write_text(_PIPELINE.format(data=str(data), mark=str(mark), which=which))
    return file, data / "lake", mark


def _spawn(args: list[str], cwd: Path) -> tuple[int, int]:
    pid, master = pty.fork()
    if pid == 0:  # the child: session leader with the pty as its controlling terminal
        os.chdir(cwd)
        os.execv(sys.executable, [sys.executable, "-c", _CLI, *args])
    return pid, master


def _drain(master: int, output: list[bytes]) -> None:
    while select.select([master], [], [], 0)[0]:
        try:
            chunk = os.read(master, 65536)
        except OSError:
            return
        if not chunk:
            return
        output.append(chunk)


def _wait_exit(pid: int, master: int, output: list[bytes], limit: float) -> int | None:
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        _drain(master, output)
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            _drain(master, output)
            return os.waitstatus_to_exitcode(status)
        time.sleep(0.01)
    return None


def _wait_for(condition: object, pid: int, master: int, output: list[bytes], limit: float = 60) -> None:
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        _drain(master, output)
        if callable(condition) and condition():
            return
        time.sleep(0.05)
    os.kill(pid, signal.SIGKILL)
    raise AssertionError(f"the task never got busy: {b''.join(output).decode(errors='replace')}")


def _staging(folder: Path) -> list[Path]:
    return [p for p in folder.iterdir() if p.name.startswith(".glacier-tmp-")]


def _history(tmp_path: Path, state: Path) -> str:
    out = subprocess.run(
        [sys.executable, "-c", _CLI, "history", "--state-dir", str(state)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        env={**os.environ, "COLUMNS": "200"},
        timeout=60,
    )
    assert out.returncode == 0, out.stderr
    return out.stdout


def _ctrl_c_run(tmp_path: Path, which: str, keys: bytes = b"\x03") -> tuple[int | None, float, str, Path]:
    """Start the run, wait until its task is busy, press Ctrl-C; (exit code, seconds, output)."""
    file, lake, mark = _project(tmp_path, which)
    state = tmp_path / "state"
    pid, master = _spawn(["run", str(file), "--state-dir", str(state)], tmp_path)
    output: list[bytes] = []
    busy = (lambda: bool(_staging(lake))) if which == "heavy_polars" else mark.exists
    try:
        _wait_for(busy, pid, master, output)
        time.sleep(0.3)
        pressed = time.monotonic()
        os.write(master, keys)
        code = _wait_exit(pid, master, output, limit=10)
        seconds = time.monotonic() - pressed
        if code is None:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
    finally:
        os.close(master)
    return code, seconds, b"".join(output).decode(errors="replace"), state


@pytest.mark.slow
def test_ctrl_c_stops_a_polars_heavy_task_within_2s(tmp_path: Path) -> None:
    lake = tmp_path / "data" / "lake"
    lake.mkdir(parents=True)
    previous = pl.DataFrame({"old": [1, 2, 3]})
    previous.write_parquet(lake / "out.parquet")
    code, seconds, output, state = _ctrl_c_run(tmp_path, "heavy_polars")
    assert code == 130, output
    assert seconds < 2.0, f"took {seconds:.2f} s to stop"
    assert "Interrupted: pipeline heavy_polars stopped; task heavy_polars cancelled" in output
    assert "nothing partial was published" in output and "Traceback" not in output
    assert pl.read_parquet(lake / "out.parquet").equals(previous)  # the old version is intact
    assert _staging(lake) == []
    history = _history(tmp_path, state)
    assert "heavy_polars  interrupted" in history and "interrupted" in history.split("\n", 2)[-1]


def test_ctrl_c_stops_a_python_heavy_task_within_2s(tmp_path: Path) -> None:
    code, seconds, output, state = _ctrl_c_run(tmp_path, "heavy_python")
    assert code == 130, output
    assert seconds < 2.0, f"took {seconds:.2f} s to stop"
    assert "Interrupted: pipeline heavy_python stopped; task heavy_python cancelled" in output
    lake = tmp_path / "data" / "lake"
    assert not (lake / "out.parquet").exists() and _staging(lake) == []
    assert "heavy_python  interrupted" in _history(tmp_path, state)


def test_second_ctrl_c_exits_at_once(tmp_path: Path) -> None:
    code, seconds, output, _ = _ctrl_c_run(tmp_path, "heavy_python", keys=b"\x03\x03")
    assert code == 130, output
    assert seconds < 2.0


def _gone(pid: int, within: float) -> bool:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return True
        time.sleep(0.02)
    return False


@pytest.mark.slow
def test_ctrl_c_kills_the_process_of_a_timed_task(tmp_path: Path) -> None:
    code, seconds, output, state = _ctrl_c_run(tmp_path, "timed_python")
    attempt_pid = int((tmp_path / "busy").read_text())
    assert code == 130, output
    assert seconds < 2.0, f"took {seconds:.2f} s to stop"
    assert "Interrupted: pipeline timed_python stopped; task timed_python cancelled" in output
    assert "Traceback" not in output
    assert _gone(attempt_pid, within=0.5)  # killed by the run, not left to spin
    lake = tmp_path / "data" / "lake"
    assert not (lake / "out.parquet").exists() and _staging(lake) == []
    assert "timed_python  interrupted" in _history(tmp_path, state)


def _background_run(tmp_path: Path, which: str) -> tuple[subprocess.Popen[bytes], Path, Path]:
    file, lake, mark = _project(tmp_path, which, rows=1000)
    state = tmp_path / "state"
    child = subprocess.Popen(
        [sys.executable, "-c", _CLI, "run", str(file), "--state-dir", str(state), "--quiet"],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    deadline = time.monotonic() + 60
    while not mark.exists():
        assert time.monotonic() < deadline and child.poll() is None, child.communicate()
        time.sleep(0.05)
    return child, lake, state


def test_sigterm_records_the_run_interrupted(tmp_path: Path) -> None:
    child, lake, state = _background_run(tmp_path, "heavy_python")
    child.send_signal(signal.SIGTERM)
    _, err = child.communicate(timeout=20)
    assert child.returncode == 143, err
    assert b"Interrupted: pipeline heavy_python stopped" in err
    assert not (lake / "out.parquet").exists()
    assert "heavy_python  interrupted" in _history(tmp_path, state)


def test_a_sigkilled_run_shows_died(tmp_path: Path) -> None:
    child, _, state = _background_run(tmp_path, "heavy_python")
    child.kill()
    child.wait(timeout=10)
    history = _history(tmp_path, state)
    assert "heavy_python  died" in history
    assert "running" not in history.split("\n", 1)[0]


def test_a_sigkilled_run_leaves_no_timed_attempt_running(tmp_path: Path) -> None:
    child, lake, _ = _background_run(tmp_path, "timed_python")
    attempt_pid = int((tmp_path / "busy").read_text())
    child.kill()
    child.wait(timeout=10)
    assert _gone(attempt_pid, within=2.0)  # it sees its parent gone and ends itself
    assert not (lake / "out.parquet").exists()  # and it could not publish without its parent
