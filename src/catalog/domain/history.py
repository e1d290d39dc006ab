"""History entries: one per product version, written atomically with the change."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


@dataclass(frozen=True)
class FieldChange:
    field: str  # JSON pointer into the product document, e.g. /attributes/color
    old: Any
    new: Any


@dataclass(frozen=True)
class StatusTransition:
    from_status: str | None  # None when the product was created
    to_status: str
    reason: str | None = None


@dataclass(frozen=True)
class HistoryEntry:
    product_id: str
    version: int
    actor: str
    at: datetime
    changes: tuple[FieldChange, ...] = ()
    transition: StatusTransition | None = None
    events: tuple[str, ...] = field(default=())


def diff(old: Any, new: Any, path: str = "") -> list[FieldChange]:
    """Changed leaves between two JSON documents; objects are walked, arrays compared whole."""
    if isinstance(old, dict) and isinstance(new, dict):
        changes: list[FieldChange] = []
        for key in sorted(set(old) | set(new), key=str):
            pointer = f"{path}/{str(key).replace('~', '~0').replace('/', '~1')}"
            if key not in new:
                changes.append(FieldChange(pointer, old[key], None))
            elif key not in old:
                changes.append(FieldChange(pointer, None, new[key]))
            else:
                changes.extend(diff(old[key], new[key], pointer))
        return changes
    if old == new and type(old) is type(new):
        return []
    return [FieldChange(path or "/", old, new)]
