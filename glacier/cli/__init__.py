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
    # Help and usage errors in typer's plain (click) format: the rich one imports rich and
    # typer.rich_utils, which made `glacier --help` cost about as much as importing Polars
    # (bench/cli_startup.py). The commands, options and help texts are the same.
    rich_markup_mode=None,
)

# Each module registers the commands it implements (add yours here when it works). They are
# all imported at start-up, so each keeps typer-only imports at the top and imports its
# implementation inside the command (see _common.py); `glacier run` pays for nothing else.
_COMMAND_MODULES = ("graph", "cost", "deploy", "run", "runs", "schema", "report", "backfill")

for _name in _COMMAND_MODULES:
    importlib.import_module(f"glacier.cli.{_name}").register(app)


def main() -> None:
    app()
