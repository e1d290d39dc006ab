"""A product's history entries as the timeline shows them: each change's values written as a
person reads them (a price as `25.00 USD`, JSON compact, no value as such).

History records a price change leaf by leaf (`/price/amount`, `/price/currency`): a new amount
alone says nothing of its currency. So the content of each version is rebuilt from the
product's current one (domain/history_replay.py, as a restore does), and a price's leaves are
shown as the whole price before and after.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from msgspec import Struct

from catalog.domain.history import FieldChange, HistoryEntry
from catalog.domain.history_replay import content_at
from catalog.entrypoints.api.presenters import history_entry_view
from catalog.entrypoints.console.money import format_price

PRICE_LEAVES = ("amount", "currency")


class Shown(Struct, frozen=True):
    """A value in a change: its text, or none (`absent`: the field had no value)."""

    text: str = ""
    absent: bool = False


class ChangeRow(Struct, frozen=True):
    field: str
    old: Shown
    new: Shown


def timeline(
    content: Mapping[str, Any] | None, entries: Sequence[HistoryEntry]
) -> list[dict[str, Any]]:
    """The entries (newest first) as the template shows them: each API view with `rows`, its
    changes made readable. `content` is the product's content document after the first entry
    (None when it is not known: a price's leaves are then shown as they are recorded)."""
    shown = []
    after = dict(content) if content is not None else None
    for entry in entries:
        before = _undo(after, entry)
        view = history_entry_view(entry)
        view["rows"] = change_rows(entry.changes, before, after)
        view["at_text"] = entry.at.strftime("%Y-%m-%d %H:%M:%S UTC")
        shown.append(view)
        after = before
    return shown


def _undo(after: dict[str, Any] | None, entry: HistoryEntry) -> dict[str, Any] | None:
    if after is None:
        return None
    try:
        return content_at(after, [entry], entry.version - 1)
    except ValueError:  # a history that does not fit the content: shown without it
        return None


def change_rows(
    changes: Sequence[FieldChange],
    before: Mapping[str, Any] | None,
    after: Mapping[str, Any] | None,
) -> list[ChangeRow]:
    """A row per change; the leaves of one price in one row, the whole price before and
    after, when the content around the change is known."""
    rows: list[ChangeRow] = []
    prices_done: set[str] = set()
    for change in changes:
        parent, _, leaf = change.field.rpartition("/")
        if leaf in PRICE_LEAVES and parent.endswith("/price") and before is not None:
            if parent in prices_done:
                continue
            prices_done.add(parent)
            old, new = value_at(before, parent), value_at(after or {}, parent)
            rows.append(ChangeRow(parent, readable(old), readable(new)))
        else:
            rows.append(ChangeRow(change.field, readable(change.old), readable(change.new)))
    return rows


def value_at(document: Mapping[str, Any], pointer: str) -> Any:
    """The value at a JSON pointer into a content document, where `variants` is a list
    that history names by id (`/variants/<id>/...`); None where there is none."""
    value: Any = document
    for raw in pointer.lstrip("/").split("/"):
        key = raw.replace("~1", "/").replace("~0", "~")
        if isinstance(value, list):
            value = next((item for item in value if item.get("id") == key), None)
        elif isinstance(value, dict):
            value = value.get(key)
        else:
            return None
    return value


def readable(value: Any) -> Shown:
    if value is None:
        return Shown(absent=True)
    if isinstance(value, bool):
        return Shown("true" if value else "false")
    if isinstance(value, str):
        return Shown(value if value else '""')
    if isinstance(value, int | float):
        return Shown(str(value))
    if _is_price(value):
        return Shown(format_price(value))
    return Shown(json.dumps(value, ensure_ascii=False, separators=(",", ":")))


def _is_price(value: Any) -> bool:
    return (
        isinstance(value, dict)
        and set(value) == set(PRICE_LEAVES)
        and isinstance(value["amount"], int)
        and isinstance(value["currency"], str)
    )
