"""The fields a merchant edits, parsed from JSON once for every entrypoint.

Registration parses a whole document; a merge patch (RFC 7396) is checked for its shape here,
then merged over the product's editable document, and the result parsed like a registration:
each rule is applied once, to the value that would be stored.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from msgspec import Struct, structs

from catalog.domain import limits
from catalog.domain.errors import FieldErrors, InvalidField
from catalog.domain.product import EDITABLE_FIELDS
from catalog.domain.product_types import parse_type_key
from catalog.domain.values import (
    JSON,
    MONEY_FIELDS,
    OVERRIDE_FIELDS,
    VARIANT_OVERRIDE_FIELDS,
    ChannelOverride,
    Money,
    join_pointer,
    parse_attributes,
    parse_channel,
    parse_money,
    parse_overrides,
    parse_text,
)
from catalog.domain.variants import parse_options


class EditableFields(Struct, frozen=True):
    product_type: str | None
    name: str
    description: str | None
    price: Money | None
    attributes: dict[str, JSON]
    options: tuple[str, ...]
    channel_overrides: dict[str, ChannelOverride]

    def as_arguments(self) -> dict[str, Any]:
        """Keyword arguments of Product.register and Product.revise."""
        return structs.asdict(self)


def parse_editable(
    document: Mapping[str, JSON], errors: FieldErrors | None = None
) -> EditableFields:
    """The editable fields of `document`; every invalid one reported at once."""
    collected = errors or FieldErrors()
    product_type = collected.check(_parse_type_reference, document.get("product_type"))
    name = collected.check(
        parse_text, document.get("name"), "/name", limits.MAX_NAME_LENGTH, required=True
    )
    description = collected.check(
        parse_text,
        document.get("description"),
        "/description",
        limits.MAX_DESCRIPTION_LENGTH,
        required=False,
    )
    price = collected.check(parse_money, document.get("price"), "/price")
    attributes = collected.check(parse_attributes, document.get("attributes"), "/attributes")
    options = collected.check(parse_options, document.get("options"))
    overrides = collected.check(parse_overrides, document.get("channel_overrides"))
    collected.raise_any()
    assert name is not None and attributes is not None and overrides is not None
    assert options is not None
    return EditableFields(product_type, name, description, price, attributes, options, overrides)


def _parse_type_reference(value: JSON) -> str | None:
    return None if value is None else parse_type_key(value, "/product_type")


def reject_unknown(
    document: Mapping[str, JSON], known: tuple[str, ...], errors: FieldErrors, what: str
) -> None:
    for name in sorted(set(document) - set(known)):
        errors.add(join_pointer("", name), what)


def parse_patch(patch: JSON) -> dict[str, JSON]:
    """A merge patch of the editable fields, checked for the members it may name: a patch
    that names what no product has is refused even where merging it would change nothing."""
    if not isinstance(patch, dict):
        raise InvalidField("/", "a merge patch must be a JSON object")
    errors = FieldErrors()
    reject_unknown(patch, EDITABLE_FIELDS, errors, "is not an editable field")
    _check_members(patch.get("price"), "/price", MONEY_FIELDS, "is not a field of a price", errors)
    overrides = patch.get("channel_overrides")
    if isinstance(overrides, dict):
        for channel, override in overrides.items():
            at = join_pointer("/channel_overrides", channel)
            if errors.check(parse_channel, channel, at) is None:
                continue
            _check_members(override, at, OVERRIDE_FIELDS, "is not an overridable field", errors)
            if isinstance(override, dict):
                _check_price_members(override.get("price"), at + "/price", errors)
                _check_variant_overrides(override.get("variants"), at + "/variants", errors)
    errors.raise_any()
    return patch


def _check_price_members(value: JSON, path: str, errors: FieldErrors) -> None:
    _check_members(value, path, MONEY_FIELDS, "is not a field of a price", errors)


def _check_variant_overrides(value: JSON, path: str, errors: FieldErrors) -> None:
    if not isinstance(value, dict):
        return
    for variant_id, override in value.items():
        at = join_pointer(path, variant_id)
        message = "is not an overridable field of a variant"
        _check_members(override, at, VARIANT_OVERRIDE_FIELDS, message, errors)
        if isinstance(override, dict):
            _check_price_members(override.get("price"), at + "/price", errors)


def _check_members(
    value: JSON, path: str, allowed: frozenset[str], message: str, errors: FieldErrors
) -> None:
    if isinstance(value, dict):
        for name in sorted(set(value) - allowed):
            errors.add(join_pointer(path, name), message)
