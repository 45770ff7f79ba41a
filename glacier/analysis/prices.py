"""The price model: AWS list prices (us-east-1, on-demand, no free tier, no savings plans).

Every number the cost analysis multiplies by lives here, so a reader can check it against
the AWS pricing pages and a user can pass a ``PriceModel`` with other prices (another
region, a negotiated discount). ``docs/cost-model.md`` explains each one.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from glacier.config import WORKER_SIZES

# Views of the one worker-size table (glacier.config.WORKER_SIZES) as pricing reads them:
# Glue DPUs per worker, and the (vCPU, memory GB) of the EMR Serverless worker Glacier sizes
# for a SparkConfig worker type (the same capacity as the matching Glue worker).
GLUE_DPU_PER_WORKER: dict[str, float] = {kind: size.dpu for kind, size in WORKER_SIZES.items()}
EMR_WORKER_SHAPE: dict[str, tuple[float, float]] = {
    kind: (float(size.vcpu), float(size.memory_gb)) for kind, size in WORKER_SIZES.items()
}


class PriceModel(BaseModel):
    """USD list prices, us-east-1, as published on the AWS pricing pages (2025)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    region: str = "us-east-1"
    # Lambda: duration per GB-second by architecture (first tier), requests, /tmp above 512 MB.
    lambda_gb_second: dict[str, float] = Field(
        default_factory=lambda: {"x86_64": 0.0000166667, "arm64": 0.0000133334}
    )
    lambda_request: float = 0.20 / 1_000_000
    lambda_ephemeral_gb_second: float = 0.0000000309
    lambda_ephemeral_free_mb: int = 512
    # Glue Spark jobs (Glue 2.0+): per DPU-hour, billed per second with a 1-minute minimum.
    glue_dpu_hour: float = 0.44
    glue_minimum_seconds: float = 60.0
    # EMR Serverless (x86_64): per vCPU-hour and per GB-hour, per second, 1-minute minimum.
    emr_vcpu_hour: float = 0.052624
    emr_gb_hour: float = 0.0057785
    emr_minimum_seconds: float = 60.0
    # Step Functions Standard: per state transition ($0.025 per 1,000).
    sfn_transition: float = 0.025 / 1_000
    # S3 Standard requests: PUT/COPY/POST/LIST per 1,000, GET/HEAD per 1,000.
    s3_put: float = 0.005 / 1_000
    s3_get: float = 0.0004 / 1_000

    def lambda_rate(self, architecture: str) -> float:
        return self.lambda_gb_second[architecture]


US_EAST_1 = PriceModel()
