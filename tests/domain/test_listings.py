"""Listings: every request and outcome from every listing state, table-driven, and how the
product's status follows them."""

from __future__ import annotations

import pytest

from catalog.domain.errors import (
    InvalidField,
    InvalidListingTransition,
    ProductIncomplete,
    ProductNotPublishable,
)
from catalog.domain.events import EventName
from catalog.domain.lifecycle import Status
from catalog.domain.listing import ListingOutcome, ListingState, Outcome
from catalog.domain.product import Product
from tests.domain.builders import new_id, stamp, with_status

L = ListingState
E = EventName


def pull(product: Product) -> list[EventName]:
    change = product.pull_change(new_id)
    return [event.name for event in change.events] if change else []


def published(ready: Product, channel: str = "ml", external_id: str = "MLA1") -> Product:
    ready.request_publication(channel, stamp(10))
    pull(ready)
    outcome = ListingOutcome(Outcome.PUBLISHED, ready.version, external_id, "https://x.test/1")
    assert ready.record_outcome(channel, outcome, stamp(11))
    pull(ready)
    return ready


def listing_in(state: ListingState | None) -> Product:
    """A READY (or ACTIVE) product whose `ml` listing reached `state` the way adapters do."""
    product = with_status("READY")
    if state is None:
        return product
    product.request_publication("ml", stamp(10))
    pull(product)
    version = product.version
    if state is L.FAILED:
        product.record_outcome(
            "ml", ListingOutcome(Outcome.FAILED, version, message="no"), stamp(11)
        )
    elif state in (L.PUBLISHED, L.UNPUBLISHING, L.UNPUBLISHED):
        outcome = ListingOutcome(Outcome.PUBLISHED, version, "MLA1", None)
        product.record_outcome("ml", outcome, stamp(11))
    pull(product)
    if state in (L.UNPUBLISHING, L.UNPUBLISHED):
        product.request_unpublication("ml", stamp(12))
        pull(product)
    if state is L.UNPUBLISHED:
        outcome = ListingOutcome(Outcome.UNPUBLISHED, product.version)
        product.record_outcome("ml", outcome, stamp(13))
        pull(product)
    assert product.listings["ml"].state is state
    return product


PUBLISH = {
    None: (L.PENDING, [E.PUBLICATION_REQUESTED]),
    L.FAILED: (L.PENDING, [E.PUBLICATION_REQUESTED]),
    L.UNPUBLISHED: (L.PENDING, [E.PUBLICATION_REQUESTED]),
    L.PENDING: (L.PENDING, []),
    L.PUBLISHED: (L.PUBLISHED, []),
    L.UNPUBLISHING: None,  # refused
}
UNPUBLISH = {
    L.PENDING: (L.UNPUBLISHING, [E.UNPUBLICATION_REQUESTED]),
    L.PUBLISHED: (L.UNPUBLISHING, [E.UNPUBLICATION_REQUESTED]),
    L.FAILED: (L.FAILED, []),
    L.UNPUBLISHING: (L.UNPUBLISHING, []),
    L.UNPUBLISHED: (L.UNPUBLISHED, []),
}
OUTCOME_TABLE = {
    (L.PENDING, Outcome.PUBLISHED): (L.PUBLISHED, [E.PRODUCT_PUBLISHED, E.PRODUCT_STATUS_CHANGED]),
    (L.PENDING, Outcome.FAILED): (L.FAILED, [E.PUBLICATION_FAILED]),
    (L.PUBLISHED, Outcome.PUBLISHED): (L.PUBLISHED, []),  # same ids: nothing new
    (L.PUBLISHED, Outcome.FAILED): (L.PUBLISHED, [E.PUBLICATION_FAILED]),
    (L.FAILED, Outcome.FAILED): (L.FAILED, []),  # same message: nothing new
    (L.UNPUBLISHING, Outcome.FAILED): (L.UNPUBLISHING, [E.PUBLICATION_FAILED]),
    (L.UNPUBLISHING, Outcome.UNPUBLISHED): (
        L.UNPUBLISHED,
        [E.PRODUCT_UNPUBLISHED, E.PRODUCT_STATUS_CHANGED],
    ),
    (L.UNPUBLISHED, Outcome.UNPUBLISHED): (L.UNPUBLISHED, []),
}
ALL_OUTCOME_PAIRS = [(s, o) for s in ListingState for o in Outcome]


