"""Who is calling and what they may do: the catalog's access policy, free of HTTP and JWTs."""

from __future__ import annotations

from dataclasses import dataclass

MERCHANT = "merchant"
PLATFORM = "platform"
CHANNEL_PREFIX = "channel:"


@dataclass(frozen=True)
class Principal:
    subject: str
    merchant_id: str | None
    roles: frozenset[str]

    @property
    def is_platform(self) -> bool:
        return PLATFORM in self.roles

    def channels(self) -> frozenset[str]:
        return frozenset(
            r[len(CHANNEL_PREFIX) :] for r in self.roles if r.startswith(CHANNEL_PREFIX)
        )

    def can_read(self, merchant_id: str) -> bool:
        """Channel adapters read the products they publish, for any merchant."""
        return self.can_write(merchant_id) or bool(self.channels())

    def can_write(self, merchant_id: str) -> bool:
        if self.is_platform:
            return True
        return MERCHANT in self.roles and self.merchant_id == merchant_id

    def can_report(self, channel: str) -> bool:
        return channel in self.channels()
