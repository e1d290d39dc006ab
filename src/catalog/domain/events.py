"""Domain events recorded by the Product aggregate and relayed through the outbox."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any


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
    PRODUCT_TYPE_CREATED = "ProductTypeCreated"
    PRODUCT_TYPE_UPDATED = "ProductTypeUpdated"
    PRODUCT_TYPE_DELETED = "ProductTypeDeleted"


@dataclass(frozen=True)
class DomainEvent:
    """One fact about one version of a product, or of a product type (`product_type` set,
    `product_id` None). `id` is stable so consumers can deduplicate."""

    id: str
    name: EventName
    merchant_id: str
    product_id: str | None
    version: int
    occurred_at: datetime
    data: dict[str, Any] = field(default_factory=dict)
    product_type: str | None = None

    def __post_init__(self) -> None:
        if (self.product_id is None) == (self.product_type is None):
            raise ValueError("an event is about a product or a product type: name one")

    @property
    def subject(self) -> str:
        """What the event is about, as the CloudEvents `subject`: the product id, or
        `product-types/<key>`."""
        if self.product_id is not None:
            return self.product_id
        return f"product-types/{self.product_type}"
