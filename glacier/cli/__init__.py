"""The ``glacier`` command line. Each command module registers its own commands."""

from __future__ import annotations

import importlib

import typer

app = typer.Typer(
    name="glacier",
    help="Glacier: Polars pipelines that run locally and deploy to AWS with Pulumi.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

# graph: graph, validate | run: run, history | deploy: plan, init | cost: cost
_COMMAND_MODULES = ("graph", "run", "deploy", "cost")

for _name in _COMMAND_MODULES:
    importlib.import_module(f"glacier.cli.{_name}").register(app)


def main() -> None:
    app()
