"""Glacier: Pulumi-native data pipelines on AWS, written as Polars transformations."""

from glacier.dsl import Bucket, Pipeline, Provider, Task, load_pipelines
from glacier.errors import GlacierError

__all__ = ["Bucket", "GlacierError", "Pipeline", "Provider", "Task", "load_pipelines"]
__version__ = "0.1.0"
