"""The AssetStore and DirectUploads ports, written once and run against every backend.

What the catalog relies on: bytes put under a key are served at url_for(key); url_for is
computed without touching storage; delete makes the URL stop serving and may be repeated.
A direct-upload ticket lets a client store one object under its key; read gives the bytes
back, bounded. (What a ticket refuses is checked per backend: moto does not enforce presigned
POST policies, so tests/aws/test_s3_assets.py checks the policy S3 would enforce.)
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import parse_qs, unquote, urlsplit

import httpx
import pytest

from catalog.adapters.embedded.local_assets import AssetUnavailable, LocalAssetStore, UploadRefused
from catalog.adapters.memory.assets import MemoryAssetStore
from catalog.service.ports import AssetStore, DirectUploads

KEY = "acme/01JDX5Q0A1B2C3D4E5F6G7H8J9/01JDX5Q3W8B5Y8Q9N2K7M4R6TZ.png"


class UploadingAssetStore(AssetStore, DirectUploads, Protocol):
    pass


@dataclass
class AssetBackend:
    store: UploadingAssetStore
    fetch: Callable[[str], tuple[bytes, str] | None]  # what a client gets at a URL
    # What a client's form POST of a ticket does: True when the storage accepted the file.
    upload: Callable[[str, dict[str, str], bytes], bool]
    # Whether the storage refuses a closed ticket's uploads (S3 cannot revoke a presigned POST).
    refuses_closed_tickets: bool = True


def http_upload(url: str, fields: dict[str, str], data: bytes) -> bool:
    response = httpx.post(url, data=fields, files={"file": ("upload", data)})
    return response.status_code in (200, 201, 204)


def memory_assets(request: pytest.FixtureRequest, folder: Path) -> AssetBackend:
    store = MemoryAssetStore("https://cdn.example.test")

    def fetch(url: str) -> tuple[bytes, str] | None:
        asset = store.get_by_url(url)
        return (asset.data, asset.content_type) if asset else None

    return AssetBackend(store, fetch, store.receive_upload)


def local_assets(request: pytest.FixtureRequest, folder: Path) -> AssetBackend:
    store = LocalAssetStore(folder / "assets", "http://127.0.0.1:8000", b"k" * 32)

    def fetch(url: str) -> tuple[bytes, str] | None:
        parts = urlsplit(url)
        query = parse_qs(parts.query)
        key = parts.path.removeprefix("/assets/")
        try:
            path, content_type = store.open(key, int(query["expires"][0]), query["signature"][0])
        except AssetUnavailable:
            return None
        return path.read_bytes(), content_type

    def upload(url: str, fields: dict[str, str], data: bytes) -> bool:
        # What POST /assets (routers/assets.py) does with the form.
        try:
            store.store_upload(store.verify_upload(fields), data)
        except UploadRefused:
            return False
        return True

    return AssetBackend(store, fetch, upload)


def _s3_client(request: pytest.FixtureRequest) -> Any:
    import boto3
    from botocore.config import Config

    aws = request.getfixturevalue("aws")  # moto, only for the backends that need it
    client = boto3.client("s3", endpoint_url=aws.url, config=Config(signature_version="s3v4"))
    client.create_bucket(Bucket="catalog-assets")
    return client


def s3_presigned_assets(request: pytest.FixtureRequest, folder: Path) -> AssetBackend:
    from catalog.adapters.aws.s3_assets import S3AssetStore

    store = S3AssetStore(_s3_client(request), "catalog-assets")

    def fetch(url: str) -> tuple[bytes, str] | None:
        response = httpx.get(url)
        if response.status_code != 200:
            return None
        return response.content, response.headers["content-type"]

    return AssetBackend(store, fetch, http_upload, refuses_closed_tickets=False)


def s3_cdn_assets(request: pytest.FixtureRequest, folder: Path) -> AssetBackend:
    from botocore.exceptions import ClientError

    from catalog.adapters.aws.s3_assets import S3AssetStore

    client = _s3_client(request)
    base_url = "https://cdn.example.test/catalog"
    store = S3AssetStore(client, "catalog-assets", base_url=base_url)

    def fetch(url: str) -> tuple[bytes, str] | None:
        # What the CDN would serve: the bucket's object under the URL's path.
        key = unquote(url.removeprefix(base_url + "/"))
        try:
            stored = client.get_object(Bucket="catalog-assets", Key=key)
        except ClientError:
            return None
        return stored["Body"].read(), stored["ContentType"]

    return AssetBackend(store, fetch, http_upload, refuses_closed_tickets=False)


ASSET_BACKENDS: dict[str, Callable[[pytest.FixtureRequest, Path], AssetBackend]] = {
    "memory": memory_assets,
    "local": local_assets,
    "s3": s3_presigned_assets,
    "s3-cdn": s3_cdn_assets,
}


@pytest.fixture(params=list(ASSET_BACKENDS))
def assets(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[AssetBackend]:
    yield ASSET_BACKENDS[request.param](request, tmp_path)


def test_put_bytes_are_served_at_the_url(assets):
    assets.store.put(KEY, b"\x89PNG-bytes", "image/png")

    assert assets.fetch(assets.store.url_for(KEY)) == (b"\x89PNG-bytes", "image/png")


def test_put_again_replaces_the_object(assets):
    assets.store.put(KEY, b"first", "image/png")
    assets.store.put(KEY, b"second", "image/png")

    assert assets.fetch(assets.store.url_for(KEY)) == (b"second", "image/png")


def test_delete_stops_serving_and_can_be_repeated(assets):
    assets.store.put(KEY, b"bytes", "image/png")
    url = assets.store.url_for(KEY)

    assets.store.delete(KEY)
    assets.store.delete(KEY)

    assert assets.fetch(url) is None


def test_url_is_computed_without_storage_and_is_stable(assets):
    # Nothing was ever stored: a URL is still computed, the same twice, serving nothing yet.
    first = assets.store.url_for(KEY)
    assert first == assets.store.url_for(KEY)
    assert assets.fetch(first) is None


def test_objects_are_independent(assets):
    other = KEY.replace(".png", "-b.png")
    assets.store.put(KEY, b"a", "image/png")
    assets.store.put(other, b"b", "image/png")

    assets.store.delete(KEY)

    assert assets.fetch(assets.store.url_for(other)) == (b"b", "image/png")


STAGED = "uploads/acme/01JDX5Q0A1B2C3D4E5F6G7H8J9/01JDX5Q3W8B5Y8Q9N2K7M4R6TZ"


def test_a_ticket_lets_a_client_store_one_object_under_its_key(assets):
    url, fields = assets.store.presign_upload(STAGED, "image/png", 1000, 900)

    assert assets.upload(url, fields, b"\x89PNG-uploaded")

    assert assets.store.read(STAGED, 1000) == b"\x89PNG-uploaded"


def test_read_is_bounded_and_none_without_an_object(assets):
    assets.store.put(KEY, b"0123456789", "image/png")

    assert assets.store.read(KEY, 100) == b"0123456789"
    assert assets.store.read(KEY, 3) == b"0123"
    assert assets.store.read(KEY.replace(".png", "-missing.png"), 100) is None


def test_closing_an_upload_removes_its_object_and_marks_it_closed(assets):
    other = STAGED[:-1] + "A"
    for key in (STAGED, other):
        url, fields = assets.store.presign_upload(key, "image/png", 1000, 900)
        assert assets.upload(url, fields, b"\x89PNG-uploaded")

    assets.store.close_upload(STAGED)
    assets.store.close_upload(STAGED)  # idempotent

    assert assets.store.read(STAGED, 1000) is None
    assert assets.store.upload_closed(STAGED)
    assert not assets.store.upload_closed(other)
    assert assets.store.read(other, 1000) == b"\x89PNG-uploaded"


def test_a_closed_ticket_is_refused_where_the_storage_can_and_stays_closed(assets):
    url, fields = assets.store.presign_upload(STAGED, "image/png", 1000, 900)
    assets.store.close_upload(STAGED)

    accepted = assets.upload(url, fields, b"\x89PNG-again")

    assert accepted is not assets.refuses_closed_tickets
    # Either way the catalog knows never to confirm it (service/uploads.py).
    assert assets.store.upload_closed(STAGED)
