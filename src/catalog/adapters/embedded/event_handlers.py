"""A relay sink that runs a use case for each event instead of sending it anywhere: how the
embedded deployment works off what an event calls for (the re-evaluation after a product type
or a channel's requirements changed) in the server process, fed by the outbox.

Its offset is saved once `handle` returned, so an event whose handling a crash cut short is
handled again from its start after the restart: `handle` must be idempotent.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from catalog.adapters.embedded.relay import DeliveryFailed
from catalog.domain.events import DomainEvent
from catalog.service.ports import OutboxRecord


class HandlerSink:
    """Every event through `handle`, in order; retried for as long as it fails (never
    parked: a skipped re-evaluation would leave products judged by old rules)."""

    parks_undeliverable = False

    def __init__(self, name: str, handle: Callable[[DomainEvent], object]) -> None:
        self._name = name
        self._handle = handle

    @property
    def name(self) -> str:
        return self._name

    def deliver(self, records: Sequence[OutboxRecord]) -> None:
        for index, record in enumerate(records):
            try:
                self._handle(record.event)
            except Exception as error:
                reason = f"{type(error).__name__}: {error}"
                raise DeliveryFailed(self._name, index, reason) from error
