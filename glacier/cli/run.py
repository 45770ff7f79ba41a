"""``glacier run`` (execute pipelines locally, or start the deployed ones) and
``glacier history`` (the local run history)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

import click

from glacier.cli._common import (
    data_dir_option,
    load,
    no_wait_option,
    path_argument,
    pipeline_option,
    state_dir_option,
    user_errors,
)
from glacier.errors import ExecutionError, GlacierError

if TYPE_CHECKING:
    from rich.console import Console

    from glacier.config import StorageConfig
    from glacier.dag.contract import CompiledPipeline
    from glacier.runner.display import ProgressDisplay
    from glacier.runner.result import RunResult


@click.command()
@path_argument
@pipeline_option
@click.option("--quiet", "-q", is_flag=True, help="No progress or summary.")
@click.option("--s3", is_flag=True, help="Read and write the pipeline's S3 buckets.")
@data_dir_option
@state_dir_option
@click.option("--cloud", is_flag=True, help="Start the deployed state machine.")
@no_wait_option
@click.option("--verbose", "-v", is_flag=True, help="On a task failure, print its full traceback.")
@click.option(
    "--partition",
    multiple=True,
    help="Run one partition only, e.g. --partition date=2026-11-30 (repeat for each key).",
)
@click.option("--no-fuse", is_flag=True, help="Run every task on its own, not fused into one Polars query.")
def run(
    path: str,
    pipeline: str | None,
    quiet: bool,
    s3: bool,
    data_dir: str | None,
    state_dir: str | None,
    cloud: bool,
    no_wait: bool,
    verbose: bool,
    partition: tuple[str, ...],
    no_fuse: bool,
) -> None:
    """Run every pipeline in PATH in data order (or one with --pipeline)."""
    fuse = not no_fuse
    # With --quiet nothing is printed, so rich (~20 ms to import) is not loaded at all.
    console = None if quiet else _console()
    with user_errors(), _tracebacks(verbose):
        _, pipelines = load(path, pipeline)
        chosen = None
        if partition:
            from glacier.dag.partitions import parse_assignments

            chosen = parse_assignments(partition)
        if cloud:
            from glacier.cloud import run_cloud

            _check_cloud(pipelines)
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
                _run_local(compiled, storage, state_dir, partition=chosen, fuse=fuse)
            return
        from glacier.runner.display import ProgressDisplay, summary_table

        results: list[RunResult] = []
        try:
            with ProgressDisplay(console) as display:
                for compiled in pipelines:
                    try:
                        result = _run_local(
                            compiled, storage, state_dir, display, partition=chosen, fuse=fuse
                        )
                    except ExecutionError as exc:
                        partial = getattr(exc, "result", None)
                        if partial is not None:
                            results.append(partial)
                            console.print(summary_table(partial))
                        raise
                    results.append(result)
                    console.print(summary_table(result))
        except ExecutionError:
            _print_report_path(console, pipelines, results, state_dir)  # the failure is in it
            raise
        _print_report_path(console, pipelines, results, state_dir)


def _print_report_path(
    console: Console, pipelines: tuple[CompiledPipeline, ...], results: list[RunResult], state_dir: str | None
) -> None:
    """A run of more than a few tasks ends by naming its HTML report (not with --quiet)."""
    from glacier.report import maybe_report_path

    try:
        path = maybe_report_path(pipelines, results, state_dir=state_dir) if results else None
    except (GlacierError, OSError) as exc:  # the run's own outcome matters more than its report
        console.print(f"(No report: {exc})")
        return
    if path is not None:
        console.print(f"Report: {path}")


def _check_cloud(pipelines: tuple[CompiledPipeline, ...]) -> None:
    from glacier.config import AwsConfig
    from glacier.errors import ConfigError

    for compiled in pipelines:
        if not isinstance(compiled.dag.storage, AwsConfig):
            raise ConfigError(
                f"Pipeline '{compiled.dag.name}' keeps its data locally (LocalConfig); --cloud starts "
                "a pipeline deployed to AWS.",
                fix="run it without --cloud, or give its Provider an AwsConfig(region=...) and deploy it.",
            )


@contextmanager
def _tracebacks(verbose: bool) -> Iterator[None]:
    """With --verbose, a failed task's full traceback goes to stderr before its one line."""
    try:
        yield
    except ExecutionError as exc:
        partial = getattr(exc, "result", None)
        failed = partial.failed_task if partial is not None else None
        if verbose and failed is not None and failed.traceback:
            click.echo(failed.traceback.rstrip(), err=True)
        raise


def _console() -> Console:
    from rich.console import Console

    return Console()


def _run_local(
    compiled: CompiledPipeline,
    storage: StorageConfig | str | None,
    state_dir: str | None,
    reporter: ProgressDisplay | None = None,
    partition: dict[str, str] | None = None,
    fuse: bool = True,
) -> RunResult:
    from glacier.runner import run_pipeline

    return run_pipeline(
        compiled, storage=storage, state_dir=state_dir, reporter=reporter, partition=partition, fuse=fuse
    )


@click.command()
@pipeline_option
@click.option("--limit", "-n", type=click.IntRange(min=1), default=10, help="How many runs.")
@state_dir_option
def history(pipeline: str | None, limit: int, state_dir: str | None) -> None:
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
            for task in store.task_rows(record.run_id):
                for dataset, columns in sorted(task.schema_added.items()):
                    listed = ", ".join(f"'{c}' ({t})" for c, t in columns.items())
                    console.print(f"  {task.task}: '{dataset}' has undeclared column(s) {listed} (evolve)")
        store.close()


def register(app: click.Group) -> None:
    app.add_command(run)
    app.add_command(history)
