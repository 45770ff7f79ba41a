"""``glacier runs PATH``: recent runs of the pipelines in PATH: the local run history, or
with ``--cloud`` the deployed state machine's executions (status, start, stop, failing state)."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

import click

from glacier.cli._common import load, path_argument, pipeline_option, state_dir_option, user_errors

if TYPE_CHECKING:
    from rich.table import Table

    from glacier.cloud.executions import ExecutionSummary


@click.command()
@path_argument
@pipeline_option
@click.option("--cloud", is_flag=True, help="The deployed state machine's executions.")
@click.option("--limit", "-n", type=click.IntRange(min=1), default=10, help="How many runs per pipeline.")
@state_dir_option
def runs(path: str, pipeline: str | None, cloud: bool, limit: int, state_dir: str | None) -> None:
    """List the recent runs of every pipeline in PATH (or one with --pipeline), newest first."""
    from rich.console import Console

    console = Console()
    with user_errors():
        _, pipelines = load(path, pipeline)
        for compiled in pipelines:
            if cloud:
                from glacier.cloud.executions import list_executions

                console.print(_cloud_table(compiled.name, list_executions(compiled, limit=limit)))
            else:
                console.print(_local_table(compiled.name, limit, state_dir))


def _when(moment: dt.datetime | None) -> str:
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M:%S") if moment else "-"


def _cloud_table(name: str, executions: list[ExecutionSummary]) -> Table:
    from rich.table import Table

    table = Table(
        title=f"{name}: {len(executions)} recent execution(s)", title_justify="left", show_edge=False
    )
    for column in (
        "execution",
        "status",
        "started (UTC)",
        "stopped (UTC)",
        "seconds",
        "failed state",
        "error",
    ):
        table.add_column(column)
    for run in executions:
        table.add_row(
            run.name,
            run.status,
            _when(run.started),
            _when(run.stopped),
            "-" if run.seconds is None else f"{run.seconds:.1f}",
            run.failed_state or "",
            run.error or "",
        )
    return table


def _local_table(name: str, limit: int, state_dir: str | None) -> Table:
    from rich.table import Table

    from glacier.runner.history import History

    store = History(state_dir)
    try:
        records = store.runs(name, limit)
    finally:
        store.close()
    table = Table(title=f"{name}: {len(records)} recent local run(s)", title_justify="left", show_edge=False)
    for column in ("run", "status", "started", "seconds", "storage"):
        table.add_column(column)
    for record in records:
        started = dt.datetime.fromtimestamp(record.started_at).strftime("%Y-%m-%d %H:%M:%S")
        seconds = "-" if record.seconds is None else f"{record.seconds:.2f}"
        table.add_row(record.run_id, record.status, started, seconds, record.storage)
    return table


def register(app: click.Group) -> None:
    app.add_command(runs)
