"""Who is calling and what they may do: the catalog's access policy, free of HTTP and JWTs.

| role | reads | changes | reports listing outcomes |
|---|---|---|---|
| `merchant` | its own `merchant_id` | its own `merchant_id` | - |
| `platform` | every merchant | every merchant | - |
| `channel:<slug>` | the merchants in its scope | - | on `<slug>`, for the merchants in its scope |

A channel principal's scope is the list of merchants it acts for, or ALL_MERCHANTS. It is
empty unless the token grants one (the safe default: such a principal acts for nobody), and
outside it every merchant looks absent, exactly as another merchant's catalog does to a
merchant.
"""

from __future__ import annotations

from collections.abc import Sequence

from msgspec import Struct

from catalog.domain.errors import AccessDenied, MerchantNotFound, ProductNotFound

MERCHANT = "merchant"
PLATFORM = "platform"
CHANNEL_PREFIX = "channel:"
# In a channel scope: every merchant. Not a merchant id (those start with a-z or 0-9).
ALL_MERCHANTS = "*"


class Principal(Struct, frozen=True):
    subject: str
    merchant_id: str | None
    roles: frozenset[str]
    # The merchants the channel roles act for: merchant ids, or ALL_MERCHANTS. Ignored for
    # the merchant and platform roles, which have their own reach.
    channel_merchants: frozenset[str] = frozenset()

    @property
    def is_platform(self) -> bool:
        return PLATFORM in self.roles

    def channels(self) -> frozenset[str]:
        return frozenset(
            r[len(CHANNEL_PREFIX) :] for r in self.roles if r.startswith(CHANNEL_PREFIX)
        )

    def acts_as_channel_for(self, merchant_id: str) -> bool:
        """Whether this principal is a channel adapter with `merchant_id` in its scope."""
        scope = self.channel_merchants
        if merchant_id not in scope and ALL_MERCHANTS not in scope:
            return False
        return any(role.startswith(CHANNEL_PREFIX) for role in self.roles)

    def can_read(self, merchant_id: str) -> bool:
        """Channel adapters read the products they publish, for the merchants they serve."""
        return self.can_write(merchant_id) or self.acts_as_channel_for(merchant_id)

    def can_write(self, merchant_id: str) -> bool:
        if self.is_platform:
            return True
        return MERCHANT in self.roles and self.merchant_id == merchant_id

    def can_report(self, merchant_id: str, channel: str) -> bool:
        return channel in self.channels() and self.acts_as_channel_for(merchant_id)


def default_subject(merchant_id: str | None, roles: Sequence[str]) -> str:
    """The actor history credits when a token names none: a channel's adapter, not the
    merchant it reports for; else the merchant's user (or the platform's operator)."""
    if roles and all(role.startswith(CHANNEL_PREFIX) for role in roles):
        return roles[0]
    return f"{merchant_id}-user" if merchant_id else "platform-operator"


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
    if not principal.can_report(merchant_id, channel):
        raise AccessDenied(
            f"only the {channel} channel adapter (role channel:{channel}) of merchant "
            f"{merchant_id} may report its listing"
        )


def require_channel_admin(principal: Principal, channel: str) -> None:
    """What a channel needs of products is the platform's or that channel's own to say: role
    `platform`, or `channel:<channel>` whatever merchants it acts for (requirements are the
    same for every merchant)."""
    if not (principal.is_platform or channel in principal.channels()):
        raise AccessDenied(
            f"only the platform or the {channel} channel (role channel:{channel}) may change"
            f" the requirements of {channel}"
        )
