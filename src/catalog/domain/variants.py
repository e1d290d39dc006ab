"""Variants (DESIGN.md section 10): the value objects, their parsers, and the rules the
Product aggregate applies to them (it calls these; they know nothing of the aggregate).

A product declares `options` (0 to 3 axis names, in order); each variant names a value for
every axis, its own SKU, and optionally a price, attributes merged over the product's, images
of the product, a GTIN and a stock. Variants are addressed by id everywhere after they exist
(history, completeness, errors: `/variants/<vid>/...`); a registration, whose variants have no
id a client knows yet, names them by their index in the request (`/variants/<index>/...`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence

from msgspec import Struct, field, structs

from catalog.domain import limits
from catalog.domain.errors import DuplicateSku, DuplicateVariant, FieldErrors, InvalidField
from catalog.domain.history import FieldChange, diff
from catalog.domain.merge_patch import merge_patch
from catalog.domain.product_types import ATTRIBUTE_NAME_PATTERN, TypeContent
from catalog.domain.values import (
    JSON,
    MONEY_FIELDS,
    ChannelOverride,
    Money,
    VariantOverride,
    join_pointer,
    parse_attributes,
    parse_money,
    parse_sku,
    to_json,
)

# The members of a variant a client writes (a body to add, a merge patch to revise), in the
# order a variant's JSON lists them after its id.
VARIANT_FIELDS = ("sku", "options", "price", "attributes", "image_ids", "barcode", "stock")
GTIN_LENGTHS = (8, 12, 13, 14)
_DIGITS = re.compile(r"^[0-9]+$")
MAX_IMAGE_ID_LENGTH = 100


class VariantBody(Struct, frozen=True, kw_only=True):
    """What a client says of a variant: everything but the id the server gives it."""

    sku: str
    options: dict[str, str] = field(default_factory=dict)  # axis -> value
    price: Money | None = None  # None: the product's (effective) price
    attributes: dict[str, JSON] = field(default_factory=dict)  # a merge patch over the product's
    image_ids: tuple[str, ...] = ()
    barcode: str | None = None  # a GTIN
    stock: int | None = None

    def identified(self, variant_id: str) -> Variant:
        return Variant(id=variant_id, **{name: getattr(self, name) for name in VARIANT_FIELDS})

    def editable_json(self) -> dict[str, JSON]:
        """The members a merge patch of the variant applies to."""
        return {name: to_json(getattr(self, name)) for name in VARIANT_FIELDS}


class Variant(VariantBody, frozen=True, kw_only=True):
    """One variant of a product, as stored: its id, then its body."""

    id: str

    def body(self) -> VariantBody:
        return VariantBody(**{name: getattr(self, name) for name in VARIANT_FIELDS})

    def to_json(self) -> dict[str, JSON]:
        return {"id": self.id, **self.editable_json()}


def variant_from_json(raw: Mapping[str, JSON]) -> Variant:
    """A variant as a store kept it (already validated when it was written)."""
    price = raw.get("price")
    return Variant(
        id=raw["id"],
        sku=raw["sku"],
        options=dict(raw.get("options") or {}),
        price=Money(price["amount"], price["currency"]) if price else None,
        attributes=dict(raw.get("attributes") or {}),
        image_ids=tuple(raw.get("image_ids") or ()),
        barcode=raw.get("barcode"),
        stock=raw.get("stock"),
    )


# ---------------------------------------------------------------------- parsers


def parse_options(value: JSON, path: str = "/options") -> tuple[str, ...]:
    """A product's axes: 0 to 3 distinct attribute names, in order."""
    if value is None:
        return ()
    if not isinstance(value, list):
        raise InvalidField(path, f"must be a list of at most {limits.MAX_OPTIONS} axis names")
    if len(value) > limits.MAX_OPTIONS:
        raise InvalidField(path, f"must name at most {limits.MAX_OPTIONS} axes")
    errors = FieldErrors()
    for index, axis in enumerate(value):
        at = f"{path}/{index}"
        if not isinstance(axis, str) or not ATTRIBUTE_NAME_PATTERN.fullmatch(axis):
            errors.add(at, "axis names are 1 to 64 of a-z, 0-9 and '_', starting with a letter")
        elif axis in value[:index]:
            errors.add(at, f"repeats {axis!r}")
    errors.raise_any()
    return tuple(value)


