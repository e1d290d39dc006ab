"""The composition root: builds every adapter from settings. Nothing here runs at import."""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

# Adapters are imported inside the builders below, never here: the Lambda's cold path imports
# this module and must not load the embedded adapters, Pillow, httpx or PyJWT.
from catalog.adapters.embedded.secrets import derive_key, load_or_create_secret
from catalog.service.context import CatalogContext
from catalog.service.cursors import CursorCodec
from catalog.service.principals import Principal
from catalog.settings import Settings

if TYPE_CHECKING:
    from catalog.adapters.embedded.local_assets import LocalAssetStore
    from catalog.adapters.local_tokens import LocalTokens
    from catalog.service.ports import AssetStore, ProductStore

# Shortest CATALOG_CURSOR_SECRET accepted: a guessable key would let clients forge cursors.
MIN_CURSOR_SECRET_LENGTH = 32


class TokenVerifier(Protocol):
    """Turns a bearer token into the Principal it was issued to.

    `verify` raises catalog.adapters.token_claims.InvalidToken (or LocalTokens' InvalidToken)
    when the token is not acceptable, VerifierUnavailable when it cannot be checked now.

    A verifier may also define `authenticate_request(scope) -> Principal | None` (see
    RequestAuthenticator): the API then authenticates from the ASGI scope instead of the
    bearer token, None meaning the request carries no credentials.
    """

    def verify(self, token: str) -> Principal: ...


class RequestAuthenticator(Protocol):
    """The optional capability of verifiers whose credentials travel outside the token, such
    as the claims API Gateway puts in the Lambda event (catalog.adapters.apigw_auth)."""

    def authenticate_request(self, scope: Mapping[str, Any]) -> Principal | None: ...


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
        return _aws_container(settings)
    return _embedded_container(settings)


class ConfigurationError(Exception):
    pass


def local_tokens(settings: Settings) -> LocalTokens:
    """The HS256 signer/verifier of the embedded deployment (`catalog token`)."""
    from catalog.adapters.local_tokens import LocalTokens

    return LocalTokens(derive_key(load_or_create_secret(settings.data_dir), "jwt"))


def token_verifier(settings: Settings) -> TokenVerifier:
    """The verifier CATALOG_AUTH names; `local` keeps its secret in the data folder."""
    if settings.auth == "apigw":
        from catalog.adapters.apigw_auth import ApiGatewayClaims

        return ApiGatewayClaims(
            merchant_claim=settings.jwt_merchant_claim, roles_claim=settings.jwt_roles_claim
        )
    if settings.auth == "jwks":
        jwks_url = settings.jwks_endpoint
        if not settings.jwt_issuer or not jwks_url:
            raise ConfigurationError(
                "CATALOG_AUTH=jwks needs CATALOG_JWT_ISSUER (the tokens' exact `iss`); "
                "CATALOG_JWKS_URL defaults to <issuer>/.well-known/jwks.json"
            )
        from jwt.algorithms import has_crypto

        if not has_crypto:
            raise ConfigurationError(
                "CATALOG_AUTH=jwks needs the cryptography package: "
                "pip install 'product-catalog[jwks]'"
            )
        from catalog.adapters.jwks_tokens import JwksTokens

        return JwksTokens(
            jwks_url,
            settings.jwt_issuer,
            settings.jwt_audience,
            merchant_claim=settings.jwt_merchant_claim,
            roles_claim=settings.jwt_roles_claim,
        )
    return local_tokens(settings)


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

    from catalog.adapters.embedded.dead_letters import SqliteDeadLetters
    from catalog.adapters.embedded.event_log import EventLogSink
    from catalog.adapters.embedded.local_assets import LocalAssetStore
    from catalog.adapters.embedded.relay import OutboxRelay, RetryPolicy, WebhookSink
    from catalog.adapters.embedded.sqlite_store import SqliteStore
    from catalog.adapters.embedded.upload_sweeper import UploadSweeper
    from catalog.service.uploads import STAGING_PREFIX, UPLOAD_TICKET_SECONDS

    data_dir = settings.data_dir
    secret = load_or_create_secret(data_dir)
    # The closure reads `relay` at call time: commits wake the relay that is built below.
    store = SqliteStore(data_dir / "catalog.db", on_commit=lambda: relay.wake())
    assets = LocalAssetStore(data_dir / "assets", settings.public_url, derive_key(secret, "assets"))
    http = httpx.Client(timeout=10.0)
    sinks: list[Any] = [EventLogSink(data_dir / "events.jsonl")]
    signing_secret = webhook_signing_secret(settings)
    sinks += [WebhookSink(url, signing_secret, http) for url in settings.webhook_urls]
    relay = OutboxRelay(
        store,
        sinks,
        poll_seconds=settings.relay_poll_seconds,
        retry=RetryPolicy(max_attempts=settings.webhook_max_attempts),
        dead_letters=SqliteDeadLetters(data_dir / "catalog.db"),
    )
    ctx = _catalog_context(store, assets, CursorCodec(derive_key(secret, "cursors")))
    return Container(
        settings=settings,
        ctx=ctx,
        tokens=token_verifier(settings),
        local_assets=assets,
        # The sweeper stands in for S3's lifecycle rule: direct uploads never confirmed go
        # once their ticket has expired.
        workers=[relay, UploadSweeper(assets, STAGING_PREFIX, UPLOAD_TICKET_SECONDS)],
        closers=[store.close, http.close],
    )


