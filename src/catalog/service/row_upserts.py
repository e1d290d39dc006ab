"""One import row, upserted by SKU through the API's use cases (DESIGN.md section 11).

A row is a register body. A SKU no product or variant of the merchant holds registers the
product (`register_product`, variants included); a product's SKU merge-patches the fields
the row gives (`update_product`) and, for each variant of the row, merge-patches the variant
holding its SKU or adds it (`patch_variant`, `add_variant`); variants the row does not name
are left as they are. A row that changes nothing makes no version and no event: importing a
file twice leaves every row `unchanged` the second time.
"""

from __future__ import annotations

from collections.abc import Mapping

from catalog.domain import limits
from catalog.domain.errors import DuplicateSku, InvalidField
from catalog.domain.jobs import RowOutcome
from catalog.domain.product import Product
from catalog.domain.values import JSON, parse_sku
from catalog.service import variants
from catalog.service.commands import AddVariant, PatchProduct, PatchVariant, RegisterProduct
from catalog.service.context import CatalogContext
from catalog.service.principals import Principal
from catalog.service.products import register_product, stored_product, update_product

_NOT_PATCHED = ("sku", "variants")


def upsert_row(
    ctx: CatalogContext, principal: Principal, merchant_id: str, body: Mapping[str, JSON]
) -> RowOutcome:
    """Apply one row; raises the DomainError the API would answer for it."""
    sku = parse_sku(body.get("sku"))
    owner = ctx.store.sku_owner(merchant_id, sku)
    if owner is None:
        _register(ctx, principal, merchant_id, body)
        return RowOutcome.CREATED
    if owner.variant_id is not None:
        raise DuplicateSku(sku, "a variant of another product")
    product_id = owner.product_id
    stored = stored_product(ctx, merchant_id, product_id)
    version = stored.version
    # A member the row gives as it already is, is left out of the patch: a merge patch
    # cannot say "an attribute set to null" (an override's, a variant's), only "removed".
    current = stored.editable_document()
    patch = {
        name: value
        for name, value in body.items()
        if name not in _NOT_PATCHED and current.get(name) != value
    }
    product = stored
    if patch:
        command = PatchProduct.from_json(merchant_id, product_id, patch)
        product = update_product(ctx, principal, command)
    added: list[Mapping[str, JSON]] = []
    held = {variant.sku: variant.id for variant in product.variants}
    as_stored = {variant.id: variant.to_json() for variant in product.variants}
    for index, variant_body in enumerate(_variant_bodies(body)):
        variant_sku = parse_sku(variant_body.get("sku"), f"/variants/{index}/sku")
        variant_id = held.get(variant_sku)
        if variant_id is None:
            added.append(variant_body)
            continue
        own = as_stored[variant_id]
        fields = {
            name: value
            for name, value in variant_body.items()
            if name != "sku" and own.get(name) != value
        }
        if fields:
            revision = PatchVariant.from_json(merchant_id, product_id, variant_id, fields)
            product = variants.patch_variant(ctx, principal, revision)
    if added:
        product = _add_variants_product(ctx, principal, merchant_id, product_id, added)
    return RowOutcome.UNCHANGED if product.version == version else RowOutcome.UPDATED


def _register(
    ctx: CatalogContext, principal: Principal, merchant_id: str, body: Mapping[str, JSON]
) -> None:
    """Register the row's product; variants past what one registration takes
    (limits.MAX_NEW_VARIANT_SKUS) are added after it, in one more version of the same row."""
    bodies = _variant_bodies(body)
    first, rest = bodies[: limits.MAX_NEW_VARIANT_SKUS], bodies[limits.MAX_NEW_VARIANT_SKUS :]
    registration = dict(body)
    if rest:
        registration["variants"] = first
    command = RegisterProduct.from_json(merchant_id, registration)
    product = register_product(ctx, principal, command).product
    if rest:
        _add_variants(ctx, principal, merchant_id, product.id, rest)


def _add_variants(
    ctx: CatalogContext,
    principal: Principal,
    merchant_id: str,
    product_id: str,
    bodies: list[Mapping[str, JSON]],
) -> None:
    """New variants of a row, as one version (one change to write, whatever their number)."""
    commands = [
        AddVariant.from_json(merchant_id, product_id, ctx.ids.new_id(), variant_body)
        for variant_body in bodies
    ]
    variants.add_variants(ctx, principal, commands)


def _add_variants_product(
    ctx: CatalogContext,
    principal: Principal,
    merchant_id: str,
    product_id: str,
    bodies: list[Mapping[str, JSON]],
) -> Product:
    _add_variants(ctx, principal, merchant_id, product_id, bodies)
    return stored_product(ctx, merchant_id, product_id)


def _variant_bodies(body: Mapping[str, JSON]) -> list[Mapping[str, JSON]]:
    bodies = body.get("variants")
    if bodies is None:
        return []
    if not isinstance(bodies, list):
        raise InvalidField("/variants", "must be a list of variants")
    for index, variant in enumerate(bodies):
        if not isinstance(variant, dict):
            raise InvalidField(f"/variants/{index}", "a variant must be a JSON object")
    return bodies
