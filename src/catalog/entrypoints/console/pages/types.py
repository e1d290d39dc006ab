"""Product types: the list, a new type, and the editor of a type's name and attribute
definitions (a table with a row per attribute, one empty row to add one, a box to remove
one); deleting a type, refused while a product has it."""

from __future__ import annotations

import math
from typing import Any

from fastapi import APIRouter
from fastapi.responses import HTMLResponse, Response
from starlette.datastructures import FormData

from catalog.domain.errors import (
    DomainError,
    FieldErrors,
    InvalidField,
    PreconditionFailed,
    ProductTypeNotFound,
)
from catalog.domain.product_types import (
    MAX_TYPE_ATTRIBUTES,
    TYPE_KEY_PATTERN,
    AttributeType,
    ProductType,
    parse_type_content,
)
from catalog.domain.values import JSON, join_pointer
from catalog.entrypoints.api.presenters import product_type_view
from catalog.entrypoints.console.web import Console, Form, FormErrors, Page, text
from catalog.service import product_types
from catalog.service.commands import (
    CreateProductType,
    DeleteProductType,
    GetProductType,
    ListProductTypes,
    PatchProductType,
)

router = APIRouter()

PAGE_SIZE = 50
ATTRIBUTE_TYPES = [kind.value for kind in AttributeType]
# A row's inputs that hold text, and those that are checkboxes (sent only when checked).
ROW_TEXTS = ("name", "type", "label", "values", "minimum", "maximum", "max_length", "required_on")
ROW_CHECKS = ("required", "variant_axis", "remove")
TYPE_INPUTS = {"/key": "key", "/name": "name", "/additional_attributes": "additional_attributes"}
NOTICES = {"created": "Product type created.", "saved": "Saved."}

Row = dict[str, Any]


# ------------------------------------------------------------------ the list and a new type


@router.get("/types", response_class=HTMLResponse)
async def type_list(console: Page, cursor: str = "", deleted: str = "") -> Response:
    notice = f"Product type {deleted} deleted." if deleted else ""
    values = {"additional_attributes": "on"}
    return _list(console, cursor, values, [blank_row(0)], FormErrors(), notice)


def _list(
    console: Console,
    cursor: str,
    values: dict[str, str],
    rows: list[Row],
    errors: FormErrors,
    notice: str = "",
) -> HTMLResponse:
    query = ListProductTypes(console.merchant_id, limit=PAGE_SIZE, cursor=cursor or None)
    page = product_types.list_product_types(console.ctx, console.principal, query)
    return console.render(
        "types.html",
        status_code=errors.status if errors else 200,
        types=[product_type_view(t) for t in page.items],
        next_url=console.url("/types", cursor=page.next_cursor) if page.next_cursor else None,
        values=values,
        rows=rows,
        attribute_types=ATTRIBUTE_TYPES,
        errors=errors,
        notice=notice,
    )


@router.post("/types", response_class=HTMLResponse)
async def create_type(console: Form) -> Response:
    form = await console.request.form()
    values = _type_values(form)
    rows = with_blank_row(rows_of(form))
    inputs = dict(TYPE_INPUTS)
    try:
        errors = FieldErrors()
        body = {"key": values["key"].strip(), **_content_of(values, rows, inputs, errors)}
        command = errors.check(CreateProductType.from_json, console.merchant_id, body)
        errors.raise_any()
        assert command is not None
        created = product_types.create_product_type(console.ctx, console.principal, command)
    except DomainError as error:
        return _list(console, "", values, rows, FormErrors.of(error, inputs))
    return console.redirect(f"/types/{created.key}", saved="created")


# ------------------------------------------------------------------ the editor


def _load(console: Console, key: str) -> ProductType:
    if not TYPE_KEY_PATTERN.fullmatch(key):  # one that cannot exist, as the API answers it
        raise ProductTypeNotFound(key)
    query = GetProductType(console.merchant_id, key)
    return product_types.get_product_type(console.ctx, console.principal, query)


