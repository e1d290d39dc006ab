"""Products: the list (filters, SKU lookup, pages), a new product, the editor (its fields, the
attributes form of a typed product, the sections other modules post to) and the status
buttons (Mark ready, Deactivate)."""

from __future__ import annotations

import json
import secrets
from collections.abc import Mapping
from typing import Any

from fastapi import APIRouter
from fastapi.responses import HTMLResponse, Response
from starlette.datastructures import FormData

from catalog.domain.errors import (
    DomainError,
    FieldErrors,
    InvalidField,
    PreconditionFailed,
    ProductNotFound,
    ProductTypeNotFound,
)
from catalog.domain.lifecycle import Status
from catalog.domain.limits import CHANNEL_PATTERN
from catalog.domain.product import Product
from catalog.entrypoints.api.presenters import product_view
from catalog.entrypoints.console.money import format_amount, price_json
from catalog.entrypoints.console.pages.attribute_form import (
    AttributeForm,
    allowed_axes,
    axis_inputs,
)
from catalog.entrypoints.console.pages.completeness_links import completeness_panel
from catalog.entrypoints.console.web import Console, Form, FormErrors, Page, text
from catalog.service import product_types, products, variants
from catalog.service.commands import (
    ChangeStatus,
    DeactivateProduct,
    FindSku,
    GetProduct,
    GetProductType,
    ListProducts,
    ListProductTypes,
    PatchProduct,
    RegisterProduct,
)

router = APIRouter()

PAGE_SIZE = 25
STATUSES = [status.value for status in Status]

# Where each field of a product command is typed in: a refused field's JSON pointer -> input.
PRODUCT_INPUTS = {
    "/sku": "sku",
    "/name": "name",
    "/description": "description",
    "/price": "price",
    "/price/amount": "price",
    "/price/currency": "currency",
    "/product_type": "product_type",
    "/attributes": "attributes",
    "/options": "options",
    "/channel_overrides": "channel_overrides",
    "/variants": "variants",
}


def _type_keys(console: Console) -> list[str]:
    page = product_types.list_product_types(
        console.ctx, console.principal, ListProductTypes(console.merchant_id, limit=100)
    )
    return [t.key for t in page.items]


@router.get("/products", response_class=HTMLResponse)
async def product_list(
    console: Page,
    status: str = "",
    channel: str = "",
    type: str = "",
    sku: str = "",
    cursor: str = "",
) -> Response:
    if sku.strip():
        return _lookup(console, sku.strip())
    return render_product_list(console, status, channel, type, cursor)


def render_product_list(
    console: Console,
    status: str = "",
    channel: str = "",
    type: str = "",
    cursor: str = "",
    bulk_errors: FormErrors | None = None,
    bulk_values: dict[str, str] | None = None,
) -> HTMLResponse:
    """The list of products the filters keep, with the bulk action form (its refusal, when
    one was just refused, and what was chosen in it)."""
    errors = FormErrors()
    items: list[dict[str, Any]] = []
    next_cursor = None
    try:
        query = ListProducts(
            console.merchant_id,
            status=Status(status) if status in STATUSES else None,
            channel=channel.strip() or None,
            limit=PAGE_SIZE,
            cursor=cursor or None,
            product_type=type.strip() or None,
        )
        page = products.list_products(console.ctx, console.principal, query)
        items = [product_view(p, console.ctx.assets) for p in page.items]
        next_cursor = page.next_cursor
    except InvalidField as error:
        errors = FormErrors.of(error, {"/channel": "channel", "/type": "type", "/cursor": "form"})
    filters = {"status": status, "channel": channel, "type": type}
    return console.render(
        "products.html",
        status_code=422 if errors else bulk_errors.status if bulk_errors else 200,
        products=items,
        filters=filters,
        statuses=STATUSES,
        type_keys=_type_keys(console),
        next_url=console.url("/products", cursor=next_cursor, **filters) if next_cursor else None,
        errors=errors if errors or bulk_errors is None else bulk_errors,
        bulk_available=console.jobs is not None,
        bulk_values=bulk_values or {},
    )


def _lookup(console: Console, sku: str) -> Response:
    try:
        owner = variants.find_sku(console.ctx, console.principal, FindSku(console.merchant_id, sku))
    except DomainError:
        return console.render(
            "products.html",
            status_code=404,
            products=[],
            filters={"status": "", "channel": "", "type": "", "sku": sku},
            statuses=STATUSES,
            type_keys=_type_keys(console),
            next_url=None,
            errors=FormErrors(title="No product has this SKU", by_input={"sku": f"{sku!r}"}),
        )
    return console.redirect(f"/products/{owner.product_id}")