def gtin_check_digit(payload: str) -> int:
    """The GS1 check digit of the digits before it: from the right, weights 3, 1, 3, ..."""
    total = sum(int(digit) * (3 if k % 2 == 0 else 1) for k, digit in enumerate(reversed(payload)))
    return (10 - total % 10) % 10


def parse_gtin(value: JSON, path: str) -> str | None:
    """A GTIN-8, -12, -13 or -14 as its digits, with a valid check digit; or null."""
    if value is None:
        return None
    if not isinstance(value, str) or not _DIGITS.fullmatch(value):
        raise InvalidField(path, "must be a GTIN: a string of 8, 12, 13 or 14 digits")
    if len(value) not in GTIN_LENGTHS:
        raise InvalidField(path, f"must be a GTIN of 8, 12, 13 or 14 digits, not {len(value)}")
    expected = gtin_check_digit(value[:-1])
    if int(value[-1]) != expected:
        raise InvalidField(
            path, f"is not a valid GTIN: its check digit must be {expected}, not {value[-1]}"
        )
    return value


def parse_stock(value: JSON, path: str) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidField(path, "must be a whole number of units")
    if not 0 <= value <= limits.MAX_STOCK:
        raise InvalidField(path, f"must be between 0 and {limits.MAX_STOCK}")
    return value


def parse_option_values(value: JSON, path: str) -> dict[str, str]:
    """A variant's `options`: axis -> a non-blank string. Which axes it must name is the
    product's rule (check_variants)."""
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise InvalidField(path, "must be an object of option values by axis")
    if len(value) > limits.MAX_OPTIONS:
        raise InvalidField(path, f"names at most {limits.MAX_OPTIONS} axes")
    errors = FieldErrors()
    for axis, option in value.items():
        at = join_pointer(path, axis)
        if not ATTRIBUTE_NAME_PATTERN.fullmatch(axis):
            errors.add(at, "axis names are 1 to 64 of a-z, 0-9 and '_', starting with a letter")
        elif not isinstance(option, str) or not option.strip():
            errors.add(at, "must be a non-blank string")
        elif len(option) > limits.MAX_OPTION_VALUE_LENGTH:
            errors.add(at, f"must be at most {limits.MAX_OPTION_VALUE_LENGTH} characters")
    errors.raise_any()
    return dict(value)


def parse_image_ids(value: JSON, path: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list):
        raise InvalidField(path, "must be a list of image ids of the product")
    if len(value) > limits.MAX_IMAGES:
        raise InvalidField(path, f"must name at most {limits.MAX_IMAGES} images")
    errors = FieldErrors()
    for index, image_id in enumerate(value):
        at = f"{path}/{index}"
        if not isinstance(image_id, str) or not 1 <= len(image_id) <= MAX_IMAGE_ID_LENGTH:
            errors.add(at, "must be the id of an image of the product")
        elif image_id in value[:index]:
            errors.add(at, f"repeats {image_id!r}")
    errors.raise_any()
    return tuple(value)


def parse_variant_body(document: JSON, at: str) -> VariantBody:
    """A variant as a client writes it (to register or add it, or a revision merged over it);
    every bad member reported at once, each under `at`."""
    if not isinstance(document, dict):
        raise InvalidField(at or "/", "a variant must be a JSON object")
    errors = FieldErrors()
    for member in sorted(set(document) - set(VARIANT_FIELDS)):
        made = member == "id"
        errors.add(
            join_pointer(at, member), "is made by the server" if made else "is not a variant field"
        )
    sku = errors.check(parse_sku, document.get("sku"), at + "/sku")
    options = errors.check(parse_option_values, document.get("options"), at + "/options")
    price = errors.check(parse_money, document.get("price"), at + "/price")
    attributes = errors.check(parse_attributes, document.get("attributes"), at + "/attributes")
    image_ids = errors.check(parse_image_ids, document.get("image_ids"), at + "/image_ids")
    barcode = errors.check(parse_gtin, document.get("barcode"), at + "/barcode")
    stock = errors.check(parse_stock, document.get("stock"), at + "/stock")
    errors.raise_any()
    assert sku is not None and options is not None and attributes is not None
    assert image_ids is not None
    return VariantBody(
        sku=sku,
        options=options,
        price=price,
        attributes=attributes,
        image_ids=image_ids,
        barcode=barcode,
        stock=stock,
    )


