"""S3 lifecycle rules: what a bucket deletes by itself, so nothing piles up forever.

- A data bucket expires Glacier's staging keys. A write stages its result under a hidden key
  beside the dataset (``<parent>/.glacier-tmp-...``, ``glacier.deploy.iam.STAGING_MARK``)
  and publishes it by a server-side copy; a staging object outlives its write only when the
  writer was killed between its upload and its publish. S3 filters rules by key prefix (not
  by substring), so each folder that holds a dataset gets one rule with the prefix
  ``<folder>/.glacier-tmp-``: the object and its noncurrent versions expire after a day.
  Published data (and its noncurrent versions: the previous contents) is never expired.
- Every bucket aborts multipart uploads left incomplete, and removes delete markers that no
  longer hide any version.
- The artifacts bucket (code bundles, layer zips, runtime files: all rebuilt from the
  program) expires noncurrent versions after ``artifacts_noncurrent_days``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import pulumi_aws as aws

from glacier.deploy import naming
from glacier.deploy.iam import STAGING_MARK
from glacier.errors import DeploymentError

STAGING_EXPIRE_DAYS = 1
# A Glue/EMR task can stream its result for up to 48 hours: an upload older than this is dead.
DATA_ABORT_MULTIPART_DAYS = 3
ARTIFACTS_ABORT_MULTIPART_DAYS = 1
RULES_MAX = 1000  # S3's limit per lifecycle configuration
RULE_ID_MAX = 255

Rule = aws.s3.BucketLifecycleConfigurationRuleArgs


def staging_prefixes(dataset_paths: Iterable[str]) -> tuple[str, ...]:
    """The key prefix of the staging keys beside each dataset (one per folder)."""
    folders = {path.rstrip("/").rpartition("/")[0] for path in dataset_paths}
    return tuple(sorted(f"{folder}/{STAGING_MARK}" if folder else STAGING_MARK for folder in folders))


def data_bucket_rules(bucket: str, prefixes: Sequence[str]) -> list[Rule]:
    rules = [_staging_rule(prefix) for prefix in prefixes]
    rules.append(_housekeeping_rule(DATA_ABORT_MULTIPART_DAYS))
    if len(rules) > RULES_MAX:
        raise DeploymentError(
            f"Bucket '{bucket}' holds datasets in {len(prefixes)} folders; S3 allows "
            f"{RULES_MAX} lifecycle rules, one per folder plus one.",
            fix="keep the bucket's datasets in fewer folders, or split them across buckets.",
        )
    return rules


def artifacts_bucket_rules(noncurrent_days: int) -> list[Rule]:
    return [_housekeeping_rule(ARTIFACTS_ABORT_MULTIPART_DAYS, noncurrent_days)]


def _staging_rule(prefix: str) -> Rule:
    return Rule(
        id=naming.fit(f"glacier-staging-{prefix}", RULE_ID_MAX),
        status="Enabled",
        filter=aws.s3.BucketLifecycleConfigurationRuleFilterArgs(prefix=prefix),
        expiration=aws.s3.BucketLifecycleConfigurationRuleExpirationArgs(days=STAGING_EXPIRE_DAYS),
        noncurrent_version_expiration=aws.s3.BucketLifecycleConfigurationRuleNoncurrentVersionExpirationArgs(
            noncurrent_days=STAGING_EXPIRE_DAYS
        ),
    )


def _housekeeping_rule(abort_days: int, noncurrent_days: int | None = None) -> Rule:
    noncurrent = (
        aws.s3.BucketLifecycleConfigurationRuleNoncurrentVersionExpirationArgs(
            noncurrent_days=noncurrent_days
        )
        if noncurrent_days
        else None
    )
    return Rule(
        id="glacier-housekeeping",
        status="Enabled",
        filter=aws.s3.BucketLifecycleConfigurationRuleFilterArgs(prefix=""),
        abort_incomplete_multipart_upload=aws.s3.BucketLifecycleConfigurationRuleAbortIncompleteMultipartUploadArgs(
            days_after_initiation=abort_days
        ),
        expiration=aws.s3.BucketLifecycleConfigurationRuleExpirationArgs(expired_object_delete_marker=True),
        noncurrent_version_expiration=noncurrent,
    )
