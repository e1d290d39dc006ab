"""Ports: what the use cases need from the outside world. Adapters implement them."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol, runtime_checkable

from catalog.domain.events import DomainEvent
from catalog.domain.history import HistoryEntry
from catalog.domain.lifecycle import Status
from catalog.domain.listing import ListingState
from catalog.domain.product import Product


@dataclass(frozen=True)
class IdempotencyRecord:
    """The first outcome of a keyed request, replayed to retries of the same request."""

    merchant_id: str
    key: str
    fingerprint: str
    product: Product  # as the first request returned it; the store keeps a copy
    expires_at: datetime


@dataclass(frozen=True)
class ListingsBefore:
    """Where the product's listings stood in the version a change replaces: the product's
    status and each listing's state. Lets a store that indexes listings leave untouched
    the index entries that did not move."""

    status: Status
    states: Mapping[str, ListingState]

    @classmethod
    def of(cls, product: Product) -> ListingsBefore:
        return cls(product.status, {c: lst.state for c, lst in product.listings.items()})


@dataclass(frozen=True)
class Change:
    """Everything one use case writes, committed atomically or not at all.

    `expected_version` is the stored version this change replaces; 0 means a new product,
    which also claims its sku. A store raises VersionConflict, DuplicateSku or
    IdempotencyKeyRaced and writes nothing when a condition fails, and ProductTooLarge when
    the product or its history record would outgrow limits.MAX_DOCUMENT_BYTES stored.
    """

    product: Product
    expected_version: int
    history: HistoryEntry
    events: tuple[DomainEvent, ...]
    idempotency: IdempotencyRecord | None = None
    # None: unknown, so a store rewrites whatever it derives from the listings.
    listings_before: ListingsBefore | None = None


@dataclass(frozen=True)
class StoredPage:
    """Products of one page and the backend's position after them (None: last page)."""

    items: list[Product]
    position: str | None


class ProductStore(Protocol):
    """Documents, history, outbox and idempotency records of every merchant.

    Every method takes the merchant id: there is no way to reach another tenant's data.
    """

    def get(self, merchant_id: str, product_id: str) -> Product | None: ...

    def page(
        self,
        merchant_id: str,
        *,
        status: Status | None,
        channel: str | None,
        limit: int,
        position: str | None,
    ) -> StoredPage: ...

    def history(
        self, merchant_id: str, product_id: str, *, limit: int, before_version: int | None
    ) -> list[HistoryEntry]: ...

    def idempotency_record(
        self, merchant_id: str, key: str, now: datetime
    ) -> IdempotencyRecord | None: ...

    def commit(self, change: Change) -> None: ...


@dataclass(frozen=True)
class OutboxRecord:
    seq: int
    event: DomainEvent


class Outbox(Protocol):
    """The committed events in commit order, and how far each sink has consumed them."""

    def read_after(self, seq: int, limit: int) -> list[OutboxRecord]: ...

    def offset(self, sink: str) -> int: ...

    def save_offset(self, sink: str, seq: int) -> None: ...

    def prune(self, up_to_seq: int) -> None:
        """Forget the events up to `up_to_seq` (every sink has them). Sequence numbers are
        never reused."""
        ...


class AssetStore(Protocol):
    """Object storage for image bytes; the catalog keeps only keys."""

    def put(self, key: str, data: bytes, content_type: str) -> None: ...

    def delete(self, key: str) -> None: ...

    def url_for(self, key: str) -> str:
        """A URL that serves the object, computed without any call to the storage."""
        ...


@runtime_checkable
class DirectUploads(Protocol):
    """Uploads that go from the client straight to object storage, past the API.

    A separate port from AssetStore so the core one stays minimal; every asset store of the
    catalog implements both (see service/uploads.py).
    """

    def presign_upload(
        self, key: str, content_type: str, max_bytes: int, expires_in: int
    ) -> tuple[str, dict[str, str]]:
        """Where and how to upload one object: a URL taking an HTML-form POST of `fields`
        plus a `file` part, accepted only for `key`, with this content type, between 1 and
        `max_bytes` bytes, for `expires_in` seconds. Computed without calling the storage."""
        ...

    def read(self, key: str, max_bytes: int) -> bytes | None:
        """The object's bytes, None when there is none. Reads at most `max_bytes` + 1 bytes:
        a longer result means the object is larger than `max_bytes`."""
        ...

    def close_upload(self, key: str) -> None:
        """End the ticket of `key` for good (its upload was confirmed or rejected): the object
        under `key` is removed and `upload_closed(key)` holds for at least as long as the
        ticket could still be used. Storage that can refuses later uploads with that ticket
        (the embedded one); S3 cannot revoke a presigned POST, so there only the catalog's
        confirmation refuses them. Idempotent."""
        ...

    def upload_closed(self, key: str) -> bool:
        """Whether close_upload(key) was called (and its mark has not yet expired)."""
        ...


@dataclass(frozen=True)
class ImageInfo:
    content_type: str
    extension: str
    width: int
    height: int


class ImageInspector(Protocol):
    def inspect(self, data: bytes) -> ImageInfo:
        """Read type and dimensions from the bytes; raises ImageRejected."""
        ...


class Clock(Protocol):
    def now(self) -> datetime: ...


class IdGenerator(Protocol):
    def new_id(self) -> str: ...
