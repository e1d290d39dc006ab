"""The catalog's CloudEvents, reduced to what routing needs (docs/events/README.md)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

PUBLICATION_REQUESTED = "ProductPublicationRequested"
UNPUBLICATION_REQUESTED = "ProductUnpublicationRequested"
UPDATED = "ProductUpdated"
#: The only events an adapter acts on. Others (product types, channel requirements, other
#: product events) are ignored before parsing: they need not carry a product at all.
ACTED_ON = frozenset({PUBLICATION_REQUESTED, UNPUBLICATION_REQUESTED, UPDATED})


class MalformedEvent(ValueError):
    """A (correctly signed) body that is not a catalog CloudEvent."""


@dataclass(frozen=True)
class CatalogEvent:
    id: str
    type: str
    merchant_id: str
    product_id: str
    version: int
    data: Mapping[str, Any]

    @classmethod
    def from_cloudevent(cls, document: Any) -> CatalogEvent:
        try:
            data = document["data"]
            version = data["version"]
            if not isinstance(version, int) or isinstance(version, bool):
                raise MalformedEvent(f"data.version is not an integer: {version!r}")
            return cls(
                id=_text(document["id"]),
                type=_text(document["type"]),
                merchant_id=_text(data["merchant_id"]),
                product_id=_text(data["product_id"]),
                version=version,
                data=data,
            )
        except (KeyError, TypeError) as error:
            raise MalformedEvent(f"not a catalog CloudEvent: missing {error}") from error

    @staticmethod
    def acted_on(document: Any) -> bool:
        """False for an event of a type no adapter acts on; True when it may be (or when it is
        too malformed to tell, so that parsing reports why)."""
        kind = document.get("type") if isinstance(document, Mapping) else None
        return not (isinstance(kind, str) and kind and kind not in ACTED_ON)

    def concerns(self, channel: str) -> bool:
        """Whether the adapter for `channel` has work to do for this event."""
        if self.type in (PUBLICATION_REQUESTED, UNPUBLICATION_REQUESTED):
            return self.data.get("channel") == channel
        if self.type == UPDATED:
            return channel in (self.data.get("channels") or ())
        return False


def _text(value: Any) -> str:
    if not isinstance(value, str) or not value:
        raise MalformedEvent(f"expected a non-empty string, got {value!r}")
    return value