# ------------------------------------------------------------------ AWS


def aws_region() -> str | None:
    """AWS_REGION (what Lambda sets) or AWS_DEFAULT_REGION; botocore reads only the latter."""
    return os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or None


def aws_client(
    service: str, *, read_timeout: float = 5.0, session: Any = None, **options: Any
) -> Any:
    """A boto3 client configured for a request path: bounded timeouts, standard retries.

    The endpoint comes from botocore itself, which honours AWS_ENDPOINT_URL and
    AWS_ENDPOINT_URL_<SERVICE> (moto, LocalStack); credentials from the default chain.
    """
    import boto3
    from botocore.config import Config

    config = Config(
        region_name=aws_region(),
        connect_timeout=2,
        read_timeout=read_timeout,
        # standard: exponential backoff with jitter, retry quota, throttling-aware; 3 attempts
        # keep a request within API Gateway's 30 s integration timeout.
        retries={"mode": "standard", "max_attempts": 3},
        # Lambda freezes containers between invocations; keepalive probes let a kept-alive
        # connection be found dead early instead of on the next request's read timeout.
        tcp_keepalive=True,
        user_agent_extra="catalog",
        **options,
    )
    return (session or boto3).client(service, config=config)


class LazyClient:
    """A boto3 client created on first use, for a port that many requests never touch.

    Creating a client loads its service model (S3's is large): a cold Lambda container whose
    first requests never reach S3 (reads behind a CDN, JSON writes) does not pay for it.
    """

    def __init__(self, create: Callable[[], Any], lock: threading.Lock) -> None:
        self._create = create
        self._lock = lock
        self._client: Any = None

    def __getattr__(self, name: str) -> Any:
        # Only reached for the client's attributes (methods, meta, exceptions).
        client = self._client
        if client is None:
            with self._lock:
                if self._client is None:
                    self._client = self._create()
                client = self._client
        return getattr(client, name)


def cursor_secret(settings: Settings) -> bytes:
    """CATALOG_CURSOR_SECRET, which every container serving the API must share."""
    secret = settings.cursor_secret.get_secret_value() if settings.cursor_secret else ""
    if len(secret) < MIN_CURSOR_SECRET_LENGTH:
        raise ConfigurationError(
            "CATALOG_BACKEND=aws needs CATALOG_CURSOR_SECRET: at least "
            f"{MIN_CURSOR_SECRET_LENGTH} random characters (e.g. `openssl rand -hex 32`), the "
            "same for every container; in a template, resolve it from Secrets Manager or SSM "
            "at deploy time"
        )
    return secret.encode()


def _aws_container(settings: Settings) -> Container:
    """DynamoDB, S3 and the shared secret; no workers: on AWS the outbox is relayed by the
    stream relay Lambda (DynamoDB Streams -> EventBridge), not by the API's process."""
    import boto3

    from catalog.adapters.aws.dynamodb_store import DynamoDbStore
    from catalog.adapters.aws.s3_assets import S3AssetStore

    cursors = CursorCodec(cursor_secret(settings))  # first: a missing secret fails fast
    tokens = token_verifier(settings)
    # One session for both clients: they share its credential resolution and loaded models.
    session = boto3.session.Session()
    # Nearly every route reads or writes DynamoDB: its client is built now, with the app.
    dynamodb = aws_client("dynamodb", session=session)
    s3 = LazyClient(
        # Uploads carry up to a few MB: more room than a DynamoDB read. SigV4: botocore would
        # otherwise presign URLs with the deprecated SigV2 in us-east-1.
        lambda: aws_client("s3", read_timeout=15.0, session=session, signature_version="s3v4"),
        threading.Lock(),
    )
    store = DynamoDbStore(dynamodb, settings.table_name)
    assets = S3AssetStore(
        s3,  # type: ignore[arg-type]  # a stand-in with the client's interface
        settings.bucket_name,
        base_url=settings.asset_base_url,
        url_ttl_seconds=settings.asset_url_ttl_seconds,
    )
    ctx = _catalog_context(store, assets, cursors)
    return Container(settings=settings, ctx=ctx, tokens=tokens)


def _catalog_context(
    store: ProductStore, assets: AssetStore, cursors: CursorCodec
) -> CatalogContext:
    """The use cases' context on either backend: what differs is the store and the assets."""
    from catalog.adapters.pillow_images import PillowImageInspector
    from catalog.adapters.system_clock import SystemClock
    from catalog.adapters.ulid_ids import UlidIds

    return CatalogContext(
        store=store,
        assets=assets,
        images=PillowImageInspector(),
        clock=SystemClock(),
        ids=UlidIds(),
        cursors=cursors,
    )
