"""Pipelines built straight from the DAG layer (no DSL): plain functions wired by StepSpec."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

from glacier.code import source_hash
from glacier.config import LambdaConfig, LocalConfig, StorageConfig
from glacier.dag.build import DatasetRef, StepSpec, build_dag
from glacier.dag.contract import CompiledPipeline
from glacier.dag.model import DataFrameApi, ExecutorSpec, TaskDefinition

Step = tuple[Callable[..., Any], dict[str, str], str]  # function, param -> "bucket/path", output


def ref(dataset_id: str) -> DatasetRef:
    bucket, _, path = dataset_id.partition("/")
    return DatasetRef(bucket, path)


def definition(func: Callable[..., Any], api: DataFrameApi = "polars", **config: Any) -> TaskDefinition:
    return TaskDefinition(
        name=func.__name__,
        executor=ExecutorSpec(kind="serverless", config=LambdaConfig()),
        code_ref=f"{func.__module__}:{func.__qualname__}",
        code_hash=source_hash(func),
        dataframe_api=api,
        required_params=tuple(inspect.signature(func).parameters),
        config=config,
    )


def compiled(
    name: str,
    steps: list[Step],
    *,
    storage: StorageConfig | None = None,
    pyspark: frozenset[str] = frozenset(),
    config: dict[str, dict[str, Any]] | None = None,
) -> CompiledPipeline:
    specs = [
        StepSpec(
            task=definition(
                func,
                "pyspark" if func.__name__ in pyspark else "polars",
                **(config or {}).get(func.__name__, {}),
            ),
            inputs=tuple((param, ref(ds)) for param, ds in inputs.items()),
            output=ref(output),
        )
        for func, inputs, output in steps
    ]
    dag = build_dag(name, specs, storage=storage or LocalConfig(base_path="./data"))
    # Each function is used once, so its task node is named after it.
    return CompiledPipeline(dag=dag, functions={func.__name__: func for func, _, _ in steps})
