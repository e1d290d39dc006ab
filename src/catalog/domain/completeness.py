"""Completeness: which JSON pointers into a product's view hold no value, for READY and for
each channel (DESIGN.md section 9). The catalog holds no channel logic: a channel declares
pointers, a product type declares required attributes, and this module only looks them up.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

from msgspec import Struct, field

from catalog.domain.errors import FieldErrors, InvalidField
from catalog.domain.values import JSON

# What READY needs of every product, typed or not.
READY_POINTERS = ("/name", "/description", "/price", "/images")
MAX_REQUIREMENTS = 100
MAX_POINTER_LENGTH = 300
# The members of the view a requirement may point into. Under /attributes any depth; the
# others are checked whole (a price has an amount and a currency or is absent; an image list
# is empty or not), so a channel cannot name a member the view does not have.
_WHOLE_MEMBERS = frozenset({"/name", "/description", "/sku", "/product_type", "/price", "/images"})
_ATTRIBUTES = "/attributes/"


class Completeness(Struct, frozen=True):
    """The pointers missing for READY and, per channel, for a publication there."""

    ready: tuple[str, ...] = ()
    channels: Mapping[str, tuple[str, ...]] = field(default_factory=dict)

    def complete_on(self, channel: str) -> bool:
        return not self.channels.get(channel, self.ready)

    def missing_on(self, channel: str) -> tuple[str, ...]:
        return self.channels.get(channel, self.ready)

    def to_json(self) -> dict[str, JSON]:
        return {
            "ready": _entry(self.ready),
            "channels": {channel: _entry(missing) for channel, missing in self.channels.items()},
        }


def _entry(missing: tuple[str, ...]) -> dict[str, JSON]:
    return {"complete": not missing, "missing": list(missing)}


def completeness_from_json(document: Mapping[str, JSON]) -> Completeness:
    ready = document["ready"]
    channels = document.get("channels", {})
    assert isinstance(ready, dict) and isinstance(channels, dict)
    return Completeness(
        ready=tuple(ready["missing"]),
        channels={channel: tuple(entry["missing"]) for channel, entry in channels.items()},
    )


def evaluate(
    ready_view: Mapping[str, JSON],
    ready_needs: Sequence[str],
    channel_views: Mapping[str, Mapping[str, JSON]],
    channel_needs: Mapping[str, Sequence[str]],
) -> Completeness:
    """`ready_needs` looked up in the product's own view; for each channel of
    `channel_views`, READY's needs and that channel's own looked up in the channel's view."""
    return Completeness(
        ready=missing(ready_view, ready_needs),
        channels={
            channel: missing(view, [*ready_needs, *channel_needs.get(channel, ())])
            for channel, view in sorted(channel_views.items())
        },
    )


def missing(view: Mapping[str, JSON], pointers: Iterable[str]) -> tuple[str, ...]:
    """The pointers that hold no value in `view`, each once, in the order given."""
    seen: dict[str, None] = {}
    for pointer in pointers:
        if pointer not in seen and _is_empty(_resolve(view, pointer)):
            seen[pointer] = None
    return tuple(seen)


_ABSENT = object()


def _resolve(document: JSON, pointer: str) -> object:
    current: object = document
    for token in pointer.split("/")[1:]:
        key = token.replace("~1", "/").replace("~0", "~")
        if isinstance(current, dict):
            current = current.get(key, _ABSENT)
        elif isinstance(current, list) and key.isdigit() and int(key) < len(current):
            current = current[int(key)]
        else:
            return _ABSENT
    return current


def _is_empty(value: object) -> bool:
    if value is _ABSENT or value is None:
        return True
    if isinstance(value, str):
        return not value.strip()
    return isinstance(value, list | dict) and not value


def parse_requirements(document: JSON) -> tuple[str, ...]:
    """A channel's `{"required": [pointer, ...]}`; every bad pointer is reported at once."""
    if not isinstance(document, dict):
        raise InvalidField("/", "channel requirements must be a JSON object with a list `required`")
    errors = FieldErrors()
    for member in sorted(set(document) - {"required"}):
        errors.add("/" + member, "is not a member of channel requirements")
    required = document.get("required")
    if not isinstance(required, list):
        errors.add("/required", "must be a list of JSON pointers into the product view")
        errors.raise_any()
        return ()
    if len(required) > MAX_REQUIREMENTS:
        errors.add("/required", f"must name at most {MAX_REQUIREMENTS} pointers")
    for index, pointer in enumerate(required):
        errors.check(parse_requirement, pointer, f"/required/{index}")
    errors.raise_any()
    return tuple(dict.fromkeys(required))


def parse_requirement(pointer: JSON, path: str) -> str:
    if not isinstance(pointer, str) or len(pointer) > MAX_POINTER_LENGTH:
        raise InvalidField(path, f"must be a JSON pointer of at most {MAX_POINTER_LENGTH}")
    if pointer in _WHOLE_MEMBERS:
        return pointer
    if pointer.startswith(_ATTRIBUTES) and all(
        token and "~" not in token.replace("~0", "").replace("~1", "")
        for token in pointer[len(_ATTRIBUTES) :].split("/")
    ):
        return pointer
    raise InvalidField(
        path,
        "must be one of " + ", ".join(sorted(_WHOLE_MEMBERS)) + " or /attributes/<name>",
    )
