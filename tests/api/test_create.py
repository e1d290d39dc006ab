"""POST /v1/merchants/{m}/products: registration, validation, idempotency."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from catalog.domain import limits
from catalog.domain.events import EventName
from tests.api.support import Api, assert_problem, error_fields, product_body


def test_register_answers_201_with_location_etag_and_the_draft_view(acme: Api) -> None:
    body = product_body(
        "TS-1",
        description="Light",
        price={"amount": 12999, "currency": "USD"},
        attributes={"color": "red", "size": 42, "tags": ["trail", "run"]},
        channel_overrides={"mercadolibre": {"price": {"amount": 11999, "currency": "USD"}}},
    )
    response = acme.create(body)

    assert response.status_code == 201
    view = response.json()
    assert response.headers["location"] == f"/v1/merchants/acme/products/{view['id']}"
    assert response.headers["etag"] == '"1"'
    assert view["status"] == "DRAFT"
    assert view["version"] == 1
    assert view["merchant_id"] == "acme"
    assert view["sku"] == "TS-1"
    assert view["price"] == {"amount": 12999, "currency": "USD"}
    assert view["attributes"] == {"color": "red", "size": 42, "tags": ["trail", "run"]}
    assert view["channel_overrides"] == {
        "mercadolibre": {"price": {"amount": 11999, "currency": "USD"}}
    }
    assert view["images"] == [] and view["listings"] == {}
    assert view["created_at"] == view["updated_at"]
    assert view["created_at"].endswith("Z")
    assert len(view["id"]) == 26
    # The Location serves the same product.
    fetched = acme.client.get(response.headers["location"], headers=acme.headers)
    assert fetched.json() == view


def test_view_has_exactly_the_contract_fields(acme: Api) -> None:
    view = acme.create_ok()
    assert set(view) == {
        "id", "merchant_id", "sku", "product_type", "status", "version", "name",
        "description", "price", "attributes", "options", "variants", "channel_overrides",
        "images", "listings",
        "completeness", "created_at", "updated_at",
    }  # fmt: skip


def test_register_emits_one_product_created_event(
    acme: Api, events: Callable[[], list[Any]]
) -> None:
    view = acme.create_ok()
    [event] = events()
    assert event.name is EventName.PRODUCT_CREATED
    assert (event.product_id, event.merchant_id, event.version) == (view["id"], "acme", 1)


# (id, body, expected status, the field the problem must name)
TOO_DEEP = {"a": {"b": {"c": {"d": {"e": {"f": 1}}}}}}
INVALID_BODIES: list[tuple[str, Any, int, str]] = [
    ("missing sku", {"name": "Shoe"}, 422, "/sku"),
    ("missing name", {"sku": "TS-1"}, 422, "/name"),
    ("bad sku", product_body("has space"), 422, "/sku"),
    ("sku trailing newline", product_body("TS-1\n"), 422, "/sku"),
    ("sku too long", product_body("S" * (limits.MAX_SKU_LENGTH + 1)), 422, "/sku"),
    ("sku not a string", product_body(123), 422, "/sku"),
    ("blank name", product_body(name="   "), 422, "/name"),
    ("name too long", product_body(name="n" * (limits.MAX_NAME_LENGTH + 1)), 422, "/name"),
    (
        "description too long",
        product_body(description="d" * (limits.MAX_DESCRIPTION_LENGTH + 1)),
        422,
        "/description",
    ),
    ("float price", product_body(price={"amount": 12.5, "currency": "USD"}), 422, "/price/amount"),
    (
        "integral float price",
        product_body(price={"amount": 12.0, "currency": "USD"}),
        422,
        "/price/amount",
    ),
    ("string price", product_body(price="12.99"), 422, "/price"),
    (
        "boolean amount",
        product_body(price={"amount": True, "currency": "USD"}),
        422,
        "/price/amount",
    ),
    (
        "negative amount",
        product_body(price={"amount": -1, "currency": "USD"}),
        422,
        "/price/amount",
    ),
    (
        "huge amount",
        product_body(price={"amount": limits.MAX_AMOUNT + 1, "currency": "USD"}),
        422,
        "/price/amount",
    ),
    ("bad currency", product_body(price={"amount": 1, "currency": "usd"}), 422, "/price/currency"),
    ("missing currency", product_body(price={"amount": 1}), 422, "/price/currency"),
    (
        "too many attributes",
        product_body(attributes={f"k{i}": i for i in range(limits.MAX_ATTRIBUTES + 1)}),
        422,
        "/attributes",
    ),
    (
        "too many nested attributes",
        product_body(attributes={"a": {f"k{i}": i for i in range(limits.MAX_ATTRIBUTES)}}),
        422,
        "/attributes",
    ),
    ("too deep attributes", product_body(attributes=TOO_DEEP), 422, "/attributes"),
    ("attributes not an object", product_body(attributes=[1, 2]), 422, "/attributes"),
    ("unknown field", product_body(colour="red"), 422, "/colour"),
    ("array body", [product_body()], 422, "/"),
    ("string body", "TS-1", 422, "/"),
    (
        "bad channel slug",
        product_body(channel_overrides={"Bad Slug": {"name": "x"}}),
        422,
        "/channel_overrides/Bad Slug",
    ),
    (
        "unknown override field",
        product_body(channel_overrides={"instagram": {"colour": "red"}}),
        422,
        "/channel_overrides/instagram/colour",
    ),
    (
        "bad override price",
        product_body(
            channel_overrides={"instagram": {"price": {"amount": 1.5, "currency": "USD"}}}
        ),
        422,
        "/channel_overrides/instagram/price/amount",
    ),
    (
        "currency not in ISO 4217",
        product_body(price={"amount": 100, "currency": "ZZZ"}),
        422,
        "/price/currency",
    ),
    (
        "currency without minor units (gold)",
        product_body(price={"amount": 100, "currency": "XAU"}),
        422,
        "/price/currency",
    ),
    (
        "override currency not in ISO 4217",
        product_body(channel_overrides={"instagram": {"price": {"amount": 1, "currency": "ZZZ"}}}),
        422,
        "/channel_overrides/instagram/price/currency",
    ),
]


@pytest.mark.parametrize(
    ("body", "status", "field"),
    [case[1:] for case in INVALID_BODIES],
    ids=[case[0] for case in INVALID_BODIES],
)
def test_invalid_body_is_a_problem_naming_the_field_and_writes_nothing(
    acme: Api, events: Callable[[], list[Any]], body: Any, status: int, field: str
) -> None:
    problem = assert_problem(acme.create(body), status)

    assert problem["type"] == "/problems/validation-error"
    fields = error_fields(problem)
    assert any(name == field or name.startswith(field + "/") for name in fields), fields
    assert all(error["in"] == "body" and error["message"] for error in problem["errors"])
    assert acme.list().json()["items"] == []
    assert events() == []


@pytest.mark.parametrize("currency", ["JPY", "KWD", "CLF"])  # 0, 3 and 4 minor units
def test_currencies_with_any_number_of_minor_units_are_accepted(acme: Api, currency: str) -> None:
    price = {"amount": 12999, "currency": currency}
    view = acme.create_ok(product_body(price=price))
    assert view["price"] == price  # the amount stays integer minor units, as given


RAW_BODIES: list[tuple[str, bytes, str, int, str]] = [
    ("malformed JSON", b'{"sku": "TS-1", "name": ', "application/json", 400, "malformed-body"),
    ("NaN", b'{"sku": "TS-1", "name": "x", "attributes": {"w": NaN}}', "application/json", 400,
     "malformed-body"),
    ("not UTF-8", b'{"sku": "\xff\xfe", "name": "x"}', "application/json", 400, "malformed-body"),
    ("deeply nested", b"[" * 100_000 + b"]" * 100_000, "application/json", 400, "malformed-body"),
    ("wrong content type", json.dumps(product_body()).encode(), "text/plain", 415,
     "unsupported-media-type"),
    ("form content type", b"sku=TS-1&name=x", "application/x-www-form-urlencoded", 415,
     "unsupported-media-type"),
    ("empty body", b"", "application/json", 422, "validation-error"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("content", "content_type", "status", "kind"),
    [case[1:] for case in RAW_BODIES],
    ids=[case[0] for case in RAW_BODIES],
)
def test_unreadable_body_is_a_problem_and_writes_nothing(
    acme: Api,
    events: Callable[[], list[Any]],
    content: bytes,
    content_type: str,
    status: int,
    kind: str,
) -> None:
    response = acme.client.post(
        acme.products_url(),
        content=content,
        headers={**acme.headers, "Content-Type": content_type},
    )
    problem = assert_problem(response, status)
    assert problem["type"] == f"/problems/{kind}"
    assert acme.list().json()["items"] == []
    assert events() == []


def test_oversized_body_is_413_and_writes_nothing(
    acme: Api, events: Callable[[], list[Any]]
) -> None:
    big = product_body(description="d" * limits.MAX_JSON_BODY_BYTES)
    problem = assert_problem(acme.create(big), 413)
    assert problem["type"] == "/problems/content-too-large"
    assert acme.list().json()["items"] == []
    assert events() == []


def test_oversized_body_without_content_length_is_cut_off_at_the_limit(acme: Api) -> None:
    chunk = b" " * 65_536
    sent: list[int] = []

    def stream() -> Any:
        yield b'{"sku": "TS-1", "name": "x", "description": "'
        for _ in range(64):  # 4 MiB in all, far over the limit
            sent.append(len(chunk))
            yield chunk
        yield b'"}'

    response = acme.client.post(
        acme.products_url(),
        content=stream(),
        headers={**acme.headers, "Content-Type": "application/json"},
    )
    assert "content-length" not in response.request.headers
    assert_problem(response, 413)
    assert acme.list().json()["items"] == []


def test_json_with_charset_parameter_is_accepted(acme: Api) -> None:
    response = acme.client.post(
        acme.products_url(),
        content=json.dumps(product_body()).encode(),
        headers={**acme.headers, "Content-Type": "application/json; charset=utf-8"},
    )
    assert response.status_code == 201


def test_every_invalid_field_is_reported_at_once(acme: Api) -> None:
    body = {"sku": "", "name": "n" * 500, "price": {"amount": -5, "currency": "dollars"}}
    problem = assert_problem(acme.create(body), 422)
    assert set(error_fields(problem)) >= {"/sku", "/name", "/price/amount", "/price/currency"}


def test_duplicate_sku_is_409_and_other_merchants_may_reuse_it(
    acme: Api, globex: Api, events: Callable[[], list[Any]]
) -> None:
    acme.create_ok(product_body("TS-1"))
    problem = assert_problem(acme.create(product_body("TS-1", name="Other")), 409)
    assert problem["type"] == "/problems/duplicate-sku"
    assert problem["sku"] == "TS-1"
    assert len(acme.list().json()["items"]) == 1
    assert len(events()) == 1
    assert globex.create(product_body("TS-1")).status_code == 201


def test_idempotent_retry_returns_the_first_response_and_creates_nothing(
    acme: Api, events: Callable[[], list[Any]]
) -> None:
    key = {"Idempotency-Key": "order-7f3a"}
    first = acme.create(product_body(), headers=key)
    retry = acme.create(product_body(), headers=key)

    assert first.status_code == retry.status_code == 201
    assert retry.json() == first.json()
    assert retry.headers["etag"] == first.headers["etag"]
    assert retry.headers["location"] == first.headers["location"]
    assert retry.headers["idempotent-replayed"] == "true"
    assert "idempotent-replayed" not in first.headers
    assert len(acme.list().json()["items"]) == 1
    assert [event.name for event in events()] == [EventName.PRODUCT_CREATED]


def test_replay_returns_the_first_response_even_after_the_product_changed(acme: Api) -> None:
    key = {"Idempotency-Key": "k-1"}
    first = acme.create(product_body(), headers=key).json()
    assert acme.patch(first["id"], {"name": "Renamed"}).status_code == 200

    retry = acme.create(product_body(), headers=key)
    assert retry.status_code == 201
    assert retry.json() == first


def test_same_idempotency_key_with_another_body_is_422(
    acme: Api, events: Callable[[], list[Any]]
) -> None:
    key = {"Idempotency-Key": "k-1"}
    acme.create(product_body("TS-1"), headers=key)
    problem = assert_problem(acme.create(product_body("TS-2"), headers=key), 422)
    assert problem["type"] == "/problems/idempotency-key-reused"
    assert len(events()) == 1


def test_idempotency_keys_are_scoped_by_merchant(acme: Api, globex: Api) -> None:
    key = {"Idempotency-Key": "shared-key"}
    first = acme.create(product_body(), headers=key).json()
    other = globex.create(product_body(), headers=key)
    assert other.status_code == 201
    assert "idempotent-replayed" not in other.headers
    assert other.json()["id"] != first["id"]


def test_idempotency_key_longer_than_255_characters_is_422(acme: Api) -> None:
    problem = assert_problem(acme.create(headers={"Idempotency-Key": "k" * 256}), 422)
    assert problem["errors"][0]["field"] == "Idempotency-Key"
    assert problem["errors"][0]["in"] == "header"
    assert acme.create(headers={"Idempotency-Key": "k" * 255}).status_code == 201


def test_failed_request_does_not_burn_the_idempotency_key(acme: Api) -> None:
    key = {"Idempotency-Key": "k-1"}
    assert (
        acme.create(product_body(price={"amount": -1, "currency": "USD"}), headers=key).status_code
        == 422
    )
    fixed = acme.create(product_body(price={"amount": 1, "currency": "USD"}), headers=key)
    assert fixed.status_code == 201
