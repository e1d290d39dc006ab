"""Products: the list (filters, SKU lookup, pages), a new product, the editor's fields and the
status buttons (Mark ready, Deactivate)."""

from __future__ import annotations

import json
import secrets
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
)
from catalog.domain.lifecycle import Status
from catalog.domain.product import Product
from catalog.entrypoints.api.presenters import product_view
from catalog.entrypoints.console.money import format_amount, price_json
from catalog.entrypoints.console.web import Console, Form, FormErrors, Page, text
from catalog.service import product_types, products, variants
from catalog.service.commands import (
    ChangeStatus,
    DeactivateProduct,
    FindSku,
    GetProduct,
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
        status_code=200 if not errors else 422,
        products=items,
        filters=filters,
        statuses=STATUSES,
        type_keys=_type_keys(console),
        next_url=console.url("/products", cursor=next_cursor, **filters) if next_cursor else None,
        errors=errors,
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


def _content_of(form: FormData, errors: FieldErrors, *, with_sku: bool) -> dict[str, Any]:
    """The JSON body the API would take for the product form's inputs; every unreadable
    input is raised at once."""
    body: dict[str, Any] = {}
    if with_sku:
        body["sku"] = text(form, "sku").strip()
    body["name"] = text(form, "name").strip()
    body["description"] = text(form, "description").strip() or None
    body["price"] = price_json(text(form, "price"), text(form, "currency"), errors)
    product_type = text(form, "product_type").strip()
    if with_sku or "product_type" in form:
        body["product_type"] = product_type or None
    if "attributes" in form:
        body["attributes"] = _json_object(text(form, "attributes"), "/attributes", errors)
    errors.raise_any()
    return body


def _json_object(raw: str, pointer: str, errors: FieldErrors) -> dict[str, Any]:
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


def editor_values(view: dict[str, Any]) -> dict[str, str]:
    price = view["price"]
    return {
        "name": view["name"],
        "description": view["description"] or "",
        "price": format_amount(price),
        "currency": price["currency"] if price else "",
        "product_type": view["product_type"] or "",
        "attributes": json.dumps(view["attributes"], indent=2, ensure_ascii=False)
        if view["attributes"]
        else "",
    }


def render_editor(
    console: Console,
    product: Product,
    *,
    values: dict[str, str] | None = None,
    errors: FormErrors | None = None,
    notice: str = "",
) -> HTMLResponse:
    view = product_view(product, console.ctx.assets)
    errors = errors or FormErrors()
    return console.render(
        "product_edit.html",
        status_code=errors.status if errors else 200,
        product=view,
        values=values or editor_values(view),
        errors=errors,
        notice=notice,
        type_keys=_type_keys(console),
    )


NOTICES = {
    "created": "Product created.",
    "saved": "Saved.",
    "ready": "Marked ready.",
    "deactivated": "Deactivated: its listings are being withdrawn.",
    "image-added": "Image added.",
    "image-removed": "Image removed.",
    "publish-requested": "Publication requested.",
    "unpublish-requested": "Withdrawal requested.",
}


@router.get("/products/{product_id}", response_class=HTMLResponse)
async def edit_product(console: Page, product_id: str, saved: str = "") -> Response:
    return render_editor(console, load_product(console, product_id), notice=NOTICES.get(saved, ""))


@router.post("/products/{product_id}", response_class=HTMLResponse)
async def save_product(console: Form, product_id: str) -> Response:
    form = await console.request.form()
    values = {name: text(form, name) for name in form}
    current = load_product(console, product_id)
    try:
        content = _content_of(form, FieldErrors(), with_sku=False)
        patch = _merge_patch(product_view(current, console.ctx.assets), content)
        command = PatchProduct(
            console.merchant_id, product_id, patch, if_match=_version(text(form, "version"))
        )
        products.update_product(console.ctx, console.principal, command)
    except PreconditionFailed:
        return render_editor(
            console, load_product(console, product_id), values=values, errors=_stale()
        )
    except DomainError as error:
        return render_editor(
            console, current, values=values, errors=FormErrors.of(error, PRODUCT_INPUTS)
        )
    return console.redirect(f"/products/{product_id}", saved="saved")


def _stale() -> FormErrors:
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
            old = view["attributes"]
            changed = {k: v for k, v in value.items() if old.get(k) != v}
            changed.update({k: None for k in old if k not in value})
            if changed:
                patch["attributes"] = changed
        elif view.get(name) != value:
            patch[name] = value
    return patch


def _version(raw: str) -> int | None:
    return int(raw) if raw.isascii() and raw.isdigit() and len(raw) <= 18 else None


@router.post("/products/{product_id}/status", response_class=HTMLResponse)
async def change_status(console: Form, product_id: str) -> Response:
    form = await console.request.form()
    wanted = text(form, "status")
    version = _version(text(form, "version"))
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
        return render_editor(console, load_product(console, product_id), errors=_stale())
    except DomainError as error:
        if isinstance(error, ProductNotFound):
            raise
        return render_editor(
            console, load_product(console, product_id), errors=FormErrors.of(error, PRODUCT_INPUTS)
        )
    return console.redirect(f"/products/{product_id}", saved=notice)
