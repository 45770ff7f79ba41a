"""Cost of one run, line by line: compute per task, S3 requests per task, state transitions.

Each line keeps its quantity, unit and unit price so the total can be checked by hand.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from glacier.analysis.prices import EMR_WORKER_SHAPE, GLUE_DPU_PER_WORKER, PriceModel
from glacier.analysis.usage import TaskUsage, UsageAssumptions
from glacier.config import LambdaConfig, SparkConfig
from glacier.dag.model import PipelineDAG, TaskNode
from glacier.io.datasets import dataset_class


@dataclass(frozen=True)
class CostLine:
    component: str  # "lambda duration", "glue DPU-hours", "s3 GET", ...
    task: str | None  # None for pipeline-wide lines (state transitions)
    quantity: float
    unit: str
    unit_price: float

    @property
    def usd(self) -> float:
        return self.quantity * self.unit_price


@dataclass(frozen=True)
class TaskEstimate:
    """How one task runs in the cloud: its service, wall seconds and billed lines."""

    task: str
    service: str  # "lambda" | "glue" | "emr-serverless"
    seconds: float  # estimated wall-clock seconds in the cloud (feeds the critical path)
    measured: bool
    lines: tuple[CostLine, ...]

    @property
    def usd(self) -> float:
        return sum(line.usd for line in self.lines)


def service_for(task: TaskNode) -> str:
    config = task.executor.config
    if isinstance(config, SparkConfig):
        return config.engine
    return "lambda"


def estimate_task(
    dag: PipelineDAG, task: TaskNode, usage: TaskUsage, prices: PriceModel, assume: UsageAssumptions
) -> TaskEstimate:
    io_seconds = (usage.total_input_bytes + usage.output_bytes) / assume.s3_throughput_bytes_per_second
    config = task.executor.config
    if isinstance(config, LambdaConfig):
        seconds, lines = _lambda(task.name, config, usage, io_seconds, prices, assume)
    elif config.engine == "glue":
        seconds, lines = _glue(task.name, config, usage, io_seconds, prices, assume)
    else:
        seconds, lines = _emr(task.name, config, usage, io_seconds, prices, assume)
    lines += _s3_requests(dag, task, usage, prices, assume)
    return TaskEstimate(
        task=task.name, service=service_for(task), seconds=seconds, measured=usage.measured, lines=lines
    )


def _lambda(
    name: str,
    config: LambdaConfig,
    usage: TaskUsage,
    io_seconds: float,
    prices: PriceModel,
    assume: UsageAssumptions,
) -> tuple[float, tuple[CostLine, ...]]:
    slowdown = max(1.0, assume.lambda_full_vcpu_mb / config.memory)
    seconds = assume.lambda_init_seconds + usage.local_seconds * slowdown + io_seconds
    billed = math.ceil(seconds * 1000) / 1000  # Lambda bills per millisecond
    lines = [
        CostLine(
            f"lambda duration ({config.architecture})",
            name,
            config.memory / 1024 * billed,
            "GB-s",
            prices.lambda_rate(config.architecture),
        ),
        CostLine("lambda requests", name, 1, "request", prices.lambda_request),
    ]
    extra_mb = config.ephemeral_storage - prices.lambda_ephemeral_free_mb
    if extra_mb > 0:
        lines.append(
            CostLine(
                "lambda ephemeral storage",
                name,
                extra_mb / 1024 * billed,
                "GB-s",
                prices.lambda_ephemeral_gb_second,
            )
        )
    return seconds, tuple(lines)


def _glue(
    name: str,
    config: SparkConfig,
    usage: TaskUsage,
    io_seconds: float,
    prices: PriceModel,
    assume: UsageAssumptions,
) -> tuple[float, tuple[CostLine, ...]]:
    seconds = assume.spark_startup_seconds + usage.local_seconds + io_seconds
    billed = max(prices.glue_minimum_seconds, math.ceil(seconds))  # per second, 1-minute minimum
    dpus = config.workers * GLUE_DPU_PER_WORKER[config.worker_type]  # workers include the driver
    line = CostLine("glue DPU-hours", name, dpus * billed / 3600, "DPU-hour", prices.glue_dpu_hour)
    return seconds, (line,)


def _emr(
    name: str,
    config: SparkConfig,
    usage: TaskUsage,
    io_seconds: float,
    prices: PriceModel,
    assume: UsageAssumptions,
) -> tuple[float, tuple[CostLine, ...]]:
    seconds = assume.spark_startup_seconds + usage.local_seconds + io_seconds
    billed = max(prices.emr_minimum_seconds, math.ceil(seconds))
    vcpu, memory_gb = EMR_WORKER_SHAPE[config.worker_type]
    hours = config.workers * billed / 3600  # workers include the driver, as for Glue
    return seconds, (
        CostLine("emr-serverless vCPU-hours", name, vcpu * hours, "vCPU-hour", prices.emr_vcpu_hour),
        CostLine("emr-serverless GB-hours", name, memory_gb * hours, "GB-hour", prices.emr_gb_hour),
    )


def _s3_requests(
    dag: PipelineDAG, task: TaskNode, usage: TaskUsage, prices: PriceModel, assume: UsageAssumptions
) -> tuple[CostLine, ...]:
    """Reads: one metadata GET plus one ranged GET per part, per input, plus what the
    format's dataset class adds (a directory: its manifest GET and one LIST). Writes: one PUT,
    or a multipart upload (create + parts + complete) when the output is larger than one part,
    plus the format's overhead (a directory: the manifest and a LIST). LIST is billed at the
    PUT rate. Spark jobs also GET their script and bundle."""
    part = assume.s3_part_bytes
    gets = 0
    puts = 0
    for dataset_id, size in usage.input_bytes.items():
        extra_gets, lists = dataset_class(dag.dataset(dataset_id).format).s3_read_overhead
        gets += 1 + max(1, math.ceil(size / part)) + extra_gets
        puts += lists
    parts = math.ceil(usage.output_bytes / part)
    extra_gets, extra_puts = dataset_class(dag.dataset(task.output).format).s3_write_overhead
    gets += extra_gets
    puts += (1 if parts <= 1 else parts + 2) + extra_puts
    if isinstance(task.executor.config, SparkConfig):
        gets += 2
    return (
        CostLine("s3 GET requests", task.name, gets, "request", prices.s3_get),
        CostLine("s3 PUT/LIST requests", task.name, puts, "request", prices.s3_put),
    )
