"""The variant routes and the SKU lookup over HTTP, on every backend (DESIGN.md section 10):
add, merge-patch and remove a variant with If-Match and Idempotency-Key, the SKU rules across
products and variants, history and events, and finding a product or variant by its SKU."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from catalog.domain.events import EventName
from catalog.domain.variants import VariantBody
from catalog.service.context import CatalogContext
from tests.api.support import (
    Api,
    ChannelsApi,
    VariantsApi,
    assert_problem,
    complete_body,
    error_fields,
    png,
)
from tests.api.variant_support import with_variants

PRICE = {"amount": 2500, "currency": "USD"}


def shirt(sku: str = "SH", **fields: Any) -> dict[str, Any]:
    return complete_body(sku, options=["color", "size"], **fields)


@pytest.fixture
def variants(acme: Api) -> VariantsApi:
    return VariantsApi(acme)


@pytest.fixture
def product(acme: Api) -> dict[str, Any]:
    return acme.create_ok(shirt())


def test_adding_a_variant_answers_the_product_with_it_last(
    acme: Api, variants: VariantsApi, product: dict[str, Any], events: Callable[[], list[Any]]
) -> None:
    first = variants.add(product["id"], {"sku": "SH-RM", "options": {"color": "red", "size": "M"}})
    assert first.status_code == 201, first.text
    second = variants.add(
        product["id"],
        {"sku": "SH-BL", "options": {"color": "blue", "size": "L"}, "price": PRICE, "stock": 4},
    )
    assert second.status_code == 201, second.text
    view = second.json()
    assert second.headers["ETag"] == f'"{view["version"]}"' == '"3"'
    assert [v["sku"] for v in view["variants"]] == ["SH-RM", "SH-BL"]
    added = view["variants"][1]
    assert added["price"] == PRICE and added["stock"] == 4
    assert view["variants"][0]["price"] is None  # inherits the product's
    assert acme.get(product["id"]).json() == view

    entry = acme.history(product["id"]).json()["items"][0]
    assert entry["version"] == 3
    assert {c["field"] for c in entry["changes"]} == {f"/variants/{added['id']}"}
    updated = events()[-1]
    assert updated.name == EventName.PRODUCT_UPDATED
    assert updated.data["variants"] == [added["id"]]


def test_a_retried_add_with_its_key_adds_once_and_replays_the_answer(
    acme: Api, variants: VariantsApi, product: dict[str, Any], events: Callable[[], list[Any]]
) -> None:
    body = {"sku": "SH-RM", "options": {"color": "red", "size": "M"}}
    first = variants.add(product["id"], body, idempotency_key="add-rm")
    emitted = len(events())
    again = variants.add(product["id"], body, idempotency_key="add-rm")
    assert (first.status_code, again.status_code) == (201, 201)
    assert again.headers["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first.headers
    assert again.json() == first.json()
    assert len(acme.get(product["id"]).json()["variants"]) == 1
    assert len(events()) == emitted

    other = variants.add(product["id"], {**body, "sku": "SH-X"}, idempotency_key="add-rm")
    assert assert_problem(other, 422)["type"].endswith("/problems/idempotency-key-reused")
    # The same body for another product is another request, not a replay.
    tee = acme.create_ok(shirt("TEE"))
    elsewhere = variants.add(tee["id"], {**body, "sku": "TEE-RM"}, idempotency_key="add-rm")
    assert assert_problem(elsewhere, 422)["type"].endswith("/problems/idempotency-key-reused")


def test_skus_are_unique_across_products_and_variants(
    acme: Api, globex: Api, variants: VariantsApi, product: dict[str, Any]
) -> None:
    red = {"color": "red", "size": "M"}
    taken_by_a_product = variants.add(product["id"], {"sku": "SH", "options": red})
    assert assert_problem(taken_by_a_product, 409)["sku"] == "SH"
    variants.add_ok(product["id"], {"sku": "SH-RM", "options": red})
    tee = acme.create_ok(shirt("TEE"))
    taken_by_a_variant = variants.add(tee["id"], {"sku": "SH-RM", "options": red})
    problem = assert_problem(taken_by_a_variant, 409)
    assert problem["type"].endswith("/problems/duplicate-sku")
    assert problem["sku"] == "SH-RM"
    assert_problem(acme.create(complete_body("SH-RM")), 409)
    # Per merchant: globex may hold the same SKU.
    assert globex.create(complete_body("SH-RM")).status_code == 201


def test_a_combination_is_held_by_one_variant(
    variants: VariantsApi, product: dict[str, Any]
) -> None:
    red = {"color": "red", "size": "M"}
    variants.add_ok(product["id"], {"sku": "SH-1", "options": red})
    twin = assert_problem(variants.add(product["id"], {"sku": "SH-2", "options": red}), 409)
    assert twin["type"].endswith("/problems/duplicate-variant")
    assert twin["options"] == red
    blue = variants.add_ok(product["id"], {"sku": "SH-2", "options": {**red, "color": "blue"}})
    moved = variants.patch(product["id"], blue["id"], {"options": {"color": "red"}})
    assert assert_problem(moved, 409)["type"].endswith("/problems/duplicate-variant")


def test_a_variant_names_a_value_for_every_axis(
    variants: VariantsApi, product: dict[str, Any]
) -> None:
    partial = variants.add(product["id"], {"sku": "SH-R", "options": {"color": "red"}})
    problem = assert_problem(partial, 422)
    assert [field.endswith("/options/size") for field in error_fields(problem)] == [True]
    unknown_axis = {"color": "red", "size": "M", "fit": "slim"}
    assert_problem(variants.add(product["id"], {"sku": "SH-R", "options": unknown_axis}), 422)


def test_merge_patching_a_variant(
    acme: Api, variants: VariantsApi, product: dict[str, Any]
) -> None:
    added = variants.add_ok(
        product["id"],
        {"sku": "SH-RM", "options": {"color": "red", "size": "M"}, "price": PRICE, "stock": 2},
    )
    patched = variants.patch(
        product["id"],
        added["id"],
        {"price": None, "stock": 7, "barcode": "4006381333931", "attributes": {"fit": "slim"}},
    )
    assert patched.status_code == 200, patched.text
    variant = patched.json()["variants"][0]
    assert variant["price"] is None  # inherits again
    assert (variant["stock"], variant["barcode"]) == (7, "4006381333931")
    assert variant["attributes"] == {"fit": "slim"}
    assert variant["sku"] == "SH-RM"
    entry = acme.history(product["id"]).json()["items"][0]
    fields = {c["field"] for c in entry["changes"]}
    assert f"/variants/{added['id']}/stock" in fields
    assert f"/variants/{added['id']}/price" in fields

    bad_digit = variants.patch(product["id"], added["id"], {"barcode": "4006381333932"})
    assert error_fields(assert_problem(bad_digit, 422)) == [f"/variants/{added['id']}/barcode"]
    negative = variants.patch(product["id"], added["id"], {"stock": -1})
    assert error_fields(assert_problem(negative, 422)) == [f"/variants/{added['id']}/stock"]
    assert acme.get(product["id"]).json()["version"] == patched.json()["version"]


def test_a_new_sku_frees_the_old_one(variants: VariantsApi, product: dict[str, Any]) -> None:
    added = variants.add_ok(product["id"], {"sku": "SH-A", "options": {"color": "r", "size": "M"}})
    renamed = variants.patch(product["id"], added["id"], {"sku": "SH-B"})
    assert renamed.status_code == 200, renamed.text
    assert_problem(variants.find_sku("SH-A"), 404)
    assert variants.find_sku("SH-B").json()["variant_id"] == added["id"]
    again = variants.add(product["id"], {"sku": "SH-A", "options": {"color": "b", "size": "M"}})
    assert again.status_code == 201, again.text


def test_if_match_guards_every_variant_write(
    variants: VariantsApi, product: dict[str, Any]
) -> None:
    stale = '"0"'
    body = {"sku": "SH-RM", "options": {"color": "red", "size": "M"}}
    assert_problem(variants.add(product["id"], body, if_match=stale), 412)
    added = variants.add(product["id"], body, if_match='"1"')
    assert added.status_code == 201, added.text
    vid = added.json()["variants"][0]["id"]
    assert_problem(variants.patch(product["id"], vid, {"stock": 1}, if_match='"1"'), 412)
    assert_problem(variants.remove(product["id"], vid, if_match='"1"'), 412)
    assert variants.remove(product["id"], vid, if_match='"2"').status_code == 200


def test_removing_a_variant_frees_its_sku_and_a_second_removal_is_a_404(
    acme: Api, variants: VariantsApi, product: dict[str, Any], events: Callable[[], list[Any]]
) -> None:
    added = variants.add_ok(product["id"], {"sku": "SH-RM", "options": {"color": "r", "size": "M"}})
    removed = variants.remove(product["id"], added["id"])
    assert removed.status_code == 200, removed.text
    assert removed.json()["variants"] == []
    assert events()[-1].data["variants"] == [added["id"]]
    assert_problem(variants.find_sku("SH-RM"), 404)
    assert acme.create(complete_body("SH-RM")).status_code == 201
    again = assert_problem(variants.remove(product["id"], added["id"]), 404)
    assert added["id"] in again["detail"]
    assert_problem(variants.patch(product["id"], added["id"], {"stock": 1}), 404)
    assert_problem(variants.remove(product["id"], "not-a-ulid"), 404)


def test_variant_images_are_images_of_the_product_and_leave_with_them(
    acme: Api, variants: VariantsApi, product: dict[str, Any]
) -> None:
    image = acme.upload(product["id"], png()).json()["images"][0]["id"]
    foreign = variants.add(
        product["id"],
        {"sku": "SH-R", "options": {"color": "r", "size": "M"}, "image_ids": ["01JDNOSUCHIMAGE"]},
    )
    assert_problem(foreign, 422)
    added = variants.add_ok(
        product["id"], {"sku": "SH-R", "options": {"color": "r", "size": "M"}, "image_ids": [image]}
    )
    assert added["image_ids"] == [image]
    gone = acme.delete_image(product["id"], image)
    assert gone.status_code == 200, gone.text
    assert gone.json()["variants"][0]["image_ids"] == []
    entry = acme.history(product["id"]).json()["items"][0]
    assert entry["version"] == gone.json()["version"]
    assert f"/variants/{added['id']}/image_ids" in {c["field"] for c in entry["changes"]}


def test_completeness_asks_for_a_variant_when_the_product_has_options(
    acme: Api, variants: VariantsApi
) -> None:
    product = acme.create_with_image(shirt())
    refused = assert_problem(acme.set_status(product["id"], "READY"), 422)
    assert refused["type"].endswith("/problems/product-incomplete")
    assert refused["missing"] == ["/variants"]
    added = variants.add_ok(product["id"], {"sku": "SH-RM", "options": {"color": "r", "size": "M"}})
    assert acme.set_status(product["id"], "READY").status_code == 200
    # Without its last variant a READY product is incomplete again: it falls back to DRAFT.
    fell_back = variants.remove(product["id"], added["id"])
    assert fell_back.status_code == 200, fell_back.text
    assert fell_back.json()["status"] == "DRAFT"


def test_the_last_variant_of_a_listed_product_stays(acme: Api, variants: VariantsApi) -> None:
    product = acme.create_with_image(shirt())
    added = variants.add_ok(product["id"], {"sku": "SH-RM", "options": {"color": "r", "size": "M"}})
    assert acme.set_status(product["id"], "READY").status_code == 200
    assert ChannelsApi(acme).publish(product["id"], "shop").status_code == 202
    refused = assert_problem(variants.remove(product["id"], added["id"]), 422)
    assert refused["type"].endswith("/problems/product-incomplete")
    assert len(acme.get(product["id"]).json()["variants"]) == 1


def test_an_inactive_product_takes_no_variant(
    acme: Api, variants: VariantsApi, product: dict[str, Any]
) -> None:
    added = variants.add_ok(product["id"], {"sku": "SH-RM", "options": {"color": "r", "size": "M"}})
    assert acme.delete(product["id"]).status_code == 200
    body = {"sku": "SH-BM", "options": {"color": "b", "size": "M"}}
    for response in (
        variants.add(product["id"], body),
        variants.patch(product["id"], added["id"], {"stock": 1}),
        variants.remove(product["id"], added["id"]),
    ):
        assert assert_problem(response, 409)["type"].endswith("/problems/product-inactive")


def test_a_product_takes_at_most_250_variants(
    acme: Api, variants: VariantsApi, container: Any, product: dict[str, Any]
) -> None:
    ctx: CatalogContext = container.ctx
    bodies = [
        VariantBody(sku=f"SH-{n}", options={"color": f"c{n // 10}", "size": f"s{n % 10}"})
        for n in range(250)
    ]
    # In commits of 40: each added variant is a SKU item and an event in DynamoDB's transaction
    # of at most 100 items.
    for start in range(0, 250, 40):
        with_variants(ctx, "acme", product["id"], bodies[start : start + 40])
    before = acme.get(product["id"]).json()
    assert len(before["variants"]) == 250
    one_more = variants.add(product["id"], {"sku": "SH-X", "options": {"color": "x", "size": "x"}})
    assert assert_problem(one_more, 422)["status"] == 422
    assert_problem(variants.find_sku("SH-X"), 404)
    assert acme.get(product["id"]).json() == before


def test_finding_a_sku_names_the_product_and_the_variant(
    acme: Api, globex: Api, variants: VariantsApi, product: dict[str, Any]
) -> None:
    added = variants.add_ok(
        product["id"], {"sku": "SH/RED/M", "options": {"color": "r", "size": "M"}}
    )
    own = variants.find_sku("SH")
    assert own.status_code == 200, own.text
    assert own.json() == {"sku": "SH", "product_id": product["id"], "variant_id": None}
    assert own.headers["Cache-Control"] == "private, no-cache"
    # A SKU may hold slashes: the rest of the path is the SKU.
    of_variant = variants.find_sku("SH/RED/M").json()
    assert of_variant == {"sku": "SH/RED/M", "product_id": product["id"], "variant_id": added["id"]}
    for absent in ("NOPE", "x" * 500, "bad sku!"):
        assert assert_problem(variants.find_sku(absent), 404)["type"] == "/problems/not-found"
    # Another merchant finds nothing of acme's, and its own SKU of the same name.
    assert_problem(VariantsApi(globex).find_sku("SH"), 404)
    theirs = globex.create_ok(complete_body("SH"))
    assert VariantsApi(globex).find_sku("SH").json()["product_id"] == theirs["id"]
    # acme's token on globex's SKUs: the 404 of a merchant it cannot see, not a 403.
    assert_problem(VariantsApi(acme.as_merchant("globex")).find_sku("SH"), 404)
