"""The CloudEvents envelope of a domain event."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from msgspec import structs

from catalog.adapters.cloudevents import from_cloudevent, to_cloudevent
from catalog.domain.events import DomainEvent, EventName

EVENT = DomainEvent(
    id="01JDX5Q3W8B5Y8Q9N2K7M4R6TZ",
    name=EventName.PRODUCT_UPDATED,
    merchant_id="acme",
    product_id="01JDX5Q0A1B2C3D4E5F6G7H8J9",
    version=3,
    occurred_at=datetime(2026, 11, 30, 12, 5, 0, 250_000, tzinfo=UTC),
    data={"changed_fields": ["/price/amount"]},
)


def test_the_envelope_is_cloudevents_1_0_structured_json() -> None:
    assert to_cloudevent(EVENT) == {
        "specversion": "1.0",
        "id": "01JDX5Q3W8B5Y8Q9N2K7M4R6TZ",
        "source": "catalog",
        "type": "ProductUpdated",
        "subject": "01JDX5Q0A1B2C3D4E5F6G7H8J9",
        "time": "2026-11-30T12:05:00.250Z",
        "datacontenttype": "application/json",
        "data": {
            "merchant_id": "acme",
            "product_id": "01JDX5Q0A1B2C3D4E5F6G7H8J9",
            "version": 3,
            "occurred_at": "2026-11-30T12:05:00.250Z",
            "changed_fields": ["/price/amount"],
        },
    }


def test_the_event_reads_back_from_its_envelope() -> None:
    assert from_cloudevent(to_cloudevent(EVENT)) == EVENT


def test_event_data_cannot_override_the_common_fields() -> None:
    forged = DomainEvent(
        **{**structs.asdict(EVENT), "data": {"version": 99, "merchant_id": "evil"}}
    )

    data = to_cloudevent(forged)["data"]

    assert (data["version"], data["merchant_id"]) == (3, "acme")


def test_an_envelope_from_another_source_is_refused() -> None:
    envelope = {**to_cloudevent(EVENT), "source": "elsewhere"}

    with pytest.raises(ValueError):
        from_cloudevent(envelope)


def test_a_channel_event_reads_back_and_data_cannot_make_it_a_merchants() -> None:
    event = DomainEvent(
        "01JDX5Q3W8B5Y8Q9N2K7M4R6TZ",
        EventName.CHANNEL_REQUIREMENTS_CHANGED,
        None,
        None,
        2,
        EVENT.occurred_at,
        {"required": ["/images"], "merchant_id": "evil"},
        channel="mercadolibre",
    )
    envelope = to_cloudevent(event)
    assert envelope["subject"] == "channels/mercadolibre"
    assert envelope["data"] == {
        "channel": "mercadolibre",
        "version": 2,
        "occurred_at": "2026-11-30T12:05:00.250Z",
        "required": ["/images"],
    }
    back = from_cloudevent(envelope)
    assert (back.merchant_id, back.channel, back.data) == (
        None,
        "mercadolibre",
        {"required": ["/images"]},
    )


def test_a_job_event_reads_back_from_its_envelope() -> None:
    job_event = DomainEvent(
        id="01JD8X5J9ZK8Q5W6V2C3N4M5P7",
        name=EventName.JOB_FINISHED,
        merchant_id="acme",
        product_id=None,
        version=3,
        occurred_at=EVENT.occurred_at,
        data={"kind": "import", "status": "SUCCEEDED", "created": 2},
        job_id="01JD8X5J9ZK8Q5W6V2C3N4M5P8",
    )
    envelope = to_cloudevent(job_event)
    assert envelope["subject"] == "jobs/01JD8X5J9ZK8Q5W6V2C3N4M5P8"
    assert envelope["data"]["job_id"] == "01JD8X5J9ZK8Q5W6V2C3N4M5P8"
    assert from_cloudevent(envelope) == job_event
