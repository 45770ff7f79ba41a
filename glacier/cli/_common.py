"""What every command shares: loading pipelines and turning user errors into exit 1.

Command modules import only click and this module at the top: ``glacier.cli`` registers every
command at start-up, so anything heavier (the DSL, pydantic models, rich, the runner, the
deploy package) is imported inside the command that needs it.
"""

from __future__ import annotations

import gc
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

import click

from glacier.errors import DiscoveryError, GlacierError

if TYPE_CHECKING:
    from glacier.dag.contract import CompiledPipeline, PipelineModule

# What several commands take, said once (click >= 8.5 lists arguments' help in the help).
path_argument = click.argument("path", metavar="PATH", help="A pipeline file (or importable module).")
pipeline_option = click.option("--pipeline", "-p", help="Only this pipeline (by name).")
state_dir_option = click.option("--state-dir", help="Run history folder (default ./.glacier).")
data_dir_option = click.option("--data-dir", help="Local data folder (default ./data).")
no_wait_option = click.option("--no-wait", is_flag=True, help="With --cloud: do not wait.")


@contextmanager
def user_errors() -> Iterator[None]:
    """A GlacierError is the user's to fix: print its message alone and exit 1."""
    try:
        yield
    except GlacierError as exc:
        click.echo(f"Error: {exc}", err=True)
        raise click.exceptions.Exit(1) from None


class ConsoleScript:
    """The root context's ``obj`` when the ``glacier`` console script runs (``glacier.cli.main``):
    this process ends with its command. Commands invoked any other way (click's CliRunner, a
    host program calling ``app``) never find it."""


@contextmanager
def _collector_paused() -> Iterator[None]:
    """In the console script, pause the cyclic garbage collector while a pipeline file loads,
    then freeze what it made. Polars, pydantic and the DSL leave ~80,000 objects that live
    until the process ends; while they were being made, the collector's passes walked them
    again and again (15-25 ms of a `glacier run`: bench/collector_pause.py, BENCHMARKS.md
    "Issue 11 — session 7"). Frozen, later collections skip them (reference counting still
    frees them); the few hundred cyclic scraps a load leaves stay until the process exits.
    Not in other callers: there the objects alive now would outlive the command, unreachable
    cycles among them kept."""
    context = click.get_current_context(silent=True)
    if context is None or context.find_object(ConsoleScript) is None or not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.freeze()
        gc.enable()


def load(path: str, pipeline: str | None) -> tuple[PipelineModule, tuple[CompiledPipeline, ...]]:
    from glacier.dsl import load_pipelines

    with _collector_paused():
        module = load_pipelines(path)
    selected = module.select(pipeline)
    if not selected:
        raise DiscoveryError(
            f"No pipelines found in '{path}'.",
            fix="define a pipeline at module level: Pipeline(name=...).source(...)... or "
            "raw.transform(task).to(out).",
        )
    return module, selected


def echo(text: str) -> None:
    sys.stdout.write(text if text.endswith("\n") else text + "\n")
