"""``glacier schema PATH``: every dataset's schema, declared or derived, with the notes on
what could not be derived; ``glacier schema infer PATH...``: read the schemas of source files
that exist (footers, not data) and print the declarations to paste."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from glacier.cli._common import echo, load, pipeline_option, user_errors

if TYPE_CHECKING:
    from glacier.dag.contract import CompiledPipeline
    from glacier.schema.derive import DerivedSchemas

INFER = "infer"


@click.command()
@click.argument(
    "args",
    help="PATH (a pipeline file or module), or 'infer' followed by pipeline files and/or data files "
    "to read schemas from.",
    nargs=-1,
    required=True,
    metavar="[infer] PATH...",
)
@pipeline_option
@click.option("--data-dir", help="infer: local data folder the sources are in (default ./data).")
@click.option("--s3", is_flag=True, help="infer: read the sources from the pipeline's S3.")
def schema(args: tuple[str, ...], pipeline: str | None, data_dir: str | None, s3: bool) -> None:
    """Print every dataset's schema (declared or derived), or with 'infer', the declarations
    of existing source files."""
    with user_errors():
        if args[0] == INFER:
            echo(_infer(list(args[1:]), pipeline, data_dir, s3))
        elif len(args) != 1:
            from glacier.errors import DiscoveryError

            raise DiscoveryError(
                f"glacier schema takes one PATH, got {len(args)}: {' '.join(args)}.",
                fix="run `glacier schema PATH`, or `glacier schema infer PATH...` to read files.",
            )
        else:
            _, pipelines = load(args[0], pipeline)
            echo(_describe(pipelines))


def _describe(pipelines: tuple[CompiledPipeline, ...]) -> str:
    from glacier.dsl.compile import declared_schemas
    from glacier.schema.derive import derive_pipelines

    results = derive_pipelines(pipelines, {p.name: declared_schemas(p.dag) for p in pipelines})
    return "\n".join(_describe_one(p, r) for p, r in zip(pipelines, results, strict=True))


def _describe_one(compiled: CompiledPipeline, result: DerivedSchemas) -> str:
    lines = [f"pipeline {compiled.name}"]
    for ds in compiled.dag.datasets:
        known = result.known(ds.id)
        if known is None:
            lines.append(f"  {ds.id}: unknown")
            continue
        mode = f", schema_mode={known.schema.mode!r}" if known.schema.declared else ""
        lines.append(f"  {ds.id}: {known.origin}{mode}")
        lines += [f"    {name}: {dtype}" for name, dtype in known.schema.columns.items()]
    lines += [f"  note: {note.message}" for note in result.notes]
    return "\n".join(lines) + "\n"


def _infer(targets: list[str], pipeline: str | None, data_dir: str | None, s3: bool) -> str:
    from pathlib import Path

    from glacier.config import LocalConfig, StorageConfig
    from glacier.errors import DiscoveryError
    from glacier.io.storage import resolve_storage
    from glacier.schema.infer import infer_declarations

    if not targets:
        raise DiscoveryError(
            "glacier schema infer needs a PATH.",
            fix="pass a pipeline file (its sources are read) and/or data files, e.g. "
            "`glacier schema infer pipelines.py` or `glacier schema infer raw/orders.parquet`.",
        )
    items: list[str | Path | CompiledPipeline] = []
    storage: StorageConfig | None = LocalConfig(base_path=data_dir) if data_dir else None
    for target in targets:
        if _is_pipelines(target):
            _, pipelines = load(target, pipeline)
            if s3:
                storage = resolve_storage(pipelines[0].dag.storage, "s3")
            elif storage is None:
                storage = resolve_storage(pipelines[0].dag.storage, None)
            items += pipelines
        elif Path(target).exists():
            items.append(Path(target))
        else:  # a source a pipeline names may be missing (a comment says so); a path typed here not
            raise DiscoveryError(
                f"'{target}' is neither a pipeline file nor a data file or folder that exists.",
                fix="pass an existing data file or hive directory, or a pipeline file (.py) whose "
                "sources should be read.",
            )
    return infer_declarations(items, storage)


def _is_pipelines(target: str) -> bool:
    """A pipeline file, or a package / folder of pipelines; anything else is data to read
    (a file, or a hive directory of files)."""
    from pathlib import Path

    path = Path(target)
    if path.suffix == ".py":
        return True
    return path.is_dir() and ((path / "__init__.py").exists() or (path / "pipelines.py").exists())


def register(app: click.Group) -> None:
    app.add_command(schema)
