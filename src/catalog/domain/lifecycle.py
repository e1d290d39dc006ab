"""The product lifecycle as data: which status changes exist and who may cause them."""

from __future__ import annotations

from enum import StrEnum

from catalog.domain.errors import InvalidField


class Status(StrEnum):
    DRAFT = "DRAFT"
    READY = "READY"
    ACTIVE = "ACTIVE"
    INACTIVE = "INACTIVE"


class Trigger(StrEnum):
    REQUEST = "request"  # a client asked for it (POST .../status or DELETE)
    SYSTEM = "system"  # derived by the catalog: listings, completeness


_S = Status
# (from, to) -> the triggers allowed to cause it. Anything absent is forbidden (409).
TRANSITIONS: dict[tuple[Status, Status], frozenset[Trigger]] = {
    (_S.DRAFT, _S.READY): frozenset({Trigger.REQUEST}),
    (_S.READY, _S.DRAFT): frozenset({Trigger.REQUEST, Trigger.SYSTEM}),
    (_S.READY, _S.ACTIVE): frozenset({Trigger.SYSTEM}),
    (_S.ACTIVE, _S.READY): frozenset({Trigger.SYSTEM}),
    (_S.DRAFT, _S.INACTIVE): frozenset({Trigger.REQUEST}),
    (_S.READY, _S.INACTIVE): frozenset({Trigger.REQUEST}),
    (_S.ACTIVE, _S.INACTIVE): frozenset({Trigger.REQUEST}),
    (_S.INACTIVE, _S.DRAFT): frozenset({Trigger.REQUEST}),
}


def is_allowed(current: Status, target: Status, trigger: Trigger) -> bool:
    return trigger in TRANSITIONS.get((current, target), frozenset())


# What a client may ask for: ACTIVE only ever follows from a publication.
REQUESTABLE = tuple(
    sorted(
        {target for (_, target), triggers in TRANSITIONS.items() if Trigger.REQUEST in triggers},
        key=list(Status).index,
    )
)


def parse_requested_status(value: object, path: str = "/status") -> Status:
    if isinstance(value, str) and value in REQUESTABLE:
        return Status(value)
    raise InvalidField(path, f"must be one of {', '.join(REQUESTABLE)}")
