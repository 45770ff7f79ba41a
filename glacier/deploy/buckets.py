"""S3 buckets: a private bucket (public access blocked, encrypted, versioned, TLS only), and
the program's managed data buckets, declared once for every pipeline that uses them.

A data bucket's logical name depends only on its own name (``data-buckets-<bucket>`` under
the ``glacier:aws:DataBuckets`` component), so its URN is the same whichever pipelines a
stack selects and in whatever order they come. Stacks made before this layout had each data
bucket as ``<pipeline>-bucket-<bucket>`` under the first pipeline's component: aliases name
those, so such a stack keeps its buckets (and their data) instead of replacing them.

Data buckets (and their settings) are ``retain_on_delete`` unless the program opts out
(Pulumi config ``glacier:retainDataBuckets`` false): ``pulumi destroy``, or a pipeline leaving
the program, removes them from the stack but leaves the bucket and its data in the account.
Not ``protect``: that would make ``pulumi destroy`` of the whole stack fail.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import pulumi
import pulumi_aws as aws

from glacier.dag.model import PipelineDAG
from glacier.dag.triggers import ArrivalTrigger
from glacier.deploy import iam, lifecycle, naming
from glacier.deploy.options import DeployOptions, deploy_region, deploy_tags
from glacier.errors import DeploymentError

DATA_BUCKETS_TYPE = "glacier:aws:DataBuckets"
DATA_BUCKETS_NAME = "data-buckets"
# The token of the per-pipeline component (glacier.deploy.component), needed here to name
# the component that owned a data bucket in stacks made by earlier versions.
PIPELINE_TYPE = "glacier:aws:PipelineDeployment"
_SETTINGS = ("public-access-block", "encryption", "versioning", "tls-only", "lifecycle")


@dataclass(frozen=True)
class EarlierName:
    """Where a resource lived before: its logical name and its parent component's."""

    label: str
    parent: str


@dataclass(frozen=True)
class BucketCare:
    """What happens to a bucket over time and at its deletion: its lifecycle rules, whether
    ``pulumi destroy`` leaves it (and its settings) in place, or empties it to delete it."""

    rules: Sequence[aws.s3.BucketLifecycleConfigurationRuleArgs]
    retain_on_delete: bool = False
    force_destroy: bool = False


def private_bucket(
    parent: pulumi.Resource,
    label: str,
    bucket_name: pulumi.Input[str],
    *,
    region: str,
    tags: Mapping[str, str],
    care: BucketCare,
    earlier: Sequence[EarlierName] = (),
) -> aws.s3.Bucket:
    """A bucket plus its five settings, named ``label`` and ``label-<setting>``."""

    def opts(*suffix: str, after: Sequence[pulumi.Resource] = ()) -> pulumi.ResourceOptions:
        aliases = [
            pulumi.Alias(
                name=naming.logical(e.label, *suffix),
                parent=pulumi.create_urn(e.parent, PIPELINE_TYPE),
            )
            for e in earlier
        ]
        return pulumi.ResourceOptions(
            parent=parent,
            aliases=aliases or None,
            retain_on_delete=care.retain_on_delete or None,
            depends_on=list(after) or None,
        )

    partition = naming.partition_for(region)
    bucket = aws.s3.Bucket(
        label,
        bucket=bucket_name,
        force_destroy=care.force_destroy or None,
        region=region,
        tags=dict(tags),
        opts=opts(),
    )
    block, encryption, versioning, tls_only, lifecycle = _SETTINGS
    public_access = aws.s3.BucketPublicAccessBlock(
        naming.logical(label, block),
        bucket=bucket.id,
        block_public_acls=True,
        block_public_policy=True,
        ignore_public_acls=True,
        restrict_public_buckets=True,
        region=region,
        opts=opts(block),
    )
    aws.s3.BucketServerSideEncryptionConfiguration(
        naming.logical(label, encryption),
        bucket=bucket.id,
        rules=[
            aws.s3.BucketServerSideEncryptionConfigurationRuleArgs(
                apply_server_side_encryption_by_default=aws.s3.BucketServerSideEncryptionConfigurationRuleApplyServerSideEncryptionByDefaultArgs(
                    sse_algorithm="AES256"
                ),
                bucket_key_enabled=True,
            )
        ],
        region=region,
        opts=opts(encryption),
    )
    versioned = aws.s3.BucketVersioning(
        naming.logical(label, versioning),
        bucket=bucket.id,
        versioning_configuration=aws.s3.BucketVersioningVersioningConfigurationArgs(status="Enabled"),
        region=region,
        opts=opts(versioning),
    )
    # S3 refuses a bucket policy while the public-access block is being applied.
    aws.s3.BucketPolicy(
        naming.logical(label, tls_only),
        bucket=bucket.id,
        policy=pulumi.Output.from_input(bucket_name).apply(
            lambda name: iam.dumps(iam.tls_only_bucket_policy(iam.Arns(partition, region, ""), name))
        ),
        region=region,
        opts=opts(tls_only, after=[public_access]),
    )
    # Rules on noncurrent versions need versioning to be on first.
    aws.s3.BucketLifecycleConfiguration(
        naming.logical(label, lifecycle),
        bucket=bucket.id,
        rules=list(care.rules),
        region=region,
        opts=opts(lifecycle, after=[versioned]),
    )
    return bucket


