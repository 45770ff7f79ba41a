"""``glacier graph`` and ``glacier validate``: the DAG, and definition checks only."""

from __future__ import annotations

import json
from enum import StrEnum
from typing import Annotated

import typer

from glacier.cli._common import echo, load, user_errors


class GraphFormat(StrEnum):
    mermaid = "mermaid"
    dot = "dot"
    json = "json"


PathArg = Annotated[str, typer.Argument(help="A pipeline file (or importable module).")]


def graph(
    path: PathArg,
    pipeline: Annotated[
        str | None, typer.Option("--pipeline", "-p", help="Only this pipeline (by name).")
    ] = None,
    format: Annotated[
        GraphFormat, typer.Option("--format", "-f", help="mermaid, dot, or json (the typed DAG).")
    ] = GraphFormat.mermaid,
    columns: Annotated[
        bool, typer.Option("--columns", help="mermaid/dot: list each dataset's columns and dtypes.")
    ] = False,
) -> None:
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


def validate(path: PathArg) -> None:
    """Check every pipeline's definition, and its schemas, without reading or writing any data."""
    with user_errors():
        _, pipelines = load(path, None)
        for p in pipelines:
            echo(
                f"ok  {p.name}: {_count(len(p.dag.tasks), 'task')}, {_count(len(p.dag.datasets), 'dataset')}"
            )


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def register(app: typer.Typer) -> None:
    app.command()(graph)
    app.command()(validate)
