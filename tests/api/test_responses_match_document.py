"""Every answer a client gets is what /openapi.json says it is.

Products of every kind (a bare draft, a complete one with nested attributes and overrides, with
images, listed on channels in every listing state, deactivated, one with options, variants and
overrides of variants) are read back through each route
that returns them, on every backend, and each JSON body is validated against the schema the
document gives for that operation and status, with no member the document does not name. A
presenter or storage change that alters the view without the document (or the reverse) fails
here, whichever side moved.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Callable
from typing import Any

import httpx
import jsonschema
import pytest
from fastapi.testclient import TestClient

from catalog.bootstrap import Container
from catalog.domain.values import Money
from catalog.domain.variants import VariantBody
from tests.api.conftest import Principals
from tests.api.support import Api, ChannelsApi, complete_body, png
from tests.api.variant_support import with_variants

Document = dict[str, Any]


class DocumentedResponses:
    """Checks answers against the operation, status and media type the document declares."""

    def __init__(self, document: Document) -> None:
        self.document = document
        # Templates with fewer parameters first: a literal segment (`/history`) wins over a
        # parameter in the same place.
        self.templates = sorted(
            (
                (re.compile("^" + re.sub(r"\{[^}/]+\}", "[^/]+", path) + "$"), path)
                for path in document["paths"]
            ),
            key=lambda pair: pair[1].count("{"),
        )
        self.checked: list[tuple[str, str, int]] = []
        self.components = closed(copy.deepcopy(document["components"]))

    def template_of(self, path: str) -> str:
        for pattern, template in self.templates:
            if pattern.match(path):
                return template
        raise AssertionError(f"{path} is not in the document")

    def check(self, response: httpx.Response) -> Any:
        """The body of a successful answer, validated; any other answer fails the test."""
        assert response.is_success, response.text
        method = response.request.method.lower()
        template = self.template_of(response.request.url.path)
        operation = self.document["paths"][template][method]
        documented = operation["responses"].get(str(response.status_code))
        assert documented is not None, f"{method} {template} answered {response.status_code}"
        media = response.headers["content-type"].split(";")[0]
        content = documented.get("content", {})
        assert media in content, f"{method} {template} {response.status_code}: {media}"
        schema = {**content[media]["schema"], "components": self.components}
        body = response.json()
        jsonschema.Draft202012Validator(
            schema, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER
        ).validate(body)
        self.checked.append((method, template, response.status_code))
        return body


def closed(schema: Any) -> Any:
    """The schemas with every object closed to the members it names: an answer carrying a
    member the document does not describe fails, as a missing or mistyped one does."""
    if isinstance(schema, dict):
        if "properties" in schema and not {"additionalProperties", "patternProperties"} & set(
            schema
        ):
            schema["unevaluatedProperties"] = False
        for value in schema.values():
            closed(value)
    elif isinstance(schema, list):
        for value in schema:
            closed(value)
    return schema


@pytest.fixture
def documented(client: TestClient) -> DocumentedResponses:
    return DocumentedResponses(client.get("/openapi.json").json())


@pytest.fixture
def adapter_for(client: TestClient, principals: Principals) -> Callable[[str], ChannelsApi]:
    def build(channel: str) -> ChannelsApi:
        return ChannelsApi(Api(client, principals.channel(channel), "acme"))

    return build


NESTED_ATTRIBUTES = {
    "color": "red",
    "size": 42,
    "waterproof": True,
    "weight_kg": 0.31,
    "materials": ["mesh", "rubber"],
    "dimensions": {"length_cm": 30, "sole": {"drop_mm": 6}},
}


def test_every_kind_of_product_answers_as_documented_on_every_route(
    acme: Api,
    adapter_for: Callable[[str], ChannelsApi],
    documented: DocumentedResponses,
) -> None:
    check = documented.check
    merchant = ChannelsApi(acme)

    bare = check(acme.create({"sku": "BARE-1", "name": "Only a name"}))
    assert (bare["options"], bare["variants"]) == ([], [])
    check(acme.get(bare["id"]))

    full = check(
        acme.create(
            complete_body(
                "FULL-1",
                attributes=NESTED_ATTRIBUTES,
                channel_overrides={
                    "mercadolibre": {
                        "name": "Zapatilla de trail",
                        "price": {"amount": 11999, "currency": "USD"},
                        "attributes": {"color": None, "brand": "Acme"},
                    },
                    "meta": {"description": "For rough trails."},
                },
            ),
            headers={"Idempotency-Key": "full-1"},
        )
    )
    product_id = full["id"]
    check(acme.upload(product_id, png(), alt="Side view"))
    check(acme.upload(product_id, png((4, 4))))
    check(acme.patch(product_id, {"attributes": {"size": None, "width": "wide"}}))
    check(acme.set_status(product_id, "READY"))

    # One listing in each state a client can see.
    for channel in ("mercadolibre", "meta", "shop", "pos"):
        check(merchant.publish(product_id, channel))
    version = acme.get(product_id).json()["version"]
    check(
        adapter_for("mercadolibre").report(
            product_id,
            "mercadolibre",
            state="PUBLISHED",
            product_version=version,
            external_id="MLA1",
            external_url="https://mercadolibre.test/MLA1",
        )
    )
    check(
        adapter_for("meta").report(
            product_id, "meta", state="FAILED", product_version=version, message="no GTIN"
        )
    )
    check(
        adapter_for("shop").report(
            product_id, "shop", state="PUBLISHED", product_version=version, external_id="S-1"
        )
    )
    check(merchant.unpublish(product_id, "shop"))
    check(
        adapter_for("shop").report(
            product_id,
            "shop",
            state="UNPUBLISHED",
            product_version=acme.get(product_id).json()["version"],
        )
    )

    listed = check(acme.get(product_id))
    assert {name: listing["state"] for name, listing in listed["listings"].items()} == {
        "mercadolibre": "PUBLISHED",
        "meta": "FAILED",
        "shop": "UNPUBLISHED",
        "pos": "PENDING",
    }
    check(acme.get(product_id, channel="mercadolibre"))
    check(acme.list())
    check(acme.list(status="ACTIVE", limit=1))
    check(acme.list(channel="mercadolibre"))

    check(acme.delete(product_id))  # live listings are now UNPUBLISHING
    check(acme.delete(product_id))  # the idempotent repeat
    assert "UNPUBLISHING" in {
        listing["state"] for listing in check(acme.get(product_id))["listings"].values()
    }
    first = check(acme.history(product_id, limit=5))
    check(acme.history(product_id, cursor=first["next_cursor"]))
    check(acme.set_status(product_id, "DRAFT"))  # reactivated

    # History entries of every kind: created, fields changed, listings moved, each status
    # transition, and versions that changed no field.
    entries = check(acme.history(product_id, limit=100))["items"]
    entries += check(acme.history(bare["id"]))["items"]
    transitions = [entry["transition"] for entry in entries]
    assert None in transitions
    assert {(t["from"], t["to"]) for t in transitions if t} >= {
        (None, "DRAFT"),
        ("DRAFT", "READY"),
        ("READY", "ACTIVE"),
        ("ACTIVE", "INACTIVE"),
        ("INACTIVE", "DRAFT"),
    }
    assert any(not entry["changes"] for entry in entries)
    assert {change["field"].split("/")[1] for entry in entries for change in entry["changes"]} >= {
        "name",
        "description",
        "price",
        "attributes",
        "channel_overrides",
        "images",
        "listings",
    }

    product = "/v1/merchants/{merchant_id}/products/{product_id}"
    channel = product + "/channels/{channel}"
    assert {(method, template) for method, template, _ in documented.checked} == {
        ("post", "/v1/merchants/{merchant_id}/products"),
        ("get", "/v1/merchants/{merchant_id}/products"),
        ("get", product),
        ("patch", product),
        ("delete", product),
        ("post", product + "/status"),
        ("get", product + "/history"),
        ("post", product + "/images"),
        ("post", channel + "/publish"),
        ("post", channel + "/unpublish"),
        ("put", channel + "/listing"),
    }


def test_product_types_answer_as_documented(acme: Api, documented: DocumentedResponses) -> None:
    every_member = {
        "key": "electronics",
        "name": "Electronics",
        "attributes": {
            "brand": {"type": "string", "label": "Brand", "max_length": 60, "required": True},
            "gtin": {"type": "string", "required_on": ["mercadolibre", "meta"]},
            "storage_gb": {"type": "integer", "minimum": 1, "maximum": 4096},
            "screen_inches": {"type": "number", "minimum": 0.5},
            "refurbished": {"type": "boolean"},
            "color": {"type": "enum", "values": ["black", "white"], "variant_axis": True},
            "manual": {"type": "url"},
        },
        "additional_attributes": False,
    }
    types = "/v1/merchants/acme/product-types"
    created = documented.check(acme.client.post(types, json=every_member, headers=acme.headers))
    assert created["attributes"] == every_member["attributes"]
    documented.check(
        acme.client.post(types, json={"key": "bare", "name": "Bare"}, headers=acme.headers)
    )
    documented.check(acme.client.get(f"{types}/electronics", headers=acme.headers))
    documented.check(acme.client.get(types, headers=acme.headers))
    patch = {"attributes": {"manual": None}, "name": "Consumer electronics"}
    documented.check(acme.client.patch(f"{types}/electronics", json=patch, headers=acme.headers))
    deleted = acme.client.delete(f"{types}/bare", headers=acme.headers)
    assert deleted.status_code == 204
    operation = documented.document["paths"]["/v1/merchants/{merchant_id}/product-types/{key}"]
    assert "204" in operation["delete"]["responses"]


def test_channel_requirements_answer_as_documented(
    client: TestClient, principals: Principals, documented: DocumentedResponses
) -> None:
    url = "/v1/channels/mercadolibre/requirements"
    platform = {"Authorization": f"Bearer {principals.platform()}"}
    merchant = {"Authorization": f"Bearer {principals.merchant()}"}
    never = documented.check(client.get(url, headers=merchant))
    assert never["updated_at"] is None
    body = {"required": ["/description", "/price", "/images", "/attributes/brand"]}
    declared = documented.check(client.put(url, json=body, headers=platform))
    assert declared["version"] == 1
    assert documented.check(client.get(url, headers=merchant)) == declared
    documented.check(client.put(url, json={"required": []}, headers=platform))


def test_a_product_with_variants_answers_as_documented(
    acme: Api, container: Container, documented: DocumentedResponses
) -> None:
    """Options, variants with every member set and with none, and a variant's override on a
    channel: in the product's own view, its channel view, a page, a patch and the history."""
    check = documented.check
    body = complete_body(
        "SH-1",
        attributes={"fit": "regular", "material": "cotton"},
        options=["color", "size"],
        channel_overrides={"mercadolibre": {"price": {"amount": 11999, "currency": "USD"}}},
    )
    created = check(acme.create(body))
    assert created["options"] == ["color", "size"]
    assert created["variants"] == []
    product_id = created["id"]
    image_id = check(acme.upload(product_id, png()))["images"][0]["id"]
    every_member = VariantBody(
        sku="SH-1-RED-M",
        options={"color": "red", "size": "M"},
        price=Money(12999, "USD"),
        attributes={"weight_g": 180, "fit": None, "care": {"wash_c": 30}},
        image_ids=(image_id,),
        barcode="4006381333931",
        stock=12,
    )
    inherits = VariantBody(sku="SH-1-BLUE-L", options={"size": "L", "color": "blue"})
    product = with_variants(container.ctx, "acme", product_id, [every_member, inherits])
    first, second = (variant.id for variant in product.variants)

    patch = {
        "channel_overrides": {
            "mercadolibre": {
                "variants": {
                    first: {"price": {"amount": 11499, "currency": "USD"}},
                    second: {"attributes": {"fit": "slim"}},
                }
            }
        }
    }
    patched = check(acme.patch(product_id, patch))
    assert patched["channel_overrides"]["mercadolibre"]["variants"] == {
        first: {"price": {"amount": 11499, "currency": "USD"}, "attributes": None},
        second: {"price": None, "attributes": {"fit": "slim"}},
    }
    check(acme.set_status(product_id, "READY"))

    own = check(acme.get(product_id))
    assert own["variants"] == [
        {
            "id": first,
            "sku": "SH-1-RED-M",
            "options": {"color": "red", "size": "M"},
            "price": {"amount": 12999, "currency": "USD"},
            "attributes": {"weight_g": 180, "fit": None, "care": {"wash_c": 30}},
            "image_ids": [image_id],
            "barcode": "4006381333931",
            "stock": 12,
        },
        {
            "id": second,
            "sku": "SH-1-BLUE-L",
            "options": {"color": "blue", "size": "L"},  # in the product's order of axes
            "price": None,  # inherits the product's
            "attributes": {},
            "image_ids": [],
            "barcode": None,
            "stock": None,
        },
    ]
    on_channel = check(acme.get(product_id, channel="mercadolibre"))
    assert [(v["price"], v["attributes"]) for v in on_channel["variants"]] == [
        (
            {"amount": 11499, "currency": "USD"},  # its override on the channel
            {"material": "cotton", "weight_g": 180, "care": {"wash_c": 30}},
        ),
        (
            {"amount": 11999, "currency": "USD"},  # the product's price on the channel
            {"fit": "slim", "material": "cotton"},
        ),
    ]
    assert on_channel["completeness"]["ready"] == {"complete": True, "missing": []}
    check(acme.get(product_id, channel="meta"))  # no override there: the product's own values
    assert check(acme.list())["items"][0]["variants"] == own["variants"]
    entries = check(acme.history(product_id))["items"]
    assert any(change["field"] == f"/variants/{first}" for e in entries for change in e["changes"])
    removed_axis = check(acme.patch(product_id, {"options": ["color"]}))
    assert [v["options"] for v in removed_axis["variants"]] == [
        {"color": "red"},
        {"color": "blue"},
    ]
