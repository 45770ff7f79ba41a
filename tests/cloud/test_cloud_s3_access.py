"""Credentials through botocore's chain, and S3 failures as one line with a fitting fix.

``glacier run --s3`` of a pipeline whose only credentials are a named profile in a shared
credentials file runs against moto's S3 with authentication enforced; with a wrong secret it
fails in one line, exit 1, writing nothing. Each S3 / AWS-access user error of docs/errors.md
("S3 and AWS access") is a case here."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import textwrap
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from glacier.config import AwsConfig
from glacier.errors import ConfigError, ExecutionError, GlacierError
from glacier.io import storage_options
from glacier.io.s3 import S3Client
from tests.cloud.conftest import EnforcedIam
from tests.cloud.test_cloud_s3_faults import FAULT_CASES

REPO = Path(__file__).resolve().parents[2]
SALES = pl.DataFrame(
    {
        "region": ["eu", "us", "eu", "apac", "us"],
        "amount": [1.0, 2.0, 3.0, 4.0, 0.5],
        "order_id": [1, 2, 3, 4, 5],
    }
)
PIPELINE = """
import polars as pl

from glacier import Provider
from glacier.config import AwsConfig

provider = Provider(config=AwsConfig(region="us-east-1", endpoint_url={endpoint!r}{profile}))
ex = provider.local()
sales = provider.bucket({bucket!r}, "in/sales.parquet")


@ex.task()
def clean(df: pl.LazyFrame) -> pl.LazyFrame:
    return df.filter(pl.col("amount") > 1)


@ex.task(partition_by=["region"])
def by_region(df: pl.LazyFrame) -> pl.LazyFrame:
    return df.select("order_id", "region", "amount")


