"""PATCH: JSON merge patch semantics, If-Match, and concurrent writers."""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest

from catalog.domain.events import EventName
from tests.api.support import Api, assert_problem, complete_body, error_fields, product_body


@pytest.fixture
def shoe(acme: Api) -> dict[str, Any]:
    return acme.create_ok(
        complete_body(
            attributes={"color": "red", "size": 42, "specs": {"drop_mm": 6, "weight_g": 280}},
            channel_overrides={"instagram": {"name": "Trail shoe (IG)"}},
        )
    )


def test_patch_merges_nested_objects_and_null_removes(acme: Api, shoe: dict[str, Any]) -> None:
    response = acme.patch(
        shoe["id"],
        {
            "price": {"amount": 9999},
            "attributes": {"color": None, "material": "mesh", "specs": {"drop_mm": 4}},
        },
    )
    assert response.status_code == 200, response.text
    assert response.headers["etag"] == '"2"'
    view = response.json()
    assert view["version"] == 2
    assert view["price"] == {"amount": 9999, "currency": "USD"}  # currency kept
    assert view["attributes"] == {
        "size": 42,
        "material": "mesh",
        "specs": {"drop_mm": 4, "weight_g": 280},
    }
    assert view["name"] == shoe["name"]  # absent members are untouched
    assert acme.get(shoe["id"]).json() == view


def test_patch_adds_and_removes_channel_overrides(acme: Api, shoe: dict[str, Any]) -> None:
    added = acme.patch(
        shoe["id"],
        {"channel_overrides": {"mercadolibre": {"price": {"amount": 8999, "currency": "USD"}}}},
    ).json()
    assert set(added["channel_overrides"]) == {"instagram", "mercadolibre"}

    removed = acme.patch(shoe["id"], {"channel_overrides": {"instagram": None}}).json()
    assert removed["channel_overrides"] == {
        "mercadolibre": {"price": {"amount": 8999, "currency": "USD"}}
    }
    assert removed["version"] == 3


def test_patch_with_application_json_is_accepted(acme: Api, shoe: dict[str, Any]) -> None:
    response = acme.patch(shoe["id"], {"name": "Runner"}, content_type="application/json")
    assert response.status_code == 200
    assert response.json()["name"] == "Runner"


def test_patch_with_another_content_type_is_415(acme: Api, shoe: dict[str, Any]) -> None:
    response = acme.patch(shoe["id"], {"name": "Runner"}, content_type="text/plain")
    assert_problem(response, 415)
    assert "application/merge-patch+json" in response.headers["accept-patch"]


def test_patch_that_changes_nothing_keeps_the_version(
    acme: Api, shoe: dict[str, Any], events: Callable[[], list[Any]]
) -> None:
    response = acme.patch(shoe["id"], {"name": shoe["name"]})
    assert response.status_code == 200
    assert response.json()["version"] == 1
    assert len(events()) == 1


def test_patch_records_an_update_event(
    acme: Api, shoe: dict[str, Any], events: Callable[[], list[Any]]
) -> None:
    acme.patch(shoe["id"], {"name": "Runner"})
    assert [e.name for e in events()] == [EventName.PRODUCT_CREATED, EventName.PRODUCT_UPDATED]


@pytest.mark.parametrize(
    ("patch", "field"),
    [
        ({"name": None}, "/name"),  # the name is required: it cannot be removed
        ({"price": {"amount": 1.5}}, "/price/amount"),
        ({"price": {"currency": "usd"}}, "/price/currency"),
        ({"price": {"currency": "ZZZ"}}, "/price/currency"),
        (
            {"channel_overrides": {"instagram": {"price": {"amount": 1, "currency": "ZZZ"}}}},
            "/channel_overrides/instagram/price/currency",
        ),
        ({"sku": "NEW-SKU"}, "/sku"),  # the sku is fixed at registration
        ({"status": "READY"}, "/status"),  # status changes go through POST .../status
        ({"attributes": {"a": {"b": {"c": {"d": {"e": {"f": 1}}}}}}}, "/attributes"),
        ({"channel_overrides": {"UPPER": {"name": "x"}}}, "/channel_overrides/UPPER"),
        ([{"op": "replace", "path": "/name", "value": "x"}], "/"),  # a JSON Patch, not merge
        # Removals of what no product can have: merged, they would change nothing.
        ({"channel_overrides": {"Bad Slug": None}}, "/channel_overrides/Bad Slug"),
        ({"channel_overrides": {"instagram": {"colour": None}}}, "/channel_overrides/instagram"),
        ({"price": {"cents": None}}, "/price/cents"),
        (
            {"channel_overrides": {"instagram": {"price": {"cents": None}}}},
            "/channel_overrides/instagram/price/cents",
        ),
    ],
)
def test_invalid_patch_is_422_naming_the_field_and_changes_nothing(
    acme: Api, shoe: dict[str, Any], patch: Any, field: str
) -> None:
    problem = assert_problem(acme.patch(shoe["id"], patch), 422)
    assert any(name == field or name.startswith(field + "/") for name in error_fields(problem))
    assert acme.get(shoe["id"]).json() == shoe


