"""History entries: one per product version, written atomically with the change."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from msgspec import Struct, field

from catalog.domain.errors import ProductNotFound


class FieldChange(Struct, frozen=True):
    field: str  # JSON pointer into the product document, e.g. /attributes/color
    old: Any
    new: Any


class StatusTransition(Struct, frozen=True):
    from_status: str | None  # None when the product was created
    to_status: str
    reason: str | None = None


class HistoryEntry(Struct, frozen=True):
    product_id: str
    version: int
    actor: str
    at: datetime
    changes: tuple[FieldChange, ...] = ()
    transition: StatusTransition | None = None
    events: tuple[str, ...] = field(default=())
    # Why the system made this version (a re-evaluation names the type or channel change);
    # None for a principal's own request.
    reason: str | None = None
    # The earlier version whose content this one brought back (a restore); None otherwise.
    restored_from: int | None = None


class VersionNotFound(ProductNotFound):
    """A version the product never had. A version is a part of the product, so its absence
    answers as the product's does (404 `not-found`, problems.DOMAIN_PROBLEMS by the MRO)."""

    def __init__(self, product_id: str, version: int) -> None:
        super().__init__(product_id)
        self.args = (f"product {product_id} has no version {version}",)
        self.version = version


def _nothing_whole(pointer: str) -> bool:
    return False


def diff(
    old: Any, new: Any, path: str = "", whole: Callable[[str], bool] = _nothing_whole
) -> list[FieldChange]:
    """Changed leaves between two JSON documents; objects are walked, arrays compared whole.

    A member null on one side and absent on the other has not changed: a document reads both
    as null, and history never says null -> null. Where that difference is meaningful (a merge
    patch overlay, in which null removes a value), `whole(pointer)` compares the object whole.
    """
    if isinstance(old, dict) and isinstance(new, dict) and not whole(path):
        changes: list[FieldChange] = []
        for key in sorted(set(old) | set(new), key=str):
            pointer = f"{path}/{str(key).replace('~', '~0').replace('/', '~1')}"
            changes.extend(diff(old.get(key), new.get(key), pointer, whole))
        return changes
    if old == new and type(old) is type(new):
        return []
    return [FieldChange(path or "/", old, new)]
