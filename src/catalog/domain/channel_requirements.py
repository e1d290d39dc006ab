"""Channel requirements: the JSON pointers into a product's view that a channel needs filled
to publish it (DESIGN.md section 9). Platform-wide: a channel needs the same of every merchant.

Every channel's requirements are kept together, in one RequirementsSet with a version of its
own, so that a product write can read them all in one storage read; a write of one channel's
requirements replaces the set, conditioned on the set's version.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from msgspec import Struct, field

from catalog.domain.errors import DomainError

# The stored set (every channel's requirements, serialized) is refused past this size: DynamoDB
# keeps it in one item (400 KB at most), which every typed product write will read, so it
# stays well under the item limit. docs/dynamodb.md says how many channels that holds.
MAX_REQUIREMENTS_BYTES = 128 * 1024


class ChannelRequirements(Struct, frozen=True):
    """One channel's required pointers at one version. Version 0: never declared (nothing
    required beyond READY's needs, no updated_at)."""

    channel: str
    required: tuple[str, ...] = ()
    version: int = 0
    updated_at: datetime | None = None

    def revised(self, required: tuple[str, ...], at: datetime) -> ChannelRequirements:
        """The next version with `required`, or this one when the list is the same (order
        included: `missing` lists pointers in the channel's order), so it is not written. A
        first declaration is kept even when empty: the channel then has an entry in every
        product's completeness, needing READY's needs alone."""
        if required == self.required and self.version > 0:
            return self
        return ChannelRequirements(self.channel, required, self.version + 1, at)


class RequirementsSet(Struct, frozen=True):
    """Every channel's requirements and the version of the whole set (0: none stored), which
    a write names to detect a concurrent write of any channel."""

    channels: Mapping[str, ChannelRequirements] = field(default_factory=dict)
    version: int = 0

    def of(self, channel: str) -> ChannelRequirements:
        found = self.channels.get(channel)
        return found if found is not None else ChannelRequirements(channel)

    def with_channel(self, requirements: ChannelRequirements) -> RequirementsSet:
        """The next version of the set, with `requirements` in place of the channel's."""
        channels = {**self.channels, requirements.channel: requirements}
        return RequirementsSet(dict(sorted(channels.items())), self.version + 1)

    def needs(self) -> dict[str, tuple[str, ...]]:
        """The pointers each declaring channel needs: `channel_needs` of completeness.evaluate."""
        return {channel: entry.required for channel, entry in self.channels.items()}


class RequirementsTooLarge(DomainError):
    """The set of every channel's requirements would outgrow what storage keeps in one read."""

    def __init__(self, channel: str, size: int, limit: int) -> None:
        super().__init__(
            f"the requirements of channel {channel} would make every channel's requirements"
            f" {size} bytes stored; at most {limit} are kept"
        )
        self.channel = channel
        self.size = size
        self.limit = limit
