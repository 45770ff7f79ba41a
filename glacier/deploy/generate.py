"""``run(mode="generate")`` and ``glacier init``: write a ready Pulumi project.

The project holds a copy of the user's pipeline code, a ``Pulumi.yaml`` whose config names
the pipeline module (and the pipelines to deploy), a ``__main__.py`` that is a copy of
``pulumi_programs/__main__.py`` (the one program text), and a ``requirements.txt``. Nothing
is overwritten unless asked: an existing different file is an error naming it.
"""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from importlib import metadata, resources
from pathlib import Path

from glacier.dag.contract import CompiledPipeline, PipelineLoader
from glacier.deploy.packaging import project_files
from glacier.errors import DeploymentError

# The example's source, which init also fills with sample rows (columns category, value).
EXAMPLE_SOURCE = "raw/events.parquet"
EXAMPLE_PIPELINE = '''"""An example Glacier pipeline: clean raw events, then total them per category."""

import polars as pl

from glacier import Pipeline, Provider
from glacier.config import AwsConfig, LambdaConfig

provider = Provider(config=AwsConfig(region="us-east-1"))
lambda_exec = provider.serverless(config=LambdaConfig(memory=1024))

raw = provider.bucket(bucket="{bucket}", path="{source}")
cleaned = provider.bucket(bucket="{bucket}", path="clean/events.parquet")
totals = provider.bucket(bucket="{bucket}", path="output/totals.parquet")


@lambda_exec.task()
def clean(df: pl.LazyFrame) -> pl.LazyFrame:
    return df.filter(pl.col("value").is_not_null())


@lambda_exec.task()
def total(df: pl.LazyFrame) -> pl.LazyFrame:
    return df.group_by("category").agg(pl.col("value").sum())


pipeline = Pipeline(name="{name}").source(raw).transform(clean).to(cleaned).transform(total).to(totals)
'''


@dataclass(frozen=True)
class GeneratedProject:
    path: Path
    files: tuple[str, ...]
    pipelines: tuple[str, ...]

    def __str__(self) -> str:
        return f"Pulumi project for {', '.join(self.pipelines)} in {self.path}"


def program_text() -> bytes:
    """The Pulumi program, ``pulumi_programs/__main__.py`` (installed with glacier)."""
    return resources.files("pulumi_programs").joinpath("__main__.py").read_bytes()


def generate_project(
    pipelines: CompiledPipeline | Sequence[CompiledPipeline],
    output_dir: str | Path = "infra",
    *,
    project_name: str | None = None,
    overwrite: bool = False,
) -> GeneratedProject:
    """Write a Pulumi project that deploys ``pipelines`` (one, or several from one module)."""
    if isinstance(pipelines, CompiledPipeline):
        pipelines = [pipelines]
    return _generate(pipelines, output_dir, project_name, overwrite=overwrite, clash_fix=_GENERATE_CLASH)


# What a clash with files already there tells the user to do, from the API or from the CLI.
_GENERATE_CLASH = "choose an empty directory, or pass overwrite=True to replace them."
_INIT_CLASH = "pass `glacier init` a new or empty directory, or move those files out of it."


def _generate(
    pipelines: Sequence[CompiledPipeline],
    output_dir: str | Path,
    project_name: str | None,
    *,
    overwrite: bool,
    clash_fix: str,
) -> GeneratedProject:
    if not pipelines:
        raise DeploymentError("No pipelines to generate a project for.", fix="pass at least one pipeline.")
    module_file, root = _module_of(pipelines[0])
    out = Path(output_dir).resolve()
    files: dict[str, bytes] = {}
    for name, data in project_files(root):
        # Skip an earlier generated copy inside the project (unless generating in place).
        if out == root or not (root / name).resolve().is_relative_to(out):
            files[name] = data
    rel_module = module_file.relative_to(root).as_posix()
    name = project_name or _project_name(pipelines)
    files["Pulumi.yaml"] = _pulumi_yaml(name, rel_module, [p.name for p in pipelines]).encode()
    files["__main__.py"] = program_text()
    files["requirements.txt"] = _requirements().encode()
    _write_all(out, files, overwrite=overwrite, clash_fix=clash_fix)
    return GeneratedProject(out, tuple(sorted(files)), tuple(p.name for p in pipelines))


