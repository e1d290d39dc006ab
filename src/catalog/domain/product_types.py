"""Product types: what a merchant says each kind of product it sells carries (DESIGN.md
section 9). A type names its attributes with a definition each; the catalog checks a typed
product's attributes against it on every write and derives completeness from it.

Parsing a definition and checking a value against one are both here, so a rule ("an enum
needs values", "at most 10 characters") is written once for the API, the jobs and the CLI.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from datetime import datetime
from enum import Enum
from urllib.parse import urlsplit

from msgspec import Struct

from catalog.domain import limits
from catalog.domain.errors import FieldErrors, InvalidField
from catalog.domain.values import JSON, join_pointer, parse_channel, parse_text

TYPE_KEY_PATTERN = re.compile(r"^[a-z][a-z0-9_-]{0,63}$")
ATTRIBUTE_NAME_PATTERN = re.compile(r"^[a-z][a-z0-9_]{0,63}$")
MAX_TYPE_ATTRIBUTES = 200
MAX_ENUM_VALUES = 500
MAX_ENUM_VALUE_LENGTH = 200
MAX_URL_LENGTH = 2_000


class AttributeType(Enum):
    STRING = "string"
    INTEGER = "integer"
    NUMBER = "number"
    BOOLEAN = "boolean"
    ENUM = "enum"
    URL = "url"


_NUMERIC = frozenset({AttributeType.INTEGER, AttributeType.NUMBER})
_TEXTUAL = frozenset({AttributeType.STRING, AttributeType.URL})
# Option values of variants are strings ("red", "M"): only these can be an axis.
_AXIS_TYPES = frozenset({AttributeType.STRING, AttributeType.ENUM})
_TYPE_VALUES = frozenset(t.value for t in AttributeType)
_TYPE_NAMES = ", ".join(t.value for t in AttributeType)

DEFINITION_MEMBERS = frozenset(
    {
        "type",
        "label",
        "values",
        "minimum",
        "maximum",
        "max_length",
        "required",
        "required_on",
        "variant_axis",
    }
)
TYPE_CONTENT_MEMBERS = frozenset({"name", "attributes", "additional_attributes"})


class AttributeDefinition(Struct, frozen=True):
    """What one attribute of a type holds, and where it is needed."""

    type: AttributeType
    label: str | None = None
    values: tuple[str, ...] = ()  # the choices of an enum, in the merchant's order
    minimum: int | float | None = None
    maximum: int | float | None = None
    max_length: int | None = None
    required: bool = False  # needed for READY
    required_on: frozenset[str] = frozenset()  # channels that need it to publish
    variant_axis: bool = False

    def check(self, value: JSON, path: str) -> None:
        """Raise InvalidField at `path` unless `value` is one this definition accepts. Null is
        no value: completeness, not validation, says whether one is needed."""
        if value is None:
            return
        kind = self.type
        if kind is AttributeType.BOOLEAN:
            if not isinstance(value, bool):
                raise InvalidField(path, "must be true or false")
        elif kind in _NUMERIC:
            self._check_number(value, path)
        elif kind is AttributeType.ENUM:
            if not isinstance(value, str) or value not in self.values:
                raise InvalidField(path, "must be one of " + ", ".join(self.values))
        else:
            self._check_text(value, path)

    def _check_number(self, value: JSON, path: str) -> None:
        if self.type is AttributeType.INTEGER:
            if isinstance(value, bool) or not isinstance(value, int):
                raise InvalidField(path, "must be an integer")
        elif isinstance(value, bool) or not isinstance(value, int | float):
            raise InvalidField(path, "must be a number")
        elif not math.isfinite(value):
            raise InvalidField(path, "must be a finite number")
        if self.minimum is not None and value < self.minimum:
            raise InvalidField(path, f"must be at least {self.minimum}")
        if self.maximum is not None and value > self.maximum:
            raise InvalidField(path, f"must be at most {self.maximum}")

    def _check_text(self, value: JSON, path: str) -> None:
        is_url = self.type is AttributeType.URL
        expected = "must be an http or https URL" if is_url else "must be a string"
        if not isinstance(value, str):
            raise InvalidField(path, expected)
        max_length = self.max_length or (
            MAX_URL_LENGTH if is_url else limits.MAX_ATTRIBUTE_STRING_LENGTH
        )
        if len(value) > max_length:
            raise InvalidField(path, f"must be at most {max_length} characters")
        if is_url:
            parts = urlsplit(value)
            if parts.scheme not in ("http", "https") or not parts.netloc:
                raise InvalidField(path, expected)

    def to_json(self) -> dict[str, JSON]:
        """The definition as clients write it: members at their defaults are left out."""
        document: dict[str, JSON] = {"type": self.type.value}
        if self.label is not None:
            document["label"] = self.label
        if self.values:
            document["values"] = list(self.values)
        for name in ("minimum", "maximum", "max_length"):
            if getattr(self, name) is not None:
                document[name] = getattr(self, name)
        if self.required:
            document["required"] = True
        if self.required_on:
            document["required_on"] = sorted(self.required_on)
        if self.variant_axis:
            document["variant_axis"] = True
        return document


class TypeContent(Struct, frozen=True):
    """What a merchant writes of a type: all of it but the key, which never changes."""

    name: str
    attributes: Mapping[str, AttributeDefinition]
    additional_attributes: bool = True

    def to_json(self) -> dict[str, JSON]:
        return {
            "name": self.name,
            "attributes": {name: d.to_json() for name, d in self.attributes.items()},
            "additional_attributes": self.additional_attributes,
        }

    def check_attributes(self, attributes: Mapping[str, JSON], path: str = "/attributes") -> None:
        """Every value against its definition, and no undefined name unless the type allows
        additional attributes; every bad attribute is reported at once."""
        errors = FieldErrors()
        for name, value in attributes.items():
            pointer = join_pointer(path, name)
            definition = self.attributes.get(name)
            if definition is None:
                if not self.additional_attributes:
                    errors.add(pointer, "is not an attribute of this product type")
                continue
            errors.check(definition.check, value, pointer)
        errors.raise_any()

    def required_names(self, channel: str | None = None) -> list[str]:
        """The attributes needed for READY, or with `channel` those that channel needs on top
        (`required_on`), in the type's order."""
        if channel is None:
            return [name for name, d in self.attributes.items() if d.required]
        return [name for name, d in self.attributes.items() if channel in d.required_on]


