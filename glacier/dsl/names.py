"""Pipeline names: the rule a name must follow (it names cloud resources), the default, and
what a description may be."""

from __future__ import annotations

import re
from typing import Any

from glacier.errors import DefinitionError

_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_-]{0,79}$")


def check_pipeline_name(name: Any) -> None:
    if not isinstance(name, str) or not _NAME.match(name):
        raise DefinitionError(
            f"Pipeline name {name!r} cannot be used to name cloud resources.",
            fix="use 1-80 letters, digits, '_' or '-', starting with a letter (e.g. 'daily_etl').",
        )


def check_description(pipeline: Any, description: Any) -> None:
    """A pipeline's description is text (or None): the DAG and the deployed resources keep it."""
    if description is not None and not isinstance(description, str):
        owner = f"Pipeline '{pipeline}'" if pipeline else "A pipeline"
        raise DefinitionError(
            f"{owner} has description={description!r}.",
            fix="pass the description as a string, e.g. description='Daily sales totals', or leave it out.",
        )


def default_pipeline_name(path: str) -> str:
    """The name of a pipeline nobody named: after the path of the bucket it ends in."""
    return "pipeline_" + slug(path)


def slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9]+", "_", text).strip("_")
