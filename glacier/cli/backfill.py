"""``glacier backfill``: run a pipeline's partitions over a date range or a list of values,
several at a time, and report each."""

from __future__ import annotations

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

if TYPE_CHECKING:
    from glacier.runner.partitions import BackfillResult


@click.command()
@path_argument
@click.option("--from", "start", help="First date (ISO), daily partitions.")
@click.option("--to", "end", help="Last date (ISO), inclusive.")
@click.option("--values", help="Partition values, comma separated: a,b,c.")
@pipeline_option
@click.option("--workers", type=int, help="Partitions run at once (bounds memory; default 4).")
@data_dir_option
@state_dir_option
@click.option("--cloud", is_flag=True, help="Start the deployed backfill state machine (one Map run).")
@no_wait_option
def backfill(
    path: str,
    start: str | None,
    end: str | None,
    values: str | None,
    pipeline: str | None,
    workers: int | None,
    data_dir: str | None,
    state_dir: str | None,
    cloud: bool,
    no_wait: bool,
) -> None:
    """Run every partition of PATH's pipelines in the range; cached partitions are skipped and
    a failed one leaves the others published. Exits 1 if any partition failed. With --cloud,
    one execution of the deployed backfill runs the partitions, each its own child execution."""
    listed_values = None if values is None else [v.strip() for v in values.split(",") if v.strip()]
    if cloud:
        with user_errors():
            from glacier.cloud.backfill import start_backfill

            _, chosen = load(path, pipeline)
            for compiled in chosen:
                start_backfill(
                    compiled, values=listed_values, start=start, end=end, wait=not no_wait, echo=click.echo
                )
        return
    with user_errors():
        from glacier.config import LocalConfig
        from glacier.runner.partitions import backfill as run_backfill

        _, pipelines = load(path, pipeline)
        storage = LocalConfig(base_path=data_dir) if data_dir is not None else None
        failed = False
        for compiled in pipelines:
            result = run_backfill(
                compiled,
                values=listed_values,
                start=start,
                end=end,
                storage=storage,
                state_dir=state_dir,
                workers=workers,
            )
            _print(result)
            failed = failed or not result.ok
    if failed:
        raise click.exceptions.Exit(1)


def _print(result: BackfillResult) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"backfill {result.pipeline}")
    for column in ("partition", "status", "seconds", "tasks", "error"):
        table.add_column(column)
    for outcome in result.partitions:
        tasks = ", ".join(f"{name}={status}" for name, status in outcome.tasks.items())
        table.add_row(outcome.partition, outcome.status, f"{outcome.seconds:.2f}", tasks, outcome.error or "")
    Console(width=200).print(table)
    done = sum(p.status != "failed" for p in result.partitions)
    click.echo(f"{done}/{len(result.partitions)} partitions ok")


def register(app: click.Group) -> None:
    app.add_command(backfill)
