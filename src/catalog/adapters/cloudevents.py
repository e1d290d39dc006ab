"""Domain events as CloudEvents 1.0 in structured JSON mode: the envelope every sink delivers.

The same envelope goes to the embedded event log, to webhooks and (as the EventBridge Detail)
to the AWS bus, so a consumer written against one deployment works against the other.
The schemas in docs/events/ describe it; tests validate emitted events against them.
"""

from __future__ import annotations

from typing import Any

from catalog.domain.events import DomainEvent, EventName
from catalog.domain.timestamps import format_time, parse_time

SPEC_VERSION = "1.0"
SOURCE = "catalog"
DATA_CONTENT_TYPE = "application/json"
# Set on every event by the envelope itself; an event's own data never overrides them.
# Product events carry product_id; product type events product_type (the type's key) instead;
# a channel's requirements events `channel` and no merchant_id (they belong to no merchant);
# a job's events job_id.
_CORE_DATA = ("merchant_id", "product_id", "version", "occurred_at")

CloudEvent = dict[str, Any]


def to_cloudevent(event: DomainEvent) -> CloudEvent:
    about: dict[str, Any]
    if event.product_id is not None:
        about = {"merchant_id": event.merchant_id, "product_id": event.product_id}
    elif event.product_type is not None:
        about = {"merchant_id": event.merchant_id, "product_type": event.product_type}
    elif event.job_id is not None:
        about = {"merchant_id": event.merchant_id, "job_id": event.job_id}
    else:
        about = {"channel": event.channel}
    core: dict[str, Any] = {
        **about,
        "version": event.version,
        "occurred_at": format_time(event.occurred_at),
    }
    # merchant_id too where the event has none: data never makes an event a merchant's.
    extra = {k: v for k, v in event.data.items() if k not in core and k not in _CORE_DATA}
    return {
        "specversion": SPEC_VERSION,
        "id": event.id,
        "source": SOURCE,
        "type": event.name.value,
        "subject": event.subject,
        "time": core["occurred_at"],
        "datacontenttype": DATA_CONTENT_TYPE,
        "data": {**core, **extra},
    }


def from_cloudevent(envelope: CloudEvent) -> DomainEvent:
    """The domain event a CloudEvent made by `to_cloudevent` carries; KeyError/ValueError if
    the envelope is not one of ours."""
    if envelope.get("specversion") != SPEC_VERSION or envelope.get("source") != SOURCE:
        raise ValueError("not a catalog CloudEvent")
    data = dict(envelope["data"])
    about_channel = data.pop("channel") if "merchant_id" not in data else None
    about_job = data.pop("job_id") if "job_id" in data and "product_id" not in data else None
    about_product = "product_id" in data or about_channel is not None or about_job is not None
    about_type = None if about_product else data.pop("product_type")
    return DomainEvent(
        id=envelope["id"],
        name=EventName(envelope["type"]),
        merchant_id=data.get("merchant_id"),
        product_id=data.get("product_id"),
        version=data["version"],
        occurred_at=parse_time(data["occurred_at"]),
        data={key: value for key, value in data.items() if key not in _CORE_DATA},
        product_type=about_type,
        channel=about_channel,
        job_id=about_job,
    )
