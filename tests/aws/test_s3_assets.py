"""S3AssetStore against moto: what the contract suite does not cover (URL windows, the CDN,
direct-upload tickets, bounded reads) and the zero-call guarantee of url_for."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs, urlsplit

import boto3
import httpx
import pytest
from botocore.config import Config

from catalog.adapters.aws.s3_assets import MAX_URL_TTL_SECONDS, S3AssetStore
from tests.clocks import NOON, ManualSecondsClock
from tests.conftest import REGION, AwsEndpoint

BUCKET = "catalog-assets"
KEY = "acme/01JDX5Q0A1B2C3D4E5F6G7H8J9/01JDX5Q3W8B5Y8Q9N2K7M4R6TZ.png"
HOUR = 3600


def s3_client(aws: AwsEndpoint) -> Any:
    return boto3.client(
        "s3",
        endpoint_url=aws.url,
        region_name=REGION,
        config=Config(signature_version="s3v4"),
    )


class CallCounter:
    """Counts the requests a boto3 client sends (signing a URL sends none)."""

    def __init__(self, client: Any) -> None:
        self.operations: list[str] = []
        client.meta.events.register("before-send.s3", self._count)

    def _count(self, request: Any, **kwargs: Any) -> None:
        self.operations.append(request.method)


@pytest.fixture
def client(aws: AwsEndpoint) -> Iterator[Any]:
    client = s3_client(aws)
    client.create_bucket(Bucket=BUCKET)
    yield client


@pytest.fixture
def clock() -> ManualSecondsClock:
    return ManualSecondsClock(NOON)


@pytest.fixture
def store(client: Any, clock: ManualSecondsClock) -> S3AssetStore:
    return S3AssetStore(client, BUCKET, url_ttl_seconds=HOUR, clock=clock)


def query(url: str) -> dict[str, str]:
    return {name: values[0] for name, values in parse_qs(urlsplit(url).query).items()}


def test_put_stores_the_bytes_with_their_type_and_a_long_cache_lifetime(store, client):
    store.put(KEY, b"\x89PNG-bytes", "image/png")

    stored = client.get_object(Bucket=BUCKET, Key=KEY)
    assert stored["Body"].read() == b"\x89PNG-bytes"
    assert stored["ContentType"] == "image/png"
    assert "immutable" in stored["CacheControl"]


def test_presigned_url_serves_the_object_and_is_signed_without_any_call(store, client):
    store.put(KEY, b"bytes", "image/png")
    calls = CallCounter(client)

    url = store.url_for(KEY)

    assert calls.operations == []
    assert query(url)["X-Amz-Algorithm"] == "AWS4-HMAC-SHA256"
    response = httpx.get(url)
    assert response.status_code == 200
    assert response.content == b"bytes"


def test_a_url_is_the_same_all_window_long_and_valid_for_at_least_the_ttl(store, clock):
    window_start = (int(clock.now) // HOUR) * HOUR
    clock.now = window_start + 1
    first = store.url_for(KEY)
    clock.now = window_start + HOUR - 1

    assert store.url_for(KEY) == first
    # Signed at the window's start + 1 s, it expires two windows after the window began, so
    # at the window's last second (when it is last handed out) it has a whole ttl to go.
    assert int(query(first)["X-Amz-Expires"]) == 2 * HOUR - 1

    clock.now = window_start + HOUR
    later = store.url_for(KEY)
    assert later != first
    assert int(query(later)["X-Amz-Expires"]) == 2 * HOUR


def test_with_a_cdn_urls_are_base_url_plus_key_without_any_call(client):
    calls = CallCounter(client)
    store = S3AssetStore(client, BUCKET, base_url="https://cdn.example.test/img/")

    url = store.url_for("acme/p 1/x.png")

    assert url == "https://cdn.example.test/img/acme/p%201/x.png"
    assert calls.operations == []


def test_url_lifetimes_beyond_what_sigv4_allows_are_refused(client):
    with pytest.raises(ValueError):
        S3AssetStore(client, BUCKET, url_ttl_seconds=MAX_URL_TTL_SECONDS + 1)


def test_a_client_that_would_presign_with_sigv2_is_refused(aws):
    legacy = boto3.client("s3", endpoint_url=aws.url, region_name=REGION)
    with pytest.raises(ValueError, match="s3v4"):
        S3AssetStore(legacy, BUCKET).url_for(KEY)


def test_read_is_bounded_and_none_for_a_missing_object(store):
    store.put(KEY, b"0123456789", "image/png")

    assert store.read(KEY, 100) == b"0123456789"
    assert store.read(KEY, 4) == b"01234"  # one byte past the limit: "too large"
    assert store.read("acme/missing.png", 100) is None


def test_delete_can_be_repeated(store):
    store.put(KEY, b"bytes", "image/png")

    store.delete(KEY)
    store.delete(KEY)

    assert store.read(KEY, 100) is None


def test_upload_ticket_is_a_presigned_post_limited_to_key_type_and_size(store, client):
    calls = CallCounter(client)

    url, fields = store.presign_upload("uploads/acme/p/u1", "image/png", 5000, 900)

    assert calls.operations == []
    assert url.endswith("/" + BUCKET)
    assert fields["key"] == "uploads/acme/p/u1"
    assert fields["Content-Type"] == "image/png"
    policy = json.loads(base64.b64decode(fields["policy"]))
    conditions = policy["conditions"]
    assert {"Content-Type": "image/png"} in conditions
    assert ["content-length-range", 1, 5000] in conditions
    assert {"key": "uploads/acme/p/u1"} in conditions
    assert {"bucket": BUCKET} in conditions


def test_a_client_uploads_with_the_ticket_and_the_object_lands_in_the_bucket(store, client):
    url, fields = store.presign_upload("uploads/acme/p/u1", "image/png", 5000, 900)

    response = httpx.post(url, data=fields, files={"file": ("a.png", b"png-bytes", "image/png")})

    assert response.status_code == 204, response.text
    stored = client.get_object(Bucket=BUCKET, Key="uploads/acme/p/u1")
    assert stored["Body"].read() == b"png-bytes"
    assert stored["ContentType"] == "image/png"


def test_closing_an_upload_leaves_a_mark_under_the_staging_prefix(store, client):
    url, fields = store.presign_upload("uploads/acme/p/u1", "image/png", 5000, 900)
    httpx.post(url, data=fields, files={"file": ("a.png", b"png-bytes", "image/png")})

    store.close_upload("uploads/acme/p/u1")

    listed = client.list_objects_v2(Bucket=BUCKET, Prefix="uploads/")
    # Under uploads/, so the bucket's lifecycle rule for abandoned uploads expires it too.
    assert [item["Key"] for item in listed["Contents"]] == ["uploads/acme/p/u1.closed"]
    assert store.upload_closed("uploads/acme/p/u1")
    assert not store.upload_closed("uploads/acme/p/u2")
