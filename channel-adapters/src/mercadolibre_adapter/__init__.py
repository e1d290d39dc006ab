"""Mercado Libre reference adapter (items API) on channel_kit."""

from mercadolibre_adapter.adapter import MercadoLibreAdapter, MercadoLibreSettings
from mercadolibre_adapter.mapping import map_item

__all__ = ["MercadoLibreAdapter", "MercadoLibreSettings", "map_item"]
