"""PATCH .../images/{image_id}: a merge patch of one image's alt text."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from catalog.domain import limits
from tests.api.support import Api, assert_problem, error_fields, png

UNKNOWN_IMAGE = "01JD8X6B2Q3R4S5T6V7W8X9Y0Z"


@pytest.fixture
def product(acme: Api) -> dict[str, Any]:
    """A product with two images, the second one described."""
    created = acme.create_ok()
    assert acme.upload(created["id"], png((10, 10))).status_code == 201
    uploaded = acme.upload(created["id"], png((20, 10)), alt="Front")
    assert uploaded.status_code == 201, uploaded.text
    view: dict[str, Any] = uploaded.json()
    return view


def patch_image(
    api: Api,
    product_id: str,
    image_id: str,
    body: Any,
    if_match: str | None = None,
    content_type: str = "application/merge-patch+json",
) -> httpx.Response:
    headers = {**api.headers, "Content-Type": content_type}
    if if_match is not None:
        headers["If-Match"] = if_match
    url = f"{api.product_url(product_id)}/images/{image_id}"
    return api.client.patch(url, content=json.dumps(body), headers=headers)


def alts(view: dict[str, Any]) -> list[str | None]:
    return [image["alt"] for image in view["images"]]


def test_an_image_gets_a_new_alt_text_in_a_new_version(acme: Api, product: dict[str, Any]) -> None:
    image = product["images"][1]["id"]

    response = patch_image(acme, product["id"], image, {"alt": "Side view"}, if_match='"3"')

    assert response.status_code == 200, response.text
    assert response.headers["etag"] == '"4"'
    view = response.json()
    assert view["version"] == 4
    assert alts(view) == [None, "Side view"]
    assert acme.get(product["id"]).json() == view


def test_json_is_accepted_as_well_as_merge_patch(acme: Api, product: dict[str, Any]) -> None:
    image = product["images"][0]["id"]
    response = patch_image(
        acme, product["id"], image, {"alt": "Back"}, content_type="application/json"
    )
    assert response.status_code == 200, response.text
    assert alts(response.json()) == ["Back", "Front"]


@pytest.mark.parametrize("cleared", [None, ""], ids=["null", "empty"])
def test_null_or_an_empty_text_removes_the_alt(
    acme: Api, product: dict[str, Any], cleared: str | None
) -> None:
    image = product["images"][1]["id"]
    response = patch_image(acme, product["id"], image, {"alt": cleared})
    assert response.status_code == 200, response.text
    assert alts(response.json()) == [None, None]
    assert response.json()["version"] == 4


@pytest.mark.parametrize("body", [{"alt": "Front"}, {}], ids=["same-text", "empty-patch"])
def test_a_patch_that_changes_nothing_makes_no_version_and_no_event(
    acme: Api, product: dict[str, Any], events: Callable[[], list[Any]], body: dict[str, Any]
) -> None:
    before = len(events())
    image = product["images"][1]["id"]

    response = patch_image(acme, product["id"], image, body, if_match='"3"')

    assert response.status_code == 200, response.text
    assert response.headers["etag"] == '"3"'
    assert response.json() == product
    assert len(events()) == before
    assert acme.history(product["id"]).json()["items"][0]["version"] == 3


def test_the_change_is_in_history_and_one_product_updated_event(
    acme: Api, product: dict[str, Any], events: Callable[[], list[Any]]
) -> None:
    before = len(events())
    image = product["images"][1]["id"]

    assert patch_image(acme, product["id"], image, {"alt": "Side view"}).status_code == 200

    latest = acme.history(product["id"]).json()["items"][0]
    assert latest["version"] == 4
    assert latest["actor"] == "acme-user"
    assert latest["changes"] == [
        {"field": f"/images/{image}/alt", "old": "Front", "new": "Side view"}
    ]
    assert latest["events"] == ["ProductUpdated"]
    [event] = events()[before:]
    assert (event.name.value, event.product_id, event.version) == (
        "ProductUpdated",
        product["id"],
        4,
    )
    assert event.data["changed_fields"] == [f"/images/{image}/alt"]


def test_an_alt_over_the_limit_is_422_naming_alt(acme: Api, product: dict[str, Any]) -> None:
    image = product["images"][0]["id"]
    too_long = "a" * (limits.MAX_ALT_LENGTH + 1)

    response = patch_image(acme, product["id"], image, {"alt": too_long})

    assert error_fields(assert_problem(response, 422)) == ["/alt"]
    assert acme.get(product["id"]).json() == product


def test_an_alt_at_the_limit_is_taken(acme: Api, product: dict[str, Any]) -> None:
    image = product["images"][0]["id"]
    longest = "a" * limits.MAX_ALT_LENGTH
    response = patch_image(acme, product["id"], image, {"alt": longest})
    assert response.status_code == 200, response.text
    assert alts(response.json())[0] == longest


@pytest.mark.parametrize(
    ("body", "pointers"),
    [({"alt": 7}, ["/alt"]), ({"url": "x"}, ["/url"]), (["alt"], ["/"])],
    ids=["not-text", "unknown-field", "not-an-object"],
)
def test_a_patch_the_image_cannot_take_is_422(
    acme: Api, product: dict[str, Any], body: Any, pointers: list[str]
) -> None:
    image = product["images"][0]["id"]
    response = patch_image(acme, product["id"], image, body)
    assert error_fields(assert_problem(response, 422)) == pointers


def test_an_image_the_product_does_not_have_is_404(acme: Api, product: dict[str, Any]) -> None:
    for image in (UNKNOWN_IMAGE, "not-an-id"):
        response = patch_image(acme, product["id"], image, {"alt": "x"})
        assert_problem(response, 404)
    other = acme.create_with_image({"sku": "OTHER-1", "name": "Other"})
    response = patch_image(acme, product["id"], other["images"][0]["id"], {"alt": "x"})
    assert_problem(response, 404)


def test_another_merchants_image_is_404(acme: Api, globex: Api, product: dict[str, Any]) -> None:
    image = product["images"][0]["id"]
    as_globex = patch_image(globex.as_merchant("acme"), product["id"], image, {"alt": "x"})
    assert_problem(as_globex, 404)
    in_globex = patch_image(globex, product["id"], image, {"alt": "x"})
    assert_problem(in_globex, 404)
    assert acme.get(product["id"]).json() == product


def test_a_stale_if_match_is_412_and_changes_nothing(acme: Api, product: dict[str, Any]) -> None:
    image = product["images"][0]["id"]

    response = patch_image(acme, product["id"], image, {"alt": "x"}, if_match='"2"')

    assert_problem(response, 412)
    assert acme.get(product["id"]).json() == product


def test_an_inactive_product_keeps_its_alt_texts(acme: Api, product: dict[str, Any]) -> None:
    assert acme.delete(product["id"]).status_code == 200
    response = patch_image(acme, product["id"], product["images"][0]["id"], {"alt": "x"})
    assert_problem(response, 409)
