"""The run's stop switch in-process: a SIGINT mid-task cancels it, starts nothing more,
publishes nothing and records each task's state (the CLI's exit is in test_interrupts.py)."""

from __future__ import annotations

import signal
import textwrap
import threading
import time
from pathlib import Path

import polars as pl
import pytest

from glacier.dsl import load_pipelines
from glacier.runner import History, run_pipeline
from glacier.runner.interrupt import RunInterrupted

_PIPELINE = """
import time
import polars as pl
from glacier import Provider
from glacier.config import LocalConfig

provider = Provider(config=LocalConfig(base_path={data!r}))
local = provider.local()

@local.task()
def first(df):
    time.sleep(1.0)  # busy when the signal comes; returns, then must not publish
    return df

@local.task()
def second(df):
    return df

mid = provider.bucket("lake", "mid.parquet")
p = provider.bucket("lake", "in.parquet").transform(first).to(mid).transform(second).to(
    provider.bucket("lake", "out.parquet")
)
"""


def test_sigint_records_interrupted_and_cancelled_tasks(tmp_path: Path) -> None:
    data = tmp_path / "data"
    (data / "lake").mkdir(parents=True)
    pl.DataFrame({"a": [1, 2]}).write_parquet(data / "lake" / "in.parquet")
    file = tmp_path / "stoppipe.py"
    file.write_text(textwrap.dedent(_PIPELINE.format(data=str(data))))
    (compiled,) = load_pipelines(str(file)).pipelines
    timer = threading.Timer(0.3, signal.raise_signal, (signal.SIGINT,))
    timer.start()
    started = time.monotonic()
    with pytest.raises(RunInterrupted) as raised:
        # Unfused: `second` never started. (Fused, both are members of the running group,
        # so both are recorded interrupted: docs/fusion.md.)
        run_pipeline(compiled, state_dir=tmp_path / "state", fuse=False)
    assert time.monotonic() - started < 2.0
    stopped = raised.value
    assert stopped.exit_code == 130
    assert stopped.message.startswith("Interrupted: pipeline p stopped; tasks first, second cancelled")
    assert {t.name: t.status for t in stopped.result.tasks.values()} == {
        "first": "interrupted",
        "second": "cancelled",
    }
    history = History(tmp_path / "state")
    run = history.run(stopped.result.run_id)
    assert run is not None and run.status == "interrupted" and run.error == "interrupted by SIGINT"
    assert {r.task: r.status for r in history.task_rows(run.run_id)} == {
        "first": "interrupted",
        "second": "cancelled",
    }
    time.sleep(1.0)  # `first` returns after its sleep: its token is cancelled, it must not publish
    assert not (data / "lake" / "mid.parquet").exists()
    assert [p.name for p in (data / "lake").iterdir()] == ["in.parquet"]
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler  # handlers restored
