"""Seed 001, "The Bucket IS the Pipeline": a named chain whose final bucket is the definition."""

import polars as pl

from glacier import Provider
from glacier.config import AwsConfig

provider = Provider(config=AwsConfig(region="us-east-1"))
local_exec = provider.local()
lambda_exec = provider.serverless()

raw_data = provider.bucket(bucket="data-lake", path="raw/data.parquet")
intermediate = provider.bucket(bucket="data-lake", path="intermediate/step1.parquet")
output = provider.bucket(bucket="data-lake", path="output/result.parquet")


@local_exec.task()
def extract(df: pl.LazyFrame) -> pl.LazyFrame:
    return df.filter(pl.col("value").is_not_null())


@lambda_exec.task()
def transform(df: pl.LazyFrame) -> pl.LazyFrame:
    return df.with_columns((pl.col("value") * 2).alias("doubled"))


# Define your pipeline using chainable buckets
etl_pipeline = (
    raw_data.transform(extract)
    .to(intermediate)
    .transform(transform)
    .to(output)
    .with_name("etl_pipeline")  # Optional: add metadata
)

if __name__ == "__main__":
    # etl_pipeline is a Bucket, but it contains the complete pipeline definition
    print(etl_pipeline._lineage)  # List of TransformSteps

    # Use for execution
    etl_pipeline.run(mode="local")

    # Use for code generation (a Pulumi project here, where the seed said Terraform)
    etl_pipeline.run(mode="generate", output_dir="./infrastructure")

    # Use for analysis
    analysis = etl_pipeline.run(mode="analyze")
    print(analysis.estimated_cost())

    # Visualize
    print(etl_pipeline.visualize())
