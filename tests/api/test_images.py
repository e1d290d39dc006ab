"""POST .../images (multipart upload) and DELETE .../images/{image_id}."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from msgspec.structs import replace

from catalog.adapters.embedded.local_assets import LocalAssetStore
from catalog.adapters.memory.assets import MemoryAssetStore
from catalog.bootstrap import Container
from catalog.domain import limits
from catalog.entrypoints.api.app import create_app
from tests.api.support import Api, assert_problem, error_fields, png
from tests.assets.images import png_header_only

SVG = (
    b'<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10">'
    b"<script>alert(1)</script></svg>"
)


@pytest.fixture
def product(acme: Api) -> dict[str, Any]:
    return acme.create_ok()


def test_upload_stores_the_bytes_and_references_them(
    acme: Api, product: dict[str, Any], assets: MemoryAssetStore
) -> None:
    data = png((40, 30))
    response = acme.upload(product["id"], data, alt="Side view")

    assert response.status_code == 201, response.text
    assert response.headers["etag"] == '"2"'
    view = response.json()
    [image] = view["images"]
    assert set(image) == {"id", "url", "content_type", "width", "height", "bytes", "alt"}
    assert image["content_type"] == "image/png"
    assert (image["width"], image["height"]) == (40, 30)
    assert image["bytes"] == len(data)
    assert image["alt"] == "Side view"
    stored = assets.get_by_url(image["url"])
    assert stored is not None
    assert stored.data == data
    assert stored.content_type == "image/png"
    assert acme.get(product["id"]).json() == view


def test_the_type_comes_from_the_bytes_not_the_declared_type(
    acme: Api, product: dict[str, Any]
) -> None:
    response = acme.upload(product["id"], png(), filename="photo.jpg", content_type="image/jpeg")
    assert response.json()["images"][0]["content_type"] == "image/png"


@pytest.mark.parametrize(
    ("data", "filename", "content_type"),
    [
        (b"just some text, not an image", "notes.txt", "text/plain"),
        (SVG, "logo.svg", "image/svg+xml"),
        (SVG, "logo.png", "image/png"),  # a renamed SVG is still an SVG
        (png()[:40], "cut.png", "image/png"),  # truncated
        (b"%PDF-1.4\n%...", "doc.pdf", "application/pdf"),
    ],
    ids=["text", "svg", "svg-named-png", "truncated-png", "pdf"],
)
def test_non_images_are_415_and_nothing_is_stored(
    acme: Api,
    product: dict[str, Any],
    assets: MemoryAssetStore,
    events: Callable[[], list[Any]],
    data: bytes,
    filename: str,
    content_type: str,
) -> None:
    problem = assert_problem(acme.upload(product["id"], data, filename, content_type), 415)
    assert problem["type"] == "/problems/unsupported-image"
    assert assets.keys() == []
    assert acme.get(product["id"]).json()["images"] == []
    assert len(events()) == 1


def test_empty_file_is_422(acme: Api, product: dict[str, Any]) -> None:
    problem = assert_problem(acme.upload(product["id"], b""), 422)
    assert error_fields(problem) == ["/file"]


def test_image_over_the_limit_is_413(
    acme: Api, product: dict[str, Any], assets: MemoryAssetStore
) -> None:
    data = png() + b"\0" * limits.MAX_IMAGE_BYTES
    problem = assert_problem(acme.upload(product["id"], data), 413)
    assert problem["type"] == "/problems/content-too-large"
    assert assets.keys() == []


@pytest.mark.parametrize(
    ("width", "height"), [(8_000, 8_000), (30_000, 30_000)], ids=["64-MP", "900-MP"]
)
def test_image_over_the_pixel_limit_is_413_and_nothing_is_stored(
    acme: Api,
    product: dict[str, Any],
    assets: MemoryAssetStore,
    events: Callable[[], list[Any]],
    width: int,
    height: int,
) -> None:
    # A few hundred bytes that declare more pixels than the catalog accepts: a
    # supported image, too large, so 413 (not 415, which would tell the client to convert it).
    problem = assert_problem(acme.upload(product["id"], png_header_only(width, height)), 413)

    assert problem["type"] == "/problems/content-too-large"
    assert "pixels" in problem["detail"]
    assert assets.keys() == []
    assert acme.get(product["id"]).json()["images"] == []
    assert len(events()) == 1


def test_image_just_over_the_limit_within_the_request_allowance_is_413(
    acme: Api, product: dict[str, Any]
) -> None:
    # The request body limit leaves room for the multipart framing; the file itself is
    # checked against MAX_IMAGE_BYTES exactly.
    data = b"\x89PNG" + b"\0" * (limits.MAX_IMAGE_BYTES - 3)
    assert_problem(acme.upload(product["id"], data), 413)


def test_upload_without_a_file_part_is_422(acme: Api, product: dict[str, Any]) -> None:
    response = acme.client.post(
        f"{acme.product_url(product['id'])}/images",
        data={"alt": "no file"},
        files={"other": ("x.png", png(), "image/png")},
        headers=acme.headers,
    )
    problem = assert_problem(response, 422)
    assert error_fields(problem) == ["/file"]


def test_upload_that_is_not_multipart_is_415(acme: Api, product: dict[str, Any]) -> None:
    response = acme.client.post(
        f"{acme.product_url(product['id'])}/images",
        content=png(),
        headers={**acme.headers, "Content-Type": "image/png"},
    )
    assert_problem(response, 415)


def test_alt_text_over_the_limit_is_422(acme: Api, product: dict[str, Any]) -> None:
    problem = assert_problem(acme.upload(product["id"], png(), alt="a" * 501), 422)
    assert error_fields(problem) == ["/alt"]


def test_twenty_first_image_is_422(
    acme: Api, product: dict[str, Any], assets: MemoryAssetStore
) -> None:
    for i in range(limits.MAX_IMAGES):
        assert acme.upload(product["id"], png((4, 4 + i))).status_code == 201
    problem = assert_problem(acme.upload(product["id"], png((5, 5))), 422)
    assert error_fields(problem) == ["/images"]
    assert len(acme.get(product["id"]).json()["images"]) == limits.MAX_IMAGES
    assert len(assets.keys()) == limits.MAX_IMAGES  # the rejected upload was not kept


def test_upload_to_unknown_product_is_404_and_stores_nothing(
    acme: Api, assets: MemoryAssetStore
) -> None:
    assert_problem(acme.upload("01JD0000000000000000000000", png()), 404)
    assert assets.keys() == []


def test_delete_image_removes_the_reference_and_the_bytes(
    acme: Api, product: dict[str, Any], assets: MemoryAssetStore
) -> None:
    first = acme.upload(product["id"], png((4, 4))).json()["images"][0]
    second = acme.upload(product["id"], png((6, 6))).json()["images"][1]

    response = acme.delete_image(product["id"], first["id"])
    assert response.status_code == 200
    assert response.headers["etag"] == '"4"'
    assert [image["id"] for image in response.json()["images"]] == [second["id"]]
    assert assets.get_by_url(first["url"]) is None
    assert assets.get_by_url(second["url"]) is not None

    gone = assert_problem(acme.delete_image(product["id"], first["id"]), 404)
    assert gone["type"] == "/problems/not-found"


def test_delete_of_malformed_image_id_is_404(acme: Api, product: dict[str, Any]) -> None:
    assert_problem(acme.delete_image(product["id"], "nope"), 404)


def test_upload_honours_if_match(acme: Api, product: dict[str, Any]) -> None:
    acme.patch(product["id"], {"name": "Renamed"})
    response = acme.client.post(
        f"{acme.product_url(product['id'])}/images",
        files={"file": ("a.png", png(), "image/png")},
        headers={**acme.headers, "If-Match": '"1"'},
    )
    assert_problem(response, 412)


def test_embedded_deployment_serves_uploaded_images_itself(
    container: Container, acme: Api, tmp_path: Path
) -> None:
    local = LocalAssetStore(tmp_path / "assets", "http://testserver", b"asset-signing-key")
    embedded = replace(container, ctx=replace(container.ctx, assets=local), local_assets=local)
    token = acme.headers["Authorization"].removeprefix("Bearer ")
    with TestClient(create_app(embedded)) as client:
        api = Api(client, token, "acme")
        product = api.create_ok()
        data = png((9, 9))
        [image] = api.upload(product["id"], data).json()["images"]
        served = client.get(image["url"])  # no token: the signed URL is the capability
        assert served.status_code == 200
        assert served.content == data
        assert served.headers["content-type"] == "image/png"


def test_a_retried_upload_with_its_idempotency_key_adds_the_image_once(
    acme: Api, product: dict[str, Any], assets: MemoryAssetStore, events: Callable[[], list[Any]]
) -> None:
    key = {"Idempotency-Key": "upload-1"}
    first = acme.upload(product["id"], png((40, 30)), alt="Side", headers=key)
    retry = acme.upload(product["id"], png((40, 30)), alt="Side", headers=key)

    assert (first.status_code, retry.status_code) == (201, 201)
    assert retry.headers["idempotent-replayed"] == "true"
    assert "idempotent-replayed" not in first.headers
    assert retry.json() == first.json()
    assert len(acme.get(product["id"]).json()["images"]) == 1
    assert len(assets.keys()) == 1
    assert [e.name.value for e in events()].count("ProductUpdated") == 1


def test_an_upload_key_reused_for_other_bytes_is_422_and_stores_nothing(
    acme: Api, product: dict[str, Any], assets: MemoryAssetStore
) -> None:
    key = {"Idempotency-Key": "upload-2"}
    assert acme.upload(product["id"], png((40, 30)), headers=key).status_code == 201

    other = acme.upload(product["id"], png((41, 30)), headers=key)

    assert_problem(other, 422)
    assert len(acme.get(product["id"]).json()["images"]) == 1
    assert len(assets.keys()) == 1
