"""``glacier report PATH``: one self-contained HTML file with each pipeline's lineage graph,
a run's timeline and critical path, per-task figures and trends, and the cost estimate."""

from __future__ import annotations

from typing import Annotated

import typer

from glacier.cli._common import echo, load, user_errors


def report(
    path: Annotated[str, typer.Argument(help="A pipeline file (or importable module).")],
    pipeline: Annotated[
        str | None, typer.Option("--pipeline", "-p", help="Only this pipeline (by name).")
    ] = None,
    run: Annotated[
        str | None,
        typer.Option("--run", "-r", help="Show this run (id from `glacier history`; default: the latest)."),
    ] = None,
    output: Annotated[str, typer.Option("--output", "-o", help="The HTML file to write.")] = "report.html",
    runs: Annotated[int, typer.Option("--runs", "-n", help="Trend over this many recent runs.")] = 10,
    state_dir: Annotated[
        str | None, typer.Option("--state-dir", help="Run history folder (default ./.glacier).")
    ] = None,
    cloud: Annotated[
        bool, typer.Option("--cloud", help="Read the runs from the deployed state machine's executions.")
    ] = False,
    region: Annotated[str | None, typer.Option("--region", help="With --cloud: the AWS region.")] = None,
    profile: Annotated[str | None, typer.Option("--profile", help="With --cloud: the AWS profile.")] = None,
    endpoint_url: Annotated[
        str | None, typer.Option("--endpoint-url", help="With --cloud: a Step Functions endpoint.")
    ] = None,
) -> None:
    """Write an HTML report (no server, no network needed to open it) and print its path."""
    from glacier.report import write_report

    with user_errors():
        _, pipelines = load(path, pipeline)
        if cloud:
            from glacier.report.cloud import CloudRuns

            source = CloudRuns(region=region, profile=profile, endpoint_url=endpoint_url)
            for compiled in pipelines:
                source.require_executions(compiled.dag)
            written = write_report(
                pipelines, output, source=source, run_id=run, trend_runs=runs, state_dir=state_dir
            )
        else:
            written = write_report(pipelines, output, run_id=run, trend_runs=runs, state_dir=state_dir)
        echo(f"Report: {written}")


def register(app: typer.Typer) -> None:
    app.command()(report)