def _editor(
    console: Console,
    product_type: ProductType,
    *,
    values: dict[str, str] | None = None,
    rows: list[Row] | None = None,
    errors: FormErrors | None = None,
    notice: str = "",
) -> HTMLResponse:
    view = product_type_view(product_type)
    if values is None:
        values = {"name": view["name"]}
        if view["additional_attributes"]:
            values["additional_attributes"] = "on"
    if rows is None:
        rows = with_blank_row(
            [row_of(i, n, d) for i, (n, d) in enumerate(view["attributes"].items())]
        )
    errors = errors or FormErrors()
    return console.render(
        "type_edit.html",
        status_code=errors.status if errors else 200,
        product_type=view,
        values=values,
        rows=rows,
        attribute_types=ATTRIBUTE_TYPES,
        errors=errors,
        notice=notice,
    )


@router.get("/types/{key}", response_class=HTMLResponse)
async def edit_type(console: Page, key: str, saved: str = "") -> Response:
    return _editor(console, _load(console, key), notice=NOTICES.get(saved, ""))


@router.post("/types/{key}", response_class=HTMLResponse)
async def save_type(console: Form, key: str) -> Response:
    form = await console.request.form()
    current = _load(console, key)
    values = _type_values(form)
    rows = with_blank_row(rows_of(form))
    inputs = dict(TYPE_INPUTS)
    try:
        errors = FieldErrors()
        wanted = _content_of(values, rows, inputs, errors)
        # The whole content judged before anything is written, so the rows' own errors and
        # the type's rules are reported together.
        errors.check(parse_type_content, wanted)
        errors.raise_any()
        patch = patch_between(current.content.to_json(), wanted)
        command = PatchProductType.from_json(
            console.merchant_id, key, patch, if_match=_version(text(form, "version"))
        )
        product_types.patch_product_type(console.ctx, console.principal, command)
    except PreconditionFailed:
        stale = FormErrors(
            title="Someone else changed this product type",
            detail="Your changes were not saved. The form shows your values over the newest"
            " version: check them and save again.",
            status=412,
        )
        return _editor(console, _load(console, key), values=values, rows=rows, errors=stale)
    except DomainError as error:
        refused = FormErrors.of(error, inputs)
        return _editor(console, current, values=values, rows=rows, errors=refused)
    return console.redirect(f"/types/{key}", saved="saved")


@router.post("/types/{key}/delete", response_class=HTMLResponse)
async def delete_type(console: Form, key: str) -> Response:
    form = await console.request.form()
    command = DeleteProductType(console.merchant_id, key, _version(text(form, "version")))
    try:
        product_types.delete_product_type(console.ctx, console.principal, command)
    except ProductTypeNotFound:
        raise
    except DomainError as error:  # in use, or changed since the page was read
        return _editor(console, _load(console, key), errors=FormErrors.of(error, {}))
    return console.redirect("/types", deleted=key)


def _version(raw: str) -> int | None:
    return int(raw) if raw.isascii() and raw.isdigit() and len(raw) <= 18 else None


# ------------------------------------------------------------------ the form <-> JSON


def _type_values(form: FormData) -> dict[str, str]:
    values = {name: text(form, name) for name in ("key", "name")}
    if "additional_attributes" in form:
        values["additional_attributes"] = "on"
    return values


def blank_row(index: int) -> Row:
    return {
        "index": index,
        **{name: "" for name in ROW_TEXTS},
        "type": AttributeType.STRING.value,
        **{name: False for name in ROW_CHECKS},
    }


def row_of(index: int, name: str, definition: dict[str, Any]) -> Row:
    """A stored definition as its row of inputs."""
    row = blank_row(index)
    row.update(name=name, type=definition["type"], label=definition.get("label") or "")
    row["values"] = ", ".join(definition.get("values") or ())
    row["required_on"] = ", ".join(definition.get("required_on") or ())
    for member in ("minimum", "maximum", "max_length"):
        if definition.get(member) is not None:
            row[member] = str(definition[member])
    row["required"] = bool(definition.get("required"))
    row["variant_axis"] = bool(definition.get("variant_axis"))
    return row


