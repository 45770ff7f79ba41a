"""A lambda-only pipeline deployed to moto's Step Functions interpreter with the state machine
definition Glacier generates, and executions of it: one that succeeds, and one where task
'right' (retries=1) runs on a Glue job that does not exist, so it fails twice."""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from glacier import load_pipelines
from glacier.dag.contract import CompiledPipeline
from glacier.deploy import asl, naming

MODULE = """  # .format(name=...)
import polars as pl

from glacier import Pipeline, Provider
from glacier.config import AwsConfig

provider = Provider(config=AwsConfig(region="us-east-1"))
fn = provider.serverless()
raw = provider.bucket("lake", "raw.parquet")


@fn.task()
def clean(df: pl.LazyFrame) -> pl.LazyFrame:
    return df


@fn.task()
def left(df: pl.LazyFrame) -> pl.LazyFrame:
    return df


@fn.task(retries=1)
def right(df: pl.LazyFrame) -> pl.LazyFrame:
    return df


@fn.task()
def merge(a: pl.LazyFrame, b: pl.LazyFrame) -> pl.LazyFrame:
    return pl.concat([a, b])


cleaned = raw.transform(clean).to(provider.bucket("lake", "clean.parquet"))
lake = (
    Pipeline(
        name="{name}",
        a=cleaned.transform(left).to(provider.bucket("lake", "left.parquet")),
        b=cleaned.transform(right).to(provider.bucket("lake", "right.parquet")),
    )
    .transform(merge)
    .to(provider.bucket("lake", "merged.parquet"))
)
"""


@dataclass
class Deployed:
    module: Path
    pipeline: CompiledPipeline
    state_machine: str
    executions: list[str]  # names, oldest first
    aws: Any = None  # the MotoAws clients it was deployed with
    endpoint: str = ""


def deploy_lake(aws: Any, folder: Path, name: str = "lake") -> Deployed:
    module = folder / f"{name}_pipelines.py"
    module.write_text(MODULE.replace("{name}", name))
    (pipeline,) = load_pipelines(module).pipelines
    dag = pipeline.dag
    targets: dict[str, asl.Target] = {
        t.name: asl.LambdaTarget(aws.function(naming.function_name(dag.name, t.name))) for t in dag.tasks
    }
    arn = aws.state_machine(naming.state_machine_name(dag.name), asl.build_definition(dag, targets))
    return Deployed(module, pipeline, arn, [], aws=aws, endpoint=aws.endpoint)


def execute(aws: Any, deployed: Deployed, *, failing: bool) -> str:
    """One execution to its end; ``failing`` redeploys 'right' onto a missing Glue job."""
    dag = deployed.pipeline.dag
    targets: dict[str, asl.Target] = {
        t.name: asl.LambdaTarget(naming.function_name(dag.name, t.name)) for t in dag.tasks
    }
    if failing:
        targets["right"] = asl.GlueTarget("lake-missing-job")
    aws.sfn.update_state_machine(
        stateMachineArn=deployed.state_machine, definition=asl.dumps(asl.build_definition(dag, targets))
    )
    name = f"run-{len(deployed.executions) + 1}"
    execution = aws.sfn.start_execution(stateMachineArn=deployed.state_machine, name=name, input="{}")
    deadline = time.monotonic() + 60
    while aws.sfn.describe_execution(executionArn=execution["executionArn"])["status"] == "RUNNING":
        assert time.monotonic() < deadline, "the execution did not end within 60 s"
        time.sleep(0.05)
    deployed.executions.append(name)
    return name
