"""``glacier schema infer PATH``: read the schemas of source files that exist and print the
declarations to paste into ``provider.bucket(..., schema={...})``.

Parquet and IPC files give their schema from the footer (no data is read); a hive directory
from its first file's footer plus its partition keys; CSV and NDJSON files store no dtypes,
so Polars infers them from the first rows (the printout says so: check them).
"""

from __future__ import annotations

import keyword
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from glacier.config import StorageConfig
from glacier.dag.contract import CompiledPipeline
from glacier.dag.schema import python_dtype
from glacier.formats import TEXT_FORMATS, Format, format_for_path
from glacier.io import dataset_uri, scan_uri, storage_options
from glacier.io.location import StorageOptions


@dataclass(frozen=True)
class InferredSchema:
    """What was read for one dataset: its columns, or why there are none (``note``)."""

    location: str  # the file or directory read
    format: Format
    columns: dict[str, str] | None
    bucket: str | None = None  # set when the dataset belongs to a pipeline
    path: str | None = None
    note: str | None = None

    @property
    def label(self) -> str:
        return f"{self.bucket}/{self.path}" if self.bucket else self.location


def read_schema(uri: str, fmt: Format, options: StorageOptions | None = None) -> dict[str, str]:
    """column -> dtype name of what is stored at ``uri`` (footers for parquet / IPC)."""
    return {name: str(dtype) for name, dtype in scan_uri(uri, fmt, options).collect_schema().items()}


def infer_paths(paths: Iterable[str | Path]) -> list[InferredSchema]:
    """Schemas of files (or hive directories) given directly."""
    found = []
    for raw in paths:
        path = Path(raw)
        fmt = Format.PARQUET_DIR if path.is_dir() else format_for_path(path.name)
        found.append(_read(str(path), fmt, None))
    return found


def infer_sources(
    pipelines: Iterable[CompiledPipeline], storage: StorageConfig | None = None
) -> list[InferredSchema]:
    """Schemas of every source dataset of ``pipelines`` (datasets none of them writes), each
    once, read where ``storage`` (default: the pipeline's own) keeps them."""
    pipelines = list(pipelines)
    written = {task.output for p in pipelines for task in p.dag.tasks}
    found: dict[str, InferredSchema] = {}
    for compiled in pipelines:
        where = storage or compiled.dag.storage
        options = storage_options(where)
        for dataset in compiled.dag.source_datasets():
            if dataset.id in written or dataset.id in found:
                continue
            read = _read(dataset_uri(dataset, where), dataset.format, options)
            found[dataset.id] = InferredSchema(
                read.location, read.format, read.columns, dataset.bucket, dataset.path, read.note
            )
    return list(found.values())


def _read(uri: str, fmt: Format, options: StorageOptions | None) -> InferredSchema:
    try:
        columns = read_schema(uri, fmt, options)
    except (pl.exceptions.PolarsError, OSError) as exc:
        reason = " ".join(str(exc).split("\n\n", 1)[0].split())
        return InferredSchema(uri, fmt, None, note=f"cannot read {uri}: {type(exc).__name__}: {reason}")
    return InferredSchema(uri, fmt, columns)


# -- printing -------------------------------------------------------------------------------
def render_declarations(found: Iterable[InferredSchema]) -> str:
    """Python to paste: one ``provider.bucket(..., schema={...})`` per dataset read (a bare
    ``schema={...}`` for a file given by path), and a comment for each one that was not."""
    found = list(found)
    lines = [
        "# Schemas read from the source files: parquet/ipc from their footers, csv/ndjson inferred",
        "# from their first rows (check those dtypes). Paste each schema= into its provider.bucket(...).",
        "import polars as pl",
        "",
    ]
    names: set[str] = set()
    for item in found:
        if item.columns is None:
            lines += [f"# {item.label}: {item.note}", ""]
            continue
        body = [f"    {column!r}: {python_dtype(dtype)}," for column, dtype in item.columns.items()]
        hint = "  # inferred from the first rows" if item.format in TEXT_FORMATS else ""
        if item.bucket is None:
            lines += [f"# {item.location}{hint}", "schema = {", *body, "}", ""]
            continue
        name = _variable(item.path or item.label, names)
        lines += [
            f"{name} = provider.bucket({item.bucket!r}, {item.path!r}, schema={{{hint}",
            *body,
            "})",
            "",
        ]
    return "\n".join(lines).rstrip() + "\n"


def infer_declarations(
    targets: Iterable[str | Path | CompiledPipeline], storage: StorageConfig | None = None
) -> str:
    """Read the schemas of the given files and of the given pipelines' sources, and print
    their declarations."""
    items = list(targets)
    pipelines = [t for t in items if isinstance(t, CompiledPipeline)]
    paths = [t for t in items if not isinstance(t, CompiledPipeline)]
    return render_declarations([*infer_sources(pipelines, storage), *infer_paths(paths)])


def _variable(path: str, taken: set[str]) -> str:
    stem = path.rstrip("/").rsplit("/", 1)[-1].split(".", 1)[0]
    name = re.sub(r"\W+", "_", stem).strip("_").lower() or "dataset"
    if name[0].isdigit() or keyword.iskeyword(name):
        name = f"ds_{name}"
    candidate, n = name, 2
    while candidate in taken:
        candidate, n = f"{name}_{n}", n + 1
    taken.add(candidate)
    return candidate
