"""EventProcessor: routing, deduplication by event id, stale-version drops, outcomes."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pytest

from channel_kit import (
    ChannelRejected,
    ChannelUnavailable,
    EventProcessor,
    ListingKey,
    MerchantScope,
    ProductView,
    Published,
    Result,
    SqliteSeenEvents,
    SqliteState,
    SqliteVersionLedger,
)
from conftest import PRODUCT_ID, cloud_event

CHANNEL = "shop"


class RecordingAdapter:
    channel = CHANNEL
    requirements = ("/description", "/attributes/brand")

    def __init__(self) -> None:
        self.calls: list[tuple[str, int, str | None]] = []
        self.missing: list[str] = []
        self.fail_with: Exception | None = None

    def missing_fields(self, view: ProductView) -> Sequence[str]:
        return self.missing

    def publish(self, view: ProductView) -> Published:
        self._call("publish", view, None)
        return Published(f"EXT-{len(self.calls)}", "https://shop.example/item")

    def update(self, view: ProductView, external_id: str) -> Published:
        self._call("update", view, external_id)
        return Published(external_id, "https://shop.example/item")

    def unpublish(self, view: ProductView, external_id: str) -> None:
        self._call("unpublish", view, external_id)

    def _call(self, name: str, view: ProductView, external_id: str | None) -> None:
        if self.fail_with is not None:
            raise self.fail_with
        self.calls.append((name, view.version, external_id))


@pytest.fixture
def adapter() -> RecordingAdapter:
    return RecordingAdapter()


@pytest.fixture
def processor(make_processor, adapter) -> EventProcessor:
    return make_processor(adapter)


def publication(version: int, **kwargs):
    return cloud_event("ProductPublicationRequested", version, channel=CHANNEL, **kwargs)


def update(version: int, channels=(CHANNEL,), **kwargs):
    return cloud_event(
        "ProductUpdated", version, changed_fields=["/price/amount"], channels=list(channels),
        **kwargs,
    )  # fmt: skip


def test_publication_request_publishes_the_effective_view_and_reports_its_version(
    processor, adapter, catalog_api
):
    catalog_api.set_listing(CHANNEL, "PENDING")
    catalog_api.document["version"] = 5  # the view moved on since the event (v4)

    handling = processor.handle(publication(4))

    assert handling.result is Result.HANDLED
    assert adapter.calls == [("publish", 5, None)]
    assert catalog_api.reports == [
        {
            "channel": CHANNEL,
            "state": "PUBLISHED",
            "product_version": 5,
            "external_id": "EXT-1",
            "external_url": "https://shop.example/item",
            "message": None,
        }
    ]
    view_request = catalog_api.requests[0]
    assert view_request.url.params["channel"] == CHANNEL
    assert view_request.headers["Authorization"] == "Bearer channel-token"


def test_a_redelivered_event_is_handled_once(processor, adapter, catalog_api):
    catalog_api.set_listing(CHANNEL, "PENDING")
    event = publication(4)

    first = processor.handle(event)
    second = processor.handle(event)

    assert (first.result, second.result) == (Result.HANDLED, Result.DUPLICATE)
    assert len(adapter.calls) == 1
    assert len(catalog_api.reports) == 1


def test_an_event_older_than_the_newest_handled_is_dropped(processor, adapter, catalog_api):
    catalog_api.set_listing(CHANNEL, "PUBLISHED", "EXT-9")

    newer = processor.handle(update(7))
    older = processor.handle(update(6))

    assert newer.result is Result.HANDLED
    assert older.result is Result.STALE
    assert [call[0] for call in adapter.calls] == ["update"]
    assert len(catalog_api.reports) == 1
    assert len(catalog_api.requests) == 2  # the stale one did not even read the view


def test_events_of_the_same_version_are_all_applied(processor, adapter, catalog_api):
    catalog_api.set_listing(CHANNEL, "PUBLISHED", "EXT-9")

    results = [processor.handle(update(7)).result, processor.handle(publication(7)).result]

    assert results == [Result.HANDLED, Result.HANDLED]


def test_versions_are_tracked_per_channel_listing(make_processor, catalog_api):
    shop, other = RecordingAdapter(), RecordingAdapter()
    other.channel = "other"
    catalog_api.set_listing(CHANNEL, "PUBLISHED", "EXT-1")
    catalog_api.set_listing("other", "PUBLISHED", "EXT-2")
    shop_processor, other_processor = make_processor(shop), make_processor(other)

    shop_processor.handle(update(9, channels=[CHANNEL]))
    handling = other_processor.handle(update(8, channels=["other"]))

    assert handling.result is Result.HANDLED
    assert other.calls and other.calls[0][0] == "update"


def test_other_channels_and_other_event_types_are_ignored_without_any_call(
    processor, adapter, catalog_api
):
    events = [
        cloud_event("ProductPublicationRequested", 4, channel="elsewhere"),
        cloud_event("ProductUnpublicationRequested", 4, channel="elsewhere"),
        update(4, channels=["elsewhere"]),
        cloud_event("ProductCreated", 1, sku="TS-1", name="x", status="DRAFT"),
        cloud_event("ProductPublished", 5, channel=CHANNEL, external_id="E", external_url=None),
    ]

    results = {processor.handle(event).result for event in events}

    assert results == {Result.IGNORED}
    assert catalog_api.requests == []
    assert adapter.calls == []


def test_events_of_no_product_are_ignored_not_malformed(processor, catalog_api, caplog):
    """Channel requirements belong to no merchant, product types to no product."""
    requirements = {
        "specversion": "1.0",
        "id": "01JDX5Q3W8B5Y8Q9N2K7M4ZZZ1",
        "source": "catalog",
        "type": "ChannelRequirementsChanged",
        "subject": "channels/shop",
        "data": {"channel": CHANNEL, "version": 1, "required": ["/attributes/brand"]},
    }
    product_type = {
        **requirements,
        "id": "01JDX5Q3W8B5Y8Q9N2K7M4ZZZ2",
        "type": "ProductTypeCreated",
        "subject": "product-types/apparel",
        "data": {"merchant_id": "acme", "product_type": "apparel", "version": 1},
    }

    handled = [processor.handle(event) for event in (requirements, product_type)]

    assert [(h.result, h.event_id) for h in handled] == [
        (Result.IGNORED, requirements["id"]),
        (Result.IGNORED, product_type["id"]),
    ]
    assert catalog_api.requests == []
    assert "malformed" not in caplog.text


def test_a_malformed_event_is_reported_as_such(processor, catalog_api):
    handling = processor.handle({"id": "x", "type": "ProductUpdated", "data": {"version": "2"}})

    assert handling.result is Result.MALFORMED
    assert catalog_api.requests == []


def test_update_of_a_published_listing_updates_it_on_the_channel(processor, adapter, catalog_api):
    catalog_api.set_listing(CHANNEL, "PUBLISHED", "EXT-7")

    handling = processor.handle(update(5))

    assert (handling.action, handling.outcome) == ("update", "PUBLISHED")
    assert adapter.calls == [("update", 3, "EXT-7")]
    assert catalog_api.reports[0]["state"] == "PUBLISHED"
    assert catalog_api.reports[0]["external_id"] == "EXT-7"


def test_unpublication_withdraws_the_listing_and_reports_unpublished(
    processor, adapter, catalog_api
):
    catalog_api.set_listing(CHANNEL, "UNPUBLISHING", "EXT-7")

    processor.handle(cloud_event("ProductUnpublicationRequested", 3, channel=CHANNEL))

    assert adapter.calls == [("unpublish", 3, "EXT-7")]
    assert [r["state"] for r in catalog_api.reports] == ["UNPUBLISHED"]
    assert catalog_api.reports[0]["product_version"] == 3


def test_unpublication_of_a_listing_never_published_makes_no_channel_call(
    processor, adapter, catalog_api
):
    catalog_api.set_listing(CHANNEL, "UNPUBLISHING", None)

    processor.handle(cloud_event("ProductUnpublicationRequested", 3, channel=CHANNEL))

    assert adapter.calls == []
    assert [r["state"] for r in catalog_api.reports] == ["UNPUBLISHED"]


@pytest.mark.parametrize("state", ["FAILED", "UNPUBLISHED", None])
def test_a_listing_with_nothing_to_do_gets_no_call_and_no_report(
    processor, adapter, catalog_api, state
):
    if state:
        catalog_api.set_listing(CHANNEL, state, None)

    handling = processor.handle(publication(3))

    assert handling.action == "none"
    assert adapter.calls == []
    assert catalog_api.reports == []


def test_missing_fields_fail_the_listing_before_any_channel_call(processor, adapter, catalog_api):
    catalog_api.set_listing(CHANNEL, "PENDING")
    adapter.missing = ["category_id (/attributes/category_id)", "brand (/attributes/brand)"]

    handling = processor.handle(publication(3))

    assert adapter.calls == []
    assert handling.outcome == "FAILED"
    report = catalog_api.reports[0]
    assert report["state"] == "FAILED"
    assert "category_id (/attributes/category_id)" in report["message"]
    assert "brand (/attributes/brand)" in report["message"]


def test_a_channel_refusal_is_reported_as_failed(processor, adapter, catalog_api):
    catalog_api.set_listing(CHANNEL, "PENDING")
    adapter.fail_with = ChannelRejected("title too long")

    processor.handle(publication(3))

    assert catalog_api.reports[0]["state"] == "FAILED"
    assert catalog_api.reports[0]["message"] == "title too long"


def test_a_transient_channel_failure_leaves_the_event_to_be_delivered_again(
    processor, adapter, catalog_api
):
    catalog_api.set_listing(CHANNEL, "PENDING")
    event = publication(3)
    adapter.fail_with = ChannelUnavailable("timeout")

    with pytest.raises(ChannelUnavailable):
        processor.handle(event)
    assert catalog_api.reports == []

    adapter.fail_with = None
    assert processor.handle(event).result is Result.HANDLED
    assert [r["state"] for r in catalog_api.reports] == ["PUBLISHED"]


def test_a_publication_superseded_before_its_confirmation_is_withdrawn(
    processor, adapter, catalog_api
):
    catalog_api.set_listing(CHANNEL, "PENDING")
    catalog_api.ignore_outcomes_as_stale = True

    processor.handle(publication(3))

    assert [call[0] for call in adapter.calls] == ["publish", "unpublish"]
    assert adapter.calls[1][2] == "EXT-1"


def test_sqlite_stores_keep_dedup_and_versions_across_restarts(
    tmp_path: Path, catalog_client, catalog_api
):
    catalog_api.set_listing(CHANNEL, "PUBLISHED", "EXT-7")
    seen_event = update(8)

    def processor_on(path: Path) -> tuple[EventProcessor, SqliteState]:
        state = SqliteState(path)
        adapter = RecordingAdapter()
        return EventProcessor(
            adapter,
            catalog_client,
            SqliteSeenEvents(state),
            SqliteVersionLedger(state),
            merchants=MerchantScope.of(["acme"]),
        ), state

    first, state = processor_on(tmp_path / "state.db")
    first.handle(seen_event)
    state.close()

    again, state = processor_on(tmp_path / "state.db")
    try:
        assert again.handle(seen_event).result is Result.DUPLICATE
        assert again.handle(update(7)).result is Result.STALE
        assert again.handle(update(9)).result is Result.HANDLED
    finally:
        state.close()


def test_sqlite_ledger_never_goes_back(tmp_path: Path):
    state = SqliteState(tmp_path / "state.db")
    ledger = SqliteVersionLedger(state)
    key = ListingKey("acme", PRODUCT_ID, CHANNEL)
    try:
        ledger.record(key, 5)
        ledger.record(key, 3)
        assert ledger.newest(key) == 5
        assert ledger.newest(ListingKey("acme", PRODUCT_ID, "other")) is None
    finally:
        state.close()


def test_an_event_of_a_merchant_outside_the_scope_is_ignored_without_asking_the_catalog(
    processor, adapter, catalog_api
):
    catalog_api.set_listing(CHANNEL, "PENDING")

    handling = processor.handle(publication(4, merchant_id="globex"))

    assert handling.result is Result.IGNORED
    assert handling.detail == "merchant globex is not served here"
    assert catalog_api.requests == [] and adapter.calls == []
    # The scope's own merchant is still served (the processor is not stuck or poisoned).
    assert processor.handle(publication(4)).result is Result.HANDLED


@pytest.mark.parametrize(
    ("scope", "served"),
    [(["acme", "globex"], {"acme", "globex"}), (["*"], {"acme", "globex", "initech"})],
    ids=["several", "every"],
)
def test_a_scope_serves_the_merchants_it_names(scope, served):
    merchants = MerchantScope.of(scope)
    assert {m for m in ("acme", "globex", "initech") if merchants.covers(m)} == served
