"""The Meta (Facebook and Instagram) catalog adapter: Catalog Batch API calls.

Each operation is one `items_batch` request (every item of the listing: one, or one per
variant, and the deletions of items it no longer has) followed by polling
`check_batch_request_status` until the batch is finished, so an outcome is only reported once
Meta has accepted or refused the items.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import httpx
from tenacity import RetryError, Retrying, retry_if_result, stop_after_attempt, wait_fixed

from channel_kit import (
    ChannelRejected,
    ChannelUnavailable,
    ListingKey,
    MemoryPublishedItems,
    ProductView,
    Published,
    PublishedItems,
)
from meta_adapter.mapping import REQUIREMENTS, map_listing, missing_fields


@dataclass(frozen=True)
class MetaSettings:
    access_token: str
    catalog_id: str
    graph_url: str = "https://graph.facebook.com"
    api_version: str = "v21.0"
    #: check_batch_request_status polling: attempts and seconds between them.
    status_checks: int = 8
    status_interval: float = 0.5
    channel: str = "meta"


class MetaCatalogAdapter:
    """`http` is owned by the caller; keep its timeout and the polling well under 10 s.

    `published` remembers the retailer ids put on Meta per listing (one per variant), so an
    update deletes the items of variants the product no longer has, and an unpublication
    every item of the group: give it `SqlitePublishedItems` (what `channel_kit.runtime`
    does with `ADAPTER_STATE_DB`) so it survives a restart."""

    def __init__(
        self, settings: MetaSettings, http: httpx.Client, published: PublishedItems | None = None
    ) -> None:
        self.channel = settings.channel
        self._settings = settings
        self._http = http
        self._published = published if published is not None else MemoryPublishedItems()
        self._catalog_url = (
            f"{settings.graph_url.rstrip('/')}/{settings.api_version}/{settings.catalog_id}"
        )
        self._headers = {"Authorization": f"Bearer {settings.access_token}"}
        #: Declared to the catalog on start; availability and brand-or-GTIN are checked
        #: here only (`mapping.missing_fields`).
        self.requirements = REQUIREMENTS

    def missing_fields(self, view: ProductView) -> Sequence[str]:
        return missing_fields(view, self.requirements)

    def publish(self, view: ProductView) -> Published:
        mapped = map_listing(view)
        key = self._key(view)
        stale = self._about_to_send(key, self._published.items(key), mapped.items)
        errors = self._batch(
            [("CREATE", item) for item in mapped.items] + [("DELETE", {"id": i}) for i in stale]
        )
        existing = {item_id for item_id, message in errors if "already exists" in message}
        if existing:
            # Created by an earlier delivery of this event whose outcome never reached the
            # catalog: bring them up to date instead.
            errors = [error for error in errors if error[0] not in existing]
            errors += self._batch([("UPDATE", i) for i in mapped.items if i["id"] in existing])
        self._sent(key, mapped.items, errors)
        return Published(external_id=mapped.external_id)

    def update(self, view: ProductView, external_id: str) -> Published:
        mapped = map_listing(view)
        key = self._key(view)
        before = self._published.items(key)
        items = mapped.items
        listed_as = mapped.external_id
        if not view.options and (not before or external_id in before):
            # Still one item: keep the one the listing names, whatever the SKU says now.
            items = [{**items[0], "id": external_id}]
            listed_as = external_id
        # Without a record (a store that forgot), the listing's own id is all that is known.
        stale = self._about_to_send(key, before or frozenset({external_id}), items)
        errors = self._batch(
            [("UPDATE", item) for item in items] + [("DELETE", {"id": i}) for i in stale]
        )
        self._sent(key, items, errors)
        return Published(external_id=listed_as)

    def unpublish(self, view: ProductView, external_id: str) -> None:
        key = self._key(view)
        published = self._published.items(key)
        if not published:
            # Nothing recorded: the listing's id, and the items its variants would have.
            published = frozenset({external_id, *(v.sku for v in view.variants)})
        errors = self._batch([("DELETE", {"id": item_id}) for item_id in sorted(published)])
        if errors:
            raise ChannelRejected(f"Meta refused: {_joined(errors)}")
        self._published.replace(key, ())

    def _key(self, view: ProductView) -> ListingKey:
        return ListingKey(view.merchant_id, view.id, self.channel)

    def _about_to_send(
        self, key: ListingKey, before: frozenset[str], items: list[dict[str, Any]]
    ) -> list[str]:
        """The items to delete (published before, no longer in the listing). Records every
        item the batch may leave on Meta first, so a crash before its answer still finds
        them next time (deleting one already gone is harmless)."""
        sending = {str(item["id"]) for item in items}
        self._published.replace(key, before | sending)
        return sorted(before - sending)

    def _sent(self, key: ListingKey, items: list[dict[str, Any]], errors: list[_Error]) -> None:
        if errors:
            raise ChannelRejected(f"Meta refused: {_joined(errors)}")
        self._published.replace(key, (str(item["id"]) for item in items))

    def _batch(self, requests: list[tuple[str, dict[str, Any]]]) -> list[_Error]:
        """Send the requests in one batch (at most 2 x 250 variants, well under Meta's 5,000);
        each failed item's retailer id and message once Meta processed it."""
        if not requests:
            return []
        answer = self._call(
            "POST",
            "/items_batch",
            json={
                "item_type": "PRODUCT_ITEM",
                "requests": [{"method": method, "data": data} for method, data in requests],
            },
        )
        immediate = [
            (str(status.get("retailer_id")), str(error.get("message")))
            for status in answer.get("validation_status") or []
            for error in status.get("errors") or []
        ]
        handles = answer.get("handles") or []
        if not handles:
            return immediate or [("", "nothing was ingested")]
        # Even with some items refused at once, the others are processed: wait for them, so
        # the outcome says what the batch really did.
        status = self._finished_status(str(handles[0]))
        processed = [
            (str(error.get("id", "")), str(error.get("message")))
            for error in status.get("errors") or []
        ]
        return list(dict.fromkeys(immediate + processed))

    def _finished_status(self, handle: str) -> dict[str, Any]:
        polling = Retrying(
            stop=stop_after_attempt(self._settings.status_checks),
            wait=wait_fixed(self._settings.status_interval),
            retry=retry_if_result(lambda status: status.get("status") != "finished"),
        )
        try:
            result: dict[str, Any] = polling(self._status, handle)
        except RetryError as error:
            raise ChannelUnavailable(f"Meta batch {handle} still not finished") from error
        return result

    def _status(self, handle: str) -> dict[str, Any]:
        answer = self._call("GET", "/check_batch_request_status", params={"handle": handle})
        data = answer.get("data") or [{}]
        status: dict[str, Any] = data[0]
        return status

    def _call(self, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
        try:
            response = self._http.request(
                method, self._catalog_url + path, headers=self._headers, **kwargs
            )
        except httpx.TransportError as error:
            raise ChannelUnavailable(f"Meta unreachable: {error}") from error
        if response.status_code == 429 or response.status_code >= 500 or _throttled(response):
            raise ChannelUnavailable(f"Meta {response.status_code}: {_message(response)}")
        if response.status_code == 401:
            raise ChannelUnavailable(f"Meta token refused: {_message(response)}")
        if response.status_code >= 400:
            raise ChannelRejected(f"Meta refused: {_message(response)}")
        result: dict[str, Any] = response.json()
        return result


#: A failed item: its retailer id and Meta's message.
_Error = tuple[str, str]


def _joined(errors: list[_Error]) -> str:
    """One entry per distinct message, naming the items it concerns (250 variants with the
    same mistake make one entry)."""
    items_of: dict[str, list[str]] = {}
    for item_id, message in errors:
        items_of.setdefault(message, []).append(item_id)
    return "; ".join(
        f"{message} ({', '.join(i for i in ids if i)})" if any(ids) else message
        for message, ids in items_of.items()
    )


#: Graph error codes for rate limiting (API, app, user, catalog batch): try again later.
THROTTLING_CODES = {4, 17, 32, 613, 80014}


def _throttled(response: httpx.Response) -> bool:
    try:
        return response.json()["error"]["code"] in THROTTLING_CODES
    except (ValueError, KeyError, TypeError):
        return False


def _message(response: httpx.Response) -> str:
    try:
        error = response.json()["error"]
        return f"{error['message']} (code {error['code']})"
    except (ValueError, KeyError, TypeError):
        return response.text or str(response.status_code)