def parse_variant_bodies(value: JSON, path: str = "/variants") -> tuple[VariantBody, ...]:
    """A registration's `variants`: at most MAX_VARIANTS bodies, each named by its index."""
    if value is None:
        return ()
    if not isinstance(value, list):
        raise InvalidField(path, "must be a list of variants")
    if len(value) > limits.MAX_VARIANTS:
        raise InvalidField(path, f"a product holds at most {limits.MAX_VARIANTS} variants")
    errors = FieldErrors()
    bodies = [errors.check(parse_variant_body, raw, f"{path}/{i}") for i, raw in enumerate(value)]
    errors.raise_any()
    return tuple(body for body in bodies if body is not None)


def parse_variant_patch(patch: JSON, at: str = "") -> dict[str, JSON]:
    """A merge patch of one variant, checked for the members it may name (as the product's
    parse_patch): merged over the variant and parsed whole by Product.revise_variant."""
    if not isinstance(patch, dict):
        raise InvalidField(at or "/", "a merge patch must be a JSON object")
    errors = FieldErrors()
    for member in sorted(set(patch) - set(VARIANT_FIELDS)):
        errors.add(join_pointer(at, member), "is not an editable field of a variant")
    price = patch.get("price")
    if isinstance(price, dict):
        for member in sorted(set(price) - MONEY_FIELDS):
            errors.add(join_pointer(at + "/price", member), "is not a field of a price")
    errors.raise_any()
    return patch


# ---------------------------------------------------------------------- the product's rules


class Judged(Struct, frozen=True):
    """A variant a change adds or revises, and the pointer its errors are named under."""

    variant: Variant
    at: str


def check_variants(
    errors: FieldErrors,
    *,
    axes: tuple[str, ...],
    variants: Sequence[Variant],
    judged: Sequence[Judged],
    image_ids: Iterable[str],
    type_content: TypeContent | None,
    product_attributes: Mapping[str, JSON],
    overrides: Mapping[str, ChannelOverride],
    whole: bool = True,
) -> None:
    """Collect into `errors` what a product's variants break (422s). The judged variants
    (added or revised): every axis and no other, images of the product, and the type's
    rules. With `whole` (a registration, a revision of the product): the count, that a
    product with variants has axes, the axes against the type, every variant against the
    type, and that every override of a variant names one of the product's."""
    at_of = {one.variant.id: one.at for one in judged}
    images = set(image_ids)
    for one in judged:
        _check_structure(errors, one, axes, images)
    if not whole:
        if type_content is not None:
            for one in judged:
                _check_against_type(errors, one.variant, one.at, type_content, product_attributes)
        return
    if len(variants) > limits.MAX_VARIANTS:
        errors.add("/variants", f"a product holds at most {limits.MAX_VARIANTS} variants")
    if variants and not axes:
        errors.add("/options", "must name at least one axis while the product has variants")
    if type_content is not None:
        errors.check(check_axes, axes, type_content)
        for variant in variants:
            at = at_of.get(variant.id) or join_pointer("/variants", variant.id)
            _check_against_type(errors, variant, at, type_content, product_attributes)
    _check_override_targets(errors, overrides, variants, type_content, product_attributes)


def check_axes(axes: tuple[str, ...], type_content: TypeContent) -> None:
    """With a type, each axis is one of its attributes marked `variant_axis`."""
    errors = FieldErrors()
    for index, axis in enumerate(axes):
        definition = type_content.attributes.get(axis)
        if definition is None or not definition.variant_axis:
            errors.add(
                f"/options/{index}",
                f"{axis!r} is not an attribute of the product type marked variant_axis",
            )
    errors.raise_any()


def _check_structure(
    errors: FieldErrors, one: Judged, axes: tuple[str, ...], images: set[str]
) -> None:
    options = one.variant.options
    for axis in axes:
        if axis not in options:
            errors.add(
                join_pointer(one.at + "/options", axis),
                "is required: a variant names a value for every option of the product",
            )
    for axis in options:
        if axis not in axes:
            errors.add(join_pointer(one.at + "/options", axis), "is not an option of the product")
    for index, image_id in enumerate(one.variant.image_ids):
        if image_id not in images:
            errors.add(f"{one.at}/image_ids/{index}", "is not an image of this product")


