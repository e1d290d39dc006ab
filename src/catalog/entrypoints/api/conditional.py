"""Conditional requests (RFC 9110): whether an If-None-Match header names the current ETag."""

from __future__ import annotations


def none_match(if_none_match: str, etag: str) -> bool:
    """Weak comparison of an If-None-Match list (or `*`) against the current ETag: True when
    the client's copy is current and the answer is a 304."""
    tags = {tag.strip().removeprefix("W/") for tag in if_none_match.split(",")}
    return "*" in tags or etag.removeprefix("W/") in tags
