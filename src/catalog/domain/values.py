"""Value objects of the product document and the parsers that validate untrusted JSON into them.

Parsers take JSON-compatible values (already decoded) and raise InvalidField naming the field
as a JSON pointer, so every layer reports bad input the same way.
"""

from __future__ import annotations

import re
from typing import Any, Protocol, runtime_checkable

from msgspec import Struct, field

from catalog.domain import limits
from catalog.domain.currencies import minor_units
from catalog.domain.errors import FieldErrors, InvalidField

JSON = Any  # a decoded JSON value: dict, list, str, int, float, bool or None
CURRENCY_PATTERN = re.compile(r"^[A-Z]{3}$")
# The members a price and a channel override may have (merge patches are checked against
# them too, domain/editable.py).
MONEY_FIELDS = frozenset({"amount", "currency"})
OVERRIDE_FIELDS = frozenset({"name", "description", "price", "attributes", "variants"})
VARIANT_OVERRIDE_FIELDS = frozenset({"price", "attributes"})


@runtime_checkable
class ValueObject(Protocol):
    """A value of a product field that is not plain JSON; it says what its JSON is."""

    def to_json(self) -> dict[str, JSON]: ...


class Money(Struct, frozen=True):
    """An amount in integer minor units of an ISO 4217 currency (never a float): 12999 USD is
    $129.99, 12999 JPY is 12,999 yen, 12999 KWD is 12.999 dinars."""

    amount: int
    currency: str

    @property
    def minor_units(self) -> int | None:
        """Digits after the decimal point; None only for a currency outside the table (a
        document stored before currencies were checked)."""
        return minor_units(self.currency)

    def to_json(self) -> dict[str, JSON]:
        return {"amount": self.amount, "currency": self.currency}


class ImageRef(Struct, frozen=True):
    """A reference to an image in object storage: the key and what was read from the bytes."""

    id: str
    key: str
    content_type: str
    width: int
    height: int
    bytes: int
    alt: str | None = None

    def to_json(self) -> dict[str, JSON]:
        return {
            "id": self.id,
            "key": self.key,
            "content_type": self.content_type,
            "width": self.width,
            "height": self.height,
            "bytes": self.bytes,
            "alt": self.alt,
        }


class VariantOverride(Struct, frozen=True):
    """One variant's replacements on one channel: a price, and attributes merge-patched over
    the variant's effective attributes there (domain/variants.py resolves them). It is part
    of a channel override, so it lives beside it; domain/variants.py holds the variant."""

    price: Money | None = None
    attributes: dict[str, JSON] | None = None

    def to_json(self) -> dict[str, JSON]:
        return {"price": to_json(self.price), "attributes": self.attributes}


class ChannelOverride(Struct, frozen=True):
    """Per-channel replacements; attributes are merge-patched onto the product's own, and
    `variants` holds the overrides of single variants, by variant id."""

    name: str | None = None
    description: str | None = None
    price: Money | None = None
    attributes: dict[str, JSON] | None = None
    variants: dict[str, VariantOverride] = field(default_factory=dict)

    def to_json(self) -> dict[str, JSON]:
        out: dict[str, JSON] = {}
        if self.name is not None:
            out["name"] = self.name
        if self.description is not None:
            out["description"] = self.description
        if self.price is not None:
            out["price"] = self.price.to_json()
        if self.attributes is not None:
            out["attributes"] = self.attributes
        if self.variants:
            out["variants"] = {vid: override.to_json() for vid, override in self.variants.items()}
        return out