def _check_against_type(
    errors: FieldErrors,
    variant: Variant,
    at: str,
    type_content: TypeContent,
    product_attributes: Mapping[str, JSON],
) -> None:
    for axis, value in variant.options.items():
        definition = type_content.attributes.get(axis)
        if definition is not None and definition.variant_axis:
            errors.check(definition.check, value, join_pointer(at + "/options", axis))
    merged = merge_patch(product_attributes, variant.attributes)
    errors.check(
        type_content.check_attributes, _set_by(variant.attributes, merged), at + "/attributes"
    )


def _check_override_targets(
    errors: FieldErrors,
    overrides: Mapping[str, ChannelOverride],
    variants: Sequence[Variant],
    type_content: TypeContent | None,
    product_attributes: Mapping[str, JSON],
) -> None:
    by_id = {variant.id: variant for variant in variants}
    for channel, override in sorted(overrides.items()):
        for variant_id, variant_override in override.variants.items():
            at = join_pointer(join_pointer("/channel_overrides", channel) + "/variants", variant_id)
            if variant_id not in by_id:
                errors.add(at, "is not a variant of this product")
                continue
            if type_content is None or variant_override.attributes is None:
                continue
            # The override's own names, judged as they are merged on that channel.
            on_channel: Mapping[str, JSON] = product_attributes
            if override.attributes is not None:
                on_channel = merge_patch(on_channel, override.attributes)
            merged = effective_attributes(on_channel, by_id[variant_id], variant_override)
            errors.check(
                type_content.check_attributes,
                _set_by(variant_override.attributes, merged),
                at + "/attributes",
            )


def _set_by(overlay: Mapping[str, JSON], merged: Mapping[str, JSON]) -> dict[str, JSON]:
    """The merged values of the names an overlay sets (not those it removes): an overlay is
    judged on what it contributes, the product's own attributes are judged at /attributes."""
    return {name: merged[name] for name in overlay if name in merged}


def refuse_duplicates(
    product_sku: str, variants: Sequence[Variant], judged: Sequence[Judged]
) -> None:
    """409s: a judged variant's SKU is the product's or another variant's, or its options
    are another variant's combination. Of two judged variants (a registration's), the later
    one is the duplicate and names the earlier."""
    label = {one.variant.id: one.at for one in judged}

    def named(variant: Variant) -> str:
        at = label.get(variant.id)
        return f"the variant at {at}" if at else f"variant {variant.id}"

    later = set(label)
    for one in judged:
        variant = one.variant
        later.discard(variant.id)
        if variant.sku == product_sku:
            raise DuplicateSku(variant.sku, "the product itself")
        for other in variants:
            if other.id == variant.id or other.id in later:
                continue
            if other.sku == variant.sku:
                raise DuplicateSku(variant.sku, named(other))
            if other.options == variant.options:
                raise DuplicateVariant(variant.options, named(other))


def refuse_shared_combinations(variants: Sequence[Variant]) -> None:
    """After the product's axes changed, no two variants may be left with one combination."""
    seen: dict[tuple[tuple[str, str], ...], Variant] = {}
    for variant in variants:
        combination = tuple(sorted(variant.options.items()))
        if combination in seen:
            raise DuplicateVariant(variant.options, f"variant {seen[combination].id}")
        seen[combination] = variant


def in_axis_order(variant: Variant, axes: tuple[str, ...]) -> Variant:
    """The variant with its option values listed in the product's order of axes."""
    ordered = {axis: variant.options[axis] for axis in axes if axis in variant.options}
    ordered.update({a: v for a, v in variant.options.items() if a not in ordered})
    return structs.replace(variant, options=ordered)


def without_axes_removed(variants: Sequence[Variant], axes: tuple[str, ...]) -> list[Variant]:
    """The variants once the product names only `axes`: values of other axes are dropped."""
    return [
        structs.replace(v, options={a: value for a, value in v.options.items() if a in axes})
        if set(v.options) - set(axes)
        else v
        for v in variants
    ]


def without_image(variants: Sequence[Variant], image_id: str) -> list[Variant]:
    return [
        structs.replace(v, image_ids=tuple(i for i in v.image_ids if i != image_id))
        if image_id in v.image_ids
        else v
        for v in variants
    ]


