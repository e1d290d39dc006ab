"""Direct uploads: POST .../images/uploads (ticket), the upload itself, POST .../confirm.

Runs over every storage backend and three asset stores: the embedded one (the ticket is a
signed form POST to this server's /assets), S3 on moto (a presigned POST, which cannot be
revoked) and the in-memory reference (the upload is made through its test helper, standing
in for the storage's own endpoint). moto does not enforce presigned POST policies: what S3
would is checked in tests/aws/test_s3_assets.py.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from msgspec.structs import replace

from catalog.adapters.aws.s3_assets import S3AssetStore
from catalog.adapters.embedded.local_assets import LocalAssetStore
from catalog.adapters.memory.assets import MemoryAssetStore
from catalog.bootstrap import Container
from catalog.domain import limits
from catalog.service.uploads import staging_key
from tests.api.conftest import ASSET_BASE_URL
from tests.api.support import Api, assert_problem, error_fields, png
from tests.assets.images import png_header_only
from tests.clocks import NOON, ManualSecondsClock

Assets = MemoryAssetStore | LocalAssetStore | S3AssetStore
BUCKET = "catalog-assets"


@pytest.fixture
def clock() -> ManualSecondsClock:
    return ManualSecondsClock(NOON)


@pytest.fixture(params=["local", "memory", "s3"])
def assets(request: pytest.FixtureRequest, tmp_path: Path, clock: ManualSecondsClock) -> Assets:
    if request.param == "memory":
        return MemoryAssetStore(ASSET_BASE_URL)
    if request.param == "s3":
        import boto3
        from botocore.config import Config

        aws = request.getfixturevalue("aws")
        s3 = boto3.client("s3", endpoint_url=aws.url, config=Config(signature_version="s3v4"))
        s3.create_bucket(Bucket=BUCKET)
        return S3AssetStore(s3, BUCKET)
    # TestClient's own origin, so ticket and image URLs can be followed as they are.
    return LocalAssetStore(tmp_path / "assets", "http://testserver", b"k" * 32, clock)


@pytest.fixture
def container(container: Container, assets: Assets) -> Container:
    local = assets if isinstance(assets, LocalAssetStore) else None
    return replace(container, local_assets=local)


@pytest.fixture
def product(acme: Api) -> dict[str, Any]:
    return acme.create_ok()


@pytest.fixture
def send(client: TestClient, assets: Assets) -> Callable[[dict[str, Any], bytes], bool]:
    """What the client does with a ticket: POST the form to the storage. True if stored."""

    def upload(ticket: dict[str, Any], data: bytes) -> bool:
        if isinstance(assets, MemoryAssetStore):
            return assets.receive_upload(ticket["url"], ticket["fields"], data)
        if isinstance(assets, S3AssetStore):
            stored = httpx.post(ticket["url"], data=ticket["fields"], files={"file": data})
            return stored.status_code == 204
        response = client.post(
            ticket["url"], data=ticket["fields"], files={"file": ("photo", data, "image/png")}
        )
        assert response.status_code in (204, 400, 403, 413), response.text
        return response.status_code == 204

    return upload


def ticket_for(acme: Api, product_id: str, **body: Any) -> Any:
    payload = {"content_type": "image/png", "size": 50_000, **body}
    return acme.client.post(
        f"{acme.product_url(product_id)}/images/uploads", json=payload, headers=acme.headers
    )


def new_ticket(acme: Api, product_id: str, **body: Any) -> dict[str, Any]:
    response = ticket_for(acme, product_id, **body)
    assert response.status_code == 201, response.text
    ticket: dict[str, Any] = response.json()
    return ticket


def confirm(acme: Api, product_id: str, upload_id: str, body: Any = None, **headers: str) -> Any:
    return acme.client.post(
        f"{acme.product_url(product_id)}/images/uploads/{upload_id}/confirm",
        json=body,
        headers={**acme.headers, **headers},
    )


def fetch(client: TestClient, assets: Assets, url: str) -> bytes | None:
    if isinstance(assets, MemoryAssetStore):
        stored = assets.get_by_url(url)
        return stored.data if stored else None
    response = httpx.get(url) if isinstance(assets, S3AssetStore) else client.get(url)
    return response.content if response.status_code == 200 else None


def test_ticket_upload_and_confirmation_add_the_image(acme, product, send, client, assets, events):
    data = png((64, 48))

    response = ticket_for(acme, product["id"], size=len(data))
    assert response.status_code == 201, response.text
    assert response.headers["cache-control"] == "no-store"
    ticket = response.json()
    assert set(ticket) == {"upload_id", "url", "fields", "expires_at", "max_bytes", "confirm_url"}
    assert ticket["max_bytes"] == len(data)
    assert acme.get(product["id"]).json()["version"] == 1  # a ticket changes nothing

    assert send(ticket, data)
    confirmed = acme.client.post(
        ticket["confirm_url"], json={"alt": "Top view"}, headers=acme.headers
    )

    assert confirmed.status_code == 201, confirmed.text
    assert confirmed.headers["etag"] == '"2"'
    [image] = confirmed.json()["images"]
    assert image["id"] == ticket["upload_id"]
    assert image["content_type"] == "image/png"
    assert (image["width"], image["height"], image["bytes"]) == (64, 48, len(data))
    assert image["alt"] == "Top view"
    assert fetch(client, assets, image["url"]) == data
    staged = staging_key("acme", product["id"], ticket["upload_id"])
    assert assets.read(staged, 100) is None  # moved to its final key
    assert [e.name.value for e in events()] == ["ProductCreated", "ProductUpdated"]
    assert acme.get(product["id"]).json() == confirmed.json()


@pytest.mark.parametrize("assets", ["local", "memory"], indirect=True)  # moto takes all
def test_the_storage_takes_only_what_the_ticket_allows(acme, product, send, assets):
    ticket = new_ticket(acme, product["id"], size=100)
    staged = staging_key("acme", product["id"], ticket["upload_id"])

    assert not send(ticket, b"x" * 101)
    assert not send(ticket, b"")
    other_key = {**ticket, "fields": {**ticket["fields"], "key": staged + "x"}}
    assert not send(other_key, b"x" * 10)
    other_type = {**ticket, "fields": {**ticket["fields"], "Content-Type": "text/html"}}
    assert not send(other_type, b"x" * 10)

    assert assets.read(staged, 1000) is None
    assert assets.read(staged + "x", 1000) is None


STORAGE_UNTOUCHED = pytest.mark.parametrize("assets", ["memory"], indirect=True)


@STORAGE_UNTOUCHED
@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"content_type": "image/svg+xml"}, "/content_type"),
        ({"content_type": "text/html"}, "/content_type"),
        ({"size": 0}, "/size"),
        ({"size": limits.MAX_IMAGE_BYTES + 1}, "/size"),
        ({"size": "100"}, "/size"),
        ({"extra": 1}, "/extra"),
    ],
)
def test_a_ticket_needs_an_accepted_type_and_size(acme, product, body, field):
    problem = assert_problem(ticket_for(acme, product["id"], **body), 422)
    assert field in error_fields(problem)


@STORAGE_UNTOUCHED
def test_tickets_follow_the_product_rules(acme, globex, product):
    assert_problem(ticket_for(globex.as_merchant("acme"), product["id"]), 404)
    assert_problem(ticket_for(acme, "01JDX5Q0A1B2C3D4E5F6G7H8J9"), 404)
    assert acme.delete(product["id"]).status_code == 200
    assert_problem(ticket_for(acme, product["id"]), 409)


@pytest.mark.parametrize(
    "data",
    [b"<svg xmlns='http://www.w3.org/2000/svg'/>", png()[:40], b"plain text"],
    ids=["svg", "truncated-png", "text"],
)
def test_a_confirmed_upload_that_is_not_an_image_is_415_and_deleted(
    acme, product, send, assets, events, data
):
    ticket = new_ticket(acme, product["id"])
    assert send(ticket, data)

    assert_problem(confirm(acme, product["id"], ticket["upload_id"]), 415)

    assert assets.read(staging_key("acme", product["id"], ticket["upload_id"]), 100) is None
    assert acme.get(product["id"]).json()["images"] == []
    assert [e.name.value for e in events()] == ["ProductCreated"]


def test_a_confirmed_upload_over_the_pixel_limit_is_413_and_deleted(
    acme, product, send, assets, events
):
    ticket = new_ticket(acme, product["id"])
    assert send(ticket, png_header_only(8_000, 8_000))  # 64 MP in a few hundred bytes

    problem = assert_problem(confirm(acme, product["id"], ticket["upload_id"]), 413)

    assert problem["type"] == "/problems/content-too-large"
    assert assets.read(staging_key("acme", product["id"], ticket["upload_id"]), 100) is None
    assert acme.get(product["id"]).json()["images"] == []
    assert [e.name.value for e in events()] == ["ProductCreated"]


def test_confirming_without_an_upload_is_404(acme, product):
    ticket = new_ticket(acme, product["id"])

    assert_problem(confirm(acme, product["id"], ticket["upload_id"]), 404)
    assert_problem(confirm(acme, product["id"], "not-a-ulid"), 404)


def test_a_repeated_confirmation_returns_the_product_unchanged(acme, product, send, assets, events):
    ticket = new_ticket(acme, product["id"])
    assert send(ticket, png())
    first = confirm(acme, product["id"], ticket["upload_id"], {"alt": "Side"})
    assert first.status_code == 201, first.text
    # Only S3 takes another upload with the ticket; the repeat removes it unconfirmed.
    assert send(ticket, png((9, 9))) is isinstance(assets, S3AssetStore)

    again = confirm(acme, product["id"], ticket["upload_id"], {"alt": "Side"})

    assert again.status_code == 201
    assert again.json() == first.json()
    assert assets.read(staging_key("acme", product["id"], ticket["upload_id"]), 100) is None
    assert [e.name.value for e in events()] == ["ProductCreated", "ProductUpdated"]


def test_a_confirmation_repeated_with_another_body_is_409(acme, product, send):
    ticket = new_ticket(acme, product["id"])
    assert send(ticket, png())
    first = confirm(acme, product["id"], ticket["upload_id"], {"alt": "Side"})
    assert first.status_code == 201, first.text

    problem = assert_problem(confirm(acme, product["id"], ticket["upload_id"], {"alt": "Top"}), 409)

    assert problem["type"] == "/problems/upload-used"
    assert acme.get(product["id"]).json() == first.json()


def test_an_upload_after_confirmation_is_never_confirmed(acme, product, send, assets, events):
    ticket = new_ticket(acme, product["id"])
    staged = staging_key("acme", product["id"], ticket["upload_id"])
    assert send(ticket, png())
    assert confirm(acme, product["id"], ticket["upload_id"]).status_code == 201
    # The storage refuses the used ticket, except S3 (a presigned POST cannot be revoked).
    assert send(ticket, png((9, 9))) is isinstance(assets, S3AssetStore)
    assert acme.delete_image(product["id"], ticket["upload_id"]).status_code == 200

    problem = assert_problem(confirm(acme, product["id"], ticket["upload_id"]), 409)

    assert problem["type"] == "/problems/upload-used"
    assert assets.read(staged, 100) is None
    assert acme.get(product["id"]).json()["images"] == []
    assert [e.name.value for e in events()].count("ProductUpdated") == 2  # added, removed


def test_a_rejected_ticket_is_used_up(acme, product, send, assets, events):
    ticket = new_ticket(acme, product["id"])
    staged = staging_key("acme", product["id"], ticket["upload_id"])
    assert send(ticket, b"plain text")
    assert_problem(confirm(acme, product["id"], ticket["upload_id"]), 415)

    # A good image with the same ticket: refused by the storage, or (S3) by the confirmation.
    assert send(ticket, png()) is isinstance(assets, S3AssetStore)
    problem = assert_problem(confirm(acme, product["id"], ticket["upload_id"]), 409)

    assert problem["type"] == "/problems/upload-used"
    assert assets.read(staged, 100) is None
    assert acme.get(product["id"]).json()["images"] == []
    assert [e.name.value for e in events()] == ["ProductCreated"]


def test_a_stale_if_match_is_412_and_the_upload_can_be_confirmed_later(acme, product, send):
    ticket = new_ticket(acme, product["id"])
    assert send(ticket, png())

    assert_problem(confirm(acme, product["id"], ticket["upload_id"], **{"If-Match": '"7"'}), 412)
    assert acme.get(product["id"]).json()["images"] == []

    retried = confirm(acme, product["id"], ticket["upload_id"], **{"If-Match": '"1"'})
    assert retried.status_code == 201, retried.text
    assert len(retried.json()["images"]) == 1


def test_confirmation_body_is_checked(acme, product, send):
    ticket = new_ticket(acme, product["id"])
    assert send(ticket, png())

    problem = assert_problem(confirm(acme, product["id"], ticket["upload_id"], {"alt": 5}), 422)
    assert "/alt" in error_fields(problem)


# ---------------------------------------------------------------------- embedded /assets


@pytest.mark.parametrize("assets", ["local"], indirect=True)
def test_the_local_upload_refuses_a_tampered_or_expired_ticket(acme, product, client, clock):
    ticket = new_ticket(acme, product["id"])
    fields = ticket["fields"]
    file = {"file": ("photo.png", png(), "image/png")}

    signature = fields["signature"]
    tail = "AB" if signature.endswith("AA") else "AA"  # always another signature
    forged = {**fields, "signature": signature[:-2] + tail}
    assert_problem(client.post(ticket["url"], data=forged, files=file), 403)
    bigger = client.post(ticket["url"], data=fields, files={"file": ("p", b"x" * 50_001)})
    assert_problem(bigger, 413)
    assert_problem(client.post(ticket["url"], json=fields), 400)

    clock.now += 15 * 60 + 1
    assert_problem(client.post(ticket["url"], data=fields, files=file), 403)


@pytest.mark.parametrize("assets", ["local"], indirect=True)
def test_the_local_upload_refuses_a_used_ticket(acme, product, client, send):
    ticket = new_ticket(acme, product["id"])
    assert send(ticket, png())
    assert confirm(acme, product["id"], ticket["upload_id"]).status_code == 201

    again = client.post(
        ticket["url"], data=ticket["fields"], files={"file": ("photo.png", png(), "image/png")}
    )

    problem = assert_problem(again, 403)
    assert problem["type"] == "/problems/upload-refused"
    assert "already used" in problem["detail"]
