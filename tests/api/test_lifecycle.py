"""Status changes through the API: READY, DRAFT, INACTIVE (DELETE) and reactivation."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from catalog.domain.events import EventName
from catalog.domain.history import HistoryEntry, StatusTransition
from catalog.domain.lifecycle import Status
from catalog.domain.listing import Listing, ListingState
from catalog.service.ports import Change
from tests.api.conftest import T0, CatalogStore
from tests.api.support import Api, assert_problem, complete_body, png, product_body


@pytest.fixture
def complete(acme: Api) -> dict[str, Any]:
    """A complete DRAFT product (with an image), at version 2."""
    created = acme.create_ok(complete_body())
    response = acme.upload(created["id"], png())
    assert response.status_code == 201, response.text
    view: dict[str, Any] = response.json()
    return view


def test_ready_without_images_is_422_listing_what_is_missing(acme: Api) -> None:
    created = acme.create_ok(product_body())
    problem = assert_problem(acme.set_status(created["id"], "READY"), 422)
    assert problem["type"] == "/problems/product-incomplete"
    assert problem["missing"] == ["/description", "/price", "/images"]
    assert acme.get(created["id"]).json()["status"] == "DRAFT"


def test_ready_after_uploading_an_image(
    acme: Api, complete: dict[str, Any], events: Callable[[], list[Any]]
) -> None:
    response = acme.set_status(complete["id"], "READY", reason="approved by catalog team")
    assert response.status_code == 200
    assert response.headers["etag"] == '"3"'
    assert response.json()["status"] == "READY"
    assert response.json()["version"] == 3
    last = events()[-1]
    assert last.name is EventName.PRODUCT_STATUS_CHANGED
    assert last.data["to_status"] == "READY"


def test_requesting_the_current_status_changes_nothing(
    acme: Api, complete: dict[str, Any], events: Callable[[], list[Any]]
) -> None:
    acme.set_status(complete["id"], "READY")
    before = len(events())
    again = acme.set_status(complete["id"], "READY")
    assert again.status_code == 200
    assert again.json()["version"] == 3
    assert len(events()) == before


def publish_directly(store: CatalogStore, merchant_id: str, product_id: str) -> None:
    """Make a READY product ACTIVE the way a confirmed listing does, straight in the store
    (the publication use cases are not part of this API surface)."""
    product = store.get(merchant_id, product_id)
    assert product is not None and product.status is Status.READY
    product.listings = {
        "x": Listing(
            state=ListingState.PUBLISHED,
            updated_at=T0,
            requested_version=product.version,
            external_id="X-123",
            external_url="https://x.example/items/X-123",
        )
    }
    product.status = Status.ACTIVE
    product.version += 1
    entry = HistoryEntry(
        product_id=product.id,
        version=product.version,
        actor="x-adapter",
        at=T0,
        transition=StatusTransition("READY", "ACTIVE", "published on x"),
    )
    store.commit(Change(product, product.version - 1, entry, ()))


def test_listings_appear_in_the_view(
    acme: Api, complete: dict[str, Any], backend: CatalogStore
) -> None:
    acme.set_status(complete["id"], "READY")
    publish_directly(backend, "acme", complete["id"])
    view = acme.get(complete["id"]).json()
    assert view["status"] == "ACTIVE"
    assert view["listings"] == {
        "x": {
            "state": "PUBLISHED",
            "external_id": "X-123",
            "external_url": "https://x.example/items/X-123",
            "message": None,
            "updated_at": "2026-11-30T12:00:00.000Z",
        }
    }


@pytest.mark.parametrize(
    ("path", "target"),
    [
        (["INACTIVE"], "READY"),  # reactivation goes through DRAFT
        (["READY", "ACTIVE"], "DRAFT"),  # a published product is unpublished first
        (["READY", "ACTIVE"], "READY"),  # READY follows from the last unpublication only
    ],
)
def test_forbidden_transition_is_409_naming_the_current_status(
    acme: Api, complete: dict[str, Any], backend: CatalogStore, path: list[str], target: str
) -> None:
    for status in path:
        if status == "ACTIVE":
            publish_directly(backend, "acme", complete["id"])
        else:
            assert acme.set_status(complete["id"], status).status_code == 200
    before = acme.get(complete["id"]).json()
    problem = assert_problem(acme.set_status(complete["id"], target), 409)
    assert problem["type"] == "/problems/invalid-transition"
    assert problem["current_status"] == path[-1]
    assert problem["requested_status"] == target
    assert path[-1] in problem["detail"]
    assert acme.get(complete["id"]).json() == before


@pytest.mark.parametrize("status", ["ACTIVE", "PUBLISHED", "ready", None, 3])
def test_statuses_that_cannot_be_requested_are_422(
    acme: Api, complete: dict[str, Any], status: Any
) -> None:
    problem = assert_problem(acme.set_status(complete["id"], status), 422)
    assert problem["errors"][0]["field"] == "/status"


def test_status_reason_longer_than_the_limit_is_422(acme: Api, complete: dict[str, Any]) -> None:
    problem = assert_problem(acme.set_status(complete["id"], "READY", reason="r" * 501), 422)
    assert problem["errors"][0]["field"] == "/reason"


def test_status_change_honours_if_match(acme: Api, complete: dict[str, Any]) -> None:
    stale = acme.set_status(complete["id"], "READY", **{"If-Match": '"1"'})
    assert assert_problem(stale, 412)["current_version"] == 2
    assert acme.set_status(complete["id"], "READY", **{"If-Match": '"2"'}).status_code == 200


def test_ready_product_edited_into_incompleteness_falls_back_to_draft(
    acme: Api, complete: dict[str, Any]
) -> None:
    acme.set_status(complete["id"], "READY")
    response = acme.patch(complete["id"], {"description": None})
    assert response.status_code == 200
    view = response.json()
    assert view["status"] == "DRAFT"
    assert view["description"] is None

    [latest] = acme.history(complete["id"], limit=1).json()["items"]
    assert latest["version"] == view["version"]
    assert latest["transition"]["from"] == "READY"
    assert latest["transition"]["to"] == "DRAFT"
    assert "description" in latest["transition"]["reason"]
    assert {"field": "/description", "old": complete["description"], "new": None} in latest[
        "changes"
    ]


def test_removing_the_last_image_of_a_ready_product_falls_back_to_draft(
    acme: Api, complete: dict[str, Any]
) -> None:
    acme.set_status(complete["id"], "READY")
    response = acme.delete_image(complete["id"], complete["images"][0]["id"])
    assert response.status_code == 200
    assert response.json()["status"] == "DRAFT"


def test_delete_deactivates_and_is_idempotent(
    acme: Api, complete: dict[str, Any], events: Callable[[], list[Any]]
) -> None:
    first = acme.delete(complete["id"])
    assert first.status_code == 200
    assert first.json()["status"] == "INACTIVE"
    assert first.json()["version"] == 3
    count = len(events())
    assert events()[-1].name is EventName.PRODUCT_DEACTIVATED

    second = acme.delete(complete["id"])
    assert second.status_code == 200
    assert second.json() == first.json()
    assert second.headers["etag"] == '"3"'
    assert len(events()) == count
    # Soft delete: still readable.
    assert acme.get(complete["id"]).json()["status"] == "INACTIVE"


def test_inactive_product_is_read_only_until_reactivated(
    acme: Api, complete: dict[str, Any]
) -> None:
    acme.delete(complete["id"])
    problem = assert_problem(acme.patch(complete["id"], {"name": "Nope"}), 409)
    assert problem["type"] == "/problems/product-inactive"
    assert problem["current_status"] == "INACTIVE"
    assert_problem(acme.upload(complete["id"], png()), 409)


def test_reactivating_an_inactive_product_makes_it_a_draft(
    acme: Api, complete: dict[str, Any], events: Callable[[], list[Any]]
) -> None:
    acme.delete(complete["id"])
    response = acme.set_status(complete["id"], "DRAFT", reason="back in stock")
    assert response.status_code == 200
    assert response.json()["status"] == "DRAFT"
    assert events()[-1].name is EventName.PRODUCT_REACTIVATED
    assert acme.patch(complete["id"], {"name": "Editable again"}).status_code == 200


def test_delete_of_unknown_product_is_404(acme: Api) -> None:
    assert_problem(acme.delete("01JD0000000000000000000000"), 404)
