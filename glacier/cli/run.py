"""``glacier run`` (execute pipelines locally, or start the deployed ones) and
``glacier history`` (the local run history)."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Annotated

import typer

from glacier.cli._common import load, user_errors
from glacier.errors import ExecutionError

if TYPE_CHECKING:
    from rich.console import Console

    from glacier.config import StorageConfig
    from glacier.dag.contract import CompiledPipeline
    from glacier.runner.display import ProgressDisplay
    from glacier.runner.result import RunResult


def run(
    path: Annotated[str, typer.Argument(help="A pipeline file (or importable module).")],
    pipeline: Annotated[
        str | None, typer.Option("--pipeline", "-p", help="Only this pipeline (by name).")
    ] = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress or summary.")] = False,
    s3: Annotated[bool, typer.Option("--s3", help="Read and write the pipeline's S3 buckets.")] = False,
    data_dir: Annotated[
        str | None, typer.Option("--data-dir", help="Local data folder (default ./data).")
    ] = None,
    state_dir: Annotated[
        str | None, typer.Option("--state-dir", help="Run history folder (default ./.glacier).")
    ] = None,
    cloud: Annotated[bool, typer.Option("--cloud", help="Start the deployed state machine.")] = False,
    no_wait: Annotated[bool, typer.Option("--no-wait", help="With --cloud: do not wait.")] = False,
    partition: Annotated[
        list[str] | None,
        typer.Option("--partition", help="Run one partition only, e.g. --partition date=2026-11-30."),
    ] = None,
) -> None:
    """Run every pipeline in PATH in data order (or one with --pipeline)."""
    # With --quiet nothing is printed, so rich (~20 ms to import) is not loaded at all.
    console = None if quiet else _console()
    with user_errors():
        _, pipelines = load(path, pipeline)
        chosen = None
        if partition:
            from glacier.dag.partitions import parse_assignments

            chosen = parse_assignments(partition)
        if cloud:
            from glacier.cloud import run_cloud

            for compiled in pipelines:
                outcome = run_cloud(compiled, wait=not no_wait, partition=chosen)
                if console is not None:
                    console.print(outcome)
            return
        from glacier.config import LocalConfig

        storage: StorageConfig | str | None = "s3" if s3 else None
        if data_dir is not None:
            storage = LocalConfig(base_path=data_dir)
        if console is None:
            for compiled in pipelines:
                _run_local(compiled, storage, state_dir, partition=chosen)
            return
        from glacier.runner.display import ProgressDisplay, summary_table

        with ProgressDisplay(console) as display:
            for compiled in pipelines:
                try:
                    result = _run_local(compiled, storage, state_dir, display, partition=chosen)
                except ExecutionError as exc:
                    partial = getattr(exc, "result", None)
                    if partial is not None:
                        console.print(summary_table(partial))
                    raise
                console.print(summary_table(result))


def _console() -> Console:
    from rich.console import Console

    return Console()


def _run_local(
    compiled: CompiledPipeline,
    storage: StorageConfig | str | None,
    state_dir: str | None,
    reporter: ProgressDisplay | None = None,
    partition: dict[str, str] | None = None,
) -> RunResult:
    from glacier.runner import run_pipeline

    return run_pipeline(
        compiled, storage=storage, state_dir=state_dir, reporter=reporter, partition=partition
    )


def history(
    pipeline: Annotated[str | None, typer.Option("--pipeline", "-p", help="Only this pipeline.")] = None,
    limit: Annotated[int, typer.Option("--limit", "-n", help="How many runs.")] = 10,
    state_dir: Annotated[
        str | None, typer.Option("--state-dir", help="Run history folder (default ./.glacier).")
    ] = None,
) -> None:
    """Show recent local runs and their tasks (status, rows, bytes, seconds)."""
    from rich.console import Console
    from rich.table import Table

    from glacier.runner.history import History

    console = Console()
    with user_errors():
        store = History(state_dir)
        runs = store.runs(pipeline, limit)
        if not runs:
            console.print(f"No runs recorded in {store.path}.")
            return
        for record in runs:
            when = dt.datetime.fromtimestamp(record.started_at).strftime("%Y-%m-%d %H:%M:%S")
            seconds = f"{record.seconds:.2f} s" if record.seconds is not None else "-"
            table = Table(
                title=f"{record.pipeline}  {record.status}  {when}  {seconds}  "
                f"({record.run_id}, {record.storage})",
                title_justify="left",
                show_edge=False,
            )
            for column in ("task", "status", "attempts", "rows", "bytes", "seconds", "error"):
                table.add_column(column)
            for task in store.task_rows(record.run_id):
                table.add_row(
                    task.task,
                    task.status,
                    str(task.attempts),
                    "-" if task.rows is None else f"{task.rows:,}",
                    "-" if task.output_bytes is None else f"{task.output_bytes:,}",
                    f"{task.seconds:.2f}",
                    task.error or "",
                )
            console.print(table)
        store.close()


def register(app: typer.Typer) -> None:
    app.command()(run)
    app.command()(history)
