"""Bucket.scan() and transform(t).run() read from where run(mode="local") wrote."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from glacier import Provider
from glacier.config import AwsConfig, LocalConfig

FRAME = pl.DataFrame({"k": ["a", "b", "c"], "v": [1, -2, 3]})


def _pipeline(provider: Provider):  # type: ignore[no-untyped-def]
    raw = provider.bucket("lake", "raw.parquet")
    out = provider.bucket("lake", "out.parquet")

    @provider.local().task()
    def positive(df: pl.LazyFrame) -> pl.LazyFrame:
        return df.filter(pl.col("v") > 0)

    return raw, positive, raw.transform(positive).to(out)


def test_aws_pipeline_runs_and_scans_on_local_disk_by_default(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("GLACIER_STATE_DIR", str(tmp_path / ".glacier"))
    raw, positive, out = _pipeline(Provider(config=AwsConfig(region="eu-west-1")))
    (tmp_path / "data" / "lake").mkdir(parents=True)
    FRAME.write_parquet(tmp_path / "data" / "lake" / "raw.parquet")

    out.run()

    expected = FRAME.filter(pl.col("v") > 0)
    assert_frame_equal(out.scan().collect(), expected)
    assert_frame_equal(raw.transform(positive).run().collect(), expected)
    explicit = LocalConfig(base_path=str(tmp_path / "data"))
    assert_frame_equal(out.scan(explicit).collect(), expected)


def test_scan_s3_reads_the_providers_bucket(s3_client, moto_endpoint: str) -> None:  # type: ignore[no-untyped-def]
    s3_client.create_bucket(Bucket="lake")
    import io

    body = io.BytesIO()
    FRAME.write_parquet(body)
    s3_client.put_object(Bucket="lake", Key="raw.parquet", Body=body.getvalue())
    raw, positive, _ = _pipeline(Provider(config=AwsConfig(endpoint_url=moto_endpoint)))

    assert_frame_equal(raw.scan("s3").collect(), FRAME)
    assert_frame_equal(raw.transform(positive).run("s3").collect(), FRAME.filter(pl.col("v") > 0))