def outcome(kind: Outcome, version: int) -> ListingOutcome:
    if kind is Outcome.PUBLISHED:
        return ListingOutcome(kind, version, "MLA1", None)
    if kind is Outcome.FAILED:
        return ListingOutcome(kind, version, message="no")
    return ListingOutcome(kind, version)


@pytest.mark.parametrize("state", list(PUBLISH))
def test_publish_request_from_every_listing_state(state):
    product = listing_in(state)
    version = product.version
    expected = PUBLISH[state]

    if expected is None:
        with pytest.raises(InvalidListingTransition):
            product.request_publication("ml", stamp(20))
        return
    product.request_publication("ml", stamp(20))
    events = pull(product)

    assert (product.listings["ml"].state, events) == expected
    if events:
        assert product.listings["ml"].requested_version == version + 1


@pytest.mark.parametrize("state", list(UNPUBLISH))
def test_unpublish_request_from_every_listing_state(state):
    product = listing_in(state)
    product.request_unpublication("ml", stamp(20))
    assert (product.listings["ml"].state, pull(product)) == UNPUBLISH[state]


def test_unpublish_of_a_channel_never_listed_changes_nothing():
    product = with_status("READY")
    product.request_unpublication("ml", stamp(20))
    assert pull(product) == []


@pytest.mark.parametrize(("state", "kind"), ALL_OUTCOME_PAIRS)
def test_every_outcome_from_every_listing_state(state, kind):
    product = listing_in(state)
    expected = OUTCOME_TABLE.get((state, kind))

    if expected is None:
        with pytest.raises(InvalidListingTransition) as raised:
            product.record_outcome("ml", outcome(kind, product.version), stamp(20))
        assert raised.value.current == state.value
        assert pull(product) == []
        return
    assert product.record_outcome("ml", outcome(kind, product.version), stamp(20))
    assert (product.listings["ml"].state, pull(product)) == expected


@pytest.mark.parametrize("kind", list(Outcome))
def test_an_outcome_for_a_channel_without_listing_is_refused(kind):
    product = with_status("READY")
    with pytest.raises(InvalidListingTransition):
        product.record_outcome("ml", outcome(kind, product.version), stamp(20))


@pytest.mark.parametrize("status", ["DRAFT", "INACTIVE"])
def test_only_ready_or_active_products_are_publishable(status):
    with pytest.raises(ProductNotPublishable) as raised:
        with_status(status).request_publication("ml", stamp(20))
    assert raised.value.current == status


def test_first_publication_makes_ready_active_and_the_last_withdrawal_ready_again():
    product = published(with_status("READY"), "ml")
    assert product.status is Status.ACTIVE
    product = published(product, "fb", "FB1")

    product.request_unpublication("ml", stamp(30))
    pull(product)
    product.record_outcome("ml", ListingOutcome(Outcome.UNPUBLISHED, product.version), stamp(31))
    pull(product)
    assert product.status is Status.ACTIVE  # still on fb

    product.request_unpublication("fb", stamp(32))
    pull(product)
    assert product.status is Status.ACTIVE  # fb has not confirmed yet
    product.record_outcome("fb", ListingOutcome(Outcome.UNPUBLISHED, product.version), stamp(33))
    change = product.pull_change(new_id)

    assert product.status is Status.READY
    assert change is not None and change.history.transition is not None
    assert (change.history.transition.from_status, change.history.transition.to_status) == (
        "ACTIVE",
        "READY",
    )


