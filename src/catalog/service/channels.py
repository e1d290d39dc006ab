"""Use cases of channel orchestration: publication requests and adapter outcomes.

The catalog never calls a channel: it records what should be published where, and the
events it emits drive decoupled adapters, which report back through `report_outcome`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from catalog.domain.listing import parse_outcome
from catalog.domain.product import Product, Stamp
from catalog.domain.values import parse_channel
from catalog.service.context import CatalogContext
from catalog.service.products import apply


@dataclass(frozen=True)
class Reported:
    product: Product
    applied: bool  # False: the outcome answered a superseded request and was ignored


def request_publication(
    ctx: CatalogContext,
    merchant_id: str,
    product_id: str,
    channel: str,
    actor: str,
    if_match: int | None = None,
) -> Product:
    return _request(ctx, merchant_id, product_id, channel, actor, if_match, publish=True)


def request_unpublication(
    ctx: CatalogContext,
    merchant_id: str,
    product_id: str,
    channel: str,
    actor: str,
    if_match: int | None = None,
) -> Product:
    return _request(ctx, merchant_id, product_id, channel, actor, if_match, publish=False)


def _request(
    ctx: CatalogContext,
    merchant_id: str,
    product_id: str,
    channel: str,
    actor: str,
    if_match: int | None,
    *,
    publish: bool,
) -> Product:
    parse_channel(channel)

    def command(product: Product, stamp: Stamp) -> None:
        if publish:
            product.request_publication(channel, stamp)
        else:
            product.request_unpublication(channel, stamp)

    return apply(ctx, merchant_id, product_id, actor, command, if_match)


def report_outcome(
    ctx: CatalogContext,
    merchant_id: str,
    product_id: str,
    channel: str,
    body: Any,
    actor: str,
) -> Reported:
    """Record an adapter's outcome. Idempotent: a repeat changes nothing."""
    parse_channel(channel)
    outcome = parse_outcome(body)
    applied = [True]

    def record(product: Product, stamp: Stamp) -> None:
        applied[0] = product.record_outcome(channel, outcome, stamp)

    product = apply(ctx, merchant_id, product_id, actor, record, None)
    return Reported(product, applied[0])
