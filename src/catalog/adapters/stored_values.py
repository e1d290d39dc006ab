"""How both stores (SQLite, DynamoDB) write values that are not strings: documents as compact
JSON, instants as integer microseconds since the Unix epoch (UTC). One definition, so a record
one store wrote reads back the same in the other and in the tools that read both."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)


def compact_json(document: Any) -> str:
    """The stored text of a JSON document: no spaces, non-ASCII kept as is. Encoded by orjson
    (every write encodes the product and its history entry: a tenth of an import's CPU with the
    standard library); integers beyond 64 bits, which attributes may hold, fall back to it."""
    try:
        return orjson.dumps(document).decode()
    except TypeError:
        return json.dumps(document, ensure_ascii=False, separators=(",", ":"))


def micros(moment: datetime) -> int:
    """Microseconds since the epoch; a naive datetime is taken as UTC."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return (moment - _EPOCH) // _MICROSECOND


def from_micros(value: int) -> datetime:
    """The UTC instant `value` microseconds after the epoch."""
    return _EPOCH + value * _MICROSECOND
