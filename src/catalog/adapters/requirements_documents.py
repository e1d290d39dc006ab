"""Every channel's requirements as the one JSON document every store keeps (versioned like the
other documents, so a later shape can upgrade what is stored), and the size check every store
applies before writing it."""

from __future__ import annotations

from typing import Any

from catalog.adapters.stored_values import compact_json
from catalog.domain.channel_requirements import (
    MAX_REQUIREMENTS_BYTES,
    ChannelRequirements,
    RequirementsSet,
    RequirementsTooLarge,
)
from catalog.domain.completeness import parse_requirements
from catalog.domain.timestamps import format_time, parse_time
from catalog.service.ports import RequirementsChange

Document = dict[str, Any]
REQUIREMENTS_SCHEMA_VERSION = 1


def requirements_to_document(requirements: RequirementsSet) -> Document:
    return {
        "schema": REQUIREMENTS_SCHEMA_VERSION,
        "version": requirements.version,
        "channels": {
            channel: {
                "required": list(entry.required),
                "version": entry.version,
                "updated_at": format_time(entry.updated_at) if entry.updated_at else None,
            }
            for channel, entry in requirements.channels.items()
        },
    }


def requirements_from_document(doc: Document) -> RequirementsSet:
    channels = {
        channel: ChannelRequirements(
            channel=channel,
            required=parse_requirements({"required": entry["required"]}),
            version=entry["version"],
            updated_at=parse_time(entry["updated_at"]) if entry["updated_at"] else None,
        )
        for channel, entry in doc["channels"].items()
    }
    return RequirementsSet(channels, doc["version"])


def stored_requirements(change: RequirementsChange) -> str:
    """The stored text of the change's set; RequirementsTooLarge (nothing written) past
    MAX_REQUIREMENTS_BYTES."""
    text = compact_json(requirements_to_document(change.requirements))
    size = len(text.encode())
    if size > MAX_REQUIREMENTS_BYTES:
        raise RequirementsTooLarge(change.channel, size, MAX_REQUIREMENTS_BYTES)
    return text
