"""``glacier backfill``: run a pipeline's partitions over a date range or a list of values,
several at a time, and report each."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from glacier.cli._common import load, user_errors

if TYPE_CHECKING:
    from glacier.runner.partitions import BackfillResult


def backfill(
    path: Annotated[str, typer.Argument(help="A pipeline file (or importable module).")],
    start: Annotated[str | None, typer.Option("--from", help="First date (ISO), daily partitions.")] = None,
    end: Annotated[str | None, typer.Option("--to", help="Last date (ISO), inclusive.")] = None,
    values: Annotated[
        str | None, typer.Option("--values", help="Partition values, comma separated: a,b,c.")
    ] = None,
    pipeline: Annotated[
        str | None, typer.Option("--pipeline", "-p", help="Only this pipeline (by name).")
    ] = None,
    workers: Annotated[
        int | None, typer.Option("--workers", help="Partitions run at once (bounds memory; default 4).")
    ] = None,
    data_dir: Annotated[
        str | None, typer.Option("--data-dir", help="Local data folder (default ./data).")
    ] = None,
    state_dir: Annotated[
        str | None, typer.Option("--state-dir", help="Run history folder (default ./.glacier).")
    ] = None,
    cloud: Annotated[
        bool, typer.Option("--cloud", help="Start the deployed backfill state machine (one Map run).")
    ] = False,
    no_wait: Annotated[bool, typer.Option("--no-wait", help="With --cloud: do not wait.")] = False,
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
                    compiled, values=listed_values, start=start, end=end, wait=not no_wait, echo=typer.echo
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
        raise typer.Exit(code=1)


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
    typer.echo(f"{done}/{len(result.partitions)} partitions ok")


def register(app: typer.Typer) -> None:
    app.command()(backfill)
