"""Seed 001, "Core Pattern: Complete Example": chain storage directly.

Importing this module only defines the pipeline; run it with
``python examples/seed_001/complete_example.py`` or ``glacier run``.
"""

import polars as pl

from glacier import Provider
from glacier.config import AwsConfig, LambdaConfig

# 1. Create provider and resources
provider = Provider(config=AwsConfig(region="us-east-1"))
local_exec = provider.local()
lambda_exec = provider.serverless(config=LambdaConfig(memory=1024))

# 2. Define storage resources (all equal - no special "source")
raw_data = provider.bucket(bucket="data-lake", path="raw/data.parquet")
intermediate = provider.bucket(bucket="data-lake", path="intermediate/step1.parquet")
output = provider.bucket(bucket="data-lake", path="output/result.parquet")


# 3. Define tasks with decorators
@local_exec.task()
def extract(df: pl.LazyFrame) -> pl.LazyFrame:
    """Extract and filter."""
    return df.filter(pl.col("value").is_not_null())


@lambda_exec.task()
def transform(df: pl.LazyFrame) -> pl.LazyFrame:
    """Transform data."""
    return df.with_columns((pl.col("value") * 2).alias("doubled"))


# 4. Build pipeline: chain storage directly
pipeline = (
    raw_data.transform(extract)  # Start with any bucket  # Apply transformation
    .to(intermediate)  # Write to storage (explicit)
    .transform(transform)  # Apply transformation
    .to(output)  # Write to storage (explicit)
)

# Can also name it for clarity
pipeline = (
    raw_data.transform(extract)
    .to(intermediate)
    .transform(transform)
    .to(output)
    .with_name("etl_pipeline")  # Optional: add metadata
)

if __name__ == "__main__":
    # 5. Execute - pipeline is just a bucket with lineage
    result = pipeline.run(mode="local")
    print(result)
