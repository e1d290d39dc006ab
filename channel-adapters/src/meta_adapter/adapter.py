"""The Meta (Facebook and Instagram) catalog adapter: Catalog Batch API calls.

Each operation is one `items_batch` request followed by polling
`check_batch_request_status` until the batch is finished, so an outcome is only reported once
Meta has accepted or refused the item.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import httpx
from tenacity import RetryError, Retrying, retry_if_result, stop_after_attempt, wait_fixed

from channel_kit import ChannelRejected, ChannelUnavailable, ProductView, Published
from meta_adapter.mapping import REQUIREMENTS, map_item, missing_fields


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
    """`http` is owned by the caller; keep its timeout and the polling well under 10 s."""

    def __init__(self, settings: MetaSettings, http: httpx.Client) -> None:
        self.channel = settings.channel
        self._settings = settings
        self._http = http
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
        mapped = map_item(view)
        errors = self._batch("CREATE", mapped.data)
        if errors and all("already exists" in error for error in errors):
            # Created by an earlier delivery of this event whose outcome never reached the
            # catalog: bring it up to date instead.
            errors = self._batch("UPDATE", mapped.data)
        if errors:
            raise ChannelRejected(f"Meta refused: {'; '.join(errors)}")
        return Published(external_id=mapped.retailer_id)

    def update(self, view: ProductView, external_id: str) -> Published:
        data = {**map_item(view).data, "id": external_id}
        errors = self._batch("UPDATE", data)
        if errors:
            raise ChannelRejected(f"Meta refused: {'; '.join(errors)}")
        return Published(external_id=external_id)

    def unpublish(self, view: ProductView, external_id: str) -> None:
        errors = self._batch("DELETE", {"id": external_id})
        if errors:
            raise ChannelRejected(f"Meta refused: {'; '.join(errors)}")

    def _batch(self, method: str, data: dict[str, Any]) -> list[str]:
        """Send one request in a batch; the item's error messages once Meta processed it."""
        answer = self._call(
            "POST",
            "/items_batch",
            json={"item_type": "PRODUCT_ITEM", "requests": [{"method": method, "data": data}]},
        )
        immediate = [
            str(error.get("message"))
            for status in answer.get("validation_status") or []
            for error in status.get("errors") or []
        ]
        handles = answer.get("handles") or []
        if immediate or not handles:
            return immediate or ["nothing was ingested"]
        status = self._finished_status(str(handles[0]))
        return [str(error.get("message")) for error in status.get("errors") or []]

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
