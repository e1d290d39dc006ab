"""Channel tokens are bound to merchants: a token scoped to acme, probing globex on every
route the API has, gets the 404 of an absent product and changes nothing; a token with
scope `*` reaches globex. On every backend.

The routes are read from the app itself, so a route added later is probed too (the test
fails until it says how to call it).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from catalog.adapters.local_tokens import LocalTokens
from tests.api.conftest import Principals
from tests.api.support import Api, ChannelsApi, assert_problem, bearer, complete_body, png

CHANNEL = "shop"
ABSENT_PRODUCT = "01JD0000000000000000000000"
ABSENT_IMAGE = "01JD0000000000000000000001"
ABSENT_UPLOAD = "01JD0000000000000000000002"
ABSENT_VARIANT = "01JD0000000000000000000003"
ABSENT_JOB = "01JD0000000000000000000004"
NEVER_A_MERCHANT = "nobody"
MERCHANT_ROUTES = "/v1/merchants/{merchant_id}"


TYPE_KEY = "apparel"
APPAREL = {"key": TYPE_KEY, "name": "Apparel", "attributes": {"brand": {"type": "string"}}}


@dataclass(frozen=True)
class Target:
    """What the URL of a route names: a merchant, its product, an image of it (and a product
    type key)."""

    merchant: str
    product: str
    image: str
    version: int
    sku: str = "TS-1"


def _request(
    client: TestClient, token: str, method: str, path: str, target: Target
) -> httpx.Response:
    # A `{sku:path}` parameter takes a SKU with slashes; to format, it is a field like another.
    url = path.replace(":path}", "}").format(
        merchant_id=target.merchant,
        product_id=target.product,
        image_id=target.image,
        upload_id=ABSENT_UPLOAD,
        channel=CHANNEL,
        key=TYPE_KEY,
        variant_id=ABSENT_VARIANT,
        job_id=ABSENT_JOB,
        sku=target.sku,
        version=target.version,
    )
    headers = bearer(token)
    # A body each route would accept in scope, so that only the scope can explain the 404.
    bodies: dict[tuple[str, str], dict[str, Any]] = {
        ("POST", "/products"): {"json": {"sku": "PROBE-1", "name": "Probe"}},
        ("GET", "/products"): {"params": {"channel": CHANNEL}},
        ("GET", "/products/{product_id}"): {"params": {"channel": CHANNEL}},
        ("PATCH", "/products/{product_id}"): {
            "content": json.dumps({"name": "Probed"}),
            "headers": {**headers, "Content-Type": "application/merge-patch+json"},
        },
        ("POST", "/products/{product_id}/status"): {"json": {"status": "DRAFT"}},
        ("DELETE", "/products/{product_id}"): {},
        ("GET", "/products/{product_id}/history"): {},
        ("POST", "/products/{product_id}/history/{version}/restore"): {},
        ("POST", "/products/{product_id}/images"): {"files": {"file": ("p.png", png())}},
        ("PATCH", "/products/{product_id}/images/{image_id}"): {
            "content": json.dumps({"alt": "Probed"}),
            "headers": {**headers, "Content-Type": "application/merge-patch+json"},
        },
        ("DELETE", "/products/{product_id}/images/{image_id}"): {},
        ("POST", "/products/{product_id}/variants"): {
            "json": {"sku": "PROBE-V", "options": {"size": "M"}}
        },
        ("PATCH", "/products/{product_id}/variants/{variant_id}"): {
            "content": json.dumps({"stock": 3}),
            "headers": {**headers, "Content-Type": "application/merge-patch+json"},
        },
        ("DELETE", "/products/{product_id}/variants/{variant_id}"): {},
        ("GET", "/skus/{sku:path}"): {},
        ("POST", "/products/{product_id}/images/uploads"): {
            "json": {"content_type": "image/png", "size": 1000}
        },
        ("POST", "/products/{product_id}/images/uploads/{upload_id}/confirm"): {"json": {}},
        ("POST", "/products/{product_id}/channels/{channel}/publish"): {},
        ("POST", "/products/{product_id}/channels/{channel}/unpublish"): {},
        ("PUT", "/products/{product_id}/channels/{channel}/listing"): {
            "json": {
                "state": "PUBLISHED",
                "product_version": target.version,
                "external_id": "SHOP-1",
            }
        },
        ("POST", "/product-types"): {"json": {**APPAREL, "key": "shoes"}},
        ("GET", "/product-types"): {},
        ("GET", "/product-types/{key}"): {},
        ("PATCH", "/product-types/{key}"): {
            "content": json.dumps({"name": "Probed"}),
            "headers": {**headers, "Content-Type": "application/merge-patch+json"},
        },
        ("DELETE", "/product-types/{key}"): {},
        ("POST", "/imports"): {
            "content": json.dumps({"sku": "PROBE-2", "name": "Probe"}),
            "headers": {**headers, "Content-Type": "application/x-ndjson"},
        },
        ("POST", "/imports/uploads"): {"json": {"format": "jsonl", "size": 1000}},
        ("POST", "/exports"): {"json": {"format": "jsonl"}},
        ("POST", "/bulk-actions"): {"json": {"action": "status", "status": "DRAFT", "filter": {}}},
        ("GET", "/jobs"): {},
        ("GET", "/jobs/{job_id}"): {},
        ("POST", "/jobs/{job_id}/cancel"): {},
        ("GET", "/jobs/{job_id}/errors"): {},
    }
    recipe = "GET" if method == "HEAD" else method
    request = bodies[(recipe, path.removeprefix(MERCHANT_ROUTES))]
    request.setdefault("headers", headers)
    response: httpx.Response = client.request(method, url, **request)
    return response


def merchant_routes(app: FastAPI) -> list[tuple[str, str]]:
    """Every (method, path) under /v1/merchants/{merchant_id}, and HEAD of each GET."""
    found = []
    for route in app.routes:
        path = getattr(route, "path", "")
        if path.startswith(MERCHANT_ROUTES):
            for method in sorted(getattr(route, "methods", None) or ()):
                found.append((method, path))
                if method == "GET":
                    found.append(("HEAD", path))
    return found


@pytest.fixture
def globex_product(globex: Api) -> Target:
    """A globex product a channel would have work on: READY, an image, PENDING on CHANNEL.

    Product type routes are refused on the merchant alone, before the type is looked up, so
    they are probed with a key whether or not globex has that type."""
    product = globex.create_ok(complete_body())
    added = globex.upload(product["id"], png())
    assert added.status_code == 201, added.text
    assert globex.set_status(product["id"], "READY").status_code == 200
    requested = ChannelsApi(globex).publish(product["id"], CHANNEL)
    assert requested.status_code == 202, requested.text
    view = requested.json()
    return Target("globex", view["id"], view["images"][0]["id"], view["version"])


def _with_ids_of(target: Target, absent_body: dict[str, Any]) -> dict[str, Any]:
    """The absent answer as it reads with the caller's own ids in place of the absent ones."""
    replaced = dict(absent_body)
    for member, value in absent_body.items():
        if isinstance(value, str):
            for absent, real in (
                (ABSENT_PRODUCT, target.product),
                (ABSENT_IMAGE, target.image),
                (NEVER_A_MERCHANT, target.merchant),
            ):
                value = value.replace(absent, real)
            replaced[member] = value
    return replaced


