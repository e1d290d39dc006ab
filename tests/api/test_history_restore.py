"""POST .../history/{version}/restore over HTTP, on every backend (DESIGN.md section 12): the
answer, its ETag, the history entry with `restored_from`, its event, and every refusal as the
OpenAPI document describes it."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest

from tests.api.support import (
    Api,
    ChannelsApi,
    VariantsApi,
    assert_problem,
    complete_body,
    error_fields,
    png,
)

ROUTE = "/v1/merchants/{merchant_id}/products/{product_id}/history/{version}/restore"


def restore(
    api: Api, product_id: str, version: int | str, if_match: str | None = None
) -> httpx.Response:
    headers = dict(api.headers)
    if if_match is not None:
        headers["If-Match"] = if_match
    url = f"{api.product_url(product_id)}/history/{version}/restore"
    response: httpx.Response = api.client.post(url, headers=headers)
    return response


def shirt(sku: str = "SH") -> dict[str, Any]:
    return complete_body(
        sku,
        attributes={"material": "cotton"},
        options=["size"],
        variants=[{"sku": f"{sku}-S", "options": {"size": "S"}}],
    )


@pytest.fixture
def variants(acme: Api) -> VariantsApi:
    return VariantsApi(acme)


def test_a_restore_answers_the_product_with_that_version_s_content(
    acme: Api, variants: VariantsApi, events: Callable[[], list[Any]]
) -> None:
    first = acme.create_ok(shirt())
    pid, small = first["id"], first["variants"][0]
    acme.patch(pid, {"name": "Tee", "attributes": {"fit": "slim"}, "price": {"amount": 1}})
    variants.remove(pid, small["id"])
    medium = variants.add_ok(pid, {"sku": "SH-S", "options": {"size": "M"}})  # its SKU again
    uploaded = acme.upload(pid, png()).json()
    emitted = len(events())

    answer = restore(acme, pid, 1, if_match=f'"{uploaded["version"]}"')

    assert answer.status_code == 200, answer.text
    view = answer.json()
    assert answer.headers["ETag"] == f'"{view["version"]}"' == '"6"'
    assert acme.get(pid).json() == view
    for member in ("name", "description", "price", "attributes", "options", "variants"):
        assert view[member] == first[member], member
    assert view["images"] == uploaded["images"] and view["status"] == "DRAFT"
    assert variants.find_sku("SH-S").json()["variant_id"] == small["id"]

    entry = acme.history(pid, limit=1).json()["items"][0]
    assert entry["version"] == 6 and entry["restored_from"] == 1
    assert entry["events"] == ["ProductUpdated"]
    assert {"field": "/name", "old": "Tee", "new": "Trail shoe"} in entry["changes"]
    assert {"field": f"/variants/{medium['id']}", "old": medium, "new": None} in entry["changes"]
    (updated,) = events()[emitted:]
    assert updated.name.value == "ProductUpdated" and updated.version == 6
    assert updated.data["variants"] == sorted([small["id"], medium["id"]])
    # Every other entry says it restored nothing.
    assert {e["restored_from"] for e in acme.history(pid).json()["items"][1:]} == {None}


def test_restoring_the_current_version_changes_nothing(
    acme: Api, events: Callable[[], list[Any]]
) -> None:
    product = acme.create_ok(shirt())
    emitted = len(events())
    answer = restore(acme, product["id"], 1)
    assert answer.status_code == 200, answer.text
    assert answer.json() == product and answer.headers["ETag"] == '"1"'
    assert len(events()) == emitted
    assert [e["version"] for e in acme.history(product["id"]).json()["items"]] == [1]


def test_a_version_that_never_was_is_404_and_a_stale_if_match_412(acme: Api) -> None:
    product = acme.create_ok(shirt())
    pid = product["id"]
    acme.patch(pid, {"name": "Tee"})
    for version in (0, 3, -2):
        problem = assert_problem(restore(acme, pid, version), 404)
        assert problem["type"] == "/problems/not-found"
        assert problem["detail"] == f"product {pid} has no version {version}"
    stale = restore(acme, pid, 1, if_match='"1"')
    assert assert_problem(stale, 412)["current_version"] == 2
    assert stale.headers["ETag"] == '"2"'
    assert error_fields(assert_problem(restore(acme, pid, "latest"), 422)) == ["version"]
    assert acme.get(pid).json()["version"] == 2


def test_another_merchant_s_product_is_404_and_a_reader_403(
    acme: Api, globex: Api, channel_x: Api
) -> None:
    product = acme.create_ok(shirt())
    acme.patch(product["id"], {"name": "Tee"})
    assert_problem(restore(globex.as_merchant("acme"), product["id"], 1), 404)
    assert_problem(restore(globex, product["id"], 1), 404)
    assert_problem(restore(channel_x, product["id"], 1), 403)
    assert acme.get(product["id"]).json()["name"] == "Tee"


def test_a_variant_sku_another_product_took_since_is_a_409(
    acme: Api, variants: VariantsApi
) -> None:
    product = acme.create_ok(shirt())
    removed = variants.remove(product["id"], product["variants"][0]["id"]).json()
    other = acme.create_ok(shirt("TEE"))
    variants.add_ok(other["id"], {"sku": "SH-S", "options": {"size": "M"}})

    problem = assert_problem(restore(acme, product["id"], 1), 409)

    assert problem["type"] == "/problems/duplicate-sku" and problem["sku"] == "SH-S"
    assert acme.get(product["id"]).json() == removed


def test_a_restore_the_type_now_refuses_is_a_422_naming_the_fields(acme: Api) -> None:
    apparel = {
        "key": "apparel",
        "name": "Apparel",
        "attributes": {
            "size": {"type": "enum", "values": ["S", "M"], "variant_axis": True},
            "material": {"type": "string"},
        },
    }
    types = "/v1/merchants/acme/product-types"
    assert acme.client.post(types, json=apparel, headers=acme.headers).status_code == 201
    product = acme.create_ok({**shirt(), "product_type": "apparel"})
    acme.patch(product["id"], {"product_type": None, "name": "Untyped"})
    narrowed = acme.client.patch(
        f"{types}/apparel",
        json={"attributes": {"material": {"max_length": 3}}},
        headers=acme.headers,
    )
    assert narrowed.status_code == 200, narrowed.text

    problem = assert_problem(restore(acme, product["id"], 1), 422)

    assert problem["type"] == "/problems/validation-error"
    assert error_fields(problem) == ["/attributes/material"]
    assert acme.get(product["id"]).json()["name"] == "Untyped"


def test_a_restore_that_would_leave_a_listed_product_incomplete_is_a_422(acme: Api) -> None:
    product = acme.create_ok({"sku": "MUG", "name": "Mug"})
    pid = product["id"]
    acme.patch(pid, {"description": "Big", "price": {"amount": 900, "currency": "USD"}})
    assert acme.upload(pid, png()).status_code == 201
    assert acme.set_status(pid, "READY").status_code == 200
    listed = ChannelsApi(acme).publish(pid, "shop").json()

    problem = assert_problem(restore(acme, pid, 1), 422)

    assert problem["type"] == "/problems/product-incomplete"
    assert problem["channel"] == "shop"
    assert sorted(problem["missing"]) == ["/description", "/price"]
    assert acme.get(pid).json() == listed


def test_an_inactive_product_is_a_409(acme: Api) -> None:
    product = acme.create_ok(shirt())
    acme.patch(product["id"], {"name": "Tee"})
    assert acme.delete(product["id"]).status_code == 200
    problem = assert_problem(restore(acme, product["id"], 1), 409)
    assert problem["type"] == "/problems/product-inactive"


def test_the_document_describes_the_route_and_restored_from(acme: Api) -> None:
    document = acme.client.get("/openapi.json").json()
    operation = document["paths"][ROUTE]["post"]
    assert operation["operationId"] == "restore_version" and operation["tags"] == ["history"]
    assert "ETag" in operation["responses"]["200"]["headers"]

    def problem_types(status: str) -> set[str]:
        examples = operation["responses"][status]["content"]["application/problem+json"]
        return set(examples["examples"])

    assert {"not-found"} <= problem_types("404")
    assert {"product-inactive", "duplicate-sku", "conflict"} <= problem_types("409")
    assert {"precondition-failed"} <= problem_types("412")
    assert {"validation-error", "product-incomplete"} <= problem_types("422")
    version = next(p for p in operation["parameters"] if p["name"] == "version")
    assert version["in"] == "path" and version["schema"]["type"] == "integer"
    entry = document["components"]["schemas"]["HistoryEntryView"]
    assert "restored_from" in entry["required"]
