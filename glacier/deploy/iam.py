"""Least-privilege IAM policy documents (pure: no pulumi import).

A task's role may read only its input objects (and list only their prefixes), write only
its output (and the hidden staging keys beside it that the runtime publishes it from), and
write logs only to its own log group; with a KMS key on the storage, use that key only through
S3. The state machine's role may invoke only its own functions and jobs. Roles trust their
service only on behalf of their own account. No wildcard actions; ``Resource: "*"`` only for
the CloudWatch Logs delivery actions, which AWS does not scope to resources. Every ARN and
principal is in the region's partition (aws, aws-cn, aws-us-gov).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from glacier.config import AwsConfig
from glacier.dag.model import DatasetNode, PipelineDAG, TaskNode
from glacier.deploy import naming
from glacier.io.datasets import dataset_class
from glacier.io.datasets.spark_io import staging_prefix_pattern as spark_staging_pattern
from glacier.io.staging import STAGING_MARK as _STAGING_MARK
from glacier.runtime.event import CatalogTarget, partition_columns

Policy = dict[str, Any]
VERSION = "2012-10-17"

# The managed rule Step Functions creates to follow EMR Serverless job runs (.sync).
EMR_SYNC_RULE = "StepFunctionsGetEventsForEMRServerlessJobRule"


@dataclass(frozen=True)
class Arns:
    """Builds ARNs and service principals for one account and region (S3 ARNs carry
    neither, but all carry the region's partition)."""

    partition: str
    region: str
    account: str

    @classmethod
    def for_region(cls, region: str, account: str) -> Arns:
        return cls(partition=naming.partition_for(region), region=region, account=account)

    def service(self, name: str) -> str:
        """The service principal of ``name`` (``lambda``, ``states.amazonaws.com`` ...)."""
        return naming.service_principal(name, self.region)

    def s3_service(self) -> str:
        """S3's endpoint name in this region, as the ``kms:ViaService`` condition names it."""
        return f"s3.{self.region}.{naming.dns_suffix(self.region)}"

    def role(self, name: str) -> str:
        return f"arn:{self.partition}:iam::{self.account}:role/{name}"

    def bucket(self, bucket: str) -> str:
        return f"arn:{self.partition}:s3:::{bucket}"

    def object(self, bucket: str, key: str) -> str:
        return f"arn:{self.partition}:s3:::{bucket}/{key}"

    def log_group(self, name: str) -> str:
        return f"arn:{self.partition}:logs:{self.region}:{self.account}:log-group:{name}"

    def function(self, name: str) -> str:
        return f"arn:{self.partition}:lambda:{self.region}:{self.account}:function:{name}"

    def glue_job(self, name: str) -> str:
        return f"arn:{self.partition}:glue:{self.region}:{self.account}:job/{name}"

    def emr_application(self, application_id: str) -> str:
        return (
            f"arn:{self.partition}:emr-serverless:{self.region}:{self.account}:/applications/{application_id}"
        )

    def events_rule(self, name: str) -> str:
        return f"arn:{self.partition}:events:{self.region}:{self.account}:rule/{name}"

    def state_machine(self, name: str) -> str:
        return f"arn:{self.partition}:states:{self.region}:{self.account}:stateMachine:{name}"

    def glue_table(self, database: str, table: str) -> list[str]:
        """A Glue table's ARN with the catalog and database ARNs its actions also check."""
        base = f"arn:{self.partition}:glue:{self.region}:{self.account}"
        return [f"{base}:catalog", f"{base}:database/{database}", f"{base}:table/{database}/{table}"]


def dumps(policy: Mapping[str, Any]) -> str:
    return json.dumps(policy, sort_keys=True)


def assume_role_policy(service: str, arns: Arns) -> Policy:
    """``service`` may assume the role, only when acting for this account (the confused-deputy
    guard AWS recommends: ``aws:SourceAccount``)."""
    return {
        "Version": VERSION,
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Service": arns.service(service)},
                "Action": "sts:AssumeRole",
                "Condition": {"StringEquals": {"aws:SourceAccount": arns.account}},
            }
        ],
    }


def _statement(sid: str, actions: Sequence[str], resources: Iterable[str], **extra: Any) -> dict[str, Any]:
    return {
        "Sid": sid,
        "Effect": "Allow",
        "Action": sorted(set(actions)),
        "Resource": sorted(set(resources)),
        **extra,
    }


def _key_pattern(dataset: DatasetNode) -> str:
    """The object key(s) a dataset covers (its format's dataset class says)."""
    return dataset_class(dataset.format).object_pattern(dataset.path)


