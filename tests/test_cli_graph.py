"""``glacier graph`` and ``glacier validate``: output formats, selection, and user errors that
exit 1 with one line and no traceback."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from glacier.cli import app
from glacier.dag import PipelineDAG

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
JOIN = str(EXAMPLES / "seed_000/example3_join.py")
MULTI = str(EXAMPLES / "seed_000/core_multi_source.py")
runner = CliRunner()


def invoke(*args: str):  # type: ignore[no-untyped-def]
    return runner.invoke(app, list(args))


def test_graph_mermaid_is_the_default() -> None:
    result = invoke("graph", MULTI)
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("graph LR\n")
    assert '[("data/sales.parquet")]' in result.stdout
    assert '["join_data<br/>(spark)"]' in result.stdout
    assert '["summarize<br/>(local)"]' in result.stdout


def test_graph_json_is_the_typed_dag() -> None:
    result = invoke("graph", MULTI, "--format", "json")
    assert result.exit_code == 0, result.output
    dag = PipelineDAG.model_validate_json(result.stdout)
    assert dag.name == "sales_join"
    assert dag.topological_order() == ["join_data", "summarize"]
    assert json.loads(result.stdout)["edges"][0] == ["dataset:data/customers.parquet", "task:join_data"]


def test_graph_json_of_several_pipelines_is_a_list_in_data_order() -> None:
    result = invoke("graph", JOIN, "-f", "json")
    assert result.exit_code == 0, result.output
    assert [doc["name"] for doc in json.loads(result.stdout)] == ["join_step1", "join_step2", "summarize"]


def test_graph_dot_for_one_selected_pipeline() -> None:
    result = invoke("graph", JOIN, "--pipeline", "join_step2", "--format", "dot")
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith('digraph "join_step2" {')
    assert result.stdout.count("digraph") == 1
    assert '[label="join_products\\n(spark)", shape=box]' in result.stdout


def test_validate_lists_every_pipeline() -> None:
    result = invoke("validate", JOIN)
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == [
        "ok  join_step1: 1 task, 3 datasets",
        "ok  join_step2: 1 task, 3 datasets",
        "ok  summarize: 1 task, 2 datasets",
    ]


BAD_FILES = {
    "missing": (None, "does not exist"),
    "syntax": ("def broken(:\n", "has a syntax error at line 1"),
    "raises": ("import polars\nraise KeyError('nope')\n", "failed to load: KeyError"),
    "no_pipelines": ("x = 1\n", "No pipelines found in"),
    "bad_definition": (
        "from glacier import Provider\n"
        "p = Provider()\n"
        "@p.local().task\n"
        "def join(a, b): return a\n"
        "out = p.bucket('data', 'x.parquet').transform(join)\n",
        "Task 'join' takes 2 parameters (a, b) but receives one source ('data/x.parquet')",
    ),
    "cycle": (
        "from glacier import Provider\n"
        "p = Provider()\n"
        "t = p.local().task(name='t')(lambda df: df)\n"
        "u = p.local().task(name='u')(lambda df: df)\n"
        "x, y = p.bucket('data', 'x.parquet'), p.bucket('data', 'y.parquet')\n"
        "loop = x.transform(t).to(y).transform(u).to(x)\n",
        "The pipeline has a cycle",
    ),
}


@pytest.mark.parametrize("case", sorted(BAD_FILES))
@pytest.mark.parametrize("command", ["graph", "validate"])
def test_user_errors_exit_1_with_one_message(tmp_path: Path, case: str, command: str) -> None:
    source, expected = BAD_FILES[case]
    path = tmp_path / f"bad_{case}.py"
    if source is not None:
        path.write_text(source)
    result = invoke(command, str(path))
    assert result.exit_code == 1
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("Error: ") and expected in lines[0] and "Fix: " in lines[0]
    assert result.exception is None or isinstance(result.exception, SystemExit)


def test_unknown_pipeline_name_exits_1() -> None:
    result = invoke("graph", JOIN, "--pipeline", "nope")
    assert result.exit_code == 1
    assert "No pipeline named 'nope'" in result.stderr
    assert "join_step1, join_step2, summarize" in result.stderr


def test_unknown_output_format_is_a_usage_error() -> None:
    result = invoke("graph", JOIN, "--format", "png")
    assert result.exit_code == 2  # click's usage-error code, with its own one-screen message
    assert "Traceback" not in result.output


def test_real_process_prints_no_traceback(tmp_path: Path) -> None:
    bad = tmp_path / "bad.py"
    bad.write_text("from glacier import Pipeline\nPipeline(name='has space')\n")
    script = Path(sys.executable).parent / "glacier"
    proc = subprocess.run([str(script), "validate", str(bad)], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 1
    assert proc.stdout == ""
    assert "Traceback" not in proc.stderr
    assert proc.stderr.strip() == (
        "Error: Pipeline name 'has space' cannot be used to name cloud resources. Fix: use 1-80 "
        "letters, digits, '_' or '-', starting with a letter (e.g. 'daily_etl')."
    )


def test_the_console_script_freezes_its_objects_as_it_exits(monkeypatch: pytest.MonkeyPatch) -> None:
    """main() ends the process, so CPython's exit-time garbage collections need not walk the
    objects Polars, pydantic and the pipeline made; they are frozen whatever the exit code."""
    import contextlib
    import gc

    import glacier.cli._common
    from glacier.cli import main

    # The load's own freeze (tested below) would hide a missing exit freeze: only the exit's here.
    monkeypatch.setattr(glacier.cli._common, "_collector_paused", contextlib.nullcontext)
    for argv, code in ((["glacier", "validate", JOIN], 0), (["glacier", "validate", "missing.py"], 1)):
        monkeypatch.setattr(sys, "argv", argv)
        gc.unfreeze()
        try:
            with pytest.raises(SystemExit) as stopped:
                main()
            assert stopped.value.code == code
            assert gc.get_freeze_count() > 1000
        finally:
            gc.unfreeze()


def _console_script_run(pipeline: Path, state: Path) -> subprocess.CompletedProcess[str]:
    """``glacier run PIPELINE --quiet`` as its own process, through the installed script."""
    script = Path(sys.executable).parent / "glacier"
    command = [str(script), "run", str(pipeline), "--quiet", "--state-dir", str(state)]
    return subprocess.run(command, capture_output=True, text=True, timeout=120)


def test_a_real_run_still_runs_atexit_handlers_and_publishes(tmp_path: Path) -> None:
    """Freezing at exit keeps what exit promises: atexit handlers run, outputs are complete."""
    source = tmp_path / "data" / "raw"
    source.mkdir(parents=True)
    (source / "numbers.csv").write_text("n\n1\n2\n3\n")
    pipeline = tmp_path / "pipeline.py"
    pipeline.write_text(
        "import atexit, sys\n"
        "import polars as pl\n"
        "from glacier import Provider\n"
        "from glacier.config import LocalConfig\n"
        f"provider = Provider(config=LocalConfig(base_path={str(tmp_path / 'data')!r}))\n"
        "@provider.local().task()\n"
        "def double(numbers):\n"
        "    return numbers.with_columns(n=pl.col('n') * 2)\n"
        "out = provider.bucket('out', 'doubled.parquet')\n"
        "doubled = provider.bucket('raw', 'numbers.csv').transform(double).to(out)\n"
        "atexit.register(lambda: sys.stderr.write('atexit ran\\n'))\n"
    )
    proc = _console_script_run(pipeline, tmp_path / "state")
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == "atexit ran\n"
    import polars as pl

    assert pl.read_parquet(tmp_path / "data" / "out" / "doubled.parquet")["n"].to_list() == [2, 4, 6]


def test_ctrl_c_while_a_pipeline_file_loads_exits_130_quietly(tmp_path: Path) -> None:
    """As a stopped run does (130), not click's "Aborted!" and 1."""
    interrupted = tmp_path / "slow_import.py"
    interrupted.write_text("raise KeyboardInterrupt\n")
    result = invoke("validate", str(interrupted))
    assert result.exit_code == 130
    assert "Aborted" not in result.output
    assert "Traceback" not in result.output


