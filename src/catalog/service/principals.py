"""Who is calling and what they may do: the catalog's access policy, free of HTTP and JWTs."""

from __future__ import annotations

from dataclasses import dataclass

from catalog.domain.errors import AccessDenied, MerchantNotFound, ProductNotFound

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


# ------------------------------------------------------------------ decisions
# Every use case calls one of these before it reads or writes; the HTTP layer calls the same
# ones early so that a client sees 404 and 403 before any problem with its headers or body.


def hidden(merchant_id: str, product_id: str | None = None) -> Exception:
    """What a caller gets for what it may not see: exactly what absence looks like."""
    return ProductNotFound(product_id) if product_id else MerchantNotFound(merchant_id)


def require_read(principal: Principal, merchant_id: str, product_id: str | None = None) -> None:
    """A merchant the principal may not read looks absent: the same 404 as a missing one."""
    if not principal.can_read(merchant_id):
        raise hidden(merchant_id, product_id)


def require_write(principal: Principal, merchant_id: str, product_id: str | None = None) -> None:
    require_read(principal, merchant_id, product_id)
    if not principal.can_write(merchant_id):
        raise AccessDenied(
            f"this principal may read but not change the products of merchant {merchant_id}"
        )


def require_report(principal: Principal, merchant_id: str, product_id: str, channel: str) -> None:
    require_read(principal, merchant_id, product_id)
    if not principal.can_report(channel):
        raise AccessDenied(
            f"only the {channel} channel adapter (role channel:{channel}) may report its listing"
        )