# ------------------------------------------------------------------ a new product


@router.get("/products/new", response_class=HTMLResponse)
async def new_product(console: Page) -> Response:
    return _new_form(console, {"idempotency_key": secrets.token_urlsafe(16)}, FormErrors())


def _new_form(console: Console, values: dict[str, str], errors: FormErrors) -> HTMLResponse:
    return console.render(
        "product_new.html",
        status_code=errors.status if errors else 200,
        values=values,
        errors=errors,
        type_keys=_type_keys(console),
    )


@router.post("/products", response_class=HTMLResponse)
async def create_product(console: Form) -> Response:
    form = await console.request.form()
    values = {name: text(form, name) for name in form}
    try:
        body = _content_of(form, FieldErrors(), with_sku=True)
        command = RegisterProduct.from_json(
            console.merchant_id, body, idempotency_key=text(form, "idempotency_key") or None
        )
        registered = products.register_product(console.ctx, console.principal, command)
    except DomainError as error:
        return _new_form(console, values, FormErrors.of(error, PRODUCT_INPUTS))
    return console.redirect(f"/products/{registered.product.id}", saved="created")


def _content_of(
    form: FormData,
    errors: FieldErrors,
    *,
    with_sku: bool,
    attribute_form: AttributeForm | None = None,
    current_attributes: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The JSON body the API would take for the product form's inputs; every unreadable
    input is raised at once. A typed product's attributes come from their inputs and, when
    its type takes others, the JSON textarea; else its other attributes stay as they are."""
    body: dict[str, Any] = {}
    if with_sku:
        body["sku"] = text(form, "sku").strip()
    body["name"] = text(form, "name").strip()
    body["description"] = text(form, "description").strip() or None
    body["price"] = price_json(text(form, "price"), text(form, "currency"), errors)
    product_type = text(form, "product_type").strip()
    if with_sku or "product_type" in form:
        body["product_type"] = product_type or None
    if attribute_form is not None:
        others = attribute_form.others(current_attributes or {})
        if attribute_form.additional:
            others = json_object(text(form, "attributes"), "/attributes", errors)
            for name in sorted(attribute_form.names & set(others)):
                errors.add(f"/attributes/{name}", "has its own input: set it there")
        typed = {name: text(form, name) for name in form}
        body["attributes"] = attribute_form.read(typed, others)
    elif "attributes" in form:
        body["attributes"] = json_object(text(form, "attributes"), "/attributes", errors)
    if "options" in form:
        body["options"] = [
            axis.strip() for axis in text(form, "options").split(",") if axis.strip()
        ]
    errors.raise_any()
    return body


def price_if_given(
    amount: str, currency: str, errors: FieldErrors, at: str = "/price"
) -> dict[str, Any] | None:
    """A variant's or an override's price: none without an amount (their currency input
    starts with the product's, and a blank amount means "the product's price")."""
    return price_json(amount, currency, errors, at) if amount.strip() else None


def json_object(raw: str, pointer: str, errors: FieldErrors) -> dict[str, Any]:
    if not raw.strip():
        return {}
    try:
        value = json.loads(raw)
    except ValueError as error:
        errors.add(pointer, f"is not valid JSON: {error}")
        return {}
    if not isinstance(value, dict):
        errors.add(pointer, 'must be a JSON object, such as {"color": "red"}')
        return {}
    return value


# ------------------------------------------------------------------ the editor


def load_product(console: Console, product_id: str) -> Product:
    return products.get_product(
        console.ctx, console.principal, GetProduct(console.merchant_id, product_id)
    )


def attribute_form_of(console: Console, product: Product) -> AttributeForm | None:
    """The form of the product's type; None for an untyped product (its attributes are one
    JSON textarea)."""
    if product.product_type is None:
        return None
    query = GetProductType(console.merchant_id, product.product_type)
    try:
        found = product_types.get_product_type(console.ctx, console.principal, query)
    except ProductTypeNotFound:
        return None
    return AttributeForm.of(found.content)


def product_inputs(attribute_form: AttributeForm | None) -> dict[str, str]:
    """PRODUCT_INPUTS, with each typed attribute's pointer at its own input."""
    if attribute_form is None:
        return PRODUCT_INPUTS
    return {**PRODUCT_INPUTS, **attribute_form.pointer_inputs()}


def editor_values(
    view: dict[str, Any], attribute_form: AttributeForm | None = None
) -> dict[str, str]:
    price = view["price"]
    values = {
        "name": view["name"],
        "description": view["description"] or "",
        "price": format_amount(price),
        "currency": price["currency"] if price else "",
        "product_type": view["product_type"] or "",
        "options": ", ".join(view["options"]),
        "attributes": _json_text(view["attributes"]),
    }
    if attribute_form is not None:
        values.update(attribute_form.values(view["attributes"]))
    return values


def variant_values(view: dict[str, Any], variant_id: str) -> dict[str, str]:
    """The inline editor's values of one variant (empty when it has none such)."""
    for variant in view["variants"]:
        if variant["id"] == variant_id:
            price = variant["price"] or {}
            values = {
                "variant.sku": variant["sku"],
                "variant.price": format_amount(variant["price"]),
                "variant.currency": price.get("currency") or _currency(view),
                "variant.stock": "" if variant["stock"] is None else str(variant["stock"]),
                "variant.barcode": variant["barcode"] or "",
            }
            for axis, value in variant["options"].items():
                values[f"variant.opt.{axis}"] = value
            values["variant.attributes"] = _json_text(variant["attributes"])
            values.update({f"variant.image.{image}": "on" for image in variant["image_ids"]})
            return values
    return {}


def override_values(view: dict[str, Any], channel: str) -> dict[str, str]:
    """The inputs of a channel's overrides form: the product's, then each variant's
    (`variant.<id>.price`, `.currency`, `.attributes`)."""
    override = view["channel_overrides"].get(channel) or {}
    price = override.get("price")
    values = {
        "override.name": override.get("name") or "",
        "override.description": override.get("description") or "",
        "override.price": format_amount(price),
        "override.currency": price["currency"] if price else _currency(view),
        "override.attributes": _json_text(override.get("attributes")),
    }
    variant_overrides = override.get("variants") or {}
    for variant in view["variants"]:
        mine = variant_overrides.get(variant["id"]) or {}
        price = mine.get("price")
        at = f"variant.{variant['id']}"
        values[f"{at}.price"] = format_amount(price)
        values[f"{at}.currency"] = price["currency"] if price else _currency(view)
        values[f"{at}.attributes"] = _json_text(mine.get("attributes"))
    return values


def _json_text(value: dict[str, Any] | None) -> str:
    return json.dumps(value, indent=2, ensure_ascii=False) if value else ""


def _currency(view: dict[str, Any]) -> str:
    return str(view["price"]["currency"]) if view["price"] else ""


def known_channels(view: dict[str, Any], also: str = "") -> list[str]:
    """The channels the product has to do with: those with requirements or a listing, those
    it has overrides on, and the one being added."""
    channels = set(view["completeness"]["channels"]) | set(view["listings"])
    channels |= set(view["channel_overrides"])
    return sorted(channels | ({also} if also else set()))


def render_editor(
    console: Console,
    product: Product,
    *,
    values: dict[str, str] | None = None,
    errors: FormErrors | None = None,
    notice: str = "",
    add_form: dict[str, str] | None = None,
    open_variant: str = "",
    variant_form: dict[str, str] | None = None,
    overrides_on: str = "",
    overrides_form: dict[str, str] | None = None,
) -> HTMLResponse:
    """The editor. `open_variant` (a variant's id) shows that variant's row as a form,
    `overrides_on` (a channel) the form of that channel's overrides; `*_form` are the values
    a refused post sent (else the product's)."""
    view = product_view(product, console.ctx.assets)
    errors = errors or FormErrors()
    attribute_form = attribute_form_of(console, product)
    editor_url = console.url(f"/products/{product.id}")
    if open_variant and not any(v["id"] == open_variant for v in view["variants"]):
        open_variant = ""
    return console.render(
        "product_edit.html",
        status_code=errors.status if errors else 200,
        product=view,
        # What was sent over the product's own values: a caller's values may name only some
        # inputs (another section's form), never an attribute input it did not draw.
        values={**editor_values(view, attribute_form), **(values or {})},
        errors=errors,
        notice=notice,
        type_keys=_type_keys(console),
        attribute_form=attribute_form,
        allowed_axes=allowed_axes(attribute_form),
        axes=axis_inputs(view["options"], attribute_form),
        open_variant=open_variant,
        variant_values=variant_form or variant_values(view, open_variant),
        add_values=add_form
        or {
            "add.currency": _currency(view),
            "idempotency_key": secrets.token_urlsafe(16),
        },
        channels=known_channels(view, overrides_on),
        overrides_on=overrides_on,
        override_values=overrides_form or override_values(view, overrides_on),
        completeness=completeness_panel(view, attribute_form, editor_url),
        editor_url=editor_url,
    )


NOTICES = {
    "created": "Product created.",
    "saved": "Saved.",
    "variant-added": "Variant added.",
    "variant-saved": "Variant saved.",
    "variant-removed": "Variant removed.",
    "overrides-saved": "Channel overrides saved.",
    "overrides-removed": "Channel overrides removed.",
    "ready": "Marked ready.",
    "deactivated": "Deactivated: its listings are being withdrawn.",
    "image-added": "Image added.",
    "image-removed": "Image removed.",
    "alt-saved": "Alt text saved.",
    "publish-requested": "Publication requested.",
    "unpublish-requested": "Withdrawal requested.",
}


@router.get("/products/{product_id}", response_class=HTMLResponse)
async def edit_product(
    console: Page, product_id: str, saved: str = "", variant: str = "", overrides: str = ""
) -> Response:
    product = load_product(console, product_id)
    channel = overrides.strip()
    if channel and not CHANNEL_PATTERN.fullmatch(channel):
        refused = FormErrors(
            title="No such channel",
            by_input={"overrides": "slugs are 2 to 40 of a-z, 0-9 and '-'"},
            status=422,
        )
        return render_editor(console, product, errors=refused)
    return render_editor(
        console,
        product,
        notice=NOTICES.get(saved, ""),
        open_variant=variant,
        overrides_on=channel,
    )


@router.post("/products/{product_id}", response_class=HTMLResponse)
async def save_product(console: Form, product_id: str) -> Response:
    form = await console.request.form()
    values = {name: text(form, name) for name in form}
    current = load_product(console, product_id)
    attribute_form = attribute_form_of(console, current)
    view = product_view(current, console.ctx.assets)
    try:
        content = _content_of(
            form,
            FieldErrors(),
            with_sku=False,
            attribute_form=attribute_form,
            current_attributes=view["attributes"],
        )
        patch = _merge_patch(view, content)
        command = PatchProduct(
            console.merchant_id, product_id, patch, if_match=form_version(text(form, "version"))
        )
        products.update_product(console.ctx, console.principal, command)
    except PreconditionFailed:
        return render_editor(
            console, load_product(console, product_id), values=values, errors=stale_errors()
        )
    except DomainError as error:
        errors = FormErrors.of(error, product_inputs(attribute_form))
        return render_editor(console, current, values=values, errors=errors)
    return console.redirect(f"/products/{product_id}", saved="saved")


def render_stale(console: Console, product_id: str) -> HTMLResponse:
    """The editor on the newest version, saying why the post was not applied."""
    return render_editor(console, load_product(console, product_id), errors=stale_errors())


def stale_errors() -> FormErrors:
    return FormErrors(
        title="Someone else changed this product",
        detail="Your changes were not saved. The form shows your values over the newest version:"
        " check them and save again.",
        status=412,
    )


def _merge_patch(view: dict[str, Any], content: dict[str, Any]) -> dict[str, Any]:
    """Only what the form changed; attributes the person removed become null (RFC 7396)."""
    patch: dict[str, Any] = {}
    for name, value in content.items():
        if name == "attributes":
            if changed := attributes_patch(view["attributes"], value):
                patch["attributes"] = changed
        elif view.get(name) != value:
            patch[name] = value
    return patch


def attributes_patch(old: Mapping[str, Any], new: Mapping[str, Any]) -> dict[str, Any]:
    """The merge patch (RFC 7396) from the attributes shown to those typed: the names added
    or changed, and null for each name the person removed. (A null the person types removes
    that name too, as merge patches do.)"""
    changed = {name: value for name, value in new.items() if old.get(name) != value}
    changed.update({name: None for name in old if name not in new})
    return changed


def form_version(raw: str) -> int | None:
    return int(raw) if raw.isascii() and raw.isdigit() and len(raw) <= 18 else None


@router.post("/products/{product_id}/status", response_class=HTMLResponse)
async def change_status(console: Form, product_id: str) -> Response:
    form = await console.request.form()
    wanted = text(form, "status")
    version = form_version(text(form, "version"))
    try:
        if wanted == "INACTIVE":
            command: Any = DeactivateProduct(console.merchant_id, product_id, if_match=version)
            products.deactivate_product(console.ctx, console.principal, command)
            notice = "deactivated"
        else:
            status = Status(wanted) if wanted in STATUSES else Status.READY
            command = ChangeStatus(console.merchant_id, product_id, status, if_match=version)
            products.change_status(console.ctx, console.principal, command)
            notice = "ready" if status is Status.READY else "saved"
    except PreconditionFailed:
        return render_stale(console, product_id)
    except DomainError as error:
        if isinstance(error, ProductNotFound):
            raise
        return render_editor(
            console, load_product(console, product_id), errors=FormErrors.of(error, PRODUCT_INPUTS)
        )
    return console.redirect(f"/products/{product_id}", saved=notice)
