"""The content of an earlier version, rebuilt from the current one and the history since.

Every change records its changed fields as JSON pointers with their old and new values
(domain/history.py), so undoing the entries newer than version v, newest first, gives v's
content back. What a restore brings back (DESIGN.md section 12) is the *content*: the fields
a merge patch edits and the variants. Pointers into the rest of the document (images,
listings, completeness) are left alone.

The content document: `Product.editable_document()` plus `variants`, a list in the product's
order, each `Variant.to_json()`. History names a variant by id (`/variants/<vid>/...`), so the
list is keyed by id while the entries are undone.

What history does not record, and so cannot come back:
- a member null on one side and absent on the other is no change (`diff`): a null among the
  product's own attributes (a registration may store one; a merge patch cannot) that went
  away along with another change does not come back. Completeness and a type's definitions
  take null for no value, so the restored product differs only by that member in its view.
- the position of a removed variant: one brought back is placed before the first variant
  with a greater id. Ids sort in creation order (adapters/ulid_ids.py) and variants are kept
  in creation order, so this is its place unless two adds raced and committed out of the
  order their ids were made in.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence

from msgspec import Struct

from catalog.domain.editable import EditableFields, parse_editable
from catalog.domain.errors import FieldErrors
from catalog.domain.history import HistoryEntry
from catalog.domain.product import EDITABLE_FIELDS, Product
from catalog.domain.values import JSON, VARIANT_OVERRIDE_FIELDS, join_pointer
from catalog.domain.variants import VARIANT_FIELDS, Variant, parse_variant_body

# The top-level members of the content document; a pointer under any other is not content.
CONTENT_FIELDS = (*EDITABLE_FIELDS, "variants")


def content_document(product: Product) -> dict[str, JSON]:
    """What a restore brings back of `product`, as JSON."""
    return {
        **product.editable_document(),
        "variants": [variant.to_json() for variant in product.variants],
    }


def content_at(
    document: Mapping[str, JSON], entries: Sequence[HistoryEntry], version: int
) -> dict[str, JSON]:
    """The content document as it was at `version`, from `document` (the content now) and
    `entries`: the history entries newer than `version`, newest first, the first being the
    version of `document`. A gap among them is a ValueError: undoing across it would make a
    content that never was."""
    expected = [entry.version for entry in entries]
    if expected != list(range(version + len(entries), version, -1)):
        raise ValueError(f"entries newer than version {version} must be consecutive, newest first")
    content = copy.deepcopy(dict(document))
    variants = {variant["id"]: variant for variant in content.get("variants") or []}
    content["variants"] = variants
    for entry in entries:
        # Within one version the changes are recorded in the order they were made (a command
        # may name one field twice): undone last first.
        for change in reversed(entry.changes):
            keys = _keys(change.field)
            if keys and keys[0] in CONTENT_FIELDS:
                _undo(content, keys, change.old)
    content["variants"] = list(content["variants"].values())
    return _in_document_shape(content)


class RestoredContent(Struct, frozen=True):
    """A version's content, parsed as the product's commands take it (Product.restore)."""

    fields: EditableFields
    variants: tuple[Variant, ...]


def parse_content(document: Mapping[str, JSON]) -> RestoredContent:
    """The content document read by today's parsers (limits and rules may have changed since
    the version was made): every field they refuse reported at once, variants named by id."""
    errors = FieldErrors()
    fields = errors.check(parse_editable, document)
    variants = []
    for raw in document.get("variants") or []:
        at = join_pointer("/variants", raw["id"])
        body = errors.check(
            parse_variant_body, {name: raw[name] for name in VARIANT_FIELDS if name in raw}, at
        )
        if body is not None:
            variants.append(body.identified(raw["id"]))
    errors.raise_any()
    assert fields is not None
    return RestoredContent(fields, tuple(variants))


def _in_document_shape(content: dict[str, JSON]) -> dict[str, JSON]:
    """History records an absent member as null, and undoing a null removes the member; the
    members the document always holds (null when unset) are put back as null."""
    for name in EDITABLE_FIELDS:
        content.setdefault(name, None)
    for variant in content["variants"]:
        for name in VARIANT_FIELDS:
            variant.setdefault(name, None)
    for override in (content["channel_overrides"] or {}).values():
        for variant_override in (override.get("variants") or {}).values():
            for name in VARIANT_OVERRIDE_FIELDS:
                variant_override.setdefault(name, None)
    return content


def _keys(pointer: str) -> list[str]:
    if not pointer.startswith("/"):
        return []
    return [part.replace("~1", "/").replace("~0", "~") for part in pointer[1:].split("/")]


def _undo(content: dict[str, JSON], keys: list[str], old: JSON) -> None:
    """Put `old` back at `keys`; None means the member was absent (or null, which history
    does not tell apart where a document reads both alike)."""
    parent = content
    for key in keys[:-1]:
        child = parent.get(key)
        # History walks into an object only where it was one before and after the change,
        # so undoing newest first always finds it: anything else is a history that does not
        # belong to this document.
        if not isinstance(child, dict):
            raise ValueError(f"history names {'/'.join(['', *keys])} inside no object")
        parent = child
    last = keys[-1]
    if old is None:
        parent.pop(last, None)
    elif keys[:1] == ["variants"] and len(keys) == 2 and last not in parent:
        _insert_in_id_order(parent, last, copy.deepcopy(old))
    else:
        parent[last] = copy.deepcopy(old)


def _insert_in_id_order(variants: dict[str, JSON], variant_id: str, variant: JSON) -> None:
    """A removed variant back at its place: before the first variant with a greater id."""
    ordered = list(variants.items())
    at = next((i for i, (vid, _) in enumerate(ordered) if vid > variant_id), len(ordered))
    ordered.insert(at, (variant_id, variant))
    variants.clear()
    variants.update(ordered)
