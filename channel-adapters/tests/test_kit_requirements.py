"""Channel requirements in the kit: pointers looked up as the catalog does, the declaration PUT
(idempotent, retried like every catalog call), and declaring on start, retried until it took."""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence

import httpx
import pytest
from tenacity import wait_none

from channel_kit import (
    CatalogClient,
    CatalogRejected,
    CatalogUnavailable,
    DeclarationState,
    EventProcessor,
    MemorySeenEvents,
    MemoryVersionLedger,
    MerchantScope,
    ProductView,
    Published,
    Result,
    RetryPolicy,
)
from channel_kit.requirements import missing, missing_in_document, required
from channel_kit.runtime import KitSettings, build_processor
from conftest import CATALOG_URL, CatalogApiDouble, cloud_event, product_document

CHANNEL = "shop"
DECLARED = ("/description", "/images", "/attributes/brand", "/attributes/size/eu")


# --------------------------------------------------------------------------- evaluation


@pytest.mark.parametrize(
    ("value", "is_missing"),
    [
        (None, True),
        ("", True),
        ("   ", True),
        ([], True),
        ({}, True),
        ("Acme", False),
        (0, False),
        (False, False),
        (["x"], False),
        ({"k": 1}, False),
    ],
)
def test_a_pointer_is_missing_when_absent_null_blank_or_empty(value, is_missing):
    document = {"attributes": {"brand": value}}

    assert missing_in_document(document, ["/attributes/brand"]) == (
        ("/attributes/brand",) if is_missing else ()
    )


def test_pointers_reach_nested_attributes_list_members_and_escaped_names():
    document = {
        "attributes": {"size": {"eu": 42}, "a/b": "x", "tags": ["trail"], "empty": {"eu": None}}
    }

    assert missing_in_document(
        document,
        ["/attributes/size/eu", "/attributes/a~1b", "/attributes/tags/0", "/attributes/tags/1"],
    ) == ("/attributes/tags/1",)
    # Through a value that is not an object: absent, not an error.
    assert missing_in_document(document, ["/attributes/size/eu/x", "/attributes/empty/eu"]) == (
        "/attributes/size/eu/x",
        "/attributes/empty/eu",
    )


def test_missing_lists_each_pointer_once_in_the_declared_order():
    view = ProductView.from_json(
        product_document(description=None, images=[], attributes={}), CHANNEL
    )

    assert missing(view, ["/images", "/description", "/images", "/attributes/brand"]) == (
        "/images",
        "/description",
        "/attributes/brand",
    )


def test_a_view_built_by_hand_is_looked_up_in_its_fields():
    view = ProductView.from_json(product_document(), CHANNEL)
    by_hand = ProductView(**{**view.__dict__, "raw": {}, "description": " ", "images": ()})

    assert missing(by_hand, ["/name", "/description", "/price", "/images", "/sku"]) == (
        "/description",
        "/images",
    )


@pytest.mark.parametrize(
    "pointer",
    ["/title", "/attributes", "/attributes/", "/attributes/a//b", "/attributes/a~2", "name"],
)
def test_a_declaration_accepts_only_pointers_the_catalog_accepts(pointer):
    with pytest.raises(ValueError, match="not a requirement the catalog accepts"):
        required("/name", pointer)


def test_a_declaration_keeps_each_pointer_once_in_order():
    assert required("/price", "/attributes/brand", "/price") == ("/price", "/attributes/brand")


# --------------------------------------------------------------------------- the PUT


def client_for(double: CatalogApiDouble, attempts: int = 3) -> CatalogClient:
    http = httpx.Client(transport=httpx.MockTransport(double))
    return CatalogClient(CATALOG_URL, "channel-token", http, RetryPolicy(attempts, wait_none()))


@pytest.fixture
def double() -> CatalogApiDouble:
    """A catalog holding a product complete for DECLARED."""
    document = product_document()
    document["attributes"]["size"] = {"eu": 42}
    return CatalogApiDouble(document)


def test_requirements_are_put_for_the_channel_and_read_back(double):
    client = client_for(double)

    held = client.declare_requirements(CHANNEL, DECLARED)

    request = double.requests[0]
    assert (request.method, request.url.path) == ("PUT", "/v1/channels/shop/requirements")
    assert request.headers["authorization"] == "Bearer channel-token"
    assert json.loads(request.content) == {"required": list(DECLARED)}
    assert "if-match" not in request.headers
    assert (held.channel, held.required, held.version) == (CHANNEL, DECLARED, 1)
    assert client.requirements(CHANNEL) == held


def test_declaring_the_same_list_again_changes_nothing(double):
    client = client_for(double)

    first = client.declare_requirements(CHANNEL, DECLARED)
    again = client.declare_requirements(CHANNEL, DECLARED)

    assert again == first
    assert double.requirements[CHANNEL] == (list(DECLARED), 1)


def test_the_declaration_is_retried_on_server_errors_and_network_failures(double):
    double.failures = [503, 429]
    client = client_for(double)

    assert client.declare_requirements(CHANNEL, DECLARED).version == 1
    assert len(double.requests) == 3


