"""``glacier graph`` and ``glacier validate``: the DAG, and definition checks only."""

from __future__ import annotations

import json
from enum import StrEnum

import click

from glacier.cli._common import echo, load, path_argument, pipeline_option, user_errors


class GraphFormat(StrEnum):
    mermaid = "mermaid"
    dot = "dot"
    json = "json"


@click.command()
@path_argument
@pipeline_option
@click.option(
    "--format",
    "-f",
    type=click.Choice(GraphFormat),
    default=GraphFormat.mermaid,
    help="mermaid, dot, or json (the typed DAG).",
)
@click.option("--columns", is_flag=True, help="mermaid/dot: list each dataset's columns and dtypes.")
def graph(path: str, pipeline: str | None, format: GraphFormat, columns: bool) -> None:
    """Print the typed DAG of each pipeline (json is the DAG itself)."""
    from glacier.dag.render import to_dot, to_mermaid

    with user_errors():
        _, pipelines = load(path, pipeline)
        if format is GraphFormat.json:
            docs = [p.dag.model_dump(mode="json") for p in pipelines]
            echo(json.dumps(docs[0] if len(docs) == 1 else docs, indent=2))
            return
        render = to_mermaid if format is GraphFormat.mermaid else to_dot
        echo("\n".join(render(p.dag, columns=columns) for p in pipelines))


@click.command()
@path_argument
def validate(path: str) -> None:
    """Check every pipeline's definition, and its schemas, without reading or writing any data."""
    with user_errors():
        _, pipelines = load(path, None)
        for p in pipelines:
            echo(
                f"ok  {p.name}: {_count(len(p.dag.tasks), 'task')}, {_count(len(p.dag.datasets), 'dataset')}"
            )


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def register(app: click.Group) -> None:
    app.add_command(graph)
    app.add_command(validate)
