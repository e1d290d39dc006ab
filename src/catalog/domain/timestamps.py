"""The one text form of an instant wherever the catalog writes one: stored documents, API views
and events alike (RFC 3339, UTC, milliseconds)."""

from __future__ import annotations

from datetime import UTC, datetime


def format_time(moment: datetime) -> str:
    """RFC 3339 in UTC with a Z suffix and millisecond precision."""
    # Every instant the catalog reads back is already in UTC: converting it again is not free,
    # and a GET formats three of them.
    if moment.tzinfo is not UTC:
        moment = moment.astimezone(UTC)
    return moment.isoformat(timespec="milliseconds")[:-6] + "Z"  # "+00:00" -> "Z"


def parse_time(text: str) -> datetime:
    """The instant `format_time` wrote (Python 3.11 reads the Z suffix itself, as UTC)."""
    return datetime.fromisoformat(text)
