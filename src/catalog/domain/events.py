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


@dataclass(frozen=True)
class DomainEvent:
    """One fact about one product version. `id` is stable so consumers can deduplicate."""

    id: str
    name: EventName
    merchant_id: str
    product_id: str
    version: int
    occurred_at: datetime
    data: dict[str, Any] = field(default_factory=dict)
