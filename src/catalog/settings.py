"""Settings from the environment (prefix CATALOG_), read once by the composition root."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

from pydantic import field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="CATALOG_", extra="ignore")

    backend: Literal["embedded", "aws"] = "embedded"
    data_dir: Path = Path(".catalog")
    # Absolute base of the URLs the embedded server gives out (image URLs, Location).
    public_url: str = "http://127.0.0.1:8000"
    auth: Literal["local", "apigw", "jwks"] = "local"
    webhook_urls: Annotated[list[str], NoDecode] = []
    webhook_secret: str | None = None  # defaults to one derived from the data folder's secret
    relay_poll_seconds: float = 0.5

    # AWS backend
    table_name: str = "catalog"
    bucket_name: str = "catalog-assets"
    event_bus_name: str = "catalog"
    asset_base_url: str | None = None

    @field_validator("webhook_urls", mode="before")
    @classmethod
    def _split_urls(cls, value: object) -> object:
        if isinstance(value, str):
            return [url.strip() for url in value.split(",") if url.strip()]
        return value