class ProductType(Struct, frozen=True):
    """A merchant's product type at one version. Its key never changes; its content is
    replaced whole by each revision."""

    merchant_id: str
    key: str
    content: TypeContent
    version: int
    created_at: datetime
    updated_at: datetime

    @classmethod
    def create(cls, merchant_id: str, key: str, content: TypeContent, at: datetime) -> ProductType:
        return cls(merchant_id, key, content, version=1, created_at=at, updated_at=at)

    def revised(self, content: TypeContent, at: datetime) -> tuple[ProductType, list[str]]:
        """The next version with `content`, and the pointers of what changed (none: the
        revision changes nothing and should not be written)."""
        changed = changed_fields(self.content, content)
        if not changed:
            return self, []
        revised = ProductType(
            self.merchant_id, self.key, content, self.version + 1, self.created_at, at
        )
        return revised, changed


def changed_fields(before: TypeContent, after: TypeContent) -> list[str]:
    """/name, /additional_attributes and /attributes/<name> for each attribute added, removed
    or redefined, in that order."""
    changed = [
        f"/{name}"
        for name in ("name", "additional_attributes")
        if getattr(before, name) != getattr(after, name)
    ]
    names = [*before.attributes, *(n for n in after.attributes if n not in before.attributes)]
    changed += [
        join_pointer("/attributes", name)
        for name in names
        if before.attributes.get(name) != after.attributes.get(name)
    ]
    return changed


def parse_type_key(value: JSON, path: str = "/key") -> str:
    if not isinstance(value, str) or not TYPE_KEY_PATTERN.fullmatch(value):
        raise InvalidField(path, "must be 1 to 64 of a-z, 0-9, '_' and '-', starting with a letter")
    return value


def parse_type_content(document: JSON) -> TypeContent:
    """A type's content from its JSON (a create body without `key`, or a patched document);
    every bad member is reported at once."""
    if not isinstance(document, dict):
        raise InvalidField("/", "a product type must be a JSON object")
    errors = FieldErrors()
    for member in sorted(set(document) - TYPE_CONTENT_MEMBERS):
        errors.add(join_pointer("", member), "is not a member of a product type")
    name = errors.check(
        parse_text, document.get("name"), "/name", limits.MAX_NAME_LENGTH, required=True
    )
    additional = document.get("additional_attributes", True)
    if not isinstance(additional, bool):
        errors.add("/additional_attributes", "must be true or false")
    attributes = errors.check(_parse_definitions, document.get("attributes"))
    errors.raise_any()
    assert name is not None and attributes is not None and isinstance(additional, bool)
    return TypeContent(name=name, attributes=attributes, additional_attributes=additional)


def _parse_definitions(value: JSON) -> dict[str, AttributeDefinition]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise InvalidField("/attributes", "must be an object of attribute definitions by name")
    if len(value) > MAX_TYPE_ATTRIBUTES:
        raise InvalidField("/attributes", f"must define at most {MAX_TYPE_ATTRIBUTES} attributes")
    errors = FieldErrors()
    definitions: dict[str, AttributeDefinition] = {}
    for name, raw in value.items():
        path = join_pointer("/attributes", name)
        if not ATTRIBUTE_NAME_PATTERN.fullmatch(name):
            errors.add(path, "names are 1 to 64 of a-z, 0-9 and '_', starting with a letter")
            continue
        definition = errors.check(parse_definition, raw, path)
        if definition is not None:
            definitions[name] = definition
    errors.raise_any()
    return definitions