cleaned = sales.transform(clean).to(provider.bucket({bucket!r}, "mid/clean.parquet"))
regions = cleaned.transform(by_region).to(provider.bucket({bucket!r}, "out/regions/"))
"""


def _bucket_policy(bucket: str) -> dict[str, Any]:
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Action": ["s3:GetObject", "s3:PutObject", "s3:DeleteObject", "s3:AbortMultipartUpload"],
                "Resource": f"arn:aws:s3:::{bucket}/*",
            },
            {"Effect": "Allow", "Action": "s3:ListBucket", "Resource": f"arn:aws:s3:::{bucket}"},
        ],
    }


def _profile_only_env(tmp: Path, key: str, secret: str, *, profile_variable: bool) -> dict[str, str]:
    """The process environment with no AWS credential variables at all: only a shared
    credentials file (and an empty config file) in ``tmp``."""
    credentials = tmp / "credentials"
    credentials.write_text(f"[analytics]\naws_access_key_id = {key}\naws_secret_access_key = {secret}\n")
    (tmp / "config").write_text("")
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(
        AWS_SHARED_CREDENTIALS_FILE=str(credentials),
        AWS_CONFIG_FILE=str(tmp / "config"),
        AWS_EC2_METADATA_DISABLED="true",  # nothing but the profile can answer
        GLACIER_STATE_DIR=str(tmp / "state"),
    )
    if profile_variable:
        env["AWS_PROFILE"] = "analytics"
    return env


def _glacier_run(path: Path, env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    command = [
        sys.executable,
        "-c",
        "from glacier.cli import main; main()",
        "run",
        str(path),
        "--s3",
        "--quiet",
    ]
    return subprocess.run(command, capture_output=True, text=True, env=env, cwd=cwd, timeout=300, check=False)


def _keys(s3_client: Any, bucket: str) -> list[str]:
    return sorted(o["Key"] for o in s3_client.list_objects_v2(Bucket=bucket).get("Contents", []))


@pytest.mark.parametrize("profile_from", ["AwsConfig(profile=...)", "AWS_PROFILE"])
def test_glacier_run_s3_with_credentials_only_from_a_named_profile(
    profile_from: str, enforced_iam: EnforcedIam, s3_client: Any, fresh_bucket: str, tmp_path: Path
) -> None:
    buffer = io.BytesIO()
    SALES.write_parquet(buffer)
    s3_client.put_object(Bucket=fresh_bucket, Key="in/sales.parquet", Body=buffer.getvalue())
    key, secret = enforced_iam.user(f"analyst-{fresh_bucket[-5:]}", _bucket_policy(fresh_bucket))
    in_config = profile_from.startswith("AwsConfig")
    path = tmp_path / "pipelines.py"
    path.write_text(
        PIPELINE.format(
            endpoint=enforced_iam.endpoint,
            bucket=fresh_bucket,
            profile=', profile="analytics"' if in_config else "",
        )
    )
    env = _profile_only_env(tmp_path, key, secret, profile_variable=not in_config)
    with enforced_iam.enforced():
        done = _glacier_run(path, env, tmp_path)
    assert done.returncode == 0, done.stderr
    keys = _keys(s3_client, fresh_bucket)
    assert not [k for k in keys if ".glacier-tmp-" in k], keys
    clean = pl.read_parquet(
        io.BytesIO(s3_client.get_object(Bucket=fresh_bucket, Key="mid/clean.parquet")["Body"].read())
    )
    expected = SALES.filter(pl.col("amount") > 1)
    assert clean.equals(expected)
    parts = [k for k in keys if k.startswith("out/regions/")]
    assert {k.split("/")[2] for k in parts} == {"region=apac", "region=eu", "region=us"}
    regions = pl.concat(
        pl.read_parquet(io.BytesIO(s3_client.get_object(Bucket=fresh_bucket, Key=k)["Body"].read()))
        for k in parts
    )
    assert sorted(regions["order_id"].to_list()) == expected["order_id"].to_list()

    # The same with a wrong secret: one line, exit 1, nothing written.
    for k in keys:
        if k != "in/sales.parquet":
            s3_client.delete_object(Bucket=fresh_bucket, Key=k)
    env = _profile_only_env(tmp_path, key, "not-the-secret", profile_variable=not in_config)
    with enforced_iam.enforced():
        failed = _glacier_run(path, env, tmp_path)
    assert failed.returncode == 1
    lines = failed.stderr.strip().splitlines()
    assert len(lines) == 1, failed.stderr
    assert lines[0].startswith("Error: ") and "SignatureDoesNotMatch" in lines[0], lines[0]
    assert f"s3://{fresh_bucket}/in/sales.parquet" in lines[0]
    assert "the AWS credentials were refused" in lines[0] and "Traceback" not in failed.stderr
    assert _keys(s3_client, fresh_bucket) == ["in/sales.parquet"]


# -- every S3 / AWS-access user error, with the culprit it names and its fix -----------------
@dataclass(frozen=True)
class Case:
    bad_input: str
    trigger: Callable[[Any], object]
    error: type[GlacierError]
    culprit: str
    fix: str


@dataclass
class Setting:
    """What a case may need: the enforced moto server, a bucket in it, a tmp folder."""

    iam: EnforcedIam
    bucket: str
    tmp: Path
    monkeypatch: pytest.MonkeyPatch

    def client(self, key: str, secret: str) -> S3Client:
        return S3Client(
            {
                "aws_region": "us-east-1",
                "aws_endpoint_url": self.iam.endpoint,
                "aws_access_key_id": key,
                "aws_secret_access_key": secret,
            }
        )

    def no_aws_environment(self) -> None:
        for name in [n for n in os.environ if n.startswith("AWS_")]:
            self.monkeypatch.delenv(name)
        (self.tmp / "empty").write_text("")
        self.monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(self.tmp / "empty"))
        self.monkeypatch.setenv("AWS_CONFIG_FILE", str(self.tmp / "empty"))
        self.monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")


def _wrong_secret(s: Setting) -> object:
    key, _ = s.iam.user("glacier-case-user", _bucket_policy(s.bucket))
    with s.iam.enforced():
        return s.client(key, "wrong-secret").head(s.bucket, "in/data.parquet")


def _access_denied(s: Setting) -> object:
    reader = {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Action": "s3:GetObject", "Resource": f"arn:aws:s3:::{s.bucket}/*"}
        ],
    }
    key, secret = s.iam.user("glacier-case-reader", reader)
    with s.iam.enforced():
        return s.client(key, secret).copy(s.bucket, "in/data.parquet", "out/data.parquet")


def _no_such_bucket(s: Setting) -> object:
    return S3Client(storage_options(AwsConfig(endpoint_url=s.iam.endpoint))).list("no-such-bucket-x1", "raw/")


def _missing_profile(s: Setting) -> object:
    s.no_aws_environment()
    return storage_options(AwsConfig(profile="nightly-etl"))


def _no_credentials(s: Setting) -> object:
    s.no_aws_environment()
    return storage_options(AwsConfig(region="eu-west-1"))


CASES: dict[str, Case] = {
    "s3_wrong_secret": Case(
        "a profile / key with a wrong secret",
        _wrong_secret,
        ExecutionError,
        "SignatureDoesNotMatch",
        "the AWS credentials were refused",
    ),
    "s3_access_denied": Case(
        "credentials whose IAM policy lacks s3:PutObject on the output",
        _access_denied,
        ExecutionError,
        "CopyObject of s3://",
        "allow s3:PutObject on arn:aws:s3:::",
    ),
    "s3_no_such_bucket": Case(
        "a dataset in a bucket that does not exist",
        _no_such_bucket,
        ExecutionError,
        "s3://no-such-bucket-x1/raw/",
        "create bucket 'no-such-bucket-x1'",
    ),
    "s3_missing_profile": Case(
        "AwsConfig(profile='nightly-etl') with no such profile",
        _missing_profile,
        ExecutionError,
        "profile 'nightly-etl'",
        "a named profile (AwsConfig(profile=...) or AWS_PROFILE",
    ),
    "s3_no_credentials": Case(
        "no credentials anywhere in the chain",
        _no_credentials,
        ExecutionError,
        "No AWS credentials found",
        "give the run AWS credentials",
    ),
    "kms_key_alias": Case(
        "AwsConfig(kms_key_arn='arn:aws:kms:us-east-1:123456789012:alias/data')",
        lambda s: AwsConfig(kms_key_arn="arn:aws:kms:us-east-1:123456789012:alias/data"),
        ConfigError,
        "kms_key_arn",
        "must be a KMS key ARN (not an alias)",
    ),
    "kms_key_other_region": Case(
        "AwsConfig(region='eu-west-1', kms_key_arn=<a key in us-east-1>)",
        lambda s: AwsConfig(region="eu-west-1", kms_key_arn="arn:aws:kms:us-east-1:123456789012:key/1a2b"),
        ConfigError,
        "kms_key_arn",
        "must be a key in the buckets' region eu-west-1",
    ),
}


@pytest.mark.parametrize("case_id", sorted(CASES))
def test_s3_and_aws_access_errors_are_one_clear_line(
    case_id: str,
    enforced_iam: EnforcedIam,
    fresh_bucket: str,
    s3_client: Any,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    s3_client.put_object(Bucket=fresh_bucket, Key="in/data.parquet", Body=b"data")
    case = CASES[case_id]
    with pytest.raises(GlacierError) as caught:
        case.trigger(Setting(enforced_iam, fresh_bucket, tmp_path, monkeypatch))
    error = caught.value
    assert type(error) is case.error, f"{case_id}: {type(error).__name__}: {error}"
    message = str(error)
    assert case.culprit in error.problem, message
    assert error.fix and case.fix in error.fix, message
    assert message == f"{error.problem} Fix: {error.fix}" and "\n" not in message
    if case_id == "s3_access_denied":
        assert _keys(s3_client, fresh_bucket) == ["in/data.parquet"]  # nothing was published


def test_every_s3_case_is_listed_in_the_docs() -> None:
    doc = (REPO / "docs" / "errors.md").read_text()
    section = doc[doc.index("## S3 and AWS access") :]
    missing = [case_id for case_id in [*CASES, *FAULT_CASES] if f"`{case_id}`" not in section]
    assert not missing


def test_credentials_come_from_the_profile_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The options Polars gets hold the profile's keys, though no AWS_* variable names them."""
    for name in [n for n in os.environ if n.startswith("AWS_")]:
        monkeypatch.delenv(name)
    (tmp_path / "credentials").write_text(
        textwrap.dedent(
            """
            [nightly]
            aws_access_key_id = AKIANIGHTLY
            aws_secret_access_key = nightly-secret
            aws_session_token = nightly-token
            """
        )
    )
    (tmp_path / "config").write_text("[profile nightly]\nregion = eu-west-2\n")
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "credentials"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "config"))
    options = storage_options(AwsConfig(region="eu-west-2", profile="nightly"))
    assert options == {
        "aws_region": "eu-west-2",
        "aws_access_key_id": "AKIANIGHTLY",
        "aws_secret_access_key": "nightly-secret",
        "aws_session_token": "nightly-token",
        "aws_virtual_hosted_style_request": "true",  # AWS itself: virtual-hosted addressing
    }
    # In the cloud (no AwsConfig) the profile's region applies when AWS_REGION is not set.
    monkeypatch.setenv("AWS_PROFILE", "nightly")
    from glacier.io.location import aws_storage_options

    assert aws_storage_options()["aws_region"] == "eu-west-2"
    # China: Polars gets the partition's endpoint, path-style; botocore keeps its redirects.
    china = storage_options(AwsConfig(region="cn-north-1", profile="nightly"))
    assert china["aws_endpoint_url"] == "https://s3.cn-north-1.amazonaws.com.cn"
    assert china["aws_virtual_hosted_style_request"] == "false"
    client = S3Client(china)
    assert client.endpoint is None and client._client.meta.endpoint_url == china["aws_endpoint_url"]
    assert client._client.meta.config.s3["addressing_style"] == "virtual"
    assert json.loads(json.dumps(options))  # plain strings only: Polars passes them to object_store


