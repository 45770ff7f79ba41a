"""Datasets may not overlap: the one rule for where dataset locations may lie."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING

from glacier.errors import DefinitionError

if TYPE_CHECKING:
    from glacier.dag.model import DatasetNode


def check_datasets_apart(datasets: Iterable[DatasetNode], owners: Mapping[str, str] | None = None) -> None:
    """No dataset lies inside a directory dataset (whoever publishes the directory replaces
    what is under it, and its readers would read the other as a partition), under a file
    dataset, or at another's location in another format (``rep`` and ``rep/``). ``owners``
    (dataset id -> pipeline name) adds the pipeline to each name in the message. Linear in
    the total number of path segments."""
    at: dict[tuple[str, str], DatasetNode] = {}
    for ds in datasets:
        first = at.setdefault((ds.bucket, ds.path.rstrip("/")), ds)
        if first.id != ds.id:
            file, folder = (ds, first) if first.is_directory else (first, ds)
            raise DefinitionError(
                f"Datasets {_named(file, owners)} (a file) and {_named(folder, owners)} (a directory) "
                "are one location.",
                fix="give one of them another path: a file and a directory cannot share a name.",
            )
    for (bucket, location), ds in at.items():
        parts = location.split("/")
        for depth in range(1, len(parts)):
            outer = at.get((bucket, "/".join(parts[:depth])))
            if outer is None:
                continue
            if outer.is_directory:
                raise DefinitionError(
                    f"Dataset {_named(ds, owners)} is inside directory dataset {_named(outer, owners)}.",
                    fix=f"move it out of '{outer.path}' (e.g. beside it): publishing the directory "
                    "replaces everything under it, and its readers would take the file for a partition.",
                )
            raise DefinitionError(
                f"Dataset {_named(ds, owners)} is under dataset {_named(outer, owners)}, which is a file.",
                fix="give one of them another path: a path cannot be both a file and a folder.",
            )


def _named(ds: DatasetNode, owners: Mapping[str, str] | None) -> str:
    owner = (owners or {}).get(ds.id)
    return f"'{ds.id}' of pipeline '{owner}'" if owner else f"'{ds.id}'"
