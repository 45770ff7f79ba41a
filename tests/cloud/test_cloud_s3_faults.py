"""S3 faults injected by a small proxy on 127.0.0.1 in front of moto: 503 SlowDown, 500, a
CopyObject answered "200 OK" with an <Error> body, and a closed port. Retried where AWS says
to retry (botocore's standard mode); otherwise one line naming the operation, the object and a
fix; never a partial or unpublished output reported as success."""

from __future__ import annotations

import io
import socket
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from glacier import Provider
from glacier.config import AwsConfig
from glacier.errors import ExecutionError
from glacier.io import storage_options
from glacier.io.s3 import S3Client
from glacier.runner import run_pipeline

SLOW_DOWN = (503, b"<Error><Code>SlowDown</Code><Message>Please reduce your request rate.</Message></Error>")
INTERNAL = (
    500,
    b"<Error><Code>InternalError</Code><Message>We encountered an internal error.</Message></Error>",
)
# S3 may answer a copy 200 OK and put the error in the body (sent after a long copy started).
COPY_ERROR_200 = (
    200,
    b'<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>InternalError</Code>'
    b"<Message>We encountered an internal error. Please try again.</Message></Error>",
)


def _is_copy(environ: dict[str, Any]) -> bool:
    return environ["REQUEST_METHOD"] == "PUT" and "HTTP_X_AMZ_COPY_SOURCE" in environ


@dataclass
class Fault:
    matches: Callable[[dict[str, Any]], bool]
    answer: tuple[int, bytes]
    times: float  # how many matching requests get the fault (inf: all)
    seen: int = 0


@dataclass
class FaultyProxy:
    """WSGI middleware in front of moto's server: matching requests get a fault answer."""

    app: Callable[..., Any]
    faults: list[Fault] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def inject(
        self, matches: Callable[[dict[str, Any]], bool], answer: tuple[int, bytes], times: float
    ) -> Fault:
        fault = Fault(matches, answer, times)
        with self.lock:
            self.faults.append(fault)
        return fault

    def clear(self) -> None:
        with self.lock:
            self.faults.clear()

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        with self.lock:
            fault = next((f for f in self.faults if f.matches(environ)), None)
            if fault is not None:
                fault.seen += 1
                if fault.seen > fault.times:
                    fault = None
        if fault is None:
            return self.app(environ, start_response)
        environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))  # consumed, as S3 would
        status, body = fault.answer
        reason = {200: "OK", 500: "Internal Server Error", 503: "Slow Down"}[status]
        start_response(
            f"{status} {reason}", [("Content-Type", "application/xml"), ("Content-Length", str(len(body)))]
        )
        return [body]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def proxy(moto_endpoint: str) -> Iterator[tuple[str, FaultyProxy]]:
    """A second moto server in this process (the same backends as the session one) behind
    the fault injector."""
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=_free_port(), verbose=False)
    server.start()
    wsgi = server._server
    assert wsgi is not None
    injector = FaultyProxy(wsgi.app)
    wsgi.app = injector
    host, port = server.get_host_and_port()
    try:
        yield f"http://{host}:{port}", injector
    finally:
        server.stop()


@pytest.fixture
def faulty(proxy: tuple[str, FaultyProxy], monkeypatch: pytest.MonkeyPatch) -> Iterator[FaultyProxy]:
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "3")  # botocore's standard mode default, made explicit
    proxy[1].clear()
    yield proxy[1]
    proxy[1].clear()


def _client(endpoint: str) -> S3Client:
    return S3Client(storage_options(AwsConfig(region="us-east-1", endpoint_url=endpoint)))


def _keys(s3_client: Any, bucket: str) -> list[str]:
    return sorted(o["Key"] for o in s3_client.list_objects_v2(Bucket=bucket).get("Contents", []))


@pytest.mark.parametrize(("answer", "times"), [(SLOW_DOWN, 2), (INTERNAL, 1), (COPY_ERROR_200, 2)])
def test_copy_is_retried_through_transient_faults(
    answer: tuple[int, bytes],
    times: int,
    faulty: FaultyProxy,
    proxy: tuple[str, FaultyProxy],
    fresh_bucket: str,
    s3_client: Any,
) -> None:
    s3_client.put_object(Bucket=fresh_bucket, Key="staged.bin", Body=b"payload")
    fault = faulty.inject(_is_copy, answer, times)
    _client(proxy[0]).copy(fresh_bucket, "staged.bin", "published.bin")
    assert fault.seen == times + 1  # each fault retried, then the copy went through
    assert s3_client.get_object(Bucket=fresh_bucket, Key="published.bin")["Body"].read() == b"payload"


# The user-error cases of docs/errors.md ("S3 and AWS access") that these tests trigger.
FAULT_CASES = ("s3_slow_down", "s3_internal_error", "s3_copy_200_error", "s3_closed_port")


