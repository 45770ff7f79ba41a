"""``glacier backfill --cloud``: one execution of the pipeline's deployed backfill state
machine (``<pipeline>-backfill``, a Distributed Map of one-partition child executions).

The partitions are checked here as for a local backfill, written as one JSON list to the
program's artifacts bucket (``backfills/<pipeline>/<execution>.json``; the state machine's
``glacier:backfill-items-bucket`` tag names the bucket), and the execution reads them with
its S3 item reader: no list is too long for the execution's input. Each child runs one
partition and succeeds, fails and is redriven alone.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from glacier.cloud.runner import (
    CloudRunResult,
    Echo,
    _call,
    _execution_name,
    deployment_client,
    find_state_machine,
    start_and_follow,
)
from glacier.dag.contract import CompiledPipeline
from glacier.deploy.backfill import ITEMS_BUCKET_TAG, backfill_state_machine_name, items_key
from glacier.errors import DeploymentError
from glacier.runner.partitions import backfill_partitions


def start_backfill(
    pipeline: CompiledPipeline,
    *,
    values: Sequence[str] | None = None,
    start: str | None = None,
    end: str | None = None,
    wait: bool = True,
    execution_name: str | None = None,
    region: str | None = None,
    profile: str | None = None,
    endpoint_url: str | None = None,
    poll_seconds: float = 5.0,
    timeout: float | None = None,
    echo: Echo | None = print,
    clients: tuple[Any, Any] | None = None,
) -> CloudRunResult | str:
    """Start a backfill of ``pipeline`` over ``values`` (or every day from ``start`` to
    ``end``). ``wait=False`` returns the execution ARN; otherwise wait for the Map run to end
    (a failed backfill raises ``ExecutionError``). ``clients``: (Step Functions, S3) clients."""
    dag = pipeline.dag
    partitions = backfill_partitions(dag, values, start, end)
    sfn, s3 = clients or _clients(pipeline, region=region, profile=profile, endpoint_url=endpoint_url)
    arn = find_state_machine(sfn, dag.name, backfill_state_machine_name(dag.name))
    tags = _call(dag.name, lambda: sfn.list_tags_for_resource(resourceArn=arn)["tags"], "read its tags")
    bucket = next((t["value"] for t in tags if t["key"] == ITEMS_BUCKET_TAG), None)
    if bucket is None:
        raise DeploymentError(
            f"Backfill state machine {arn} of pipeline '{dag.name}' has no '{ITEMS_BUCKET_TAG}' tag.",
            fix="deploy the pipeline again with this version of Glacier (pulumi up).",
        )
    name = execution_name or _execution_name()
    key = items_key(dag.name, name)
    body = json.dumps(partitions).encode()
    _call(dag.name, lambda: s3.put_object(Bucket=bucket, Key=key, Body=body), f"write s3://{bucket}/{key}")
    return start_and_follow(
        sfn,
        dag.name,
        arn,
        json.dumps({"items": {"bucket": bucket, "key": key}}),
        name=name,
        started=f"Started backfill of {dag.name} over {len(partitions)} partition(s)",
        wait=wait,
        poll_seconds=poll_seconds,
        timeout=timeout,
        echo=echo,
    )


def _clients(
    pipeline: CompiledPipeline, *, region: str | None, profile: str | None, endpoint_url: str | None
) -> tuple[Any, Any]:
    where = {"region": region, "profile": profile, "endpoint_url": endpoint_url}
    dag = pipeline.dag
    return deployment_client(dag, "stepfunctions", **where), deployment_client(dag, "s3", **where)
