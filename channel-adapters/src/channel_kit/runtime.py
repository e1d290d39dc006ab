"""Building an adapter service from the environment (a process or a Lambda function).

| variable | what |
|---|---|
| `CATALOG_API_URL` | the catalog's base URL, e.g. `http://127.0.0.1:8000` |
| `CATALOG_CHANNEL_TOKEN` | a bearer token with the `channel:<slug>` role |
| `CATALOG_WEBHOOK_SECRET` | the webhook signing secret (`whsec_...`), webhook intake only |
| `ADAPTER_STATE_DB` | SQLite file for seen events and versions; in memory when unset |

On Lambda, `ADAPTER_STATE_DB` under `/tmp` lasts as long as the execution environment; a
DynamoDB store (see `stores`) is what makes deduplication survive across environments.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import httpx

from channel_kit.adapter import ChannelAdapter
from channel_kit.catalog_client import CatalogClient
from channel_kit.processor import EventProcessor
from channel_kit.sqlite_stores import SqliteSeenEvents, SqliteState, SqliteVersionLedger
from channel_kit.stores import MemorySeenEvents, MemoryVersionLedger

#: Well under the catalog relay's 10-second patience with a webhook.
HTTP_TIMEOUT = httpx.Timeout(5.0, connect=2.0)


@dataclass(frozen=True)
class KitSettings:
    catalog_url: str
    catalog_token: str
    webhook_secret: str | None = None
    state_db: str | None = None

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> KitSettings:
        env = os.environ if environ is None else environ
        missing = [
            name for name in ("CATALOG_API_URL", "CATALOG_CHANNEL_TOKEN") if not env.get(name)
        ]
        if missing:
            raise RuntimeError(f"set {', '.join(missing)}")
        return cls(
            catalog_url=env["CATALOG_API_URL"],
            catalog_token=env["CATALOG_CHANNEL_TOKEN"],
            webhook_secret=env.get("CATALOG_WEBHOOK_SECRET") or None,
            state_db=env.get("ADAPTER_STATE_DB") or None,
        )


def build_processor(
    settings: KitSettings, adapter_factory: Callable[[httpx.Client], ChannelAdapter]
) -> EventProcessor:
    """The processor for `adapter_factory(http)`, sharing one HTTP client (process-long)."""
    http = httpx.Client(timeout=HTTP_TIMEOUT)
    catalog = CatalogClient(settings.catalog_url, settings.catalog_token, http)
    if settings.state_db:
        state = SqliteState(settings.state_db)
        return EventProcessor(
            adapter_factory(http), catalog, SqliteSeenEvents(state), SqliteVersionLedger(state)
        )
    return EventProcessor(adapter_factory(http), catalog, MemorySeenEvents(), MemoryVersionLedger())
