"""Matching the variations a view wants with those the item has on Mercado Libre.

An update sends the whole `variations` list: an entry with the `id` of an existing variation
changes it, one without creates a variation, and an existing one left out is deleted. So each
variant must carry the id ML gave its variation, found on the item as ML holds it (a copy kept
by the adapter would go stale after a crash between ML's answer and its write, and then every
later update would try to create a combination the item already has).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from mercadolibre_adapter.mapping import SELLER_SKU


def with_listed_ids(
    wanted: Sequence[Mapping[str, Any]], listed: Sequence[Mapping[str, Any]]
) -> list[dict[str, Any]]:
    """`wanted` with the id of the listed variation each one is: the one with the same
    `SELLER_SKU`, else the one with the same attribute combination (a SKU changed), each
    claimed once. The listed variations no entry claims are left out: ML deletes them."""
    unclaimed = [variation for variation in listed if "id" in variation]
    matched = []
    for variation in wanted:
        twin = _take(unclaimed, _sku, _sku(variation))
        twin = twin or _take(unclaimed, _combination, _combination(variation))
        matched.append({"id": twin["id"], **variation} if twin else dict(variation))
    return matched


def _take(
    candidates: list[Mapping[str, Any]], key: Callable[[Mapping[str, Any]], Any], value: Any
) -> Mapping[str, Any] | None:
    """Remove and return the first candidate whose `key` is `value` (nothing for no value)."""
    if not value:
        return None
    for index, candidate in enumerate(candidates):
        if key(candidate) == value:
            return candidates.pop(index)
    return None


def _sku(variation: Mapping[str, Any]) -> str | None:
    for attribute in variation.get("attributes") or []:
        if isinstance(attribute, Mapping) and attribute.get("id") == SELLER_SKU:
            value = attribute.get("value_name")
            return None if value is None else str(value)
    return None


def _combination(variation: Mapping[str, Any]) -> frozenset[tuple[str, str]]:
    return frozenset(
        (str(part.get("id")), str(part.get("value_name")))
        for part in variation.get("attribute_combinations") or []
        if isinstance(part, Mapping)
    )
