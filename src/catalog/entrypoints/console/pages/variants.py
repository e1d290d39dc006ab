"""The editor's variants table (DESIGN.md section 10): add a variant (a value per option axis,
its SKU, price and stock), edit one in its row (also its attributes, merged over the
product's, and which of the product's images are its own), remove one. Each is a product
change, posted with the version the editor showed (If-Match)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from fastapi.responses import HTMLResponse, Response
from starlette.datastructures import FormData

from catalog.domain.errors import (
    DomainError,
    DuplicateSku,
    DuplicateVariant,
    FieldErrors,
    PreconditionFailed,
    VariantNotFound,
)
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
from catalog.service import variants
from catalog.service.commands import AddVariant, PatchVariant, RemoveVariant

router = APIRouter()


def _inputs(prefix: str, variant_id: str, axes: list[str]) -> dict[str, str]:
    """A variant's pointers -> the inputs of the form (`add.` or `variant.`) that holds it;
    the console's own price errors (`/price/...`) land on the same inputs."""
    at = f"/variants/{variant_id}"
    inputs = {
        f"{at}/sku": f"{prefix}sku",
        f"{at}/price": f"{prefix}price",
        f"{at}/price/amount": f"{prefix}price",
        f"{at}/price/currency": f"{prefix}currency",
        f"{at}/stock": f"{prefix}stock",
        f"{at}/barcode": f"{prefix}barcode",
        f"{at}/attributes": f"{prefix}attributes",
        f"{at}/image_ids": f"{prefix}images",
        "/price": f"{prefix}price",
        "/price/amount": f"{prefix}price",
        "/price/currency": f"{prefix}currency",
        "/attributes": f"{prefix}attributes",
    }
    inputs.update({f"{at}/options/{axis}": f"{prefix}opt.{axis}" for axis in axes})
    return inputs


def _body(
    form: FormData, prefix: str, axes: list[str], images: list[str] | None = None
) -> dict[str, JSON]:
    """The variant's JSON as the API takes it, from the inputs named `prefix...`; with the
    product's `images`, also its attributes and the images ticked (the row's editor)."""
    errors = FieldErrors()
    body: dict[str, JSON] = {
        "sku": text(form, f"{prefix}sku").strip(),
        "options": {
            axis: text(form, f"{prefix}opt.{axis}").strip()
            for axis in axes
            if text(form, f"{prefix}opt.{axis}").strip()
        },
        "price": price_if_given(
            text(form, f"{prefix}price"), text(form, f"{prefix}currency"), errors
        ),
        "stock": _whole_number(text(form, f"{prefix}stock")),
        "barcode": text(form, f"{prefix}barcode").strip() or None,
    }
    if images is not None:
        body["attributes"] = json_object(text(form, f"{prefix}attributes"), "/attributes", errors)
        body["image_ids"] = [image for image in images if f"{prefix}image.{image}" in form]
    errors.raise_any()
    return body


def _whole_number(raw: str) -> JSON:
    """The stock as a number when it is one; other text goes on for the domain to refuse by
    name ("must be a whole number of units")."""
    raw = raw.strip().replace(",", "")
    if not raw:
        return None
    return int(raw) if raw.isascii() and raw.lstrip("-").isdigit() and len(raw) < 19 else raw


def _refused(error: DomainError, inputs: dict[str, str], prefix: str) -> FormErrors:
    errors = FormErrors.of(error, inputs)
    if isinstance(error, DuplicateSku):
        errors.by_input.setdefault(f"{prefix}sku", f"is already used by {error.holder}")
    elif isinstance(error, DuplicateVariant):
        for axis in error.options:
            errors.by_input.setdefault(f"{prefix}opt.{axis}", "is taken: see the detail above")
    return errors


def _values(form: FormData) -> dict[str, str]:
    return {name: text(form, name) for name in form}


@router.post("/products/{product_id}/variants", response_class=HTMLResponse)
async def add_variant(console: Form, product_id: str) -> Response:
    form = await console.request.form()
    product = load_product(console, product_id)
    axes = list(product.options)
    variant_id = console.ctx.ids.new_id()
    try:
        command = AddVariant.from_json(
            console.merchant_id,
            product_id,
            variant_id,
            _body(form, "add.", axes),
            if_match=form_version(text(form, "version")),
            idempotency_key=text(form, "idempotency_key") or None,
        )
        variants.add_variant(console.ctx, console.principal, command)
    except PreconditionFailed:
        return render_stale(console, product_id)
    except DomainError as error:
        errors = _refused(error, _inputs("add.", variant_id, axes), "add.")
        return render_editor(console, product, errors=errors, add_form=_values(form))
    return console.redirect(f"/products/{product_id}", saved="variant-added")


@router.post("/products/{product_id}/variants/{variant_id}", response_class=HTMLResponse)
async def save_variant(console: Form, product_id: str, variant_id: str) -> Response:
    form = await console.request.form()
    product = load_product(console, product_id)
    axes = list(product.options)
    view = product_view(product, console.ctx.assets)
    current = next((v for v in view["variants"] if v["id"] == variant_id), None)
    if current is None:
        raise VariantNotFound(product_id, variant_id)
    try:
        wanted = _body(form, "variant.", axes, [image.id for image in product.images])
        patch = _changes(current, wanted)
        if patch:
            command = PatchVariant.from_json(
                console.merchant_id,
                product_id,
                variant_id,
                patch,
                if_match=form_version(text(form, "version")),
            )
            variants.patch_variant(console.ctx, console.principal, command)
    except PreconditionFailed:
        return render_stale(console, product_id)
    except DomainError as error:
        errors = _refused(error, _inputs("variant.", variant_id, axes), "variant.")
        return render_editor(
            console, product, errors=errors, open_variant=variant_id, variant_form=_values(form)
        )
    return console.redirect(f"/products/{product_id}", saved="variant-saved")


def _changes(current: dict[str, Any], wanted: dict[str, JSON]) -> dict[str, JSON]:
    """The merge patch of what the row changed; an emptied price is null (the product's),
    attributes removed from the text are null (the product's again)."""
    patch: dict[str, JSON] = {}
    for name, value in wanted.items():
        if name == "attributes":
            assert isinstance(value, dict)
            if changed := attributes_patch(current["attributes"], value):
                patch["attributes"] = changed
        elif name == "image_ids":
            assert isinstance(value, list)
            # The images the variant keeps stay in its order; those ticked now go after.
            kept = [image for image in current["image_ids"] if image in value]
            ticked = kept + [image for image in value if image not in kept]
            if ticked != current["image_ids"]:
                patch["image_ids"] = ticked
        elif current.get(name) != value:
            patch[name] = value
    if "options" in patch:
        # Axes the person left empty are not removed: every axis needs a value.
        options = wanted["options"]
        assert isinstance(options, dict)
        patch["options"] = {k: v for k, v in options.items() if current["options"].get(k) != v}
    return patch


@router.post("/products/{product_id}/variants/{variant_id}/remove", response_class=HTMLResponse)
async def remove_variant(console: Form, product_id: str, variant_id: str) -> Response:
    form = await console.request.form()
    command = RemoveVariant(
        console.merchant_id, product_id, variant_id, if_match=form_version(text(form, "version"))
    )
    try:
        variants.remove_variant(console.ctx, console.principal, command)
    except PreconditionFailed:
        return render_stale(console, product_id)
    except VariantNotFound:
        pass  # removed already (a second click, another tab): what was asked holds
    return console.redirect(f"/products/{product_id}", saved="variant-removed")
