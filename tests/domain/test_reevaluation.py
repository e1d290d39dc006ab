"""Channels' requirements in a product's completeness, and re-evaluation after a rule changed:
the new version by `system`, its reason, the READY -> DRAFT fallback and what stays put."""

from __future__ import annotations

import pytest

from catalog.domain.errors import ProductIncomplete
from catalog.domain.events import EventName
from catalog.domain.lifecycle import Status
from catalog.domain.listing import ListingOutcome, ListingState, Outcome
from catalog.domain.product import Product, Stamp
from tests.domain.builders import new_id, stamp, with_status

ML_NEEDS = {"mercadolibre": ("/attributes/brand", "/attributes/condition")}
SYSTEM = Stamp("system", stamp(30).at)


def published_on_mercadolibre() -> Product:
    product = with_status("READY")
    product.attributes = {"brand": "Acme", "condition": "new"}
    product.request_publication("mercadolibre", stamp(5))
    product.pull_change(new_id)
    outcome = ListingOutcome(Outcome.PUBLISHED, product.version, "MLA1", "https://ml.example/MLA1")
    product.record_outcome("mercadolibre", outcome, stamp(6))
    product.pull_change(new_id)
    assert product.status is Status.ACTIVE
    return product


def test_every_declaring_channel_has_an_entry_listed_or_not() -> None:
    product = with_status("READY")
    product.bind_requirements({**ML_NEEDS, "facebook": ()})
    completeness = product.evaluated()
    assert completeness.channels == {
        "facebook": (),
        "mercadolibre": ("/attributes/brand", "/attributes/condition"),
    }
    assert completeness.ready == ()


def test_a_publish_request_needs_what_the_channel_declared() -> None:
    product = with_status("READY")
    product.bind_requirements(ML_NEEDS)
    with pytest.raises(ProductIncomplete) as refused:
        product.request_publication("mercadolibre", stamp(5))
    assert refused.value.channel == "mercadolibre"
    assert refused.value.missing == ["/attributes/brand", "/attributes/condition"]
    assert product.pull_change(new_id) is None  # nothing recorded: no listing, no event


def test_a_channel_override_can_fill_what_the_channel_needs() -> None:
    from catalog.domain.values import ChannelOverride

    product = with_status("READY")
    product.bind_requirements(ML_NEEDS)
    product.revise(
        name=product.name,
        description=product.description,
        price=product.price,
        attributes=product.attributes,
        channel_overrides={
            "mercadolibre": ChannelOverride(attributes={"brand": "Acme", "condition": "new"})
        },
        stamp=stamp(4),
    )
    product.pull_change(new_id)
    assert product.completeness.complete_on("mercadolibre")


def test_an_unchanged_evaluation_records_nothing() -> None:
    product = with_status("READY")
    assert product.reevaluate(SYSTEM, "channel mercadolibre requirements v1") is False
    assert product.pull_change(new_id) is None


def test_a_channels_new_needs_are_recorded_by_system_with_the_reason() -> None:
    product = with_status("READY")
    product.bind_requirements({"mercadolibre": ("/attributes/brand",)})
    assert product.reevaluate(SYSTEM, "product type apparel v3") is True
    pending = product.pull_change(new_id)
    assert pending is not None
    assert product.status is Status.READY  # channel needs do not touch READY itself
    assert [e.name for e in pending.events] == [EventName.COMPLETENESS_CHANGED]
    assert pending.history.actor == "system"
    assert pending.history.reason == "product type apparel v3"
    assert [c.field for c in pending.history.changes] == ["/completeness/channels/mercadolibre"]
    event = pending.events[0]
    assert event.data["reason"] == "product type apparel v3"
    assert event.data["completeness"]["channels"]["mercadolibre"] == {
        "complete": False,
        "missing": ["/attributes/brand"],
    }


def test_ready_falls_back_to_draft_when_readys_own_needs_grow() -> None:
    from catalog.domain.product_types import parse_type_content

    product = with_status("READY")
    product.product_type = "apparel"
    content = parse_type_content(
        {"name": "Apparel", "attributes": {"material": {"type": "string", "required": True}}}
    )
    product.bind_type(content)
    assert product.reevaluate(SYSTEM, "product type apparel v2")
    pending = product.pull_change(new_id)
    assert pending is not None
    assert product.status is Status.DRAFT
    assert pending.history.transition is not None
    assert pending.history.transition.reason == (
        "product type apparel v2: missing /attributes/material"
    )
    assert [e.name for e in pending.events] == [
        EventName.COMPLETENESS_CHANGED,
        EventName.PRODUCT_STATUS_CHANGED,
    ]
    assert product.completeness.ready == ("/attributes/material",)


def test_a_product_listed_keeps_its_status_and_listing_and_shows_what_is_missing() -> None:
    product = published_on_mercadolibre()
    product.bind_requirements({"mercadolibre": ("/attributes/gtin",)})
    assert product.reevaluate(SYSTEM, "channel mercadolibre requirements v2")
    pending = product.pull_change(new_id)
    assert pending is not None
    assert product.status is Status.ACTIVE
    assert product.listings["mercadolibre"].state is ListingState.PUBLISHED
    assert product.completeness.missing_on("mercadolibre") == ("/attributes/gtin",)
    assert [e.name for e in pending.events] == [EventName.COMPLETENESS_CHANGED]


def test_an_edit_of_a_product_left_incomplete_is_refused_only_for_what_it_takes_away() -> None:
    product = published_on_mercadolibre()
    product.bind_requirements({"mercadolibre": ("/attributes/brand", "/attributes/gtin")})
    product.reevaluate(SYSTEM, "channel mercadolibre requirements v2")
    product.pull_change(new_id)

    def revise(**attributes: object) -> None:
        product.revise(
            name=product.name,
            description=product.description,
            price=product.price,
            attributes=attributes,
            channel_overrides={},
            stamp=stamp(40),
        )

    revise(brand="Acme", condition="used")  # gtin was missing before: still allowed
    product.pull_change(new_id)
    with pytest.raises(ProductIncomplete) as refused:
        revise(condition="used")  # takes brand away
    assert refused.value.missing == ["/attributes/brand"]
    assert refused.value.channel == "mercadolibre"


def test_an_inactive_product_is_left_alone() -> None:
    product = with_status("INACTIVE")
    product.bind_requirements(ML_NEEDS)
    assert product.reevaluate(SYSTEM, "channel mercadolibre requirements v1") is False
    assert product.pull_change(new_id) is None
