"""``glacier cost PATH``: what each pipeline would cost per run on AWS (run(mode="analyze"))."""

from __future__ import annotations

import json
from enum import StrEnum
from typing import Annotated

import typer

from glacier.cli._common import echo, load, user_errors


class CostFormat(StrEnum):
    text = "text"
    json = "json"


def cost(
    path: Annotated[str, typer.Argument(help="A pipeline file (or importable module).")],
    pipeline: Annotated[str | None, typer.Option("--pipeline", "-p", help="Only this pipeline.")] = None,
    runs: Annotated[
        int, typer.Option("--runs", "-n", help="Price this many runs (e.g. 30 for a daily month).")
    ] = 1,
    state_dir: Annotated[
        str | None, typer.Option("--state-dir", help="Where the local run history lives (default .glacier/).")
    ] = None,
    format: Annotated[CostFormat, typer.Option("--format", "-f", help="text or json.")] = CostFormat.text,
) -> None:
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


def register(app: typer.Typer) -> None:
    app.command()(cost)
