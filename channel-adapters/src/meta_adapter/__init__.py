"""Meta (Facebook and Instagram) catalog reference adapter (Catalog Batch API) on channel_kit."""

from meta_adapter.adapter import MetaCatalogAdapter, MetaSettings
from meta_adapter.mapping import map_item

__all__ = ["MetaCatalogAdapter", "MetaSettings", "map_item"]
