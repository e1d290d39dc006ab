"""Declaring an adapter's requirements to the catalog when it starts, and again until it took.

Whatever starts an adapter (`runtime.build_processor`, for the webhook app and the SQS
handler alike) calls `EventProcessor.declare_requirements()` before the first event. The
declaration is never fatal:

- the catalog unreachable (`CatalogUnavailable`, after the client's own retries), or refusing
  the token (401/403: credentials can be fixed without a restart, at an identity provider):
  logged as a warning, and tried again before an event once `retry_after` seconds have passed.
  Events are handled meanwhile: the adapter checks the same requirements itself before any
  channel call, so nothing is published that the declaration would have refused; what is lost
  until the catalog has them is only its fail-fast 422 on publication requests.
- any other 4xx (a pointer the catalog does not accept, too large a list): the declaration
  itself is wrong and would fail the same way every time. Logged as an error, not retried.

Retrying on events rather than on a timer of its own works the same in a long-lived process
and in a Lambda function, whose threads stop between invocations.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from enum import StrEnum

from channel_kit.catalog_client import CatalogClient, CatalogRejected, CatalogUnavailable

log = logging.getLogger("channel_kit.declaration")

#: Seconds between attempts once one failed: an attempt costs the client's own retries (a few
#: seconds), so not before every event while the catalog is away.
RETRY_AFTER = 60.0


class DeclarationState(StrEnum):
    NOT_STARTED = "not-started"
    PENDING = "pending"  # an attempt failed; tried again when due
    DECLARED = "declared"
    REFUSED = "refused"  # the catalog refused the list itself: not retried


class RequirementsDeclaration:
    """One channel's requirements, declared once per process. Not thread-safe on its own:
    `EventProcessor` calls it under its lock."""

    def __init__(
        self,
        catalog: CatalogClient,
        channel: str,
        required: Sequence[str],
        *,
        retry_after: float = RETRY_AFTER,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.channel = channel
        self.required = tuple(required)
        self.state = DeclarationState.NOT_STARTED
        self._catalog = catalog
        self._retry_after = retry_after
        self._clock = clock
        self._next_attempt = 0.0

    def start(self) -> DeclarationState:
        """Declare now, unless already declared or refused."""
        if self.state in (DeclarationState.NOT_STARTED, DeclarationState.PENDING):
            self._attempt()
        return self.state

    def retry_if_due(self) -> DeclarationState:
        """Declare again if an earlier attempt failed and `retry_after` has passed since."""
        if self.state is DeclarationState.PENDING and self._clock() >= self._next_attempt:
            self._attempt()
        return self.state

    def _attempt(self) -> None:
        try:
            held = self._catalog.declare_requirements(self.channel, self.required)
        except CatalogUnavailable as error:
            self._retry_later(str(error))
            return
        except CatalogRejected as error:
            if error.status_code in (401, 403):
                self._retry_later(str(error))
                return
            self.state = DeclarationState.REFUSED
            log.error(
                "%s: the catalog refused the requirements %s, not retried: %s",
                self.channel,
                list(self.required),
                error,
            )
            return
        self.state = DeclarationState.DECLARED
        log.info(
            "%s: requirements declared (version %d): %s",
            self.channel,
            held.version,
            ", ".join(held.required) or "none beyond READY's",
        )

    def _retry_later(self, reason: str) -> None:
        self.state = DeclarationState.PENDING
        self._next_attempt = self._clock() + self._retry_after
        log.warning(
            "%s: requirements not declared (%s); trying again in %.0f s, events are handled "
            "meanwhile",
            self.channel,
            reason,
            self._retry_after,
        )