def test_an_outcome_older_than_the_current_request_is_ignored():
    product = with_status("READY")
    product.request_publication("ml", stamp(10))
    pull(product)
    acted_on = product.version
    product.request_unpublication("ml", stamp(11))  # supersedes the publication
    pull(product)

    late = ListingOutcome(Outcome.PUBLISHED, acted_on, "MLA1", None)
    assert product.record_outcome("ml", late, stamp(12)) is False

    assert product.listings["ml"].state is L.UNPUBLISHING
    assert pull(product) == []


def test_an_outcome_for_a_version_that_does_not_exist_yet_is_invalid():
    product = listing_in(L.PENDING)
    with pytest.raises(InvalidField) as raised:
        product.record_outcome("ml", outcome(Outcome.PUBLISHED, product.version + 1), stamp(20))
    assert raised.value.field == "/product_version"


def test_deactivation_withdraws_every_following_listing_with_one_event_each():
    product = published(with_status("READY"), "ml")
    product.request_publication("fb", stamp(20))
    pull(product)
    product.request_publication("ig", stamp(21))
    pull(product)
    product.record_outcome("ig", outcome(Outcome.FAILED, product.version), stamp(22))
    pull(product)

    product.deactivate(stamp(23))
    events = product.pull_change(new_id)

    assert product.status is Status.INACTIVE
    assert {c: listing.state for c, listing in product.listings.items()} == {
        "ml": L.UNPUBLISHING,
        "fb": L.UNPUBLISHING,
        "ig": L.FAILED,
    }
    assert events is not None
    assert [(e.name, e.data.get("channel")) for e in events.events] == [
        (E.PRODUCT_DEACTIVATED, None),
        (E.UNPUBLICATION_REQUESTED, "fb"),
        (E.UNPUBLICATION_REQUESTED, "ml"),
    ]
    # Confirmations keep the product INACTIVE.
    product.record_outcome("ml", ListingOutcome(Outcome.UNPUBLISHED, product.version), stamp(24))
    pull(product)
    assert product.status is Status.INACTIVE


def test_an_update_names_the_channels_to_resync():
    product = published(with_status("READY"), "ml")
    product.request_publication("fb", stamp(20))
    pull(product)

    product.revise(
        name="Renamed",
        description=product.description,
        price=product.price,
        attributes=product.attributes,
        channel_overrides=product.channel_overrides,
        stamp=stamp(21),
    )
    change = product.pull_change(new_id)

    assert change is not None
    assert change.events[0].name is E.PRODUCT_UPDATED
    assert change.events[0].data["channels"] == ["fb", "ml"]


def test_an_edit_that_would_leave_a_pending_listing_incomplete_is_refused():
    # DESIGN.md section 9: a listing on its way is not published half-done, and not
    # silently withdrawn either; the merchant is told what the channel would miss.
    product = listing_in(L.PENDING)
    before = product.editable_document()

    with pytest.raises(ProductIncomplete) as refused:
        product.revise(
            name=product.name,
            description=None,
            price=product.price,
            attributes=product.attributes,
            channel_overrides=product.channel_overrides,
            product_type=None,
            stamp=stamp(21),
        )

    assert (refused.value.channel, refused.value.missing) == ("ml", ["/description"])
    assert product.editable_document() == before
    assert product.status is Status.READY
    assert product.pull_change(new_id) is None


def test_listing_changes_are_recorded_in_history():
    product = with_status("READY")
    product.request_publication("ml", stamp(10))
    change = product.pull_change(new_id)

    assert change is not None
    fields = {c.field: (c.old, c.new) for c in change.history.changes}
    assert fields["/listings/ml/state"] == (None, "PENDING")


def test_a_product_is_listed_on_a_bounded_number_of_channels():
    from catalog.domain.limits import MAX_LISTINGS

    product = with_status("READY")
    for index in range(MAX_LISTINGS):
        product.request_publication(f"ch-{index}", stamp(20))
    pull(product)

    with pytest.raises(InvalidField) as raised:
        product.request_publication("one-too-many", stamp(21))
    assert raised.value.field == "/channel"
    product.request_publication("ch-0", stamp(22))  # an existing listing is still fine
