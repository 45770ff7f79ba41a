"""``glacier plan`` (offline preview under Pulumi's mocks), ``glacier init`` (a new Pulumi
project) and ``glacier layer`` (build the Lambda layer and report its size)."""

from __future__ import annotations

import json
from enum import StrEnum
from pathlib import Path
from typing import Literal

import click

from glacier.cli._common import echo, path_argument, pipeline_option, user_errors
from glacier.errors import ConfigError


class PlanFormat(StrEnum):
    text = "text"
    json = "json"


@click.command()
@path_argument
@pipeline_option
@click.option("--format", "-f", type=click.Choice(PlanFormat), default=PlanFormat.text, help="text or json.")
def plan(path: str, pipeline: str | None, format: PlanFormat) -> None:
    """Every resource `pulumi up` would declare, offline: no AWS account, no pulumi CLI."""
    with user_errors():
        from glacier.deploy.plan import plan as run_plan
        from glacier.deploy.plan import render_text
        from glacier.dsl import load_pipelines

        result = run_plan(path, loader=load_pipelines, pipeline=pipeline)
        echo(result.dumps() if format is PlanFormat.json else render_text(result))


@click.command()
@click.argument("directory", metavar="DIRECTORY", help="Where to create the project.")
@click.option("--name", default="example_pipeline", help="The example pipeline's name.")
@click.option("--bucket", default="glacier-example-data", help="The example's data bucket.")
def init(directory: str, name: str, bucket: str) -> None:
    """Scaffold a Pulumi project with an example pipeline, ready for `pulumi up`."""
    with user_errors():
        from glacier.deploy.generate import init_project
        from glacier.dsl import load_pipelines

        if Path(directory).exists() and not Path(directory).is_dir():
            raise ConfigError(
                f"Cannot create a project in '{directory}': it is a file.",
                fix="pass a new or empty directory to `glacier init`.",
            )
        project = init_project(directory, loader=load_pipelines, name=name, bucket=bucket)
        echo(f"Created {project}: {', '.join(project.files)}")
        echo(
            f"Next: cd {project.path} && glacier run pipelines.py; then glacier plan pipelines.py "
            "and pulumi up"
        )


@click.command()
@click.option("--architecture", "-a", default="arm64", help="arm64 or x86_64.")
@click.option("--python", default="3.12", help="The Lambda Python version.")
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
def layer(architecture: str, python: str, as_json: bool) -> None:
    """Build (or find in the cache) the Lambda layer and report its sizes."""
    with user_errors():
        from glacier.deploy.packaging import build_layer, layer_spec
        from glacier.errors import ConfigError

        if architecture not in ("arm64", "x86_64"):
            raise ConfigError(f"Unknown architecture '{architecture}'.", fix="use arm64 or x86_64.")
        arch: Literal["arm64", "x86_64"] = "arm64" if architecture == "arm64" else "x86_64"
        spec = layer_spec(arch, python)
        built = build_layer(spec)
        info = {
            "path": str(built.path),
            "key": spec.key,
            "platform": spec.platform,
            "requirements": list(spec.requirements),
            "zipped_bytes": built.zipped_bytes,
            "unzipped_bytes": built.unzipped_bytes,
        }
        if as_json:
            echo(json.dumps(info, indent=2))
        else:
            echo(
                f"layer {spec.key} ({spec.platform}, {', '.join(spec.requirements)}): "
                f"{built.zipped_bytes / 1e6:.1f} MB zipped, {built.unzipped_bytes / 1e6:.1f} MB unzipped "
                f"(limit 250 MB) at {built.path}"
            )


def register(app: click.Group) -> None:
    app.add_command(plan)
    app.add_command(init)
    app.add_command(layer)
