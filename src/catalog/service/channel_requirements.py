"""Use cases of channel requirements: what a channel needs of a product to publish it
(DESIGN.md section 9). Read by any authenticated principal; declared by the platform or the
channel itself. Platform-wide: the same for every merchant. A change emits
ChannelRequirementsChanged (an event of no merchant), from which every product is evaluated
again (service/reevaluation.py).
"""

from __future__ import annotations

from msgspec import Struct

from catalog.domain.channel_requirements import ChannelRequirements
from catalog.domain.completeness import parse_requirements
from catalog.domain.errors import PreconditionFailed, VersionConflict
from catalog.domain.events import DomainEvent, EventName
from catalog.domain.values import JSON, parse_channel
from catalog.service.context import CatalogContext
from catalog.service.ports import RequirementsChange
from catalog.service.principals import Principal, require_channel_admin
from catalog.service.products import MAX_CONFLICT_RETRIES


class GetChannelRequirements(Struct, frozen=True):
    channel: str


class PutChannelRequirements(Struct, frozen=True):
    """The channel's whole list of required pointers, replacing the one it had."""

    channel: str
    required: tuple[str, ...]
    if_match: int | None = None

    @classmethod
    def from_json(
        cls, channel: str, body: JSON, if_match: int | None = None
    ) -> PutChannelRequirements:
        return cls(parse_channel(channel), parse_requirements(body), if_match)


def get_channel_requirements(
    ctx: CatalogContext, principal: Principal, query: GetChannelRequirements
) -> ChannelRequirements:
    """Any authenticated principal may read them: merchants see what a channel will ask of
    their products. A channel that declared none needs nothing beyond READY (version 0)."""
    del principal  # authenticated is enough
    return ctx.store.channel_requirements().of(query.channel)


def put_channel_requirements(
    ctx: CatalogContext, principal: Principal, command: PutChannelRequirements
) -> ChannelRequirements:
    """Replace the channel's list. The same list again writes nothing and keeps the version.
    Every channel's requirements are stored together: a write of another channel in between
    moves the set's version, and the write is applied again over it (as product writes are);
    If-Match is about this channel's version alone."""
    channel = command.channel
    require_channel_admin(principal, channel)
    for _ in range(MAX_CONFLICT_RETRIES):
        stored = ctx.store.channel_requirements()
        current = stored.of(channel)
        if command.if_match is not None and current.version != command.if_match:
            raise PreconditionFailed(
                current.version, command.if_match, what=f"the requirements list of {channel}"
            )
        now = ctx.clock.now()
        revised = current.revised(command.required, now)
        if revised is current:
            return current
        changed = DomainEvent(
            id=ctx.ids.new_id(),
            name=EventName.CHANNEL_REQUIREMENTS_CHANGED,
            merchant_id=None,
            product_id=None,
            channel=channel,
            version=revised.version,
            occurred_at=now,
            data={"required": list(revised.required)},
        )
        change = RequirementsChange(
            channel, stored.with_channel(revised), stored.version, (changed,)
        )
        try:
            ctx.store.commit_requirements(change)
        except VersionConflict:
            continue
        return revised
    raise VersionConflict(channel, stored.version)
