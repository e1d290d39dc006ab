"""The Mercado Libre channel adapter: items API calls for publish, update and close."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import httpx

from channel_kit import ChannelRejected, ChannelUnavailable, ProductView, Published
from mercadolibre_adapter.mapping import (
    UPDATABLE_FIELDS,
    map_item,
    missing_fields,
    requirements_for,
)
from mercadolibre_adapter.variations import with_listed_ids


@dataclass(frozen=True)
class MercadoLibreSettings:
    access_token: str
    api_url: str = "https://api.mercadolibre.com"
    #: Used when the product's attributes do not say (a merchant-wide choice).
    defaults: Mapping[str, Any] = field(default_factory=lambda: {"buying_mode": "buy_it_now"})
    channel: str = "mercadolibre"


class MercadoLibreAdapter:
    """`http` is owned by the caller; give it a timeout well under the catalog relay's 10 s."""

    def __init__(self, settings: MercadoLibreSettings, http: httpx.Client) -> None:
        self.channel = settings.channel
        self._settings = settings
        self._http = http
        self._base = settings.api_url.rstrip("/")
        self._headers = {"Authorization": f"Bearer {settings.access_token}"}
        #: Declared to the catalog on start; fields with a default in `settings` are not
        #: required of the product (`mapping.requirements_for`).
        self.requirements = requirements_for(settings.defaults)

    def missing_fields(self, view: ProductView) -> Sequence[str]:
        return missing_fields(view, self.requirements)

    def publish(self, view: ProductView) -> Published:
        mapped = map_item(view, self._settings.defaults)
        item = self._call("POST", "/items", mapped.item)
        return Published(external_id=str(item["id"]), external_url=item.get("permalink"))

    def update(self, view: ProductView, external_id: str) -> Published:
        mapped = map_item(view, self._settings.defaults).item
        changes = {name: mapped[name] for name in UPDATABLE_FIELDS if name in mapped}
        if "variations" in changes:
            # ML keeps a variation sent with its id, creates one sent without, and deletes
            # one left out: the ids are read from the item itself, never stale.
            listed = self._call("GET", f"/items/{external_id}").get("variations") or []
            changes["variations"] = with_listed_ids(changes["variations"], listed)
            del changes["available_quantity"]  # ML sums the variations'
        item = self._call("PUT", f"/items/{external_id}", changes)
        if "description" in mapped:
            self._call("PUT", f"/items/{external_id}/description", mapped["description"])
        return Published(external_id=external_id, external_url=item.get("permalink"))

    def unpublish(self, view: ProductView, external_id: str) -> None:
        try:
            self._call("PUT", f"/items/{external_id}", {"status": "closed"})
        except _NotFound:
            return  # gone already: nothing left to withdraw
        except ChannelRejected:
            # A closed item refuses any change, closing included: closed is what we want.
            if self._call("GET", f"/items/{external_id}").get("status") != "closed":
                raise

    def _call(self, method: str, path: str, body: Any = None) -> dict[str, Any]:
        try:
            response = self._http.request(
                method, self._base + path, json=body, headers=self._headers
            )
        except httpx.TransportError as error:
            raise ChannelUnavailable(f"Mercado Libre unreachable: {error}") from error
        if response.status_code == 404:
            raise _NotFound(_message(response))
        if response.status_code in (401, 429) or response.status_code >= 500:
            # 401: the access token expired (they last hours); once renewed, the redelivered
            # event goes through.
            raise ChannelUnavailable(f"Mercado Libre {response.status_code}: {_message(response)}")
        if response.status_code >= 400:
            raise ChannelRejected(f"Mercado Libre refused: {_message(response)}")
        result: dict[str, Any] = response.json()
        return result


class _NotFound(ChannelRejected):
    pass


def _message(response: httpx.Response) -> str:
    """ML's error document: `message`, `error`, and `cause[].message` with the details."""
    try:
        body = response.json()
    except ValueError:
        return response.text or str(response.status_code)
    if not isinstance(body, dict):
        return str(body)
    causes = [
        str(cause.get("message") or cause.get("code"))
        for cause in body.get("cause") or []
        if isinstance(cause, dict) and cause.get("type", "error") == "error"
    ]
    head = str(body.get("message") or body.get("error") or response.status_code)
    return f"{head}: {'; '.join(causes)}" if causes else head
