"""The publication state of a product on one channel: a small state machine of its own.

Requests (publish, unpublish) come from the merchant; outcomes come from the channel's adapter
and carry the product version it acted on, so an outcome answering a superseded request can be
recognised and ignored.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from msgspec import Struct, field

from catalog.domain.errors import InvalidField
from catalog.domain.values import JSON, parse_text

MAX_EXTERNAL_ID_LENGTH = 200
MAX_EXTERNAL_URL_LENGTH = 2_000
MAX_MESSAGE_LENGTH = 2_000


class ListingState(StrEnum):
    PENDING = "PENDING"
    PUBLISHED = "PUBLISHED"
    FAILED = "FAILED"
    UNPUBLISHING = "UNPUBLISHING"
    UNPUBLISHED = "UNPUBLISHED"


class Outcome(StrEnum):
    """What an adapter may report."""

    PUBLISHED = "PUBLISHED"
    FAILED = "FAILED"
    UNPUBLISHED = "UNPUBLISHED"


class Listing(Struct, frozen=True):
    """The publication state of a product on one channel. `requested_version` is the product
    version at which the current request (publish or withdraw) was made."""

    state: ListingState
    updated_at: datetime
    requested_version: int
    external_id: str | None = None
    external_url: str | None = None
    message: str | None = None
    extra: dict[str, JSON] = field(default_factory=dict)


L = ListingState
# Listed on the channel or on its way there or off it: what GET ?channel= returns.
LIVE_STATES = frozenset({L.PENDING, L.PUBLISHED, L.UNPUBLISHING})
# Listings that follow the product: updates resync them, deactivation withdraws them.
FOLLOWING_STATES = frozenset({L.PENDING, L.PUBLISHED})

# A publish request from each state: the new state, or None when nothing is to be done.
PUBLISH_REQUEST: dict[ListingState | None, ListingState | None] = {
    None: L.PENDING,
    L.FAILED: L.PENDING,
    L.UNPUBLISHED: L.PENDING,
    L.PENDING: None,
    L.PUBLISHED: None,
}  # UNPUBLISHING is absent: publishing while a withdrawal is under way is refused (409).

# (current state, reported outcome) -> the new state. Anything absent is refused (409).
OUTCOMES: dict[tuple[ListingState, Outcome], ListingState] = {
    (L.PENDING, Outcome.PUBLISHED): L.PUBLISHED,
    (L.PENDING, Outcome.FAILED): L.FAILED,
    (L.PUBLISHED, Outcome.PUBLISHED): L.PUBLISHED,  # a resync after an update, acknowledged
    (L.PUBLISHED, Outcome.FAILED): L.PUBLISHED,  # a resync failed: still live, message kept
    (L.FAILED, Outcome.FAILED): L.FAILED,
    (L.UNPUBLISHING, Outcome.FAILED): L.UNPUBLISHING,  # withdrawal failed: still on the channel
    (L.UNPUBLISHING, Outcome.UNPUBLISHED): L.UNPUBLISHED,
    (L.UNPUBLISHED, Outcome.UNPUBLISHED): L.UNPUBLISHED,
}


class ListingOutcome(Struct, frozen=True):
    state: Outcome
    product_version: int
    external_id: str | None = None
    external_url: str | None = None
    message: str | None = None


def parse_outcome(body: JSON) -> ListingOutcome:
    if not isinstance(body, dict):
        raise InvalidField("/", "an outcome is a JSON object")
    unknown = set(body) - {"state", "product_version", "external_id", "external_url", "message"}
    if unknown:
        raise InvalidField("/" + sorted(unknown)[0], "is not a field of an outcome")
    try:
        state = Outcome(str(body.get("state")))
    except ValueError:
        raise InvalidField("/state", "must be PUBLISHED, FAILED or UNPUBLISHED") from None
    version = body.get("product_version")
    if isinstance(version, bool) or not isinstance(version, int) or version < 1:
        raise InvalidField("/product_version", "must be the product version the adapter acted on")
    external_id = parse_text(
        body.get("external_id"), "/external_id", MAX_EXTERNAL_ID_LENGTH, required=False
    )
    external_url = parse_text(
        body.get("external_url"), "/external_url", MAX_EXTERNAL_URL_LENGTH, required=False
    )
    if external_url is not None and not external_url.startswith(("https://", "http://")):
        raise InvalidField("/external_url", "must be an http(s) URL")
    message = parse_text(body.get("message"), "/message", MAX_MESSAGE_LENGTH, required=False)
    if state is Outcome.PUBLISHED and external_id is None:
        raise InvalidField("/external_id", "is required when the listing is PUBLISHED")
    if state is Outcome.FAILED and not (message or "").strip():
        raise InvalidField("/message", "is required when the listing FAILED")
    return ListingOutcome(state, version, external_id, external_url, message)
