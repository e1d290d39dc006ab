"""Use cases of channel orchestration: publication requests and adapter outcomes.

The catalog never calls a channel: it records what should be published where, and the
events it emits drive decoupled adapters, which report back through `report_outcome`.
"""

from __future__ import annotations

from collections.abc import Callable

from msgspec import Struct

from catalog.domain.product import Product, Stamp
from catalog.domain.values import parse_channel
from catalog.service.commands import (
    ChannelRequest,
    ReportOutcome,
    RequestPublication,
    RequestUnpublication,
)
from catalog.service.context import CatalogContext
from catalog.service.principals import Principal, require_report, require_write
from catalog.service.products import apply


class Reported(Struct, frozen=True):
    product: Product
    applied: bool  # False: the outcome answered a superseded request and was ignored


def request_publication(
    ctx: CatalogContext, principal: Principal, command: RequestPublication
) -> Product:
    return _request(ctx, principal, command, Product.request_publication)


def request_unpublication(
    ctx: CatalogContext, principal: Principal, command: RequestUnpublication
) -> Product:
    return _request(ctx, principal, command, Product.request_unpublication)


def _request(
    ctx: CatalogContext,
    principal: Principal,
    command: ChannelRequest,
    change: Callable[[Product, str, Stamp], None],
) -> Product:
    require_write(principal, command.merchant_id, command.product_id)
    channel = parse_channel(command.channel)
    return apply(ctx, principal, command, lambda product, stamp: change(product, channel, stamp))


def report_outcome(ctx: CatalogContext, principal: Principal, command: ReportOutcome) -> Reported:
    """Record an adapter's outcome. Idempotent: a repeat changes nothing."""
    require_report(principal, command.merchant_id, command.product_id, command.channel)
    channel = parse_channel(command.channel)
    applied = [True]

    def record(product: Product, stamp: Stamp) -> None:
        applied[0] = product.record_outcome(channel, command.outcome, stamp)

    product = apply(ctx, principal, command, record)
    return Reported(product, applied[0])
