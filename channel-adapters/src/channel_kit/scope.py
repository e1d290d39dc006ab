"""The merchants an adapter serves: the same scope as its catalog token's.

The catalog binds a `channel:<slug>` token to merchants (its `merchants` claim: ids, or `*`
for every merchant) and answers 404 for any other merchant. An embedded catalog sends every
event to every webhook, so an adapter sees the events of merchants it does not serve; it
drops those before asking the catalog anything, instead of turning each into a refused
request and an error in its log.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass

ALL_MERCHANTS = "*"
#: The claim the catalog's own tokens (`catalog token`) carry the scope in.
MERCHANTS_CLAIM = "merchants"
_SEPARATORS = re.compile(r"[\s,]+")


@dataclass(frozen=True)
class MerchantScope:
    """Merchant ids, or ALL_MERCHANTS among them for every merchant."""

    merchants: frozenset[str]

    @classmethod
    def of(cls, merchants: Iterable[str]) -> MerchantScope:
        scope = cls(frozenset(m.strip() for m in merchants if m.strip()))
        if not scope.merchants:
            raise ValueError("a scope names at least one merchant, or * for every merchant")
        return scope

    @classmethod
    def every(cls) -> MerchantScope:
        return cls(frozenset({ALL_MERCHANTS}))

    @classmethod
    def parse(cls, text: str) -> MerchantScope:
        """`acme,globex` (commas or spaces), or `*`."""
        return cls.of(_SEPARATORS.split(text))

    @classmethod
    def from_token(cls, token: str) -> MerchantScope | None:
        """The scope a catalog-issued JWT carries, None when it carries none (or is opaque).

        The token is read, not verified: it is the adapter's own credential, and the catalog
        verifies it on every request anyway; this only spares requests it would refuse."""
        parts = token.split(".")
        if len(parts) != 3:
            return None
        payload = parts[1] + "=" * (-len(parts[1]) % 4)
        try:
            claims = json.loads(base64.urlsafe_b64decode(payload))
        except (binascii.Error, ValueError):
            return None
        value = claims.get(MERCHANTS_CLAIM) if isinstance(claims, dict) else None
        if isinstance(value, str):
            value = _SEPARATORS.split(value.strip("[]"))
        if not isinstance(value, list) or not all(isinstance(m, str) for m in value):
            return None
        try:
            return cls.of(value)
        except ValueError:
            return None

    def covers(self, merchant_id: str) -> bool:
        return ALL_MERCHANTS in self.merchants or merchant_id in self.merchants

    def __str__(self) -> str:
        if ALL_MERCHANTS in self.merchants:
            return "every merchant (*)"
        return ", ".join(sorted(self.merchants))
