"""Deterministic names for everything the deployment declares (pure: no pulumi import).

Every name is built from user-declared ids (pipeline, task and bucket names) and nothing
random, so re-running the program gives identical inputs and ``run(mode="cloud")`` can find
the state machine from the pipeline name alone. A name longer than AWS allows is cut and
suffixed with a hash of the full name, so it stays unique and stable.
"""

from __future__ import annotations

import hashlib
import re

# AWS limits on physical names.
LAMBDA_NAME_MAX = 64
ROLE_NAME_MAX = 64
STATE_MACHINE_NAME_MAX = 80
STATE_NAME_MAX = 80
GLUE_JOB_NAME_MAX = 255
EMR_APPLICATION_NAME_MAX = 64
BUCKET_NAME_MAX = 63
LAYER_NAME_MAX = 140
SCHEDULE_NAME_MAX = 64

_UNSAFE = re.compile(r"[^A-Za-z0-9_-]+")
_BUCKET_UNSAFE = re.compile(r"[^a-z0-9-]+")


def short_hash(text: str, length: int = 8) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:length]


def fit(name: str, limit: int) -> str:
    """``name`` if it fits, else its head plus a hash of the whole (stable, collision-safe)."""
    if len(name) <= limit:
        return name
    digest = short_hash(name)
    return f"{name[: limit - len(digest) - 1].rstrip('-_')}-{digest}"


def physical(*parts: str, limit: int) -> str:
    """A name for an AWS resource: the parts joined by '-', unsafe characters replaced."""
    joined = "-".join(_UNSAFE.sub("-", part).strip("-") for part in parts if part)
    return fit(joined, limit)


def logical(component: str, *parts: str) -> str:
    """A Pulumi logical name for a child: always prefixed with its component's name."""
    return "-".join((component, *parts))


def state_machine_name(pipeline: str) -> str:
    """The state machine's name, derivable from the pipeline name alone."""
    return physical(pipeline, "sfn", limit=STATE_MACHINE_NAME_MAX)


def function_name(pipeline: str, task: str) -> str:
    return physical(pipeline, task, limit=LAMBDA_NAME_MAX)


def glue_job_name(pipeline: str, task: str) -> str:
    return physical(pipeline, task, limit=GLUE_JOB_NAME_MAX)


def emr_application_name(pipeline: str) -> str:
    """The pipeline's one EMR Serverless application (its EMR tasks are job runs on it)."""
    return physical(pipeline, "emr", limit=EMR_APPLICATION_NAME_MAX)


def task_role_name(pipeline: str, task: str) -> str:
    return physical(pipeline, task, "role", limit=ROLE_NAME_MAX)


def state_machine_role_name(pipeline: str) -> str:
    return physical(pipeline, "sfn", "role", limit=ROLE_NAME_MAX)


def scheduler_role_name(pipeline: str) -> str:
    return physical(pipeline, "schedule", "role", limit=ROLE_NAME_MAX)


def lambda_log_group(function: str) -> str:
    # The group Lambda writes to by default; declaring it lets us set retention and scope IAM.
    return f"/aws/lambda/{function}"


def glue_log_group(job: str) -> str:
    """The job's ``--custom-logGroup-prefix`` (Glue 5 logs to ``<prefix>/output`` and ``/error``)."""
    return f"/aws-glue/glacier/{job}"


def glue_log_groups(job: str) -> tuple[str, str]:
    """The job's two log groups: its stdout/stderr (output) and Spark's and Glue's (error)."""
    prefix = glue_log_group(job)
    return f"{prefix}/output", f"{prefix}/error"


def emr_log_group(application: str) -> str:
    return f"/aws/emr-serverless/glacier/{application}"


def state_machine_log_group(state_machine: str) -> str:
    # Step Functions requires the /aws/vendedlogs/ prefix to avoid the resource-policy size limit.
    return f"/aws/vendedlogs/states/{state_machine}"


def state_name(task: str) -> str:
    return fit(task, STATE_NAME_MAX)


def partition_for(region: str) -> str:
    """The region's partition (``aws``, ``aws-cn``, ``aws-us-gov`` ...), from botocore's data."""
    from glacier.io.s3 import aws_partition

    return aws_partition(region).name


def dns_suffix(region: str) -> str:
    """The partition's domain (``amazonaws.com``, ``amazonaws.com.cn`` ...)."""
    from glacier.io.s3 import aws_partition

    return aws_partition(region).dns_suffix


# Principals that take the partition's own domain; every service Glacier uses (lambda, states,
# glue, emr-serverless, scheduler) is ``<service>.amazonaws.com`` in aws, aws-cn and aws-us-gov.
_PARTITIONAL_PRINCIPALS = {"aws-cn": frozenset({"ec2", "elasticmapreduce"})}


def service_principal(service: str, region: str) -> str:
    """The IAM service principal of ``service`` (``lambda`` or ``lambda.amazonaws.com``)."""
    name = service.split(".", 1)[0]
    partition = partition_for(region)
    if name in _PARTITIONAL_PRINCIPALS.get(partition, frozenset()):
        return f"{name}.{dns_suffix(region)}"
    return f"{name}.amazonaws.com"


# -- program-level names (one per stack, account and region) ---------------------------------


def _bucket_slug(*parts: str) -> str:
    slug = "-".join(_BUCKET_UNSAFE.sub("-", p.lower()).strip("-") for p in parts if p)
    return re.sub(r"-{2,}", "-", slug).strip("-")


def artifacts_bucket_name(
    project: str, stack: str, account: str, region: str, prefix: str | None = None
) -> str:
    """The program's artifacts bucket (code bundles, layers, Spark runtime files) in one
    region. S3 names are global: the project, stack, account and region in it keep two
    stacks, two accounts or two regions apart. A long head is cut and hashed; the
    account and region stay readable at the end."""
    tail = f"artifacts-{account}-{region}"
    head = _bucket_slug(prefix or "", project, stack)
    room = BUCKET_NAME_MAX - len(tail) - 1
    if len(head) > room:
        digest = short_hash(f"{head}|{tail}")
        head = f"{head[: room - len(digest) - 1].rstrip('-')}-{digest}"
    return f"{head}-{tail}" if head else tail


def layer_name(project: str, stack: str, architecture: str, python_version: str) -> str:
    """The program's Lambda layer for one architecture and Python version."""
    python = "py" + python_version.replace(".", "")
    return physical(project, stack, "glacier-runtime", architecture, python, limit=LAYER_NAME_MAX)


def schedule_name(pipeline: str) -> str:
    return physical(pipeline, "schedule", limit=SCHEDULE_NAME_MAX)
