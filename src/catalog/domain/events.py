"""Domain events recorded by the Product aggregate and relayed through the outbox."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from msgspec import Struct, field


class EventName(StrEnum):
    PRODUCT_CREATED = "ProductCreated"
    PRODUCT_UPDATED = "ProductUpdated"
    PRODUCT_STATUS_CHANGED = "ProductStatusChanged"
    PRODUCT_DEACTIVATED = "ProductDeactivated"
    PRODUCT_REACTIVATED = "ProductReactivated"
    PUBLICATION_REQUESTED = "ProductPublicationRequested"
    UNPUBLICATION_REQUESTED = "ProductUnpublicationRequested"
    PRODUCT_PUBLISHED = "ProductPublished"
    PRODUCT_UNPUBLISHED = "ProductUnpublished"
    PUBLICATION_FAILED = "ProductPublicationFailed"
    COMPLETENESS_CHANGED = "ProductCompletenessChanged"
    PRODUCT_TYPE_CREATED = "ProductTypeCreated"
    PRODUCT_TYPE_UPDATED = "ProductTypeUpdated"
    PRODUCT_TYPE_DELETED = "ProductTypeDeleted"
    CHANNEL_REQUIREMENTS_CHANGED = "ChannelRequirementsChanged"
    JOB_FINISHED = "JobFinished"


class DomainEvent(Struct, frozen=True):
    """One fact about one version of a product, of a merchant's product type (`product_type`
    set, `product_id` None), of a channel's requirements (`channel` set; platform-wide, so
    `merchant_id` None), or of a merchant's job (`job_id` set). `id` is stable so consumers
    can deduplicate."""

    id: str
    name: EventName
    merchant_id: str | None
    product_id: str | None
    version: int
    occurred_at: datetime
    data: dict[str, Any] = field(default_factory=dict)
    product_type: str | None = None
    channel: str | None = None
    job_id: str | None = None

    def __post_init__(self) -> None:
        named = [self.product_id, self.product_type, self.channel, self.job_id]
        if sum(about is not None for about in named) != 1:
            raise ValueError("an event is about a product, a product type, a channel or a job")
        if (self.merchant_id is None) != (self.channel is not None):
            raise ValueError("every event but a channel's belongs to a merchant")

    @property
    def subject(self) -> str:
        """What the event is about, as the CloudEvents `subject`: the product id,
        `product-types/<key>`, `channels/<slug>` or `jobs/<id>`."""
        if self.product_id is not None:
            return self.product_id
        if self.product_type is not None:
            return f"product-types/{self.product_type}"
        if self.job_id is not None:
            return f"jobs/{self.job_id}"
        return f"channels/{self.channel}"
