"""The ``glacier`` command line (click). Each command module registers its own commands."""

from __future__ import annotations

import gc
import importlib
import os
import sys
import threading
from typing import Any

import click

from glacier import __version__
from glacier.cli._common import ConsoleScript


class _Glacier(click.Group):
    """The command group. It ends every command that Ctrl-C or SIGTERM stopped (instead of
    click's "Aborted!" and exit 1): a stopped run (``RunInterrupted``) prints its one line and
    exits 130 (143 for SIGTERM); an interrupt anywhere else, a pipeline file loading say,
    exits 130 quietly."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except KeyboardInterrupt as stopped:
            # Only a run raises RunInterrupted, so its module is loaded if this is one (and an
            # interrupt while a file loads does not import the runner just to check).
            interrupt = sys.modules.get("glacier.runner.interrupt")
            if interrupt is None or not isinstance(stopped, interrupt.RunInterrupted):
                raise click.exceptions.Exit(130) from None
            click.echo(stopped.message, err=True)
            # History is already recorded; a task thread busy in pure Python cannot be
            # stopped, so then the process ends at once.
            sys.stdout.flush()
            sys.stderr.flush()
            if any(
                t.is_alive() and not t.daemon
                for t in threading.enumerate()
                if t is not threading.main_thread()
            ):
                os._exit(stopped.exit_code)
            raise click.exceptions.Exit(stopped.exit_code) from None


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
app = click.version_option(__version__, prog_name="glacier", message="%(prog)s %(version)s")(app)

# Each module registers the commands it implements (add yours here when it works). They are
# all imported at start-up, so each keeps click-only imports at the top and imports its
# implementation inside the command (see _common.py); `glacier run` pays for nothing else.
_COMMAND_MODULES = ("graph", "cost", "deploy", "run", "runs", "schema", "report", "backfill")

for _name in _COMMAND_MODULES:
    importlib.import_module(f"glacier.cli.{_name}").register(app)


def main() -> None:
    """The ``glacier`` console script; it ends the process (click exits when done)."""
    try:
        app(prog_name="glacier", obj=ConsoleScript())
    finally:
        # The process ends next. Without this, CPython's final garbage collections walk every
        # object Polars, pydantic and the pipeline made (~50,000): 60-140 ms of each command,
        # a quarter of a cached `glacier run` (BENCHMARKS.md, "Interpreter exit"). Frozen, they
        # are still freed by reference counting as modules are cleared; only reference cycles
        # alive at exit are left to the OS, which Python does not promise to finalise anyway.
        gc.freeze()