_GC_PROBE = (
    "import gc\n"
    "import polars as pl\n"
    "from glacier import Provider\n"
    "from glacier.config import LocalConfig\n"
    "provider = Provider(config=LocalConfig(base_path={data!r}))\n"
    "@provider.local().task()\n"
    "def probe(numbers):\n"
    "    frozen, collecting = gc.get_freeze_count(), gc.isenabled()\n"
    "    return numbers.with_columns(frozen=pl.lit(frozen), collecting=pl.lit(collecting))\n"
    "out = provider.bucket('out', 'probe.parquet')\n"
    "probed = provider.bucket('raw', 'numbers.csv').transform(probe).to(out)\n"
)


def _gc_probe_pipeline(tmp_path: Path) -> Path:
    source = tmp_path / "data" / "raw"
    source.mkdir(parents=True)
    (source / "numbers.csv").write_text("n\n1\n2\n")
    pipeline = tmp_path / "probe.py"
    pipeline.write_text(_GC_PROBE.format(data=str(tmp_path / "data")))
    return pipeline


def test_the_console_script_runs_with_what_loading_made_frozen_and_the_collector_on(tmp_path: Path) -> None:
    """The collector is paused while the pipeline file loads, then what it made (Polars,
    pydantic, the DSL) is frozen: the run itself collects as usual, skipping those objects."""
    import polars as pl

    pipeline = _gc_probe_pipeline(tmp_path)
    proc = _console_script_run(pipeline, tmp_path / "state")
    assert proc.returncode == 0, proc.stderr
    probed = pl.read_parquet(tmp_path / "data" / "out" / "probe.parquet")
    assert probed["collecting"].to_list() == [True, True]
    assert probed["frozen"][0] > 20_000  # Polars alone leaves more than that


def test_commands_invoked_in_process_leave_the_collector_as_it_was(tmp_path: Path) -> None:
    """Only the console script's process ends with its command: a CliRunner (or a host
    program calling ``app``) keeps its objects collectable."""
    import gc

    import polars as pl

    pipeline = _gc_probe_pipeline(tmp_path)
    frozen = gc.get_freeze_count()
    result = invoke("run", str(pipeline), "--quiet", "--state-dir", str(tmp_path / "state"))
    assert result.exit_code == 0, result.output
    assert gc.get_freeze_count() == frozen
    assert gc.isenabled()
    probed = pl.read_parquet(tmp_path / "data" / "out" / "probe.parquet")
    assert probed["frozen"].to_list() == [frozen, frozen]
    assert probed["collecting"].to_list() == [True, True]
