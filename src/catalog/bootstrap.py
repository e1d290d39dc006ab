"""The composition root: builds every adapter from settings. Nothing here runs at import."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from catalog.adapters.embedded.secrets import derive_key, load_or_create_secret
from catalog.adapters.local_tokens import LocalTokens
from catalog.service.context import CatalogContext
from catalog.service.cursors import CursorCodec
from catalog.service.principals import Principal
from catalog.settings import Settings

if TYPE_CHECKING:
    from catalog.adapters.embedded.local_assets import LocalAssetStore


class TokenVerifier(Protocol):
    def verify(self, token: str) -> Principal:
        """Raises catalog.adapters.local_tokens.InvalidToken when the token is not acceptable."""
        ...


class BackgroundWorker(Protocol):
    def start(self) -> None: ...

    def stop(self, timeout: float = ...) -> None: ...


@dataclass
class Container:
    settings: Settings
    ctx: CatalogContext
    tokens: TokenVerifier
    # Served by GET /assets/... on the embedded deployment only.
    local_assets: LocalAssetStore | None = None
    workers: list[BackgroundWorker] = field(default_factory=list)
    closers: list[Callable[[], Any]] = field(default_factory=list)

    def start(self) -> None:
        for worker in self.workers:
            worker.start()

    def close(self) -> None:
        for worker in reversed(self.workers):
            worker.stop()
        for close in reversed(self.closers):
            close()


def build_container(settings: Settings) -> Container:
    """Every port wired for the configured backend."""
    if settings.backend == "aws":
        raise ConfigurationError(
            "CATALOG_BACKEND=aws: the AWS adapters are not part of this build yet"
        )
    return _embedded_container(settings)


class ConfigurationError(Exception):
    pass


def local_tokens(settings: Settings) -> LocalTokens:
    """The HS256 signer/verifier of the embedded deployment (`catalog token`)."""
    return LocalTokens(derive_key(load_or_create_secret(settings.data_dir), "jwt"))


def webhook_signing_secret(settings: Settings) -> str:
    """Standard Webhooks secret (whsec_ + base64) used to sign every webhook delivery."""
    from catalog.adapters.embedded.relay import webhook_secret_text

    configured = settings.webhook_secret
    if configured:
        # Standard Webhooks secrets are whsec_<base64>; a plain passphrase is encoded as such.
        if configured.startswith("whsec_"):
            return configured
        return webhook_secret_text(configured.encode())
    return webhook_secret_text(derive_key(load_or_create_secret(settings.data_dir), "webhooks"))


def _embedded_container(settings: Settings) -> Container:
    import httpx

    from catalog.adapters.embedded.event_log import EventLogSink
    from catalog.adapters.embedded.local_assets import LocalAssetStore
    from catalog.adapters.embedded.relay import OutboxRelay, WebhookSink
    from catalog.adapters.embedded.sqlite_store import SqliteStore
    from catalog.adapters.pillow_images import PillowImageInspector
    from catalog.adapters.system_clock import SystemClock
    from catalog.adapters.ulid_ids import UlidIds

    data_dir = settings.data_dir
    secret = load_or_create_secret(data_dir)
    # The closure reads `relay` at call time: commits wake the relay that is built below.
    store = SqliteStore(data_dir / "catalog.db", on_commit=lambda: relay.wake())
    assets = LocalAssetStore(data_dir / "assets", settings.public_url, derive_key(secret, "assets"))
    http = httpx.Client(timeout=10.0)
    sinks: list[Any] = [EventLogSink(data_dir / "events.jsonl")]
    signing_secret = webhook_signing_secret(settings)
    sinks += [WebhookSink(url, signing_secret, http) for url in settings.webhook_urls]
    relay = OutboxRelay(store, sinks, poll_seconds=settings.relay_poll_seconds)
    ctx = CatalogContext(
        store=store,
        assets=assets,
        images=PillowImageInspector(),
        clock=SystemClock(),
        ids=UlidIds(),
        cursors=CursorCodec(derive_key(secret, "cursors")),
    )
    return Container(
        settings=settings,
        ctx=ctx,
        tokens=LocalTokens(derive_key(secret, "jwt")),
        local_assets=assets,
        workers=[relay],
        closers=[store.close, http.close],
    )
