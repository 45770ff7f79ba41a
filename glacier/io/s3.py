"""The few S3 object operations Polars does not expose: list, head, copy, delete.

Used to measure written bytes, fingerprint inputs for the cache, and publish a staged
directory dataset. Standard library only (the cloud runtime may not import boto3), signed
with AWS Signature V4 from the same ``storage_options`` Polars gets. Credentials come from
those options (filled from the AWS environment variables) or, in AWS, from the container
credentials endpoint that Lambda / Glue / ECS expose.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import os
import urllib.parse
from dataclasses import dataclass
from typing import TYPE_CHECKING

from glacier.errors import ExecutionError

if TYPE_CHECKING:
    import xml.etree.ElementTree as ET

# urllib.request (it loads ssl, ~15 ms) and ElementTree are imported where S3 is used: a
# local run never needs them, and every ``glacier run`` process would pay for them.

_NS = "{http://s3.amazonaws.com/doc/2006-03-01/}"
_COPY_LIMIT = 5 * 1024**3
_PART_SIZE = 1024**3


@dataclass(frozen=True)
class S3Object:
    key: str
    size: int
    etag: str
    version_id: str | None = None  # HEAD only, on a bucket with versioning


class S3Client:
    def __init__(self, options: dict[str, str] | None) -> None:
        options = options or {}
        self.region = options.get("aws_region", "us-east-1")
        endpoint = options.get("aws_endpoint_url")
        self.endpoint = (endpoint or f"https://s3.{self.region}.amazonaws.com").rstrip("/")
        self._key = options.get("aws_access_key_id")
        self._secret = options.get("aws_secret_access_key")
        self._token = options.get("aws_session_token")
        if not self._key:
            self._key, self._secret, self._token = _container_credentials()

    # -- operations ----------------------------------------------------------------------
    def head(self, bucket: str, key: str) -> S3Object | None:
        status, headers, _ = self._request("HEAD", bucket, key, allow=(404,))
        if status == 404:
            return None
        version = next((v for k, v in headers.items() if k.lower() == "x-amz-version-id"), None)
        return S3Object(
            key, int(headers.get("Content-Length", "0")), headers.get("ETag", "").strip('"'), version
        )

    def list(self, bucket: str, prefix: str) -> list[S3Object]:
        objects: list[S3Object] = []
        token: str | None = None
        while True:
            query = {"list-type": "2", "prefix": prefix}
            if token:
                query["continuation-token"] = token
            _, _, body = self._request("GET", bucket, "", query=query)
            root = _xml(body)
            for item in root.iter(f"{_NS}Contents"):
                objects.append(
                    S3Object(
                        key=item.findtext(f"{_NS}Key", ""),
                        size=int(item.findtext(f"{_NS}Size", "0")),
                        etag=item.findtext(f"{_NS}ETag", "").strip('"'),
                    )
                )
            token = root.findtext(f"{_NS}NextContinuationToken")
            if root.findtext(f"{_NS}IsTruncated") != "true" or not token:
                return sorted(objects, key=lambda o: o.key)

    def copy(self, bucket: str, source_key: str, target_key: str) -> None:
        """Server-side copy; the target appears whole when the copy completes."""
        source = urllib.parse.quote(f"/{bucket}/{source_key}")
        head = self.head(bucket, source_key)
        if head is None or head.size <= _COPY_LIMIT:
            self._request("PUT", bucket, target_key, headers={"x-amz-copy-source": source})
            return
        # CopyObject stops at 5 GB: copy in parts; the object appears on completion only.
        _, _, body = self._request("POST", bucket, target_key, query={"uploads": ""})
        upload_id = _xml(body).findtext(f"{_NS}UploadId", "")
        parts = []
        for number, start in enumerate(range(0, head.size, _PART_SIZE), start=1):
            end = min(start + _PART_SIZE, head.size) - 1
            _, _, body = self._request(
                "PUT",
                bucket,
                target_key,
                query={"partNumber": str(number), "uploadId": upload_id},
                headers={"x-amz-copy-source": source, "x-amz-copy-source-range": f"bytes={start}-{end}"},
            )
            parts.append((number, _xml(body).findtext(f"{_NS}ETag", "")))
        complete = "".join(f"<Part><PartNumber>{n}</PartNumber><ETag>{e}</ETag></Part>" for n, e in parts)
        self._request(
            "POST",
            bucket,
            target_key,
            query={"uploadId": upload_id},
            headers={"content-type": "application/xml"},
            body=f"<CompleteMultipartUpload>{complete}</CompleteMultipartUpload>".encode(),
        )

    def delete(self, bucket: str, key: str) -> None:
        self._request("DELETE", bucket, key, allow=(404,))

    # -- signing -------------------------------------------------------------------------
    def _request(
        self,
        method: str,
        bucket: str,
        key: str,
        *,
        query: dict[str, str] | None = None,
        headers: dict[str, str] | None = None,
        body: bytes = b"",
        allow: tuple[int, ...] = (),
    ) -> tuple[int, dict[str, str], bytes]:
        import urllib.error
        import urllib.request

        parsed = urllib.parse.urlsplit(self.endpoint)
        path = "/" + urllib.parse.quote(bucket) + "/" + urllib.parse.quote(key, safe="/~")
        canonical_query = "&".join(
            f"{urllib.parse.quote(k, safe='~')}={urllib.parse.quote(v, safe='~')}"
            for k, v in sorted((query or {}).items())
        )
        now = dt.datetime.now(dt.UTC)
        amz_date = now.strftime("%Y%m%dT%H%M%SZ")
        all_headers = {
            "host": parsed.netloc,
            "x-amz-date": amz_date,
            "x-amz-content-sha256": hashlib.sha256(body).hexdigest(),
            **{k.lower(): v for k, v in (headers or {}).items()},
        }
        if self._token:
            all_headers["x-amz-security-token"] = self._token
        if self._key and self._secret:
            all_headers["authorization"] = self._authorization(
                method, path, canonical_query, all_headers, now
            )
        # Signed as "uploads=", sent as "uploads" (servers that drop blank values need that).
        url_query = "&".join(part.removesuffix("=") for part in canonical_query.split("&"))
        url = f"{parsed.scheme}://{parsed.netloc}{path}" + (f"?{url_query}" if url_query else "")
        request = urllib.request.Request(url, data=body or None, method=method, headers=all_headers)
        try:
            with urllib.request.urlopen(request, timeout=60) as response:
                return response.status, dict(response.headers), response.read()
        except urllib.error.HTTPError as exc:
            if exc.code in allow:
                return exc.code, dict(exc.headers), b""
            detail = exc.read()[:300].decode(errors="replace")
            raise ExecutionError(
                f"S3 {method} s3://{bucket}/{key} failed with HTTP {exc.code}: {detail}",
                fix="check the bucket exists and the credentials may read and write it.",
            ) from None

    def _authorization(
        self, method: str, path: str, query: str, headers: dict[str, str], now: dt.datetime
    ) -> str:
        assert self._key and self._secret
        date = now.strftime("%Y%m%d")
        signed = sorted(headers)
        canonical = "\n".join(
            [
                method,
                path,
                query,
                "".join(f"{h}:{headers[h].strip()}\n" for h in signed),
                ";".join(signed),
                headers["x-amz-content-sha256"],
            ]
        )
        scope = f"{date}/{self.region}/s3/aws4_request"
        to_sign = "\n".join(
            ["AWS4-HMAC-SHA256", headers["x-amz-date"], scope, hashlib.sha256(canonical.encode()).hexdigest()]
        )
        key = f"AWS4{self._secret}".encode()
        for part in (date, self.region, "s3", "aws4_request"):
            key = hmac.new(key, part.encode(), hashlib.sha256).digest()
        signature = hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()
        return (
            f"AWS4-HMAC-SHA256 Credential={self._key}/{scope}, "
            f"SignedHeaders={';'.join(signed)}, Signature={signature}"
        )


def _container_credentials() -> tuple[str | None, str | None, str | None]:
    """Credentials from the endpoint AWS compute (Lambda, Glue, ECS) exposes, if any."""
    relative = os.environ.get("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI")
    full = os.environ.get("AWS_CONTAINER_CREDENTIALS_FULL_URI")
    url = f"http://169.254.170.2{relative}" if relative else full
    if not url:
        return None, None, None
    import urllib.request

    request = urllib.request.Request(url)
    token = os.environ.get("AWS_CONTAINER_AUTHORIZATION_TOKEN")
    if token:
        request.add_header("Authorization", token)
    with urllib.request.urlopen(request, timeout=5) as response:
        data = json.loads(response.read())
    return data.get("AccessKeyId"), data.get("SecretAccessKey"), data.get("Token")


def _xml(body: bytes) -> ET.Element:
    import xml.etree.ElementTree as ET

    return ET.fromstring(body)
