"""A typed product's attributes as a form: one input per attribute its type defines (DESIGN.md
section 9), and the typed-in text read back into the JSON the API takes.

Text that cannot be the value an input asks for ("abc" in a number input) is passed on as
typed: the type's own check refuses it, so the message is the one the API gives, at
`/attributes/<name>`, shown next to that input.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping
from typing import Any

from msgspec import Struct

from catalog.domain.product_types import AttributeDefinition, AttributeType, TypeContent
from catalog.domain.values import JSON

_INTEGER = re.compile(r"^[+-]?[0-9]+$")
# A boolean is a choice of three: a checkbox cannot say "not set", which a required
# attribute needs (completeness counts false as a value).
BOOLEAN_CHOICES = (("", "Not set"), ("true", "Yes"), ("false", "No"))


class AttributeInput(Struct, frozen=True):
    """One attribute's input: what the template draws and how its text is read."""

    name: str
    definition: AttributeDefinition

    @property
    def input_name(self) -> str:
        return f"attr.{self.name}"

    @property
    def pointer(self) -> str:
        return f"/attributes/{self.name}"

    @property
    def label(self) -> str:
        return self.definition.label or self.name

    @property
    def element(self) -> str:
        """`select` (enum, boolean), `number` or `text` (string, url)."""
        kind = self.definition.type
        if kind in (AttributeType.ENUM, AttributeType.BOOLEAN):
            return "select"
        if kind in (AttributeType.INTEGER, AttributeType.NUMBER):
            return "number"
        return "text"

    @property
    def choices(self) -> tuple[tuple[str, str], ...]:
        """(value, shown text) of a select, the empty choice first."""
        if self.definition.type is AttributeType.BOOLEAN:
            return BOOLEAN_CHOICES
        return (("", "Not set"), *((value, value) for value in self.definition.values))

    @property
    def html_attributes(self) -> str:
        """Hints for the browser's keyboard and a screen reader; the server decides."""
        d = self.definition
        parts: list[str] = []
        if d.type is AttributeType.INTEGER:
            parts.append('inputmode="numeric"')
        elif d.type is AttributeType.NUMBER:
            parts.append('inputmode="decimal"')
        elif d.type is AttributeType.URL:
            parts.append('inputmode="url"')
        if d.max_length is not None:
            parts.append(f'maxlength="{d.max_length}"')
        return " ".join(parts)

    @property
    def hint(self) -> str:
        d = self.definition
        said: list[str] = []
        if d.required:
            said.append("Required for READY")
        if d.required_on:
            said.append("needed on " + ", ".join(sorted(d.required_on)))
        if d.minimum is not None and d.maximum is not None:
            said.append(f"from {d.minimum} to {d.maximum}")
        elif d.minimum is not None:
            said.append(f"at least {d.minimum}")
        elif d.maximum is not None:
            said.append(f"at most {d.maximum}")
        if d.max_length is not None:
            said.append(f"at most {d.max_length} characters")
        if d.type is AttributeType.INTEGER:
            said.append("a whole number")
        elif d.type is AttributeType.URL:
            said.append("an http or https address")
        if d.variant_axis:
            said.append("can be an option of variants")
        text = "; ".join(said)
        return text[:1].upper() + text[1:] if text else ""

    def text_of(self, value: JSON) -> str:
        """The input's value for a stored attribute value."""
        if value is None:
            return ""
        if isinstance(value, bool):
            return "true" if value else "false"
        if isinstance(value, int | float | str):
            return str(value)
        return json.dumps(value, ensure_ascii=False)

    def read(self, raw: str) -> JSON:
        """The attribute value for the input's text (None: not set)."""
        raw = raw.strip()
        if not raw:
            return None
        kind = self.definition.type
        if kind is AttributeType.BOOLEAN:
            return {"true": True, "false": False}.get(raw, raw)
        if kind is AttributeType.INTEGER and _INTEGER.fullmatch(raw):
            return int(raw)
        if kind is AttributeType.NUMBER:
            return _number(raw)
        return raw


def _number(raw: str) -> JSON:
    if _INTEGER.fullmatch(raw):
        return int(raw)
    try:
        value = float(raw)
    except ValueError:
        return raw
    return value if math.isfinite(value) else raw


class AttributeForm(Struct, frozen=True):
    """The inputs of a type's attributes, and whether it takes others (as JSON)."""

    inputs: tuple[AttributeInput, ...]
    additional: bool

    @classmethod
    def of(cls, content: TypeContent) -> AttributeForm:
        inputs = tuple(AttributeInput(name, d) for name, d in content.attributes.items())
        return cls(inputs, content.additional_attributes)

    @property
    def names(self) -> frozenset[str]:
        return frozenset(one.name for one in self.inputs)

    def pointer_inputs(self) -> dict[str, str]:
        """Each attribute's pointer -> its input; the others go to the JSON textarea, or to
        the form's banner when there is none."""
        inputs = {one.pointer: one.input_name for one in self.inputs}
        inputs["/attributes"] = "attributes" if self.additional else "form"
        return inputs

    def values(self, attributes: Mapping[str, JSON]) -> dict[str, str]:
        """The inputs' values for stored attributes; the others as the JSON textarea's."""
        values = {one.input_name: one.text_of(attributes.get(one.name)) for one in self.inputs}
        others = self.others(attributes)
        values["attributes"] = json.dumps(others, indent=2, ensure_ascii=False) if others else ""
        return values

    def others(self, attributes: Mapping[str, JSON]) -> dict[str, JSON]:
        return {name: value for name, value in attributes.items() if name not in self.names}

    def read(self, form: Mapping[str, str], others: Mapping[str, Any]) -> dict[str, JSON]:
        """The product's attributes: each input's value (unset ones left out), then `others`
        (the textarea's, or the product's own when the type takes none)."""
        attributes: dict[str, JSON] = {}
        for one in self.inputs:
            value = one.read(form.get(one.input_name, ""))
            if value is not None:
                attributes[one.name] = value
        attributes.update({k: v for k, v in others.items() if k not in self.names})
        return attributes


class AxisInput(Struct, frozen=True):
    """An option axis of variants as an input: the type's label and choices when it has
    them (an enum axis is a select), else its name and free text."""

    name: str
    label: str
    choices: tuple[str, ...] = ()


def axis_inputs(axes: list[str], form: AttributeForm | None) -> list[AxisInput]:
    by_name = {one.name: one for one in form.inputs} if form else {}
    inputs = []
    for axis in axes:
        known = by_name.get(axis)
        if known is None:
            inputs.append(AxisInput(axis, axis))
        else:
            inputs.append(AxisInput(axis, known.label, known.definition.values))
    return inputs


def allowed_axes(form: AttributeForm | None) -> list[str]:
    """With a type, the attributes that may be axes (`variant_axis`); without one, any."""
    if form is None:
        return []
    return [one.name for one in form.inputs if one.definition.variant_axis]