def parse_definition(raw: JSON, path: str) -> AttributeDefinition:
    """One attribute definition; members that do not apply to its type are refused rather
    than ignored, so a merchant is never surprised by a bound that checks nothing."""
    if not isinstance(raw, dict):
        raise InvalidField(path, "must be an object with at least a type")
    errors = FieldErrors()
    for member in sorted(set(raw) - DEFINITION_MEMBERS):
        errors.add(join_pointer(path, member), "is not a member of an attribute definition")
    if raw.get("type") not in _TYPE_VALUES:
        # Which other members apply depends on the type: nothing more to check without one.
        errors.add(path + "/type", f"must be one of {_TYPE_NAMES}")
        errors.raise_any()
    kind = AttributeType(raw["type"])
    label = errors.check(parse_text, raw.get("label"), path + "/label", 200, required=False)
    values = errors.check(_parse_values, kind, raw.get("values"), path + "/values")
    minimum = errors.check(_parse_bound, kind, raw.get("minimum"), path + "/minimum")
    maximum = errors.check(_parse_bound, kind, raw.get("maximum"), path + "/maximum")
    if minimum is not None and maximum is not None and minimum > maximum:
        errors.add(path + "/maximum", "must not be less than minimum")
    max_length = errors.check(_parse_max_length, kind, raw.get("max_length"), path)
    required = errors.check(_parse_flag, raw.get("required"), path + "/required")
    axis = errors.check(_parse_flag, raw.get("variant_axis"), path + "/variant_axis")
    if axis and kind not in _AXIS_TYPES:
        errors.add(path + "/variant_axis", "only string and enum attributes can be variant axes")
    required_on = errors.check(_parse_channels, raw.get("required_on"), path + "/required_on")
    errors.raise_any()
    return AttributeDefinition(
        type=kind,
        label=label,
        values=values or (),
        minimum=minimum,
        maximum=maximum,
        max_length=max_length,
        required=bool(required),
        required_on=required_on or frozenset(),
        variant_axis=bool(axis),
    )


def _parse_values(kind: AttributeType, value: JSON, path: str) -> tuple[str, ...]:
    if kind is not AttributeType.ENUM:
        if value is not None:
            raise InvalidField(path, "only enum attributes have values")
        return ()
    if not isinstance(value, list) or not value:
        raise InvalidField(path, "an enum needs a list of at least one value")
    if len(value) > MAX_ENUM_VALUES:
        raise InvalidField(path, f"must hold at most {MAX_ENUM_VALUES} values")
    seen: set[str] = set()
    for index, item in enumerate(value):
        if not isinstance(item, str) or not item.strip() or len(item) > MAX_ENUM_VALUE_LENGTH:
            raise InvalidField(
                f"{path}/{index}", f"must be a non-blank string of at most {MAX_ENUM_VALUE_LENGTH}"
            )
        if item in seen:
            raise InvalidField(f"{path}/{index}", f"repeats {item!r}")
        seen.add(item)
    return tuple(value)


def _parse_bound(kind: AttributeType, value: JSON, path: str) -> int | float | None:
    if value is None:
        return None
    if kind not in _NUMERIC:
        raise InvalidField(path, "only integer and number attributes have bounds")
    if kind is AttributeType.INTEGER and (isinstance(value, bool) or not isinstance(value, int)):
        raise InvalidField(path, "must be an integer")
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise InvalidField(path, "must be a finite number")
    return value


def _parse_max_length(kind: AttributeType, value: JSON, path: str) -> int | None:
    pointer = path + "/max_length"
    if value is None:
        return None
    if kind not in _TEXTUAL:
        raise InvalidField(pointer, "only string and url attributes have a max_length")
    ceiling = MAX_URL_LENGTH if kind is AttributeType.URL else limits.MAX_ATTRIBUTE_STRING_LENGTH
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= ceiling:
        raise InvalidField(pointer, f"must be an integer from 1 to {ceiling}")
    return value


def _parse_flag(value: JSON, path: str) -> bool:
    if value is None:
        return False
    if not isinstance(value, bool):
        raise InvalidField(path, "must be true or false")
    return value


def _parse_channels(value: JSON, path: str) -> frozenset[str]:
    if value is None:
        return frozenset()
    if not isinstance(value, list):
        raise InvalidField(path, "must be a list of channel slugs")
    errors = FieldErrors()
    for index, item in enumerate(value):
        if not isinstance(item, str):
            errors.add(f"{path}/{index}", "must be a channel slug")
        else:
            errors.check(parse_channel, item, f"{path}/{index}")
    errors.raise_any()
    return frozenset(value)
