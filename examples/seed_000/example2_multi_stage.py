"""Seed 000, "Example 2: Multi-Stage Pipeline", as written: the task bodies are `...`, so
this file defines (and graphs, plans and deploys) the pipeline; running it reports that the
tasks return no data frame."""

from glacier import Pipeline, Provider
from glacier.config import AwsConfig

provider = Provider(config=AwsConfig(region="us-east-1"))
local_exec = provider.local()

# Multi-stage with intermediate storage

raw = provider.bucket("data", "raw.parquet")
cleaned = provider.bucket("data", "cleaned.parquet")
aggregated = provider.bucket("data", "aggregated.parquet")
output = provider.bucket("data", "output.parquet")


@local_exec.task()
def clean(df): ...


@local_exec.task()
def aggregate(df): ...


@local_exec.task()
def finalize(df): ...


multi_stage = (
    Pipeline(name="multi_stage_etl")
    .source(raw)
    .transform(clean)
    .to(cleaned)
    .transform(aggregate)
    .to(aggregated)
    .transform(finalize)
    .to(output)
)
