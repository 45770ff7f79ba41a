"""Glacier: Pulumi-native data pipelines on AWS, written as Polars transformations.

The public names load on first use (PEP 562), so the cloud entry points, which import only
``glacier.runtime``, do not pay for the definition layer at cold start.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from glacier.lazy import lazy_attributes

if TYPE_CHECKING:
    from glacier.dsl import Bucket, Pipeline, Provider, Task, load_pipelines
    from glacier.errors import GlacierError

__all__ = ["Bucket", "GlacierError", "Pipeline", "Provider", "Task", "load_pipelines"]
__version__ = "0.1.0"

_HOMES = {
    "Bucket": "glacier.dsl",
    "Pipeline": "glacier.dsl",
    "Provider": "glacier.dsl",
    "Task": "glacier.dsl",
    "load_pipelines": "glacier.dsl",
    "GlacierError": "glacier.errors",
}


__getattr__ = lazy_attributes(globals(), _HOMES)


def __dir__() -> list[str]:
    return sorted([*globals(), *__all__])
