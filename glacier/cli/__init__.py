"""The ``glacier`` command line (click). Each command module registers its own commands."""

from __future__ import annotations

import gc
import importlib
from typing import Any

import click


class _Glacier(click.Group):
    """The command group; Ctrl-C outside a run (while a pipeline file loads, say) exits 130
    quietly, as a run does, instead of click's "Aborted!" and 1."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except KeyboardInterrupt:
            raise click.exceptions.Exit(130) from None


# click rather than typer: with Polars and pydantic loaded anyway, typer (which builds a
# pydantic TypeAdapter per parameter) added ~40 ms to every `glacier run`, click ~0
# (bench/cli_startup.py, BENCHMARKS.md "CLI library"). The commands, options and help
# texts are the ones the typer version had.
app = _Glacier(
    name="glacier",
    help="Glacier: Polars pipelines that run locally and deploy to AWS with Pulumi.",
    no_args_is_help=True,
    context_settings={"show_default": True},
)

# Each module registers the commands it implements (add yours here when it works). They are
# all imported at start-up, so each keeps click-only imports at the top and imports its
# implementation inside the command (see _common.py); `glacier run` pays for nothing else.
_COMMAND_MODULES = ("graph", "cost", "deploy", "run", "runs", "schema", "report", "backfill")

for _name in _COMMAND_MODULES:
    importlib.import_module(f"glacier.cli.{_name}").register(app)


def main() -> None:
    """The ``glacier`` console script; it ends the process (click exits when done)."""
    try:
        app(prog_name="glacier")
    finally:
        # The process ends next. Without this, CPython's final garbage collections walk every
        # object Polars, pydantic and the pipeline made (~50,000): 60-140 ms of each command,
        # a quarter of a cached `glacier run` (BENCHMARKS.md, "Interpreter exit"). Frozen, they
        # are still freed by reference counting as modules are cleared; only reference cycles
        # alive at exit are left to the OS, which Python does not promise to finalise anyway.
        gc.freeze()
