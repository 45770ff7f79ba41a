"""Pipeline names: the rule a name must follow (it names cloud resources) and the default."""

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


def default_pipeline_name(path: str) -> str:
    """The name of a pipeline nobody named: after the path of the bucket it ends in."""
    return "pipeline_" + slug(path)


def slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9]+", "_", text).strip("_")
