"""The catalog's HTTP API as an adapter uses it: read the effective view, report outcomes,
declare the channel's requirements.

Every call is retried on network errors, 5xx and 429 (the catalog or its network hiccups;
every request is idempotent: GETs, an outcome PUT that the catalog answers the same way when
repeated, and a requirements PUT that writes nothing when the list is the same). A 4xx other
than 429 is the catalog's final word and is never retried.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Literal
from urllib.parse import quote

import httpx
from tenacity import (
    Retrying,
    retry_if_exception_type,
    stop_after_attempt,
    wait_exponential,
    wait_random,
)
from tenacity.wait import WaitBaseT

from channel_kit.view import ProductView

OutcomeState = Literal["PUBLISHED", "FAILED", "UNPUBLISHED"]
#: The longest outcome message the catalog takes (its listing outcome rule); longer is a 422.
MAX_MESSAGE_LENGTH = 2_000


class CatalogUnavailable(Exception):
    """The catalog did not answer usefully after every retry; handle the event again later."""


class CatalogRejected(Exception):
    """The catalog answered a 4xx: retrying the same request cannot succeed."""

    def __init__(self, status_code: int, problem: Any) -> None:
        super().__init__(f"catalog answered {status_code}: {problem}")
        self.status_code = status_code
        self.problem = problem


class _Transient(Exception):
    def __init__(self, response: httpx.Response) -> None:
        super().__init__(f"catalog answered {response.status_code}")
        self.response = response


#: Backoff between attempts: 0.2 s doubling up to 5 s, with jitter (a few seconds in all).
DEFAULT_WAIT: WaitBaseT = wait_exponential(multiplier=0.2, max=5.0) + wait_random(0, 0.2)


@dataclass(frozen=True)
class RetryPolicy:
    attempts: int = 5
    #: tenacity wait strategy; tests pass `tenacity.wait_none()`.
    wait: WaitBaseT = DEFAULT_WAIT


@dataclass(frozen=True)
class ReportAnswer:
    """The catalog's answer to an outcome: the product view after it, and whether the
    outcome was ignored because a newer request superseded it (`Outcome-Ignored: stale`)."""

    product: dict[str, Any]
    ignored_as_stale: bool


@dataclass(frozen=True)
class ChannelRequirements:
    """A channel's requirements as the catalog holds them; `version` 0: none declared."""

    channel: str
    required: tuple[str, ...]
    version: int

    @classmethod
    def from_json(cls, document: dict[str, Any]) -> ChannelRequirements:
        return cls(
            channel=str(document["channel"]),
            required=tuple(str(pointer) for pointer in document["required"]),
            version=int(document["version"]),
        )


class CatalogClient:
    def __init__(
        self,
        base_url: str,
        token: str,
        http: httpx.Client,
        retry: RetryPolicy | None = None,
    ) -> None:
        """`http` is owned by the caller (timeouts, transport, closing)."""
        self._base = base_url.rstrip("/")
        self._headers = {"Authorization": f"Bearer {token}", "Accept": "application/json"}
        self._http = http
        self._retry = retry or RetryPolicy()

    def effective_view(self, merchant_id: str, product_id: str, channel: str) -> ProductView:
        """The product as it should look on `channel` (overrides applied)."""
        response = self._send(
            lambda: self._http.get(
                self._product_url(merchant_id, product_id),
                params={"channel": channel},
                headers=self._headers,
            )
        )
        return ProductView.from_json(response.json(), channel)

    def report(
        self,
        merchant_id: str,
        product_id: str,
        channel: str,
        state: OutcomeState,
        product_version: int,
        external_id: str | None = None,
        external_url: str | None = None,
        message: str | None = None,
    ) -> ReportAnswer:
        """Report a listing outcome (`PUT .../channels/{c}/listing`). A message longer than
        the catalog takes is cut, not refused: a FAILED naming 250 variants must still land."""
        if message is not None and len(message) > MAX_MESSAGE_LENGTH:
            message = message[: MAX_MESSAGE_LENGTH - 3] + "..."
        body = {
            "state": state,
            "product_version": product_version,
            "external_id": external_id,
            "external_url": external_url,
            "message": message,
        }
        url = f"{self._product_url(merchant_id, product_id)}/channels/{quote(channel)}/listing"
        response = self._send(lambda: self._http.put(url, json=body, headers=self._headers))
        return ReportAnswer(
            product=response.json(),
            ignored_as_stale=response.headers.get("Outcome-Ignored", "").lower() == "stale",
        )

    def declare_requirements(self, channel: str, required: Sequence[str]) -> ChannelRequirements:
        """Replace the channel's requirements (`PUT /v1/channels/{c}/requirements`, which
        needs a `channel:<c>` token). The same list again writes nothing and keeps the
        version, so declaring on every start is harmless. No `If-Match`: the adapter owns
        its channel's list, and the catalog applies the PUT over concurrent writes."""
        url = self._requirements_url(channel)
        body = {"required": list(required)}
        response = self._send(lambda: self._http.put(url, json=body, headers=self._headers))
        return ChannelRequirements.from_json(response.json())

    def requirements(self, channel: str) -> ChannelRequirements:
        """What the catalog holds for the channel (`GET /v1/channels/{c}/requirements`)."""
        url = self._requirements_url(channel)
        response = self._send(lambda: self._http.get(url, headers=self._headers))
        return ChannelRequirements.from_json(response.json())

    def _requirements_url(self, channel: str) -> str:
        return f"{self._base}/v1/channels/{quote(channel)}/requirements"

    def _product_url(self, merchant_id: str, product_id: str) -> str:
        return f"{self._base}/v1/merchants/{quote(merchant_id)}/products/{quote(product_id)}"

    def _send(self, request: Callable[[], httpx.Response]) -> httpx.Response:
        retrying = Retrying(
            stop=stop_after_attempt(self._retry.attempts),
            wait=self._retry.wait,
            retry=retry_if_exception_type((httpx.TransportError, _Transient)),
            reraise=True,
        )
        try:
            for attempt in retrying:
                with attempt:
                    response = request()
                    if response.status_code >= 500 or response.status_code == 429:
                        raise _Transient(response)
        except (httpx.TransportError, _Transient) as error:
            raise CatalogUnavailable(str(error)) from error
        if response.status_code >= 400:
            raise CatalogRejected(response.status_code, _problem(response))
        return response


def _problem(response: httpx.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return response.text