def _no_aws_variables(monkeypatch: pytest.MonkeyPatch, tmp: Path, config: str = "") -> None:
    for name in [n for n in os.environ if n.startswith("AWS_")]:
        monkeypatch.delenv(name)
    (tmp / "credentials").write_text("")
    (tmp / "config").write_text(config)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp / "credentials"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp / "config"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")


def test_expiring_credentials_are_refreshed_by_the_chain(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A profile whose credentials expire (here: a credential_process, as SSO and assumed roles
    do): each run resolves fresh ones through the same botocore session."""
    script = tmp_path / "issue_credentials.py"
    script.write_text(
        textwrap.dedent(
            f"""
            import datetime, json, pathlib
            count = pathlib.Path({str(tmp_path / "count")!r})
            n = int(count.read_text()) + 1 if count.exists() else 1
            count.write_text(str(n))
            expires = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(minutes=5)
            print(json.dumps({{"Version": 1, "AccessKeyId": f"ASIAEXPIRING{{n}}", "SecretAccessKey": "s",
                               "SessionToken": f"token-{{n}}", "Expiration": expires.isoformat()}}))
            """
        )
    )
    _no_aws_variables(
        monkeypatch, tmp_path, f"[profile expiring]\ncredential_process = {sys.executable} {script}\n"
    )
    first = storage_options(AwsConfig(profile="expiring"))
    second = storage_options(AwsConfig(profile="expiring"))
    # Five minutes left is inside botocore's refresh window: every run gets fresh ones.
    runs = [int(o["aws_access_key_id"].removeprefix("ASIAEXPIRING")) for o in (first, second)]
    assert runs[0] < runs[1] and second["aws_session_token"] == f"token-{runs[1]}"


def test_web_identity_credentials_reach_s3_with_authentication_enforced(
    enforced_iam: EnforcedIam,
    s3_client: Any,
    fresh_bucket: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """AWS_WEB_IDENTITY_TOKEN_FILE + AWS_ROLE_ARN (EKS, GitHub Actions): botocore calls STS
    (moto's, via AWS_ENDPOINT_URL_STS) and the resulting role's credentials pass S3's checks."""
    s3_client.put_object(Bucket=fresh_bucket, Key="in/data.parquet", Body=b"data")
    trust = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Federated": "token.example"},
                "Action": "sts:AssumeRoleWithWebIdentity",
            }
        ],
    }
    role = enforced_iam.role(
        "glacier-web-identity", json.dumps(trust), json.dumps(_bucket_policy(fresh_bucket))
    )
    _no_aws_variables(monkeypatch, tmp_path)
    (tmp_path / "token").write_text("a-web-identity-token")
    monkeypatch.setenv("AWS_WEB_IDENTITY_TOKEN_FILE", str(tmp_path / "token"))
    monkeypatch.setenv("AWS_ROLE_ARN", role)
    monkeypatch.setenv("AWS_ENDPOINT_URL_STS", enforced_iam.endpoint)
    monkeypatch.setenv("AWS_ENDPOINT_URL_S3", enforced_iam.endpoint)
    monkeypatch.setenv("AWS_REGION", "us-east-1")
    from glacier.io.location import aws_storage_options

    options = aws_storage_options()  # as in Lambda / Glue: no AwsConfig
    assert options["aws_access_key_id"].startswith("ASIA") and options["aws_session_token"]
    client = S3Client(options)
    assert client._client.meta.config.s3["addressing_style"] == "path"  # a custom endpoint
    with enforced_iam.enforced():
        head = client.head(fresh_bucket, "in/data.parquet")
        client.copy(fresh_bucket, "in/data.parquet", "out/data.parquet")
        frame = pl.DataFrame({"x": [1, 2]})
        frame.lazy().sink_parquet(f"s3://{fresh_bucket}/out/frame.parquet", storage_options=options)
    assert head is not None and head.size == 4
    assert _keys(s3_client, fresh_bucket) == ["in/data.parquet", "out/data.parquet", "out/frame.parquet"]