def rows_of(form: FormData) -> list[Row]:
    """The rows as typed: `rows` says how many the form had (one more than the type's
    attributes, for the empty row)."""
    raw = text(form, "rows")
    count = min(int(raw), MAX_TYPE_ATTRIBUTES + 1) if raw.isdigit() and len(raw) < 5 else 0
    rows = []
    for index in range(count):
        row: Row = {"index": index}
        row.update({name: text(form, f"attr-{index}-{name}") for name in ROW_TEXTS})
        row.update({name: f"attr-{index}-{name}" in form for name in ROW_CHECKS})
        rows.append(row)
    return rows


def with_blank_row(rows: list[Row]) -> list[Row]:
    """The rows with one empty row last, to add an attribute."""
    if rows and _is_blank(rows[-1]):
        return rows
    return [*rows, blank_row(len(rows))]


def _is_blank(row: Row) -> bool:
    return not any(str(row[name]).strip() for name in ROW_TEXTS if name != "type")


def _content_of(
    values: dict[str, str], rows: list[Row], inputs: dict[str, str], errors: FieldErrors
) -> dict[str, Any]:
    """The type's content as the API takes it; `inputs` learns which input holds each
    attribute's pointers, `errors` what the rows cannot say (a row without a name, a bound
    that is no number): such a row or member is left out, for the rest to be judged."""
    attributes: dict[str, JSON] = {}
    for row in rows:
        if row["remove"] or _is_blank(row):
            continue
        name = row["name"].strip()
        at = f"attr-{row['index']}"
        pointer = join_pointer("/attributes", name)
        if not name:
            inputs[f"/rows/{row['index']}"] = f"{at}-name"
            errors.add(f"/rows/{row['index']}", "is required: each attribute has a name")
            continue
        if name in attributes:
            inputs[f"/rows/{row['index']}"] = f"{at}-name"
            errors.add(f"/rows/{row['index']}", f"{name!r} is already defined above")
            continue
        inputs[pointer] = f"{at}-name"
        inputs.update({join_pointer(pointer, m): f"{at}-{m}" for m in (*ROW_TEXTS, *ROW_CHECKS)})
        attributes[name] = _definition(row, pointer, errors)
    return {
        "name": values["name"].strip(),
        "attributes": attributes,
        "additional_attributes": "additional_attributes" in values,
    }


def _definition(row: Row, pointer: str, errors: FieldErrors) -> dict[str, JSON]:
    definition: dict[str, JSON] = {"type": row["type"]}
    if row["label"].strip():
        definition["label"] = row["label"].strip()
    for member in ("values", "required_on"):
        items = [item.strip() for item in row[member].split(",") if item.strip()]
        if items:
            definition[member] = list(items)
    for member in ("minimum", "maximum", "max_length"):
        raw = row[member].strip()
        number = errors.check(_number, raw, join_pointer(pointer, member)) if raw else None
        if number is not None:
            definition[member] = number
    if row["required"]:
        definition["required"] = True
    if row["variant_axis"]:
        definition["variant_axis"] = True
    return definition


def _number(raw: str, pointer: str) -> int | float:
    try:
        return int(raw)
    except ValueError:
        pass
    try:
        value = float(raw)
    except ValueError:
        value = math.nan
    if not math.isfinite(value):
        raise InvalidField(pointer, "must be a number, such as 10 or 2.5")
    return value


def patch_between(old: dict[str, Any], new: dict[str, Any]) -> dict[str, Any]:
    """The JSON merge patch (RFC 7396) that turns `old` into `new`: removed members null,
    objects patched member by member, anything else replaced whole."""
    patch: dict[str, Any] = {name: None for name in old if name not in new}
    for name, value in new.items():
        before = old.get(name)
        if isinstance(value, dict) and isinstance(before, dict):
            inner = patch_between(before, value)
            if inner:
                patch[name] = inner
        elif name not in old or before != value:
            patch[name] = value
    return patch
