"""Principals for tests that call the use cases directly, as every entrypoint does."""

from __future__ import annotations

from catalog.service.principals import Principal

ALICE = Principal("alice", "acme", frozenset({"merchant"}))  # a merchant user of acme
OPERATOR = Principal("ops", None, frozenset({"platform"}))


def merchant(merchant_id: str, subject: str | None = None) -> Principal:
    return Principal(subject or f"{merchant_id}-user", merchant_id, frozenset({"merchant"}))


def adapter(channel: str, merchants: tuple[str, ...] = ("acme",)) -> Principal:
    """A channel adapter's principal: it reads what it publishes and reports its listings,
    for the merchants in its scope (ALL_MERCHANTS: `("*",)`)."""
    return Principal(
        f"{channel}-adapter", None, frozenset({f"channel:{channel}"}), frozenset(merchants)
    )