def to_json(value: Any) -> JSON:
    """A field's value as JSON: value objects by their own to_json, maps and lists member by
    member, JSON values as they are."""
    if value is None or isinstance(value, str | int | float):  # bool is an int
        return value
    if isinstance(value, dict):
        return {key: to_json(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [to_json(item) for item in value]
    # What isinstance(value, ValueObject) decides (a `to_json` that is not None), without the
    # runtime Protocol check: ~3.4 us a value on Python 3.11, against ~0.1 us for this.
    value_to_json = getattr(value, "to_json", None)
    if value_to_json is not None:
        return value_to_json()
    return value


def _pointer(*parts: str) -> str:
    return "/" + "/".join(p.replace("~", "~0").replace("/", "~1") for p in parts)


def parse_text(value: JSON, path: str, max_length: int, *, required: bool) -> str | None:
    if value is None:
        if required:
            raise InvalidField(path, "is required")
        return None
    if not isinstance(value, str):
        raise InvalidField(path, "must be a string")
    stripped = value.strip()
    if required and not stripped:
        raise InvalidField(path, "must not be blank")
    if len(value) > max_length:
        raise InvalidField(path, f"must be at most {max_length} characters")
    return value


def parse_sku(value: JSON, path: str = "/sku") -> str:
    """A product's or a variant's SKU (the same rules: they share one namespace)."""
    sku = parse_text(value, path, limits.MAX_SKU_LENGTH, required=True)
    assert sku is not None
    if not limits.SKU_PATTERN.fullmatch(sku):
        raise InvalidField(path, "may hold letters, digits, '.', '_', '-' and '/' only")
    return sku


def parse_money(value: JSON, path: str) -> Money | None:
    if value is None:
        return None
    if not isinstance(value, dict):
        raise InvalidField(path, "must be an object with amount and currency")
    unknown = set(value) - MONEY_FIELDS
    if unknown:
        raise InvalidField(join_pointer(path, sorted(unknown)[0]), "is not a field of a price")
    errors = FieldErrors()
    amount = value.get("amount")
    if isinstance(amount, bool) or not isinstance(amount, int):
        errors.add(path + "/amount", "must be an integer in minor units (cents)")
    elif not 0 <= amount <= limits.MAX_AMOUNT:
        errors.add(path + "/amount", f"must be between 0 and {limits.MAX_AMOUNT}")
    currency = value.get("currency")
    if not isinstance(currency, str) or not CURRENCY_PATTERN.fullmatch(currency):
        errors.add(path + "/currency", "must be an ISO 4217 code such as USD")
    elif minor_units(currency) is None:
        errors.add(path + "/currency", f"{currency} is not an ISO 4217 currency with minor units")
    errors.raise_any()
    assert isinstance(amount, int) and isinstance(currency, str)
    return Money(amount, currency)


def join_pointer(path: str, key: str) -> str:
    return path + _pointer(key)


def parse_attributes(value: JSON, path: str) -> dict[str, JSON]:
    """Free-form attributes (any vertical) within the count, depth and size limits."""
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise InvalidField(path, "must be an object")
    counter = [0]
    _check_json(value, path, depth=0, counter=counter)
    return value


def _check_json(value: JSON, path: str, depth: int, counter: list[int]) -> None:
    if isinstance(value, dict):
        if depth > limits.MAX_ATTRIBUTE_DEPTH:
            raise InvalidField(path, f"nests deeper than {limits.MAX_ATTRIBUTE_DEPTH} levels")
        for key, item in value.items():
            counter[0] += 1
            if counter[0] > limits.MAX_ATTRIBUTES:
                raise InvalidField(path, f"holds more than {limits.MAX_ATTRIBUTES} attributes")
            if not key or len(key) > limits.MAX_ATTRIBUTE_KEY_LENGTH:
                raise InvalidField(
                    join_pointer(path, key[:40]),
                    f"keys must be 1 to {limits.MAX_ATTRIBUTE_KEY_LENGTH} characters",
                )
            _check_json(item, join_pointer(path, key), depth + 1, counter)
    elif isinstance(value, list):
        if depth > limits.MAX_ATTRIBUTE_DEPTH:
            raise InvalidField(path, f"nests deeper than {limits.MAX_ATTRIBUTE_DEPTH} levels")
        if len(value) > limits.MAX_ATTRIBUTE_ARRAY_LENGTH:
            raise InvalidField(path, f"holds more than {limits.MAX_ATTRIBUTE_ARRAY_LENGTH} items")
        for index, item in enumerate(value):
            _check_json(item, f"{path}/{index}", depth + 1, counter)
    elif isinstance(value, str):
        if len(value) > limits.MAX_ATTRIBUTE_STRING_LENGTH:
            raise InvalidField(
                path, f"must be at most {limits.MAX_ATTRIBUTE_STRING_LENGTH} characters"
            )
    elif isinstance(value, float):
        if value != value or value in (float("inf"), float("-inf")):
            raise InvalidField(path, "must be a finite number")
    elif value is not None and not isinstance(value, (bool, int)):
        raise InvalidField(path, "must be a JSON value")


def parse_channel(value: str, path: str = "/channel") -> str:
    if not limits.CHANNEL_PATTERN.fullmatch(value):
        raise InvalidField(path, "channel slugs are 2 to 40 of a-z, 0-9 and '-'")
    return value


def parse_overrides(value: JSON, path: str = "/channel_overrides") -> dict[str, ChannelOverride]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise InvalidField(path, "must be an object keyed by channel")
    if len(value) > limits.MAX_CHANNEL_OVERRIDES:
        raise InvalidField(path, f"holds more than {limits.MAX_CHANNEL_OVERRIDES} channels")
    overrides: dict[str, ChannelOverride] = {}
    for channel, raw in value.items():
        at = join_pointer(path, channel)
        parse_channel(channel, at)
        if raw is None:
            continue
        if not isinstance(raw, dict):
            raise InvalidField(at, "must be an object")
        unknown = set(raw) - OVERRIDE_FIELDS
        if unknown:
            raise InvalidField(join_pointer(at, sorted(unknown)[0]), "is not an overridable field")
        override = ChannelOverride(
            name=parse_text(raw.get("name"), at + "/name", limits.MAX_NAME_LENGTH, required=False),
            description=parse_text(
                raw.get("description"),
                at + "/description",
                limits.MAX_DESCRIPTION_LENGTH,
                required=False,
            ),
            price=parse_money(raw.get("price"), at + "/price"),
            attributes=_optional_attributes(raw.get("attributes"), at + "/attributes"),
            variants=parse_variant_overrides(raw.get("variants"), at + "/variants"),
        )
        if override != ChannelOverride():
            overrides[channel] = override
    return overrides


def _optional_attributes(value: JSON, path: str) -> dict[str, JSON] | None:
    return None if value is None else parse_attributes(value, path)


def parse_variant_overrides(value: JSON, path: str) -> dict[str, VariantOverride]:
    """`channel_overrides.{c}.variants`: by variant id, `{"price", "attributes"}` or null.
    Whether the product has those variants is the aggregate's rule (it knows them)."""
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise InvalidField(path, "must be an object keyed by variant id")
    if len(value) > limits.MAX_VARIANTS:
        raise InvalidField(path, f"holds more than {limits.MAX_VARIANTS} variants")
    errors = FieldErrors()
    overrides: dict[str, VariantOverride] = {}
    for variant_id, raw in value.items():
        at = join_pointer(path, variant_id)
        if raw is None:
            continue
        if not isinstance(raw, dict):
            errors.add(at, "must be an object with price and attributes")
            continue
        for member in sorted(set(raw) - VARIANT_OVERRIDE_FIELDS):
            errors.add(join_pointer(at, member), "is not an overridable field of a variant")
        price = errors.check(parse_money, raw.get("price"), at + "/price")
        attributes = errors.check(_optional_attributes, raw.get("attributes"), at + "/attributes")
        override = VariantOverride(price, attributes)
        if override != VariantOverride():
            overrides[variant_id] = override
    errors.raise_any()
    return overrides
