"""What a product still needs, per channel, each missing field linked to the input that holds
it in the editor (DESIGN.md section 12: "completeness per channel, each missing field named").

The pointers are the API's (`/description`, `/attributes/brand`, `/variants/<id>/price`); a
channel's are into its effective view, so a missing `/name` there is the product's own name
input (an override on that channel would do as well).
"""

from __future__ import annotations

from typing import Any

from msgspec import Struct

from catalog.entrypoints.console.pages.attribute_form import AttributeForm

FIELD_INPUTS = {
    "name": ("Name", "#f-name"),
    "description": ("Description", "#f-description"),
    "price": ("Price", "#f-price"),
    "options": ("Options", "#f-options"),
    "images": ("An image", "#images"),
}


class Missing(Struct, frozen=True):
    pointer: str
    label: str
    href: str | None  # None: no input of the editor holds it


class Needs(Struct, frozen=True):
    """One line of the completeness panel: READY's needs or one channel's."""

    title: str
    complete: bool
    missing: list[Missing]


def completeness_panel(
    view: dict[str, Any], form: AttributeForm | None, editor_url: str
) -> list[Needs]:
    completeness = view["completeness"]
    links = _Links(view, form, editor_url)
    entries = [Needs("Ready", **links.of(completeness["ready"]))]
    for channel, entry in sorted(completeness["channels"].items()):
        entries.append(Needs(channel, **links.of(entry)))
    return entries


class _Links:
    def __init__(self, view: dict[str, Any], form: AttributeForm | None, editor_url: str) -> None:
        self.form = form
        self.editor_url = editor_url
        self.has_options = bool(view["options"])
        self.skus = {variant["id"]: variant["sku"] for variant in view["variants"]}
        # An untyped product's attributes are one JSON textarea; a typed one's extras too,
        # when its type takes any.
        self.textarea = form is None or form.additional

    def of(self, entry: dict[str, Any]) -> dict[str, Any]:
        return {
            "complete": bool(entry["complete"]),
            "missing": [self.missing(str(pointer)) for pointer in entry["missing"]],
        }

    def missing(self, pointer: str) -> Missing:
        parts = pointer.split("/")[1:]
        head = parts[0] if parts else ""
        if head == "price" and parts[1:] == ["currency"]:
            return Missing(pointer, "Currency", "#f-currency")
        if head in FIELD_INPUTS:
            label, href = FIELD_INPUTS[head]
            return Missing(pointer, label, href)
        if head == "attributes" and len(parts) > 1:
            return self._attribute(pointer, parts[1])
        if head == "variants":
            return self._variant(pointer, parts[1:])
        return Missing(pointer, pointer, None)

    def _attribute(self, pointer: str, name: str) -> Missing:
        if self.form is not None:
            for one in self.form.inputs:
                if one.name == name:
                    return Missing(pointer, one.label, f"#f-{one.input_name}")
        return Missing(pointer, name, "#f-attributes" if self.textarea else None)

    def _variant(self, pointer: str, parts: list[str]) -> Missing:
        if not parts:
            return Missing(pointer, "A variant", "#f-add.sku" if self.has_options else "#variants")
        variant_id, rest = parts[0], parts[1:]
        sku = self.skus.get(variant_id, variant_id)
        edit = f"{self.editor_url}?variant={variant_id}"
        if rest[:1] == ["options"] and len(rest) > 1:
            return Missing(pointer, f"{rest[1]} of {sku}", f"{edit}#f-variant.opt.{rest[1]}")
        if rest[:1] == ["price"]:
            return Missing(pointer, f"Price of {sku}", f"{edit}#f-variant.price")
        return Missing(pointer, f"Variant {sku}", f"{edit}#variant-{variant_id}")
