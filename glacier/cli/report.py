"""``glacier report PATH``: one self-contained HTML file with each pipeline's lineage graph,
a run's timeline and critical path, per-task figures and trends, and the cost estimate."""

from __future__ import annotations

import click

from glacier.cli._common import echo, load, path_argument, pipeline_option, state_dir_option, user_errors


@click.command()
@path_argument
@pipeline_option
@click.option("--run", "-r", help="Show this run (id from `glacier history`; default: the latest).")
@click.option("--output", "-o", default="report.html", help="The HTML file to write.")
@click.option("--runs", "-n", type=int, default=10, help="Trend over this many recent runs.")
@state_dir_option
@click.option("--cloud", is_flag=True, help="Read the runs from the deployed state machine's executions.")
@click.option("--region", help="With --cloud: the AWS region.")
@click.option("--profile", help="With --cloud: the AWS profile.")
@click.option("--endpoint-url", help="With --cloud: a Step Functions endpoint.")
def report(
    path: str,
    pipeline: str | None,
    run: str | None,
    output: str,
    runs: int,
    state_dir: str | None,
    cloud: bool,
    region: str | None,
    profile: str | None,
    endpoint_url: str | None,
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


def register(app: click.Group) -> None:
    app.add_command(report)
