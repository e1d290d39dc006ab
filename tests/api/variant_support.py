"""Products with many variants for the API tests, built faster than one request each.

A test registers the product over HTTP and gives it variants through the domain and the store,
as the add-variant use case would: the product's rules bound, the commands applied, one new
version committed with the variants' SKU claims. The routes then answer it as any other
product. DynamoDB's transaction takes about 40 new variants in one commit (a SKU item and an
event each): build more in several calls.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta

from catalog.domain.product import Product, Stamp
from catalog.domain.variants import VariantBody
from catalog.service.context import CatalogContext
from catalog.service.ports import Change, ListingsBefore, SkuOwner
from catalog.service.products import bind_rules, product_rules, stored_product

ACTOR = "acme-user"


def with_variants(
    ctx: CatalogContext,
    merchant_id: str,
    product_id: str,
    bodies: Sequence[VariantBody],
) -> Product:
    """The stored product given `bodies` as new variants, in order (ids made by `ctx.ids`),
    committed as one version. Overrides of the variants on a channel are then set over HTTP:
    the product's merge patch takes `channel_overrides.{c}.variants`."""
    product = stored_product(ctx, merchant_id, product_id)
    bind_rules(product, product_rules(ctx, merchant_id, product.product_type))
    before, type_before = ListingsBefore.of(product), product.product_type
    # A millisecond after the last change: the API's clock may be behind a test's commands.
    stamp = Stamp(ACTOR, product.updated_at + timedelta(milliseconds=1))
    added = [product.add_variant(body, ctx.ids.new_id(), stamp) for body in bodies]
    pending = product.pull_change(ctx.ids.new_id)
    assert pending is not None
    claimed = tuple(SkuOwner(v.sku, product.id, v.id) for v in added)
    ctx.store.commit(
        Change(
            product,
            pending.expected_version,
            pending.history,
            pending.events,
            listings_before=before,
            type_before=type_before,
            skus_claimed=claimed,
        )
    )
    return product
