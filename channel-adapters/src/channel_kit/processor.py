"""Turns catalog events into channel calls and outcome reports, for one adapter.

Every intake (webhook, SQS) hands each CloudEvent to `EventProcessor.handle`, which:

1. ignores events that do not concern this adapter's channel, or concern a merchant outside
   the adapter's scope (`MerchantScope`: the merchants its catalog token acts for; the
   catalog would answer 404 for the others);
2. drops duplicates (an event id already handled: delivery is at least once);
3. drops stale events (a version older than the newest one handled for that listing;
   equal versions are applied in arrival order, as the catalog documents);
4. reads the effective view and acts on **the listing's current state** in it, not on the
   event's name, so a late or replayed event can never undo a newer request:

   | listing state in the view | action | outcome reported |
   |---|---|---|
   | PENDING | missing fields? else `publish` | FAILED naming them / PUBLISHED / FAILED |
   | PUBLISHED (publication or update event) | missing fields? else `update` | same |
   | UNPUBLISHING | `unpublish` (when it has an external id) | UNPUBLISHED / FAILED |
   | anything else | nothing | nothing |

   Outcomes carry `product_version` = the version of the view that was acted on, so the
   catalog can ignore an outcome a newer request superseded. When it does ignore a PUBLISHED
   for a listing just created, the adapter withdraws that listing again: the newer request
   was an unpublish, and the catalog never learned the external id it would need.
5. remembers the event (id and version) only once it was handled: a failure raised from
   here (`CatalogUnavailable`, `ChannelUnavailable`, any bug) leaves the event to be
   delivered again.

`declare_requirements()` declares the adapter's requirements to the catalog; whatever starts
the adapter calls it once, before the first event, and a failed declaration is tried again
before a later event (`channel_kit.declaration`).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Protocol, runtime_checkable

from channel_kit.adapter import ChannelAdapter, ChannelRejected
from channel_kit.catalog_client import CatalogClient, CatalogRejected, OutcomeState
from channel_kit.declaration import DeclarationState, RequirementsDeclaration
from channel_kit.events import UNPUBLICATION_REQUESTED, CatalogEvent, MalformedEvent
from channel_kit.scope import MerchantScope
from channel_kit.stores import ListingKey, SeenEvents, VersionLedger
from channel_kit.view import ProductView

log = logging.getLogger("channel_kit")


class Result(StrEnum):
    HANDLED = "handled"
    DUPLICATE = "duplicate"
    STALE = "stale"
    # Another channel's event, another merchant's (outside the scope), or an event adapters
    # do not act on.
    IGNORED = "ignored"
    MALFORMED = "malformed"


@dataclass(frozen=True)
class Handling:
    result: Result
    event_id: str | None = None
    #: What was done: "publish", "update", "unpublish", "none"; None when not handled.
    action: str | None = None
    #: The outcome reported to the catalog (PUBLISHED, FAILED, UNPUBLISHED), if any.
    outcome: str | None = None
    detail: str | None = None


@runtime_checkable
class EventHandler(Protocol):
    """What the intakes need: `EventProcessor`, or any stand-in with the same two members."""

    @property
    def channel(self) -> str: ...

    def handle(self, cloud_event: Mapping[str, Any]) -> Handling: ...


class EventProcessor:
    def __init__(
        self,
        adapter: ChannelAdapter,
        catalog: CatalogClient,
        seen: SeenEvents,
        versions: VersionLedger,
        *,
        merchants: MerchantScope,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        """`merchants`: those this adapter serves, as its catalog token is scoped. `clock`
        times the retries of a failed requirements declaration."""
        self.adapter = adapter
        self.merchants = merchants
        self._catalog = catalog
        self._seen = seen
        self._versions = versions
        self._declaration = RequirementsDeclaration(
            catalog, adapter.channel, adapter.requirements, clock=clock
        )
        # One event at a time: the stores' check-then-record and the channel calls for one
        # listing must not interleave (the webhook app may run handlers on several threads).
        self._lock = threading.Lock()

    @property
    def channel(self) -> str:
        return self.adapter.channel

    def declare_requirements(self) -> DeclarationState:
        """Declare the adapter's requirements to the catalog now (on start). Never raises:
        a failure is logged, and the declaration tried again before a later event."""
        with self._lock:
            return self._declaration.start()

    @property
    def declaration(self) -> DeclarationState:
        return self._declaration.state

    def handle(self, cloud_event: Mapping[str, Any]) -> Handling:
        if not CatalogEvent.acted_on(cloud_event):
            event_id = cloud_event.get("id")
            return Handling(Result.IGNORED, event_id if isinstance(event_id, str) else None)
        try:
            event = CatalogEvent.from_cloudevent(cloud_event)
        except MalformedEvent as error:
            log.error("%s: dropping a malformed event: %s", self.channel, error)
            return Handling(Result.MALFORMED, detail=str(error))
        if not event.concerns(self.channel):
            return Handling(Result.IGNORED, event.id)
        if not self.merchants.covers(event.merchant_id):
            # Routine with shared webhooks (every event reaches every adapter): debug only.
            log.debug(
                "%s: %s is for merchant %s, not served", self.channel, event.id, event.merchant_id
            )
            return Handling(
                Result.IGNORED, event.id, detail=f"merchant {event.merchant_id} is not served here"
            )
        with self._lock:
            self._declaration.retry_if_due()
            return self._handle(event)

    def _handle(self, event: CatalogEvent) -> Handling:
        if self._seen.seen(event.id):
            log.info("%s: %s %s already handled", self.channel, event.type, event.id)
            return Handling(Result.DUPLICATE, event.id)
        key = ListingKey(event.merchant_id, event.product_id, self.channel)
        newest = self._versions.newest(key)
        if newest is not None and event.version < newest:
            log.info(
                "%s: %s v%d is older than v%d, dropped",
                self.channel,
                event.type,
                event.version,
                newest,
            )
            self._seen.remember(event.id)
            return Handling(Result.STALE, event.id, detail=f"newest handled: v{newest}")
        try:
            handling = self._reconcile(event)
        except CatalogRejected as error:
            if error.status_code in (401, 403):
                raise  # misconfigured credentials: keep the event until they are fixed
            log.error("%s: the catalog refused %s: %s", self.channel, event.id, error)
            handling = Handling(Result.HANDLED, event.id, detail=str(error))
        self._versions.record(key, event.version)
        self._seen.remember(event.id)
        return handling

    def _reconcile(self, event: CatalogEvent) -> Handling:
        view = self._catalog.effective_view(event.merchant_id, event.product_id, self.channel)
        listing = view.listing
        state = listing.state if listing else None
        if state == "PENDING" or (state == "PUBLISHED" and event.type != UNPUBLICATION_REQUESTED):
            return self._push(event, view)
        if state == "UNPUBLISHING" and listing is not None:
            return self._withdraw(event, view, listing.external_id)
        return Handling(
            Result.HANDLED, event.id, action="none", detail=f"listing is {state}: nothing to do"
        )

    def _push(self, event: CatalogEvent, view: ProductView) -> Handling:
        listing = view.listing
        existing = listing.external_id if listing and listing.state == "PUBLISHED" else None
        action = "update" if existing else "publish"
        missing = list(self.adapter.missing_fields(view))
        if missing:
            message = f"{self.channel} needs: {', '.join(missing)}"
            self._report(view, "FAILED", message=message)
            return Handling(Result.HANDLED, event.id, action, "FAILED", message)
        try:
            published = (
                self.adapter.update(view, existing) if existing else self.adapter.publish(view)
            )
        except ChannelRejected as error:
            self._report(view, "FAILED", message=error.message)
            return Handling(Result.HANDLED, event.id, action, "FAILED", error.message)
        answer = self._report(
            view,
            "PUBLISHED",
            external_id=published.external_id,
            external_url=published.external_url,
        )
        if answer and not existing:
            # A newer request superseded this publication before it was confirmed: nobody
            # else knows this listing exists, so withdraw it rather than leave it orphaned.
            log.info("%s: withdrawing %s, superseded", self.channel, published.external_id)
            self.adapter.unpublish(view, published.external_id)
            return Handling(Result.HANDLED, event.id, action, None, "superseded, withdrawn")
        return Handling(Result.HANDLED, event.id, action, "PUBLISHED", published.external_id)

    def _withdraw(
        self, event: CatalogEvent, view: ProductView, external_id: str | None
    ) -> Handling:
        if external_id:
            try:
                self.adapter.unpublish(view, external_id)
            except ChannelRejected as error:
                self._report(view, "FAILED", message=error.message)
                return Handling(Result.HANDLED, event.id, "unpublish", "FAILED", error.message)
        self._report(view, "UNPUBLISHED")
        return Handling(Result.HANDLED, event.id, "unpublish", "UNPUBLISHED", external_id)

    def _report(
        self,
        view: ProductView,
        state: OutcomeState,
        *,
        external_id: str | None = None,
        external_url: str | None = None,
        message: str | None = None,
    ) -> bool:
        """Report an outcome; True when the catalog ignored it as superseded."""
        answer = self._catalog.report(
            view.merchant_id,
            view.id,
            self.channel,
            state,
            view.version,
            external_id=external_id,
            external_url=external_url,
            message=message,
        )
        log.info(
            "%s: reported %s for %s v%d%s",
            self.channel,
            state,
            view.id,
            view.version,
            " (ignored: superseded)" if answer.ignored_as_stale else "",
        )
        return answer.ignored_as_stale