@dataclass(frozen=True)
class DataBucket:
    """One managed data bucket: where it is, its tags, and the pipelines whose component
    could have owned it in a stack made by an earlier version (for aliases)."""

    name: str
    region: str
    tags: Mapping[str, str] = field(default_factory=dict)
    earlier_owners: tuple[str, ...] = ()
    eventbridge: bool = False  # S3 sends its events to EventBridge (a pipeline triggers on arrival)
    # Where the bucket's staging keys live (glacier.deploy.lifecycle.staging_prefixes).
    staging_prefixes: tuple[str, ...] = ()


@dataclass(frozen=True)
class DataBucketsArgs:
    buckets: tuple[DataBucket, ...]
    retain_on_delete: bool = True

    @classmethod
    def for_pipelines(
        cls,
        deployed: Sequence[PipelineDAG],
        options: DeployOptions,
        *,
        known: Sequence[PipelineDAG] = (),
    ) -> DataBucketsArgs:
        """The managed buckets the ``deployed`` pipelines use. ``known`` (default: the
        deployed ones) are every pipeline the program loaded, selected or not: any of them
        that uses a bucket may have owned it in an earlier stack, and the lifecycle rules
        cover all their datasets, so the bucket is the same whichever pipelines are selected."""
        everyone = list(known) or list(deployed)
        buckets: list[DataBucket] = []
        for name in sorted({ds.bucket for dag in deployed for ds in dag.datasets if ds.managed}):
            users = [dag for dag in deployed if _uses(dag, name)]
            owners = tuple(dict.fromkeys(dag.name for dag in everyone if _uses(dag, name)))
            paths = [ds.path for dag in [*everyone, *users] for ds in dag.datasets if ds.bucket == name]
            buckets.append(
                DataBucket(
                    name,
                    _one_region(name, users, options),
                    _one_tags(name, users, options),
                    owners,
                    staging_prefixes=lifecycle.staging_prefixes(paths),
                    eventbridge=any(_watches(dag, name) for dag in users),
                )
            )
        return cls(buckets=tuple(buckets), retain_on_delete=options.retain_data_buckets)


def _uses(dag: PipelineDAG, bucket: str) -> bool:
    return any(ds.managed and ds.bucket == bucket for ds in dag.datasets)


def _watches(dag: PipelineDAG, bucket: str) -> bool:
    return any(isinstance(t, ArrivalTrigger) and t.bucket == bucket for t in dag.triggers)


def _one_region(bucket: str, users: Sequence[PipelineDAG], options: DeployOptions) -> str:
    regions = {dag.name: deploy_region(dag, options) for dag in users}
    if len(set(regions.values())) > 1:
        listed = ", ".join(f"'{p}' in {r}" for p, r in sorted(regions.items()))
        raise DeploymentError(
            f"Bucket '{bucket}' is used by pipelines in different regions ({listed}).",
            fix="create every pipeline that shares a bucket from one AwsConfig region, or set "
            "glacier:region for the stack.",
        )
    return next(iter(regions.values()))


def _one_tags(bucket: str, users: Sequence[PipelineDAG], options: DeployOptions) -> dict[str, str]:
    tags: dict[str, str] = {}
    for dag in sorted(users, key=lambda d: d.name):
        for key, value in deploy_tags(dag, options).items():
            if tags.setdefault(key, value) != value:
                raise DeploymentError(
                    f"Bucket '{bucket}' gets tag '{key}' = '{tags[key]}' from one pipeline and "
                    f"'{value}' from pipeline '{dag.name}'.",
                    fix="give the AwsConfig of every pipeline that shares a bucket the same tags.",
                )
    return dict(sorted(tags.items()))


class DataBuckets(pulumi.ComponentResource):
    """The program's managed data buckets, each declared once, named by its bucket name."""

    buckets: dict[str, aws.s3.Bucket]

    def __init__(self, name: str, args: DataBucketsArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__(DATA_BUCKETS_TYPE, name, None, opts)
        self.buckets = {
            spec.name: private_bucket(
                self,
                naming.logical(name, spec.name),
                spec.name,
                region=spec.region,
                tags=spec.tags,
                care=BucketCare(
                    rules=lifecycle.data_bucket_rules(spec.name, spec.staging_prefixes),
                    retain_on_delete=args.retain_on_delete,
                ),
                earlier=[
                    EarlierName(naming.logical(owner, "bucket", spec.name), owner)
                    for owner in spec.earlier_owners
                ],
            )
            for spec in args.buckets
        }
        for spec in args.buckets:
            if spec.eventbridge:
                self._eventbridge_notifications(spec)
        self.register_outputs({"buckets": {n: b.bucket for n, b in sorted(self.buckets.items())}})

    def _eventbridge_notifications(self, spec: DataBucket) -> aws.s3.BucketNotification:
        """S3 sends the bucket's events to EventBridge, where each pipeline's arrival rule
        picks its keys: declared once per bucket, however many pipelines watch it (a bucket
        has one notification configuration)."""
        return aws.s3.BucketNotification(
            naming.logical(self._name, spec.name, "notifications"),
            bucket=self.buckets[spec.name].id,
            eventbridge=True,
            region=spec.region,
            opts=pulumi.ResourceOptions(parent=self),
        )
