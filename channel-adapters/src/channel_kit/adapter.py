"""What a channel adapter implements: the channel's side of publish, update and unpublish.

The kit does everything else (intake, signatures, deduplication, stale events, reading the
view, reporting outcomes). An adapter only maps a `ProductView` to the channel's API and says
how a failure should be treated:

- `ChannelRejected`: the channel refused the request for good (validation, a closed item).
  The kit reports FAILED with the message; retrying would fail the same way.
- `ChannelUnavailable`: a transient failure (timeout, 5xx, 429). The kit reports nothing and
  lets the event be delivered again (webhook answered 503, SQS record left in the queue).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from channel_kit.view import ProductView


@dataclass(frozen=True)
class Published:
    """Where the listing lives on the channel."""

    external_id: str
    external_url: str | None = None


class ChannelRejected(Exception):
    """The channel refused the request; `message` is what the merchant should read."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class ChannelUnavailable(Exception):
    """The channel could not be reached or failed transiently; try the event again later."""


@runtime_checkable
class ChannelAdapter(Protocol):
    #: The catalog's channel slug this adapter serves (`channel:<slug>` role, listings key).
    channel: str

    @property
    def requirements(self) -> tuple[str, ...]:
        """What the channel needs of a product, as JSON pointers into its effective view
        (`channel_kit.requirements`): declared to the catalog on start, so it refuses a
        publication request missing any of them. Build it with
        `channel_kit.requirements.required(...)`."""
        ...

    def missing_fields(self, view: ProductView) -> Sequence[str]:
        """The channel's required fields this view cannot fill, each naming where it comes
        from, e.g. `category_id (/attributes/category_id)`. Checked before any channel call.
        Derive it from `requirements` (`channel_kit.requirements.missing`), plus the rules
        pointers cannot express, so the adapter and the catalog never disagree."""
        ...

    def publish(self, view: ProductView) -> Published:
        """Create the listing on the channel."""
        ...

    def update(self, view: ProductView, external_id: str) -> Published:
        """Bring an existing listing in line with the view."""
        ...

    def unpublish(self, view: ProductView, external_id: str) -> None:
        """Withdraw the listing. Must succeed when it is already withdrawn or gone."""
        ...
