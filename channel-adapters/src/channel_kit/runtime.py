"""Building an adapter service from the environment (a process or a Lambda function).

| variable | what |
|---|---|
| `CATALOG_API_URL` | the catalog's base URL, e.g. `http://127.0.0.1:8000` |
| `CATALOG_CHANNEL_TOKEN` | a `channel:<slug>` token scoped to the merchants served |
| `ADAPTER_MERCHANTS` | the merchants served (comma separated, or `*`); default: the token's |
| `CATALOG_WEBHOOK_SECRET` | the webhook signing secret (`whsec_...`), webhook intake only |
| `ADAPTER_STATE_DB` | SQLite file for seen events, versions, published items; else in memory |

Events of merchants outside the scope are ignored. Without ADAPTER_MERCHANTS and without a
`merchants` claim in the token (an issuer using another claim name), the service refuses to
start rather than guess.

The processor declares the adapter's requirements to the catalog as it is built, so before
the first event: when the webhook app is created, on the Lambda's first invocation. A failed
declaration does not stop the service; it is tried again later (`channel_kit.declaration`).

On Lambda, `ADAPTER_STATE_DB` under `/tmp` lasts as long as the execution environment; a
DynamoDB store (see `stores`) is what makes deduplication survive across environments.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import httpx

from channel_kit.adapter import ChannelAdapter
from channel_kit.catalog_client import CatalogClient, RetryPolicy
from channel_kit.processor import EventProcessor
from channel_kit.scope import MerchantScope
from channel_kit.sqlite_stores import (
    SqlitePublishedItems,
    SqliteSeenEvents,
    SqliteState,
    SqliteVersionLedger,
)
from channel_kit.stores import (
    MemoryPublishedItems,
    MemorySeenEvents,
    MemoryVersionLedger,
    PublishedItems,
)

#: Well under the catalog relay's 10-second patience with a webhook.
HTTP_TIMEOUT = httpx.Timeout(5.0, connect=2.0)
#: The catalog client's retries (tests make them instant).
CATALOG_RETRY = RetryPolicy()


@dataclass(frozen=True)
class KitSettings:
    catalog_url: str
    catalog_token: str
    merchants: MerchantScope
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
        token = env["CATALOG_CHANNEL_TOKEN"]
        try:
            named = env.get("ADAPTER_MERCHANTS", "").strip()
            merchants = MerchantScope.parse(named) if named else MerchantScope.from_token(token)
        except ValueError as error:
            raise RuntimeError(f"ADAPTER_MERCHANTS: {error}") from None
        if merchants is None:
            raise RuntimeError(
                "set ADAPTER_MERCHANTS to the merchants this adapter serves (comma separated, "
                "or *): CATALOG_CHANNEL_TOKEN carries no merchants claim to read them from"
            )
        return cls(
            catalog_url=env["CATALOG_API_URL"],
            catalog_token=token,
            merchants=merchants,
            webhook_secret=env.get("CATALOG_WEBHOOK_SECRET") or None,
            state_db=env.get("ADAPTER_STATE_DB") or None,
        )


_states: dict[str, SqliteState] = {}
_states_lock = threading.Lock()


def shared_state(path: str) -> SqliteState:
    """One open state file per path in a process: the processor's stores and the adapter's
    share its connection and lock."""
    with _states_lock:
        if path not in _states:
            _states[path] = SqliteState(path)
        return _states[path]


def published_items(settings: KitSettings) -> PublishedItems:
    """Where an adapter keeps the items it published per listing: in `ADAPTER_STATE_DB` when
    set (surviving restarts), else in memory."""
    if settings.state_db:
        return SqlitePublishedItems(shared_state(settings.state_db))
    return MemoryPublishedItems()


def build_processor(
    settings: KitSettings,
    adapter_factory: Callable[[httpx.Client], ChannelAdapter],
    http: httpx.Client | None = None,
) -> EventProcessor:
    """The processor for `adapter_factory(http)`, sharing one HTTP client (process-long),
    with the adapter's requirements declared (or to be declared again: never fatal).

    `http` replaces that client (tests give one with a mock transport)."""
    http = http or httpx.Client(timeout=HTTP_TIMEOUT)
    catalog = CatalogClient(settings.catalog_url, settings.catalog_token, http, CATALOG_RETRY)
    if settings.state_db:
        state = shared_state(settings.state_db)
        processor = EventProcessor(
            adapter_factory(http),
            catalog,
            SqliteSeenEvents(state),
            SqliteVersionLedger(state),
            merchants=settings.merchants,
        )
    else:
        processor = EventProcessor(
            adapter_factory(http),
            catalog,
            MemorySeenEvents(),
            MemoryVersionLedger(),
            merchants=settings.merchants,
        )
    processor.declare_requirements()
    return processor
