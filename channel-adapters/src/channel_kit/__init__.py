"""channel_kit: what a catalog channel adapter needs besides the channel itself.

See channel-adapters/README.md for the guide. The public surface is re-exported here.
"""

from channel_kit.adapter import ChannelAdapter, ChannelRejected, ChannelUnavailable, Published
from channel_kit.catalog_client import (
    CatalogClient,
    CatalogRejected,
    CatalogUnavailable,
    ChannelRequirements,
    ReportAnswer,
    RetryPolicy,
)
from channel_kit.declaration import DeclarationState, RequirementsDeclaration
from channel_kit.events import CatalogEvent, MalformedEvent
from channel_kit.processor import EventHandler, EventProcessor, Handling, Result
from channel_kit.scope import MerchantScope
from channel_kit.sqlite_stores import (
    SqlitePublishedItems,
    SqliteSeenEvents,
    SqliteState,
    SqliteVersionLedger,
)
from channel_kit.sqs import sqs_handler
from channel_kit.stores import (
    ListingKey,
    MemoryPublishedItems,
    MemorySeenEvents,
    MemoryVersionLedger,
    PublishedItems,
    SeenEvents,
    VersionLedger,
)
from channel_kit.view import Image, Listing, Money, ProductView, Variant
from channel_kit.webhook import webhook_app

__all__ = [
    "CatalogClient",
    "CatalogEvent",
    "CatalogRejected",
    "CatalogUnavailable",
    "ChannelAdapter",
    "ChannelRejected",
    "ChannelRequirements",
    "ChannelUnavailable",
    "DeclarationState",
    "EventHandler",
    "EventProcessor",
    "Handling",
    "Image",
    "Listing",
    "ListingKey",
    "MalformedEvent",
    "MemoryPublishedItems",
    "MemorySeenEvents",
    "MemoryVersionLedger",
    "MerchantScope",
    "Money",
    "ProductView",
    "Published",
    "PublishedItems",
    "ReportAnswer",
    "RequirementsDeclaration",
    "Result",
    "RetryPolicy",
    "SeenEvents",
    "SqlitePublishedItems",
    "SqliteSeenEvents",
    "SqliteState",
    "SqliteVersionLedger",
    "Variant",
    "VersionLedger",
    "sqs_handler",
    "webhook_app",
]