def test_a_channel_token_scoped_to_one_merchant_finds_nothing_of_another(
    app: FastAPI,
    client: TestClient,
    principals: Principals,
    globex: Api,
    globex_product: Target,
    events: Callable[[], list[Any]],
) -> None:
    token = principals.channel(CHANNEL, merchants=("acme",))
    before, emitted = globex.get(globex_product.product).json(), len(events())
    absent = Target(NEVER_A_MERCHANT, ABSENT_PRODUCT, ABSENT_IMAGE, globex_product.version)
    absent_in_globex = Target("globex", ABSENT_PRODUCT, ABSENT_IMAGE, globex_product.version)
    probed = []
    for method, path in merchant_routes(app):
        response = _request(client, token, method, path, globex_product)
        probed.append((method, path, response.status_code))
        if method == "HEAD":
            assert response.status_code == 404, (method, path)
            assert not response.content
            continue
        problem = assert_problem(response, 404)
        assert problem["type"] == "/problems/not-found", (method, path)
        # The same document as for a product (or a merchant) that does not exist at all.
        product_route = "{product_id}" in path
        reference = _request(
            client, token, method, path, absent_in_globex if product_route else absent
        )
        assert problem == _with_ids_of(globex_product, reference.json()), (method, path)
    # Every operation, and HEAD on each GET: a route added later is probed too.
    assert len(probed) == len(set(probed)) >= 24
    assert (
        "PUT",
        MERCHANT_ROUTES + "/products/{product_id}/channels/{channel}/listing",
        404,
    ) in probed
    assert globex.get(globex_product.product).json() == before
    assert len(events()) == emitted


