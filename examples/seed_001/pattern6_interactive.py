"""Seed 001, composition pattern 6: interactive exploration.

``raw.transform(extract).run()`` reads data, so it runs only under ``__main__``: importing a
pipeline module never reads or writes anything.
"""

import polars as pl

from glacier import Provider
from glacier.config import AwsConfig

provider = Provider(config=AwsConfig(region="us-east-1"))
local_exec = provider.local()


@local_exec.task()
def extract(df: pl.LazyFrame) -> pl.LazyFrame:
    return df.filter(pl.col("value").is_not_null())


# Load and explore without writing to storage
raw = provider.bucket("data", "raw.parquet")

# If you like it, materialize it
intermediate = provider.bucket("data", "intermediate.parquet")
pipeline = raw.transform(extract).to(intermediate)

if __name__ == "__main__":
    # Ephemeral result (not written)
    df = raw.transform(extract).run()
    print(df.collect())

    pipeline.run()