# The runtime stages a result under hidden keys beside it, then publishes it with one
# server-side copy (glacier/io/staging.py names them).
STAGING_MARK = _STAGING_MARK


def _staging_pattern(dataset: DatasetNode) -> str:
    """The hidden sibling keys a task stages its output under before publishing it."""
    parent, _, name = dataset.path.rstrip("/").rpartition("/")
    staged = f"{parent}/" if parent else ""
    staged += f"{STAGING_MARK}*-{name}"
    return f"{staged}/*" if dataset.is_directory else staged


def _list_prefixes(datasets: Iterable[DatasetNode]) -> dict[str, list[str]]:
    by_bucket: dict[str, set[str]] = {}
    for ds in datasets:
        by_bucket.setdefault(ds.bucket, set()).update({ds.path, _key_pattern(ds)})
    return {bucket: sorted(prefixes) for bucket, prefixes in sorted(by_bucket.items())}


@dataclass(frozen=True)
class ArtifactAccess:
    """Artifact objects a task's role must read (Spark: the entry script and code bundle),
    and a scratch prefix it may write (Glue's --TempDir)."""

    bucket: str
    read_keys: tuple[str, ...] = ()
    scratch_prefix: str | None = None


def task_policy(
    dag: PipelineDAG,
    task: TaskNode,
    arns: Arns,
    *,
    log_groups: Sequence[str],
    artifacts: ArtifactAccess | None = None,
    catalog: CatalogTarget | None = None,
) -> Policy:
    """What one task's role may do: read its inputs, write its output, write its logs; with
    ``catalog`` (the Glue table of a hive-partitioned directory output) add partitions to
    that one table (``glacier.runtime.catalog``)."""
    inputs = sorted({dag.dataset(ds) for ds in task.inputs.values()}, key=lambda d: d.id)
    output = dag.dataset(task.output)
    statements = [
        _statement("ReadInputs", ["s3:GetObject"], (arns.object(d.bucket, _key_pattern(d)) for d in inputs)),
    ]
    for n, (bucket, prefixes) in enumerate(_list_prefixes(inputs).items()):
        statements.append(
            _statement(
                f"ListInputs{n}",
                ["s3:ListBucket"],
                [arns.bucket(bucket)],
                Condition={"StringLike": {"s3:prefix": prefixes}},
            )
        )
    # Publishing copies the staged result over the output (and reads it back to check it).
    write_actions = ["s3:PutObject", "s3:AbortMultipartUpload", "s3:GetObject"]
    if output.is_directory:
        write_actions.append("s3:DeleteObject")  # replacing a partitioned dataset's old files
    statements.append(
        _statement("WriteOutput", write_actions, [arns.object(output.bucket, _key_pattern(output))])
    )
    staging = _staging_pattern(output)
    staged = [staging]
    if task.executor.kind == "spark" and not output.is_directory:
        # Spark writes a file dataset as part files in its staging folder (spark_io).
        staged.append(spark_staging_pattern(output.path))
    statements.append(
        _statement(
            "StageOutput",
            ["s3:PutObject", "s3:AbortMultipartUpload", "s3:GetObject", "s3:DeleteObject"],
            [arns.object(output.bucket, pattern) for pattern in staged],
        )
    )
    statements.append(
        _statement(
            "ListOutput",
            ["s3:ListBucket"],
            [arns.bucket(output.bucket)],
            Condition={
                "StringLike": {"s3:prefix": sorted({*_list_prefixes([output])[output.bucket], *staged})}
            },
        )
    )
    statements.append(
        _statement(
            "WriteLogs",
            ["logs:CreateLogStream", "logs:PutLogEvents"],
            (f"{arns.log_group(g)}:log-stream:*" for g in log_groups),
        )
    )
    kms = _kms_statement(dag, arns)
    if kms is not None:
        statements.append(kms)
    if catalog is not None and (output.partition_by or partition_columns(task)):
        statements.append(
            _statement(
                "AddOutputPartitions",
                ["glue:GetTable", "glue:BatchCreatePartition"],
                arns.glue_table(catalog.database, catalog.table),
            )
        )
    if artifacts is not None:
        if artifacts.read_keys:
            statements.append(
                _statement(
                    "ReadArtifacts",
                    ["s3:GetObject"],
                    (arns.object(artifacts.bucket, k) for k in artifacts.read_keys),
                )
            )
        if artifacts.scratch_prefix:
            scratch = arns.object(artifacts.bucket, f"{artifacts.scratch_prefix}*")
            statements.append(
                _statement("Scratch", ["s3:GetObject", "s3:PutObject", "s3:DeleteObject"], [scratch])
            )
            statements.append(
                _statement(
                    "ListScratch",
                    ["s3:ListBucket"],
                    [arns.bucket(artifacts.bucket)],
                    Condition={"StringLike": {"s3:prefix": [f"{artifacts.scratch_prefix}*"]}},
                )
            )
    return {"Version": VERSION, "Statement": statements}


