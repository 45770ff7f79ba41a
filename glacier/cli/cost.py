"""``glacier cost PATH``: what each pipeline would cost per run on AWS (run(mode="analyze"))."""

from __future__ import annotations

import json
from enum import StrEnum

import click

from glacier.cli._common import echo, load, path_argument, pipeline_option, state_dir_option, user_errors


class CostFormat(StrEnum):
    text = "text"
    json = "json"


@click.command()
@path_argument
@pipeline_option
@click.option("--runs", "-n", type=int, default=1, help="Price this many runs (e.g. 30 for a daily month).")
@state_dir_option
@click.option("--format", "-f", type=click.Choice(CostFormat), default=CostFormat.text, help="text or json.")
def cost(path: str, pipeline: str | None, runs: int, state_dir: str | None, format: CostFormat) -> None:
    """Estimate the AWS cost per run from the local run history (or stated assumptions),
    with the critical path and the resources each pipeline deploys."""
    from glacier.analysis import analyze

    with user_errors():
        _, pipelines = load(path, pipeline)
        analyses = [analyze(p, state_dir=state_dir) for p in pipelines]
        if format is CostFormat.json:
            docs = [a.to_dict(runs=runs) for a in analyses]
            echo(json.dumps(docs[0] if len(docs) == 1 else docs, indent=2))
            return
        echo("\n\n".join(a.render(runs=runs) for a in analyses))


def register(app: click.Group) -> None:
    app.add_command(cost)
