"""The moto fixture serves a real S3 HTTP API on loopback."""


def test_moto_s3_round_trip(s3_client, fresh_bucket: str) -> None:
    s3_client.put_object(Bucket=fresh_bucket, Key="a/b.txt", Body=b"hello")
    body = s3_client.get_object(Bucket=fresh_bucket, Key="a/b.txt")["Body"].read()
    assert body == b"hello"