@pytest.mark.parametrize(
    ("answer", "said", "fix"),
    [
        (SLOW_DOWN, "SlowDown: Please reduce your request rate", "S3 is throttling these requests"),
        (INTERNAL, "InternalError: We encountered an internal error", "S3 failed on its side: run again"),
        (COPY_ERROR_200, "InternalError: We encountered an internal error", "S3 failed on its side"),
    ],
    ids=FAULT_CASES[:3],
)
def test_a_copy_that_keeps_failing_is_one_line_and_publishes_nothing(
    answer: tuple[int, bytes],
    said: str,
    fix: str,
    faulty: FaultyProxy,
    proxy: tuple[str, FaultyProxy],
    fresh_bucket: str,
    s3_client: Any,
) -> None:
    s3_client.put_object(Bucket=fresh_bucket, Key="staged.bin", Body=b"payload")
    fault = faulty.inject(_is_copy, answer, float("inf"))
    with pytest.raises(ExecutionError) as caught:
        _client(proxy[0]).copy(fresh_bucket, "staged.bin", "published.bin")
    message = str(caught.value)
    assert "\n" not in message
    assert message.startswith(f"S3 CopyObject of s3://{fresh_bucket}/published.bin failed: {said}")
    assert "(after 3 attempts)" in message and fix in (caught.value.fix or "")
    assert fault.seen == 3
    assert _keys(s3_client, fresh_bucket) == ["staged.bin"]


def test_a_closed_port_is_one_line_naming_the_endpoint(faulty: FaultyProxy) -> None:  # s3_closed_port
    closed = f"http://127.0.0.1:{_free_port()}"
    with pytest.raises(ExecutionError) as caught:
        _client(closed).head("some-bucket", "data.parquet")
    message = str(caught.value)
    assert "\n" not in message
    assert message.startswith(
        f"S3 HeadObject of s3://some-bucket/data.parquet failed: could not reach {closed}"
    )
    assert (
        caught.value.fix
        == f"check that {closed} is the right endpoint_url (AWS_ENDPOINT_URL) and its server is running."
    )


def _pipeline(endpoint: str, bucket: str) -> Any:
    provider = Provider(config=AwsConfig(region="us-east-1", endpoint_url=endpoint))

    @provider.local().task()
    def totals(df: pl.LazyFrame) -> pl.LazyFrame:
        return df.group_by("region").agg(pl.col("amount").sum()).sort("region")

    sales = provider.bucket(bucket, "in/sales.parquet")
    return sales.transform(totals).to(provider.bucket(bucket, "out/totals.parquet")).compile("totals")


SALES = pl.DataFrame({"region": ["eu", "us", "eu", "apac"], "amount": [1.0, 2.0, 3.0, 4.0]})


def _upload_sales(s3_client: Any, bucket: str) -> None:
    buffer = io.BytesIO()
    SALES.write_parquet(buffer)
    s3_client.put_object(Bucket=bucket, Key="in/sales.parquet", Body=buffer.getvalue())


def test_a_run_succeeds_through_slowdowns_with_what_polars_computes(
    faulty: FaultyProxy,
    proxy: tuple[str, FaultyProxy],
    fresh_bucket: str,
    s3_client: Any,
    state_dir: Path,
) -> None:
    _upload_sales(s3_client, fresh_bucket)
    fault = faulty.inject(_is_copy, SLOW_DOWN, 2)
    result = run_pipeline(_pipeline(proxy[0], fresh_bucket), storage="s3")
    assert result["totals"].status == "succeeded" and fault.seen == 3
    body = s3_client.get_object(Bucket=fresh_bucket, Key="out/totals.parquet")["Body"].read()
    expected = SALES.group_by("region").agg(pl.col("amount").sum()).sort("region")
    assert pl.read_parquet(io.BytesIO(body)).equals(expected)
    assert not [k for k in _keys(s3_client, fresh_bucket) if ".glacier-tmp-" in k]


def test_an_unpublished_output_is_never_reported_as_success(
    faulty: FaultyProxy,
    proxy: tuple[str, FaultyProxy],
    fresh_bucket: str,
    s3_client: Any,
    state_dir: Path,
) -> None:
    """Every publishing copy answers 200 with an error: the run fails on that task, in one
    line, and neither the output nor its staging object is left."""
    _upload_sales(s3_client, fresh_bucket)
    faulty.inject(_is_copy, COPY_ERROR_200, float("inf"))
    with pytest.raises(ExecutionError) as caught:
        run_pipeline(_pipeline(proxy[0], fresh_bucket), storage="s3")
    message = str(caught.value)
    assert "\n" not in message and "totals" in message
    assert f"CopyObject of s3://{fresh_bucket}/out/totals.parquet failed: InternalError" in message
    assert _keys(s3_client, fresh_bucket) == ["in/sales.parquet"]


def test_a_run_against_a_closed_port_fails_in_one_line(faulty: FaultyProxy, state_dir: Path) -> None:
    closed = f"http://127.0.0.1:{_free_port()}"
    with pytest.raises(ExecutionError) as caught:
        run_pipeline(_pipeline(closed, "some-bucket"), storage="s3")
    message = str(caught.value)
    assert "\n" not in message and f"could not reach {closed}" in message
    assert "its server is running" in message