def test_the_same_token_acts_in_its_scope(
    client: TestClient, principals: Principals, acme: Api
) -> None:
    # The 404 above is the scope's doing: the token reads and reports for acme.
    product = acme.create_ok(complete_body())
    assert acme.upload(product["id"], png()).status_code == 201
    assert acme.set_status(product["id"], "READY").status_code == 200
    version = ChannelsApi(acme).publish(product["id"], CHANNEL).json()["version"]
    adapter = Api(client, principals.channel(CHANNEL, merchants=("acme",)), "acme")

    assert adapter.get(product["id"], channel=CHANNEL).status_code == 200
    assert adapter.list(channel=CHANNEL).json()["items"][0]["id"] == product["id"]
    assert adapter.history(product["id"]).status_code == 200
    reported = ChannelsApi(adapter).report(
        product["id"], CHANNEL, state="PUBLISHED", product_version=version, external_id="S-1"
    )
    assert reported.status_code == 200, reported.text
    assert reported.json()["listings"][CHANNEL]["state"] == "PUBLISHED"
    # Changing the product stays the merchant's: in scope, a channel may read, not write.
    assert_problem(adapter.patch(product["id"], {"name": "Channel edit"}), 403)


def test_a_token_for_several_merchants_reaches_each_of_them_and_no_other(
    client: TestClient, principals: Principals, globex: Api, globex_product: Target
) -> None:
    token = principals.channel(CHANNEL, merchants=("acme", "globex"))
    adapter = Api(client, token, "globex")
    assert adapter.get(globex_product.product).status_code == 200
    assert adapter.as_merchant("acme").list().status_code == 200
    assert_problem(adapter.as_merchant("initech").list(), 404)


def test_a_token_for_all_merchants_reaches_globex(
    client: TestClient, principals: Principals, globex_product: Target
) -> None:
    adapter = Api(client, principals.channel(CHANNEL, merchants=("*",)), "globex")
    assert adapter.get(globex_product.product, channel=CHANNEL).status_code == 200
    reported = ChannelsApi(adapter).report(
        globex_product.product,
        CHANNEL,
        state="PUBLISHED",
        product_version=globex_product.version,
        external_id="SHOP-9",
    )
    assert reported.status_code == 200, reported.text


def test_a_channel_token_without_a_scope_acts_for_no_merchant(
    client: TestClient, acme: Api, tokens: LocalTokens
) -> None:
    product = acme.create_ok()
    unscoped = tokens.issue(None, [f"channel:{CHANNEL}"], subject="shop-adapter")
    adapter = Api(client, unscoped, "acme")
    assert_problem(adapter.get(product["id"]), 404)
    assert_problem(adapter.list(), 404)