def without_variant_overrides(
    overrides: Mapping[str, ChannelOverride], variant_id: str
) -> dict[str, ChannelOverride]:
    """The channel overrides once a variant is gone: its overrides go with it (a channel
    override left with nothing else goes too)."""
    kept: dict[str, ChannelOverride] = {}
    for channel, override in overrides.items():
        if variant_id in override.variants:
            rest = {vid: o for vid, o in override.variants.items() if vid != variant_id}
            override = structs.replace(override, variants=rest)
        if override != ChannelOverride():
            kept[channel] = override
    return kept


# ---------------------------------------------------------------------- effective values


def effective_attributes(
    content_attributes: Mapping[str, JSON], variant: Variant, override: VariantOverride | None
) -> dict[str, JSON]:
    """The product's effective attributes on a channel, merged with the variant's own, merged
    with the variant's override on that channel."""
    attributes: dict[str, JSON] = merge_patch(content_attributes, variant.attributes)
    if override is not None and override.attributes is not None:
        attributes = merge_patch(attributes, override.attributes)
    return attributes


def effective_variant(
    variant: Variant,
    content_price: Money | None,
    content_attributes: Mapping[str, JSON],
    override: VariantOverride | None,
) -> Variant:
    """The variant as a channel (or no channel) sees it: price from its override, else its
    own, else the product's effective price there; attributes merged (effective_attributes)."""
    price = effective_price(variant, content_price, override)
    attributes = effective_attributes(content_attributes, variant, override)
    return structs.replace(variant, price=price, attributes=attributes)


def effective_price(
    variant: Variant, content_price: Money | None, override: VariantOverride | None
) -> Money | None:
    if override is not None and override.price is not None:
        return override.price
    return variant.price if variant.price is not None else content_price


# ---------------------------------------------------------------------- completeness


def completeness_needs(
    needs: Sequence[str], axes: tuple[str, ...], variant_ids: Sequence[str]
) -> list[str]:
    """`needs` for a product with options: `/price` becomes each variant's price (a price is
    there when every variant has an effective one; with no variant yet it stays the product's
    own), and READY's needs gain `/variants` and every variant's value of every axis."""
    if not axes:
        return list(needs)
    prices = [join_pointer("/variants", vid) + "/price" for vid in variant_ids]
    expanded: list[str] = []
    for pointer in needs:
        expanded.extend(prices if pointer == "/price" and prices else [pointer])
    return expanded


def variant_needs(axes: tuple[str, ...], variant_ids: Sequence[str]) -> list[str]:
    """What a product with options needs of its variants: one at least, and every axis
    named by each."""
    if not axes:
        return []
    return ["/variants"] + [
        join_pointer(join_pointer("/variants", vid) + "/options", axis)
        for vid in variant_ids
        for axis in axes
    ]


def variants_view(variants: Sequence[Variant]) -> dict[str, JSON]:
    """The variants keyed by id, as history records them (`/variants/<vid>/...`)."""
    return {variant.id: variant.to_json() for variant in variants}


def completeness_view(
    variants: Sequence[Variant],
    content_price: Money | None,
    overrides: Mapping[str, VariantOverride],
) -> dict[str, JSON]:
    """What completeness looks `/variants/<vid>/...` up in, keyed by id: each variant's
    option values and effective price, all its rules read (a channel's attribute pointers
    are checked on the product's attributes, so the merged ones are not built here)."""
    view: dict[str, JSON] = {}
    for variant in variants:
        price = effective_price(variant, content_price, overrides.get(variant.id))
        view[variant.id] = {"options": variant.options, "price": price and price.to_json()}
    return view


# ---------------------------------------------------------------------- history


def _is_variant_overlay(pointer: str) -> bool:
    """A variant's attributes are a merge patch over the product's: null there differs from
    absent, so they are compared whole."""
    parts = pointer.split("/")
    return len(parts) == 4 and parts[1] == "variants" and parts[3] == "attributes"


def variant_changes(before: Sequence[Variant], after: Sequence[Variant]) -> list[FieldChange]:
    """Keyed by id: `/variants/<vid>` for one added (old null) or removed (new null), and the
    changed leaves of one revised (`/variants/<vid>/price/amount`; arrays whole)."""
    return diff(variants_view(before), variants_view(after), "/variants", _is_variant_overlay)


def changed_variant_ids(pointers: Iterable[str]) -> list[str]:
    """The ids of the variants whose own record the pointers name, sorted."""
    ids = {
        pointer.split("/")[2].replace("~1", "/").replace("~0", "~")
        for pointer in pointers
        if pointer.startswith("/variants/")
    }
    return sorted(ids)