def _kms_statement(dag: PipelineDAG, arns: Arns) -> dict[str, Any] | None:
    """Buckets declared with a KMS key (``AwsConfig(kms_key_arn=...)``): decrypt what is read,
    generate data keys for what is written (a multipart upload and a copy decrypt too), and
    only through S3 in this region."""
    key = dag.storage.kms_key_arn if isinstance(dag.storage, AwsConfig) else None
    if key is None:
        return None
    return _statement(
        "UseStorageKey",
        ["kms:Decrypt", "kms:GenerateDataKey"],
        [key],
        Condition={"StringEquals": {"kms:ViaService": arns.s3_service()}},
    )


@dataclass(frozen=True)
class EmrJob:
    application_id: str
    execution_role_arn: str


def state_machine_policy(
    arns: Arns,
    *,
    functions: Sequence[str] = (),
    glue_jobs: Sequence[str] = (),
    emr_jobs: Sequence[EmrJob] = (),
) -> Policy:
    """What the state machine's role may do: invoke its own functions and jobs, and log."""
    statements: list[dict[str, Any]] = []
    if functions:
        resources = [arns.function(f) for f in functions] + [f"{arns.function(f)}:*" for f in functions]
        statements.append(_statement("InvokeFunctions", ["lambda:InvokeFunction"], resources))
    if glue_jobs:
        statements.append(
            _statement(
                "RunGlueJobs",
                ["glue:StartJobRun", "glue:GetJobRun", "glue:GetJobRuns", "glue:BatchStopJobRun"],
                (arns.glue_job(j) for j in glue_jobs),
            )
        )
    if emr_jobs:
        apps = sorted({j.application_id for j in emr_jobs})
        statements.append(
            _statement(
                "StartEmrJobs", ["emr-serverless:StartJobRun"], (arns.emr_application(a) for a in apps)
            )
        )
        statements.append(
            _statement(
                "FollowEmrJobs",
                ["emr-serverless:GetJobRun", "emr-serverless:CancelJobRun"],
                (f"{arns.emr_application(a)}/jobruns/*" for a in apps),
            )
        )
        statements.append(
            _statement(
                "EmrSyncRule",
                ["events:PutTargets", "events:PutRule", "events:DescribeRule"],
                [arns.events_rule(EMR_SYNC_RULE)],
            )
        )
        statements.append(
            _statement(
                "PassEmrRoles",
                ["iam:PassRole"],
                sorted({j.execution_role_arn for j in emr_jobs}),
                Condition={"StringEquals": {"iam:PassedToService": arns.service("emr-serverless")}},
            )
        )
    statements.append(
        _statement(
            # Step Functions logging: AWS supports no resource-level scoping for these actions.
            "DeliverLogs",
            [
                "logs:CreateLogDelivery",
                "logs:DeleteLogDelivery",
                "logs:DescribeLogGroups",
                "logs:DescribeResourcePolicies",
                "logs:GetLogDelivery",
                "logs:ListLogDeliveries",
                "logs:PutResourcePolicy",
                "logs:UpdateLogDelivery",
            ],
            ["*"],
        )
    )
    return {"Version": VERSION, "Statement": statements}


def scheduler_policy(arns: Arns, state_machine: str) -> Policy:
    return {
        "Version": VERSION,
        "Statement": [
            _statement("StartPipeline", ["states:StartExecution"], [arns.state_machine(state_machine)])
        ],
    }


def tls_only_bucket_policy(arns: Arns, bucket: str) -> Policy:
    """Deny every request to the bucket that does not use TLS (AWS's recommended form)."""
    return {
        "Version": VERSION,
        "Statement": [
            {
                "Sid": "DenyInsecureTransport",
                "Effect": "Deny",
                "Principal": "*",
                "Action": "s3:*",
                "Resource": [arns.bucket(bucket), arns.object(bucket, "*")],
                "Condition": {"Bool": {"aws:SecureTransport": "false"}},
            }
        ],
    }
