"""What a channel needs of a product, as JSON pointers into its effective view.

An adapter declares its channel's requirements to the catalog (`PUT /v1/channels/{c}/requirements`,
see `RequirementsDeclaration`), and the catalog refuses a publication request that misses any
of them (422 `product-incomplete`, with the missing pointers). The adapter checks the same
declaration before calling the channel (`missing`), so the two never disagree: a pointer
holds no value here exactly when it holds none for the catalog (absent, `null`, a blank
string, an empty list or object).

Pointers can only say "this must have a value". A rule they cannot express (Meta's "brand or
GTIN", "an integer") stays in the adapter, next to the declaration.

With variants (a product with `options` and at least one variant), `/price` holds when every
variant has an effective price, as the catalog counts it: each variant without one is missing
as `/variants/<vid>/price`, and `/price` itself is not reported (docs/variants.md,
"Completeness"). With options but no variant yet, `/price` is the product's own.

The pointers the catalog accepts (docs/product-types.md, "Channel requirements"): `/name`,
`/description`, `/sku`, `/product_type`, `/price`, `/images` (each checked whole), or
`/attributes/<name>` at any depth, with `~0` and `~1` escaping `~` and `/` (RFC 6901).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from channel_kit.view import Money, ProductView

WHOLE_MEMBERS = frozenset({"/name", "/description", "/sku", "/product_type", "/price", "/images"})
MAX_REQUIREMENTS = 100
MAX_POINTER_LENGTH = 300
_ATTRIBUTES = "/attributes/"
_VARIANTS = "/variants/"


def required(*pointers: str) -> tuple[str, ...]:
    """A declaration: the pointers checked (ValueError naming a bad one), each once, in order.

    Checked here so that a mistake shows when the adapter is built, not as the catalog's 422
    when it starts."""
    for pointer in pointers:
        check_pointer(pointer)
    declared = tuple(dict.fromkeys(pointers))
    if len(declared) > MAX_REQUIREMENTS:
        raise ValueError(f"a channel declares at most {MAX_REQUIREMENTS} requirements")
    return declared


def check_pointer(pointer: str) -> str:
    if len(pointer) > MAX_POINTER_LENGTH:
        raise ValueError(f"{pointer[:40]}...: longer than {MAX_POINTER_LENGTH} characters")
    if pointer in WHOLE_MEMBERS:
        return pointer
    tokens = pointer[len(_ATTRIBUTES) :].split("/")
    if pointer.startswith(_ATTRIBUTES) and all(
        token and "~" not in token.replace("~0", "").replace("~1", "") for token in tokens
    ):
        return pointer
    raise ValueError(
        f"{pointer!r} is not a requirement the catalog accepts: one of "
        + ", ".join(sorted(WHOLE_MEMBERS))
        + " or /attributes/<name>"
    )


def missing(view: ProductView, pointers: Iterable[str]) -> tuple[str, ...]:
    """The pointers holding no value in the view, each once, in the order given."""
    return missing_in_document(view_document(view), pointers)


def missing_in_document(document: Mapping[str, Any], pointers: Iterable[str]) -> tuple[str, ...]:
    found: dict[str, None] = {}
    for pointer in pointers:
        for gap in _gaps(document, pointer):
            found.setdefault(gap, None)
    return tuple(found)


def _gaps(document: Mapping[str, Any], pointer: str) -> list[str]:
    if pointer == "/price" and document.get("options") and document.get("variants"):
        # The variants carry the price (the product's is only their default); with none yet,
        # the product's own price is checked, as the catalog does.
        return [
            f"/variants/{variant.get('id')}/price"
            for variant in document.get("variants") or []
            if is_empty(variant.get("price"))
        ]
    return [pointer] if is_empty(resolve(document, pointer)) else []


def named(view: ProductView, gaps: Iterable[str], field_of: Mapping[str, str]) -> list[str]:
    """Missing pointers as a FAILED message lists them: each with the channel field it fills
    (`field_of`, keyed by the product's pointer), `"title (/name)"`; the variants' pointers
    grouped into one entry naming their SKUs, `"price (/variants/<vid>/price) of variants
    TS-1-R, TS-1-B"`, so 250 variants still make a short message."""
    entries: dict[str, list[str]] = {}
    sku_of = {variant.id: variant.sku for variant in view.variants}
    for gap in gaps:
        if gap.startswith(_VARIANTS):
            vid, _, rest = gap[len(_VARIANTS) :].partition("/")
            field = field_of.get(f"/{rest}", rest)
            entry = f"{field} ({_VARIANTS}<vid>/{rest})"
            entries.setdefault(entry, []).append(sku_of.get(vid, vid))
        else:
            entries.setdefault(f"{field_of.get(gap, gap)} ({gap})", [])
    return [f"{entry} of {of_variants(skus)}" if skus else entry for entry, skus in entries.items()]


def of_variants(skus: Sequence[str]) -> str:
    """`variant A` or `variants A, B`."""
    return ("variant " if len(skus) == 1 else "variants ") + ", ".join(skus)


def view_document(view: ProductView) -> Mapping[str, Any]:
    """The view as the catalog answered it; for a view built by hand, its typed fields."""
    if view.raw:
        return view.raw
    return {
        "name": view.name,
        "description": view.description,
        "sku": view.sku,
        "price": _money_document(view.price),
        "images": [{"id": image.id, "url": image.url} for image in view.images],
        "attributes": dict(view.attributes),
        "options": list(view.options),
        "variants": [
            {"id": variant.id, "price": _money_document(variant.price)} for variant in view.variants
        ],
    }


def _money_document(money: Money | None) -> dict[str, Any] | None:
    return None if money is None else {"amount": money.amount, "currency": money.currency}


class _Absent:
    def __repr__(self) -> str:
        return "ABSENT"


ABSENT: Any = _Absent()


def resolve(document: Any, pointer: str) -> Any:
    """The value at `pointer`, or ABSENT (RFC 6901, list members by index)."""
    current = document
    for token in pointer.split("/")[1:]:
        key = token.replace("~1", "/").replace("~0", "~")
        if isinstance(current, Mapping):
            current = current.get(key, ABSENT)
        elif isinstance(current, list) and key.isdigit() and int(key) < len(current):
            current = current[int(key)]
        else:
            return ABSENT
    return current


def is_empty(value: Any) -> bool:
    """No value, as the catalog counts it: absent, null, blank, an empty list or object."""
    if value is ABSENT or value is None:
        return True
    if isinstance(value, str):
        return not value.strip()
    return isinstance(value, list | tuple | Mapping) and not value
