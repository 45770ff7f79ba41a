"""Which S3 actions each request to the moto server needs, and whether an IAM policy allows
them: the check that an entry point touches only what its task's role may touch.

The recorder is WSGI middleware around moto's server; the evaluator follows IAM's rules for
identity policies (an explicit Deny wins; else some Allow must match the action, the
resource and every condition, with ``*``/``?`` wildcards; a condition on a key the request
does not carry fails).
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, unquote


@dataclass(frozen=True)
class S3Access:
    action: str
    resource: str
    context: Mapping[str, str] = field(default_factory=dict)
    request: str = ""


def accesses(method: str, path: str, query: str, headers: Mapping[str, str]) -> list[S3Access]:
    """The IAM actions one path-style S3 request is authorised against."""
    params = parse_qs(query, keep_blank_values=True)
    bucket, _, key = unquote(path).lstrip("/").partition("/")
    seen = f"{method} {path}{'?' + query if query else ''}"
    if not bucket:
        return [S3Access("s3:ListAllMyBuckets", "*", request=seen)]
    bucket_arn = f"arn:aws:s3:::{bucket}"
    if not key:
        if method in ("GET", "HEAD") and not (
            {"uploads", "versions", "location", "acl", "policy"} & set(params)
        ):
            prefix = params.get("prefix", [""])[0]
            return [S3Access("s3:ListBucket", bucket_arn, {"s3:prefix": prefix}, seen)]
        if method == "POST" and "delete" in params:
            return [S3Access("s3:DeleteObject", f"{bucket_arn}/*", request=seen)]
        return [S3Access(f"s3:Bucket:{method}:{','.join(sorted(params))}", bucket_arn, request=seen)]
    object_arn = f"{bucket_arn}/{key}"
    if method in ("GET", "HEAD"):
        return [S3Access("s3:GetObject", object_arn, request=seen)]
    if method in ("PUT", "POST"):
        found = [S3Access("s3:PutObject", object_arn, request=seen)]
        source = headers.get("x-amz-copy-source")
        if source:
            found.append(
                S3Access("s3:GetObject", f"arn:aws:s3:::{unquote(source).lstrip('/')}", request=seen)
            )
        return found
    if method == "DELETE":
        action = "s3:AbortMultipartUpload" if "uploadId" in params else "s3:DeleteObject"
        return [S3Access(action, object_arn, request=seen)]
    return [S3Access(f"s3:Object:{method}", object_arn, request=seen)]


class Recorder:
    """WSGI middleware: while ``recording``, keep every S3 request's accesses."""

    def __init__(self, app: Callable[..., Any]) -> None:
        self.app = app
        self.recording = False
        self.seen: list[S3Access] = []
        self._lock = threading.Lock()

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        if self.recording and not environ.get("PATH_INFO", "").startswith("/moto-api"):
            headers = {
                k[5:].replace("_", "-").lower(): v for k, v in environ.items() if k.startswith("HTTP_")
            }
            found = accesses(
                environ["REQUEST_METHOD"],
                environ.get("PATH_INFO", "/"),
                environ.get("QUERY_STRING", ""),
                headers,
            )
            with self._lock:
                self.seen.extend(found)
        return self.app(environ, start_response)

    def take(self) -> list[S3Access]:
        with self._lock:
            taken, self.seen = self.seen, []
        return taken


def _match(pattern: str, value: str) -> bool:
    regex = re.escape(pattern).replace(r"\*", ".*").replace(r"\?", ".")
    return re.fullmatch(regex, value) is not None


def _as_list(value: Any) -> list[str]:
    return value if isinstance(value, list) else [value]


def _conditions_hold(conditions: Mapping[str, Mapping[str, Any]], context: Mapping[str, str]) -> bool:
    for operator, tests in conditions.items():
        for key, expected in tests.items():
            if key not in context:
                return False
            actual = context[key]
            if operator == "StringLike":
                ok = any(_match(p, actual) for p in _as_list(expected))
            elif operator == "StringEquals":
                ok = actual in _as_list(expected)
            else:
                raise AssertionError(f"condition operator {operator} is not understood by this audit")
            if not ok:
                return False
    return True


def _statement_matches(statement: Mapping[str, Any], access: S3Access) -> bool:
    actions = _as_list(statement.get("Action", []))
    resources = _as_list(statement.get("Resource", []))
    return (
        any(_match(a.lower(), access.action.lower()) for a in actions)
        and any(_match(r, access.resource) for r in resources)
        and _conditions_hold(statement.get("Condition", {}), access.context)
    )


def allows(policies: Iterable[Mapping[str, Any]], access: S3Access) -> bool:
    statements = [s for p in policies for s in _as_list(p["Statement"])]
    if any(s["Effect"] == "Deny" and _statement_matches(s, access) for s in statements):
        return False
    return any(s["Effect"] == "Allow" and _statement_matches(s, access) for s in statements)
