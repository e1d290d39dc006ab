"""The editor's channel overrides: per channel, the name, description, price and attributes
the channel shows instead of the product's, and each variant's price and attributes there
(DESIGN.md sections 9 and 10, docs/variants.md), saved as a merge patch of
`channel_overrides`; and the removal of a channel's overrides."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from fastapi.responses import HTMLResponse, Response
from starlette.datastructures import FormData

from catalog.domain.errors import DomainError, FieldErrors, PreconditionFailed, ProductNotFound
from catalog.domain.limits import CHANNEL_PATTERN
from catalog.domain.product import Product
from catalog.domain.values import JSON
from catalog.entrypoints.api.presenters import product_view
from catalog.entrypoints.console.pages.products import (
    attributes_patch,
    form_version,
    json_object,
    load_product,
    price_if_given,
    render_editor,
    render_stale,
)
from catalog.entrypoints.console.web import Form, FormErrors, text
from catalog.service import products
from catalog.service.commands import PatchProduct

router = APIRouter()


def _inputs(channel: str, product: Product) -> dict[str, str]:
    at = f"/channel_overrides/{channel}"
    inputs = {
        f"{at}/name": "override.name",
        f"{at}/description": "override.description",
        f"{at}/price": "override.price",
        f"{at}/price/amount": "override.price",
        f"{at}/price/currency": "override.currency",
        f"{at}/attributes": "override.attributes",
        # The console's own price errors, before any command.
        "/price": "override.price",
        "/price/amount": "override.price",
        "/price/currency": "override.currency",
    }
    for variant in product.variants:
        pointer, name = _variant_at(channel, variant.id), f"variant.{variant.id}"
        inputs.update(
            {
                pointer: f"{name}.price",
                f"{pointer}/price": f"{name}.price",
                f"{pointer}/price/amount": f"{name}.price",
                f"{pointer}/price/currency": f"{name}.currency",
                f"{pointer}/attributes": f"{name}.attributes",
            }
        )
    return inputs


def _variant_at(channel: str, variant_id: str) -> str:
    return f"/channel_overrides/{channel}/variants/{variant_id}"


def _channel(product_id: str, channel: str) -> str:
    if not CHANNEL_PATTERN.fullmatch(channel):
        raise ProductNotFound(product_id)  # no page is there
    return channel


@router.post("/products/{product_id}/overrides/{channel}", response_class=HTMLResponse)
async def save_overrides(console: Form, product_id: str, channel: str) -> Response:
    channel = _channel(product_id, channel)
    form = await console.request.form()
    values = {name: text(form, name) for name in form}
    product = load_product(console, product_id)
    current = product_view(product, console.ctx.assets)["channel_overrides"].get(channel) or {}
    errors = FieldErrors()
    override: dict[str, JSON] = {
        "name": text(form, "override.name").strip() or None,
        "description": text(form, "override.description").strip() or None,
        "price": price_if_given(
            text(form, "override.price"), text(form, "override.currency"), errors
        ),
    }
    attributes = json_object(
        text(form, "override.attributes"), f"/channel_overrides/{channel}/attributes", errors
    )
    variants = _variants_patch(form, channel, product, current, errors)
    try:
        errors.raise_any()
        override.update(_attributes_patch(current.get("attributes"), attributes or None))
        if variants:
            override["variants"] = variants
        patch = {"channel_overrides": {channel: override}}
        command = PatchProduct.from_json(
            console.merchant_id, product_id, patch, if_match=form_version(text(form, "version"))
        )
        products.update_product(console.ctx, console.principal, command)
    except PreconditionFailed:
        return render_stale(console, product_id)
    except DomainError as error:
        return render_editor(
            console,
            product,
            errors=FormErrors.of(error, _inputs(channel, product)),
            overrides_on=channel,
            overrides_form=values,
        )
    return console.redirect(f"/products/{product_id}", saved="overrides-saved")


def _variants_patch(
    form: FormData,
    channel: str,
    product: Product,
    current: dict[str, Any],
    errors: FieldErrors,
) -> dict[str, JSON]:
    """The variants' overrides as a merge patch of `variants`: only the variants whose inputs
    changed; a variant left with neither a price nor attributes loses its override (null)."""
    patch: dict[str, JSON] = {}
    before = current.get("variants") or {}
    for variant_id in (variant.id for variant in product.variants):
        name, at = f"variant.{variant_id}", _variant_at(channel, variant_id)
        if f"{name}.price" not in form:
            continue  # a variant added since the form was drawn: nothing typed for it
        price = price_if_given(
            text(form, f"{name}.price"), text(form, f"{name}.currency"), errors, f"{at}/price"
        )
        attributes = json_object(text(form, f"{name}.attributes"), f"{at}/attributes", errors)
        old = before.get(variant_id) or {}
        if price is None and not attributes:
            if old:
                patch[variant_id] = None
            continue
        change: dict[str, JSON] = {}
        if price != old.get("price"):
            change["price"] = price
        change.update(_attributes_patch(old.get("attributes"), attributes or None))
        if change:
            patch[variant_id] = change
    return patch


def _attributes_patch(old: Any, new: dict[str, JSON] | None) -> dict[str, JSON]:
    """The override's attributes as a merge patch: only what changed, names removed as null;
    none typed removes the override's attributes."""
    if new is None:
        return {"attributes": None} if old is not None else {}
    if old is None:
        return {"attributes": new}
    changed = attributes_patch(old, new)
    return {"attributes": changed} if changed else {}


@router.post("/products/{product_id}/overrides/{channel}/remove", response_class=HTMLResponse)
async def remove_overrides(console: Form, product_id: str, channel: str) -> Response:
    channel = _channel(product_id, channel)
    form = await console.request.form()
    command = PatchProduct.from_json(
        console.merchant_id,
        product_id,
        {"channel_overrides": {channel: None}},
        if_match=form_version(text(form, "version")),
    )
    try:
        products.update_product(console.ctx, console.principal, command)
    except PreconditionFailed:
        return render_stale(console, product_id)
    except DomainError as error:
        if isinstance(error, ProductNotFound):
            raise
        product = load_product(console, product_id)
        errors = FormErrors.of(error, _inputs(channel, product))
        return render_editor(console, product, errors=errors)
    return console.redirect(f"/products/{product_id}", saved="overrides-removed")