def init_project(
    directory: str | Path,
    *,
    loader: PipelineLoader,
    name: str = "example_pipeline",
    bucket: str = "glacier-example-data",
) -> GeneratedProject:
    """Scaffold a new project: an example pipeline module (loaded with ``loader``, e.g.
    ``glacier.load_pipelines``) plus its Pulumi project."""
    out = Path(directory).resolve()
    module = out / "pipelines.py"
    example = EXAMPLE_PIPELINE.format(name=name, bucket=bucket, source=EXAMPLE_SOURCE)
    _write_all(out, {"pipelines.py": example.encode()}, overwrite=False, clash_fix=_INIT_CLASH)
    loaded = loader(str(module))
    project_name = _slug(out.name) or "glacier-project"
    generated = _generate(list(loaded.pipelines), out, project_name, overwrite=False, clash_fix=_INIT_CLASH)
    sample = f"data/{bucket}/{EXAMPLE_SOURCE}"  # where `glacier run` reads the example's source
    _sample_events(out / sample)
    return GeneratedProject(out, (*generated.files, sample), generated.pipelines)


def _sample_events(path: Path) -> None:
    """Sample rows for the example's source, so ``glacier run pipelines.py`` works at once; a
    file already there is the user's and stays."""
    if path.exists():
        return
    import polars as pl

    rows = range(100)
    frame = pl.DataFrame(
        {
            "event_id": list(rows),
            "category": ["abc"[i % 3] for i in rows],
            "value": [None if i % 10 == 0 else i * 1.5 for i in rows],  # clean drops the nulls
        }
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    frame.write_parquet(tmp)
    tmp.replace(path)


def _module_of(pipeline: CompiledPipeline) -> tuple[Path, Path]:
    """The pipeline module's file and the project root it is imported from (the contract's
    root when the pipeline was loaded from a file, else derived from the module's name)."""
    module_name = pipeline.dag.tasks[0].code_ref.split(":", 1)[0]
    module = sys.modules.get(module_name)
    file = getattr(module, "__file__", None)
    if not file:
        raise DeploymentError(
            f"Cannot find the source file of module '{module_name}' (pipeline '{pipeline.name}').",
            fix="define the pipeline in a .py file and load it with glacier.load_pipelines or the CLI.",
        )
    path = Path(file).resolve()
    if pipeline.root is not None and path.is_relative_to(pipeline.root.resolve()):
        return path, pipeline.root.resolve()
    root = path.parent
    for _ in range(module_name.count(".") + (1 if path.stem == "__init__" else 0)):
        root = root.parent
    return path, root


def _project_name(pipelines: Sequence[CompiledPipeline]) -> str:
    return _slug("-".join(p.name for p in pipelines))[:60] or "glacier-project"


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", text).strip("-")


def _pulumi_yaml(name: str, module: str, pipelines: list[str]) -> str:
    # JSON is valid YAML: quoting every value keeps odd names safe.
    return "\n".join(
        [
            f"name: {json.dumps(name)}",
            "description: Glacier pipelines on AWS, generated by glacier.",
            "runtime: python",
            "config:",
            "  glacier:pipelines:",
            f"    value: {json.dumps([module])}",
            "  glacier:select:",
            f"    value: {json.dumps(pipelines)}",
            "",
        ]
    )


def _requirements() -> str:
    lines = []
    for package in ("glacier", "pulumi", "pulumi-aws", "polars", "pydantic"):
        try:
            lines.append(f"{package}=={metadata.version(package)}")
        except metadata.PackageNotFoundError:
            lines.append(package)
    return "\n".join(lines) + "\n"


def _write_all(out: Path, files: dict[str, bytes], *, overwrite: bool, clash_fix: str) -> None:
    clashes = [
        name
        for name, data in sorted(files.items())
        if (out / name).exists() and (out / name).read_bytes() != data
    ]
    if clashes and not overwrite:
        raise DeploymentError(
            f"'{out}' already has different {', '.join(clashes)}.",
            fix=clash_fix,
        )
    for name, data in sorted(files.items()):
        target = out / name
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_name(f".{target.name}.tmp")
        tmp.write_bytes(data)
        tmp.replace(target)