def test_a_refused_declaration_is_not_retried(double):
    double.failures = [422]
    client = client_for(double)

    with pytest.raises(CatalogRejected) as refused:
        client.declare_requirements(CHANNEL, ["/nope"])
    assert refused.value.status_code == 422
    assert len(double.requests) == 1


def test_after_the_last_attempt_the_catalog_is_unavailable(double):
    double.failures = [503, 503, 503]

    with pytest.raises(CatalogUnavailable):
        client_for(double).declare_requirements(CHANNEL, DECLARED)


# --------------------------------------------------------------------------- on start


class Adapter:
    channel = CHANNEL
    requirements = DECLARED

    def __init__(self) -> None:
        self.published: list[int] = []

    def missing_fields(self, view: ProductView) -> Sequence[str]:
        return missing(view, self.requirements)

    def publish(self, view: ProductView) -> Published:
        self.published.append(view.version)
        return Published("EXT-1")

    def update(self, view: ProductView, external_id: str) -> Published:
        return Published(external_id)

    def unpublish(self, view: ProductView, external_id: str) -> None:
        return None


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def processor_for(double: CatalogApiDouble, clock: Clock | None = None) -> EventProcessor:
    return EventProcessor(
        Adapter(),
        client_for(double, attempts=2),
        MemorySeenEvents(),
        MemoryVersionLedger(),
        merchants=MerchantScope.of(["acme"]),
        clock=clock or Clock(),
    )


def publication(version: int = 3) -> dict:
    return cloud_event("ProductPublicationRequested", version, channel=CHANNEL)


def paths(double: CatalogApiDouble) -> list[str]:
    return [f"{request.method} {request.url.path.split('/')[2]}" for request in double.requests]


def test_the_runtime_declares_the_requirements_before_the_first_event(double):
    double.set_listing(CHANNEL, "PENDING")
    settings = KitSettings(CATALOG_URL, "channel-token", MerchantScope.of(["acme"]))
    http = httpx.Client(transport=httpx.MockTransport(double))

    processor = build_processor(settings, lambda _: Adapter(), http=http)

    assert processor.declaration is DeclarationState.DECLARED
    assert double.requirements == {CHANNEL: (list(DECLARED), 1)}
    assert processor.handle(publication()).outcome == "PUBLISHED"
    assert paths(double) == ["PUT channels", "GET merchants", "PUT merchants"]


def test_a_declaration_that_failed_is_tried_again_before_a_later_event_once_due(double, caplog):
    clock = Clock()
    processor = processor_for(double, clock)
    double.failures = [503, 503]  # both attempts of the client

    with caplog.at_level(logging.WARNING, "channel_kit.declaration"):
        assert processor.declare_requirements() is DeclarationState.PENDING
    assert "requirements not declared" in caplog.text
    assert "trying again in 60 s" in caplog.text

    # Events are handled meanwhile; the adapter checks the same requirements itself.
    double.set_listing(CHANNEL, "PENDING")
    assert processor.handle(publication(3)).result is Result.HANDLED
    assert double.requirements == {}  # not due yet: no new attempt

    clock.now += 60
    processor.handle(publication(4))

    assert processor.declaration is DeclarationState.DECLARED
    assert double.requirements == {CHANNEL: (list(DECLARED), 1)}
    assert paths(double)[-3:] == ["PUT channels", "GET merchants", "PUT merchants"]
    clock.now += 600
    processor.handle(publication(5))
    assert paths(double).count("PUT channels") == 3  # two failed attempts, one that took


def test_a_token_the_catalog_refuses_is_tried_again_later(double):
    clock = Clock()
    processor = processor_for(double, clock)
    double.failures = [403]

    assert processor.declare_requirements() is DeclarationState.PENDING
    clock.now += 60
    double.set_listing(CHANNEL, "PENDING")
    processor.handle(publication())
    assert processor.declaration is DeclarationState.DECLARED


def test_requirements_the_catalog_refuses_are_logged_and_not_tried_again(double, caplog):
    clock = Clock()
    processor = processor_for(double, clock)
    double.failures = [422]

    with caplog.at_level(logging.ERROR, "channel_kit.declaration"):
        assert processor.declare_requirements() is DeclarationState.REFUSED
    assert "refused the requirements" in caplog.text

    clock.now += 3600
    double.set_listing(CHANNEL, "PENDING")
    assert processor.handle(publication()).outcome == "PUBLISHED"
    assert paths(double).count("PUT channels") == 1


def test_a_processor_nobody_started_declares_nothing(double):
    double.set_listing(CHANNEL, "PENDING")
    processor = processor_for(double)

    processor.handle(publication())

    assert processor.declaration is DeclarationState.NOT_STARTED
    assert "PUT channels" not in paths(double)


def test_declaring_again_once_declared_makes_no_call(double):
    processor = processor_for(double)

    assert processor.declare_requirements() is DeclarationState.DECLARED
    assert processor.declare_requirements() is DeclarationState.DECLARED
    assert paths(double) == ["PUT channels"]