def test_malformed_patch_is_400(acme: Api, shoe: dict[str, Any]) -> None:
    response = acme.client.patch(
        acme.product_url(shoe["id"]),
        content=b'{"name": ',
        headers={**acme.headers, "Content-Type": "application/merge-patch+json"},
    )
    assert_problem(response, 400)


def test_patch_of_unknown_product_is_404(acme: Api) -> None:
    assert_problem(acme.patch("01JD0000000000000000000000", {"name": "x"}), 404)


@pytest.mark.parametrize("if_match", ['"1"', "1", 'W/"1"', "*", '"1;channel=instagram"'])
def test_current_if_match_is_accepted(acme: Api, shoe: dict[str, Any], if_match: str) -> None:
    response = acme.patch(shoe["id"], {"name": "Runner"}, if_match=if_match)
    assert response.status_code == 200, response.text


def test_stale_if_match_is_412_and_changes_nothing(acme: Api, shoe: dict[str, Any]) -> None:
    acme.patch(shoe["id"], {"name": "First"}, if_match='"1"')
    response = acme.patch(shoe["id"], {"name": "Second"}, if_match='"1"')
    problem = assert_problem(response, 412)
    assert problem["current_version"] == 2
    assert response.headers["etag"] == '"2"'
    assert acme.get(shoe["id"]).json()["name"] == "First"


@pytest.mark.parametrize("if_match", ["abc", '"x"', '"1", "2"'])
def test_unusable_if_match_is_400(acme: Api, shoe: dict[str, Any], if_match: str) -> None:
    problem = assert_problem(acme.patch(shoe["id"], {"name": "x"}, if_match=if_match), 400)
    assert problem["errors"][0]["field"] == "If-Match"


# ------------------------------------------------------------------ concurrent writers

WRITERS = 8


def _race(calls: list[Callable[[], httpx.Response]]) -> list[httpx.Response]:
    """Run the calls from as many threads, released together."""
    barrier = threading.Barrier(len(calls))

    def run(call: Callable[[], httpx.Response]) -> httpx.Response:
        barrier.wait()
        return call()

    with ThreadPoolExecutor(max_workers=len(calls)) as pool:
        return list(pool.map(run, calls))


def test_racing_writers_with_the_same_if_match_exactly_one_wins(
    acme: Api, shoe: dict[str, Any], events: Callable[[], list[Any]]
) -> None:
    def writer(i: int) -> Callable[[], httpx.Response]:
        return lambda: acme.patch(shoe["id"], {"name": f"Writer {i}"}, if_match='"1"')

    responses = _race([writer(i) for i in range(WRITERS)])

    statuses = sorted(r.status_code for r in responses)
    assert statuses == [200] + [412] * (WRITERS - 1)
    [winner] = [r for r in responses if r.status_code == 200]
    final = acme.get(shoe["id"]).json()
    assert final["version"] == 2
    assert final["name"] == winner.json()["name"]
    assert len(events()) == 2


def test_racing_blind_writers_lose_no_update(acme: Api, shoe: dict[str, Any]) -> None:
    def writer(i: int) -> Callable[[], httpx.Response]:
        return lambda: acme.patch(shoe["id"], {"attributes": {f"key_{i}": i}})

    responses = _race([writer(i) for i in range(WRITERS)])

    assert [r.status_code for r in responses] == [200] * WRITERS
    final = acme.get(shoe["id"]).json()
    assert final["version"] == 1 + WRITERS
    for i in range(WRITERS):
        assert final["attributes"][f"key_{i}"] == i
    assert final["attributes"]["color"] == "red"
    history = acme.history(shoe["id"], limit=100).json()["items"]
    assert [entry["version"] for entry in history] == list(range(1 + WRITERS, 0, -1))


def test_patch_of_nulls_onto_nulls_makes_no_version_and_no_event(
    acme: Api, events: Callable[[], list[Any]]
) -> None:
    created = acme.create_ok(product_body(attributes={"color": "red", "weight": None}))

    unchanged = acme.patch(created["id"], {"description": None, "attributes": {"weight": None}})
    renamed = acme.patch(created["id"], {"name": "Runner", "attributes": {"weight": None}})

    assert unchanged.status_code == 200, unchanged.text
    assert unchanged.json() == created
    assert renamed.json()["version"] == 2
    assert len(events()) == 2
    latest = acme.history(created["id"]).json()["items"][0]
    assert latest["changes"] == [{"field": "/name", "old": "Trail shoe", "new": "Runner"}]
