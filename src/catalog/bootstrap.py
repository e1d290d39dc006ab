"""The composition root: builds every adapter from settings. Nothing here runs at import.

The only module besides the Lambda handlers that imports adapters: the HTTP app gets its ports
through the Container, and the CLI gets what it operates (the event log, dead letters, the AWS
resources) from the functions at the end of this module.
"""

from __future__ import annotations

import hashlib
import hmac
import threading
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from msgspec import Struct, field

# Adapters are imported inside the builders below, never here: the Lambda's cold path imports
# this module and must not load the embedded adapters, Pillow, httpx or PyJWT. These two load
# only the standard library.
from catalog.adapters.aws.clients import LazyClient, aws_client, aws_session
from catalog.adapters.aws.clients import aws_region as aws_region  # for `catalog aws`
from catalog.adapters.embedded.secrets import (
    SecretFileExposed,
    derive_key,
    load_or_create_secret,
)
from catalog.service.context import CatalogContext, Chunking, JobsContext
from catalog.service.cursors import CursorCodec
from catalog.service.ports import (
    AssetStore,
    BackgroundWorker,
    ConsoleSignIn,
    ProductStore,
    SignedAssetFiles,
    TokenVerifier,
)
from catalog.settings import Settings

if TYPE_CHECKING:
    from catalog.adapters.aws.dynamodb_store import DynamoDbStore
    from catalog.adapters.aws.index_backfill import BackfillReport
    from catalog.adapters.aws.provisioning import Provisioned
    from catalog.adapters.aws.relay_redrive import RedriveReport
    from catalog.adapters.aws.s3_job_files import S3JobFiles
    from catalog.adapters.aws.sqs_job_queue import SqsJobQueue
    from catalog.adapters.cloudevents import CloudEvent
    from catalog.adapters.embedded.dead_letters import SqliteDeadLetters
    from catalog.adapters.embedded.relay import RedriveOutcome
    from catalog.adapters.local_tokens import LocalTokens
    from catalog.adapters.webhook_targets import WebhookTargetPolicy
    from catalog.domain.events import DomainEvent

# Shortest CATALOG_CURSOR_SECRET accepted: a guessable key would let clients forge cursors.
MIN_CURSOR_SECRET_LENGTH = 32


class Container(Struct):
    settings: Settings
    ctx: CatalogContext
    tokens: TokenVerifier
    # Served by GET /assets/... on the embedded deployment only.
    local_assets: SignedAssetFiles | None = None
    # Imports, exports and bulk actions (DESIGN.md section 11).
    jobs: JobsContext | None = None
    # Signs the console's sessions and sign-in tickets; None: no console (/console is a 404).
    console_key: bytes | None = None
    # The console's OIDC sign-in (CATALOG_CONSOLE_OIDC_CLIENT_ID); None: sign-in links only.
    console_sign_in: ConsoleSignIn | None = None
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


def root_secret(settings: Settings) -> bytes:
    """The data folder's secret (created on first use); refused when others may read it."""
    try:
        return load_or_create_secret(settings.data_dir)
    except SecretFileExposed as exposed:
        raise ConfigurationError(str(exposed)) from exposed


def console_key(settings: Settings) -> bytes:
    """The key of the console's sessions and sign-in tickets (`catalog console`): derived from
    the data folder's secret (embedded) or from CATALOG_CURSOR_SECRET, which every API
    container shares (AWS)."""
    if settings.backend == "aws":
        return hmac.new(cursor_secret(settings), b"catalog/console", hashlib.sha256).digest()
    return derive_key(root_secret(settings), "console")


def console_sign_in(settings: Settings) -> ConsoleSignIn | None:
    """The console's sign-in with the issuer, when the console is registered as its client.
    Nothing is fetched here: the issuer's discovery document is read on the first sign-in."""
    client_id = settings.console_oidc_client_id
    if not client_id:
        return None
    if not settings.jwt_issuer:
        raise ConfigurationError(
            "CATALOG_CONSOLE_OIDC_CLIENT_ID needs CATALOG_JWT_ISSUER: the issuer the console "
            "signs in with (its <issuer>/.well-known/openid-configuration is read)"
        )
    from catalog.adapters.oidc_sign_in import OidcSignIn

    secret = settings.console_oidc_client_secret
    return OidcSignIn(
        settings.jwt_issuer,
        client_id,
        client_secret=secret.get_secret_value() if secret else None,
        scopes=settings.console_oidc_scopes,
        merchant_claim=settings.jwt_merchant_claim,
        roles_claim=settings.jwt_roles_claim,
        merchants_claim=settings.jwt_merchants_claim,
    )


def local_tokens(settings: Settings) -> LocalTokens:
    """The HS256 signer/verifier of the embedded deployment (`catalog token`)."""
    from catalog.adapters.local_tokens import LocalTokens

    return LocalTokens(derive_key(root_secret(settings), "jwt"))


def token_verifier(settings: Settings) -> TokenVerifier:
    """The verifier CATALOG_AUTH names; `local` keeps its secret in the data folder."""
    if settings.auth == "apigw":
        from catalog.adapters.apigw_auth import ApiGatewayClaims

        return ApiGatewayClaims(
            merchant_claim=settings.jwt_merchant_claim,
            roles_claim=settings.jwt_roles_claim,
            merchants_claim=settings.jwt_merchants_claim,
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
            merchants_claim=settings.jwt_merchants_claim,
        )
    return local_tokens(settings)


def webhook_signing_secret(settings: Settings) -> str:
    """Standard Webhooks secret (whsec_ + base64) used to sign every webhook delivery."""
    from catalog.adapters.embedded.relay import webhook_secret_text

    configured = settings.webhook_secret.get_secret_value() if settings.webhook_secret else ""
    if configured:
        # Standard Webhooks secrets are whsec_<base64>; a plain passphrase is encoded as such.
        if configured.startswith("whsec_"):
            return configured
        return webhook_secret_text(configured.encode())
    return webhook_secret_text(derive_key(root_secret(settings), "webhooks"))


def webhook_target_policy(settings: Settings) -> WebhookTargetPolicy:
    """Which addresses webhooks may go to (adapters/webhook_targets.py)."""
    from catalog.adapters.webhook_targets import WebhookTargetPolicy

    return WebhookTargetPolicy(allow_http_loopback=settings.webhook_allow_http_loopback)


def checked_webhook_urls(settings: Settings, policy: WebhookTargetPolicy) -> list[str]:
    """CATALOG_WEBHOOK_URLS, each resolved and checked now: a target the relay would refuse
    stops the start rather than failing every delivery later. Deliveries check again."""
    from catalog.adapters.webhook_targets import WebhookTargetRefused

    for url in settings.webhook_urls:
        try:
            policy.checked_addresses(url)
        except WebhookTargetRefused as refused:
            raise ConfigurationError(f"CATALOG_WEBHOOK_URLS: {refused}") from refused
    return settings.webhook_urls


def _embedded_container(settings: Settings) -> Container:
    from catalog.adapters.embedded.dead_letters import SqliteDeadLetters
    from catalog.adapters.embedded.event_handlers import HandlerSink
    from catalog.adapters.embedded.event_log import EventLogSink
    from catalog.adapters.embedded.job_worker import JobWorker
    from catalog.adapters.embedded.local_assets import LocalAssetStore
    from catalog.adapters.embedded.relay import OutboxRelay, RetryPolicy, WebhookSink
    from catalog.adapters.embedded.sqlite_jobs import SqliteJobStore
    from catalog.adapters.embedded.sqlite_store import SqliteStore
    from catalog.adapters.embedded.upload_sweeper import UploadSweeper
    from catalog.adapters.job_files import LocalJobFiles
    from catalog.adapters.webhook_targets import webhook_client
    from catalog.service.jobs import run_job
    from catalog.service.reevaluation import reevaluate_after
    from catalog.service.uploads import STAGING_PREFIX, UPLOAD_TICKET_SECONDS

    data_dir = settings.data_dir
    secret = root_secret(settings)
    # The closure reads `relay` at call time: commits wake the relay that is built below.
    store = SqliteStore(data_dir / "catalog.db", on_commit=lambda: relay.wake())
    assets = LocalAssetStore(data_dir / "assets", settings.public_url, derive_key(secret, "assets"))
    policy = webhook_target_policy(settings)
    webhook_urls = checked_webhook_urls(settings, policy)
    http = webhook_client(policy)
    sinks: list[Any] = [EventLogSink(data_dir / "events.jsonl")]
    signing_secret = webhook_signing_secret(settings)
    sinks += [WebhookSink(url, signing_secret, http) for url in webhook_urls]
    # Re-evaluation after a type or requirements change, in the server process; the closure
    # reads `ctx` at call time: the context is built below, over the same store.
    sinks.append(HandlerSink("reevaluation", lambda event: reevaluate_after(ctx, event)))
    relay = OutboxRelay(
        store,
        sinks,
        poll_seconds=settings.relay_poll_seconds,
        retry=RetryPolicy(max_attempts=settings.webhook_max_attempts),
        dead_letters=SqliteDeadLetters(data_dir / "catalog.db"),
    )
    ctx = _catalog_context(store, assets, CursorCodec(derive_key(secret, "cursors")))
    job_store = SqliteJobStore(store)
    # The closure reads `jobs` at call time: the worker is also the jobs' queue.
    worker = JobWorker(
        lambda merchant_id, job_id, stopping: run_job(
            ctx, jobs, merchant_id, job_id, stopping=stopping
        ),
        job_store.unfinished_jobs,
    )
    # Job files live in the asset store's folder, so its signed GET /assets serves exports.
    files = LocalJobFiles(
        data_dir / "assets" / "jobs", assets.url_for, "jobs", presign_upload=assets.presign_upload
    )
    jobs = JobsContext(job_store, files, worker)
    return Container(
        settings=settings,
        ctx=ctx,
        tokens=token_verifier(settings),
        local_assets=assets,
        jobs=jobs,
        console_key=console_key(settings),
        console_sign_in=console_sign_in(settings),
        # The sweeper stands in for S3's lifecycle rule: direct uploads never confirmed go
        # once their ticket has expired.
        workers=[relay, UploadSweeper(assets, STAGING_PREFIX, UPLOAD_TICKET_SECONDS), worker],
        closers=[store.close, http.close],
    )


# ------------------------------------------------------------------ AWS


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
    """DynamoDB, S3 and the shared secret, and jobs when CATALOG_JOBS_QUEUE_URL names their
    queue; no workers: on AWS the outbox is relayed by the stream relay Lambda (DynamoDB
    Streams -> EventBridge), and jobs are run by the jobs worker Lambda (aws_jobs_worker), not
    by the API's process."""
    aws = _aws_catalog(settings)
    jobs = _aws_jobs(settings, aws) if settings.jobs_queue_url else None
    return Container(
        settings=settings,
        ctx=aws.ctx,
        tokens=aws.tokens,
        jobs=jobs,
        console_key=console_key(settings),
        console_sign_in=console_sign_in(settings),
    )


class _AwsCatalog(Struct, frozen=True):
    ctx: CatalogContext
    tokens: TokenVerifier
    store: DynamoDbStore
    s3: Any  # a LazyClient standing in for the S3 client
    session: Any


def _aws_catalog(settings: Settings) -> _AwsCatalog:
    from catalog.adapters.aws.dynamodb_store import DynamoDbStore
    from catalog.adapters.aws.s3_assets import S3AssetStore

    cursors = CursorCodec(cursor_secret(settings))  # first: a missing secret fails fast
    tokens = token_verifier(settings)
    # One session for every client: they share its credential resolution and loaded models.
    # The session and each client are created on first use: a cold container's first request
    # is often a health check, which reaches neither DynamoDB nor S3 (docs/performance.md).
    session = LazyClient(aws_session, threading.Lock())
    dynamodb = LazyClient(lambda: aws_client("dynamodb", session=session), threading.Lock())
    s3 = LazyClient(
        # Uploads carry up to a few MB: more room than a DynamoDB read. SigV4: botocore would
        # otherwise presign URLs with the deprecated SigV2 in us-east-1.
        lambda: aws_client("s3", read_timeout=15.0, session=session, signature_version="s3v4"),
        threading.Lock(),
    )
    store = DynamoDbStore(
        dynamodb,  # type: ignore[arg-type]  # a stand-in with the client's interface
        settings.table_name,
        requirements_max_age=settings.requirements_max_age,
    )
    assets = S3AssetStore(
        s3,  # type: ignore[arg-type]  # a stand-in with the client's interface
        settings.bucket_name,
        base_url=settings.asset_base_url,
        url_ttl_seconds=settings.asset_url_ttl_seconds,
    )
    ctx = _catalog_context(store, assets, cursors)
    return _AwsCatalog(ctx=ctx, tokens=tokens, store=store, s3=s3, session=session)


def _aws_jobs(settings: Settings, aws: _AwsCatalog) -> JobsContext:
    """The API's jobs: it stores them, keeps their input files and gives out their URLs; the
    job adapters are imported only here, when the deployment has jobs."""
    from catalog.adapters.aws.dynamodb_jobs import DynamoDbJobStore

    return JobsContext(
        DynamoDbJobStore(aws.store), _job_files(settings, aws), _jobs_queue(settings, aws)
    )


def _job_files(settings: Settings, aws: _AwsCatalog) -> S3JobFiles:
    from catalog.adapters.aws.s3_job_files import S3JobFiles

    return S3JobFiles(
        aws.s3,
        settings.jobs_bucket_name or settings.bucket_name,
        prefix=settings.jobs_prefix,
        url_ttl_seconds=settings.jobs_url_ttl_seconds,
    )


def _jobs_queue(settings: Settings, aws: _AwsCatalog) -> SqsJobQueue:
    from catalog.adapters.aws.sqs_job_queue import SqsJobQueue

    assert settings.jobs_queue_url is not None
    # Created on the first send: most requests start no job.
    sqs = LazyClient(lambda: aws_client("sqs", session=aws.session), threading.Lock())
    return SqsJobQueue(sqs, settings.jobs_queue_url)  # type: ignore[arg-type]  # a stand-in


class AwsJobsWorker(Struct, frozen=True):
    """What the jobs worker Lambda runs jobs with (entrypoints/lambda_jobs.py)."""

    ctx: CatalogContext
    queue: SqsJobQueue
    # A JobsContext for one run of one job: its S3JobFiles keeps what it learns of the job's
    # output between batches, and the output is made whole before the commit that ends it.
    for_run: Callable[[], JobsContext]


def aws_jobs_worker(settings: Settings) -> AwsJobsWorker:
    """The jobs worker's context, from the settings the API has (the same table, bucket, queue
    and cursor secret)."""
    if not settings.jobs_queue_url:
        raise ConfigurationError("the jobs worker needs CATALOG_JOBS_QUEUE_URL (its own queue)")
    from catalog.adapters.aws.dynamodb_jobs import DynamoDbJobStore
    from catalog.adapters.aws.s3_job_files import OutputsWholeAtFinish

    aws = _aws_catalog(settings)
    store = DynamoDbJobStore(aws.store)
    queue = _jobs_queue(settings, aws)
    # An import runs on several workers: its chunks' records in the table, a message each.
    chunking = Chunking(store, queue, settings.jobs_chunk_bytes)

    def for_run() -> JobsContext:
        files = _job_files(settings, aws)
        return JobsContext(OutputsWholeAtFinish(store, files), files, queue, chunking)

    return AwsJobsWorker(aws.ctx, queue, for_run)


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


# ------------------------------------------------------------------ operating (the CLI)

# What `catalog aws relay` appends the events it published to, under the data folder: apart
# from the embedded log, so the AWS path never shows an old embedded run's events.
AWS_RELAY_LOG = Path("aws") / "events.jsonl"


def aws_relay_log(settings: Settings) -> Path:
    return settings.data_dir / AWS_RELAY_LOG


def event_log_path(settings: Settings) -> Path:
    """Where the delivered events are logged: the embedded relay's events.jsonl, or on the
    aws backend the copy `catalog aws relay` keeps of what it published to the bus."""
    if settings.backend == "aws":
        return aws_relay_log(settings)
    from catalog.adapters.embedded.event_log import EVENT_LOG_FILE

    return settings.data_dir / EVENT_LOG_FILE


def read_event_log(path: Path, *, follow: bool) -> Iterator[str]:
    """The log's lines, oldest first; with `follow`, then the lines appended later."""
    from catalog.adapters.embedded import event_log

    return event_log.follow_event_log(path, follow=follow)


def as_cloudevent(event: DomainEvent) -> CloudEvent:
    """The envelope in which the event log and webhooks carry an event."""
    from catalog.adapters.cloudevents import to_cloudevent

    return to_cloudevent(event)


def dead_letters(settings: Settings) -> SqliteDeadLetters | None:
    """The data folder's dead-letter table; None when there is no database at all."""
    from catalog.adapters.embedded.dead_letters import SqliteDeadLetters
    from catalog.adapters.embedded.sqlite_store import SqliteStore

    path = settings.data_dir / "catalog.db"
    if not path.exists():
        return None
    SqliteStore(path).close()  # brings an older file's schema up to date
    return SqliteDeadLetters(path)


def redrive_parked_events(
    settings: Settings,
    letters: SqliteDeadLetters,
    *,
    sink: str | None = None,
    event_id: str | None = None,
) -> RedriveOutcome:
    """Deliver parked webhook events again, signed as the relay signs them; `sink` is a
    webhook URL (or its sink name) to redrive only its events."""
    from catalog.adapters.embedded.relay import Sink, WebhookSink, redrive_dead_letters
    from catalog.adapters.webhook_targets import webhook_client

    secret = webhook_signing_secret(settings)
    prefix = WebhookSink.name_prefix
    wanted = sink if sink is None or sink.startswith(prefix) else prefix + sink
    # Parked URLs may no longer be configured: each request is checked as the relay's are.
    with webhook_client(webhook_target_policy(settings)) as http:

        def webhook(name: str) -> Sink | None:
            if not name.startswith(prefix):
                return None
            return WebhookSink(name.removeprefix(prefix), secret, http, name=name)

        return redrive_dead_letters(letters, webhook, sink=wanted, event_id=event_id)


def provision_aws(settings: Settings) -> list[Provisioned]:
    """Create the table (with stream and TTL), the bucket and the event bus when missing,
    and the jobs queue (with its dead-letter queue) when CATALOG_JOBS_QUEUE_URL names one."""
    from catalog.adapters.aws.provisioning import (
        ensure_bucket,
        ensure_catalog_table,
        ensure_event_bus,
        ensure_jobs_queue,
    )

    provisioned = [
        ensure_catalog_table(aws_client("dynamodb"), settings.table_name),
        ensure_bucket(aws_client("s3"), settings.bucket_name, aws_region()),
        ensure_event_bus(aws_client("events"), settings.event_bus_name),
    ]
    if settings.jobs_queue_url:
        provisioned.append(ensure_jobs_queue(aws_client("sqs"), settings.jobs_queue_url))
    return provisioned


def local_stream_relay(
    settings: Settings, *, start: Literal["TRIM_HORIZON", "LATEST"]
) -> Callable[[], int]:
    """One poll of the table's stream, relayed to the bus by the relay Lambda's code and
    appended to aws_relay_log(settings); it returns how many records it handed over."""
    from catalog.adapters.aws.eventbridge_relay import outbox_event, relay_stream_records
    from catalog.adapters.aws.stream_reader import StreamFollower, table_stream_arn
    from catalog.adapters.embedded.event_log import EventLogSink
    from catalog.service.ports import OutboxRecord

    events_client = aws_client("events", read_timeout=15.0)
    log = EventLogSink(aws_relay_log(settings))
    arn = table_stream_arn(aws_client("dynamodb"), settings.table_name)
    follower = StreamFollower(aws_client("dynamodbstreams"), arn, start=start)

    def publish(records: Sequence[dict[str, Any]]) -> list[str]:
        failed = relay_stream_records(records, events_client, settings.event_bus_name)
        # The failed records are a suffix of the batch: the rest went out, in order.
        published = records[: len(records) - len(failed)]
        log.deliver(
            [OutboxRecord(0, event) for record in published if (event := outbox_event(record))]
        )
        return failed

    return lambda: follower.poll(publish)


def local_jobs_worker(settings: Settings, *, wait_seconds: int = 1) -> Callable[[], int]:
    """One poll of the jobs queue, a message handed to the jobs worker Lambda's code as its
    event source mapping would (adapters/aws/sqs_event_source.py); it returns how many."""
    from catalog.adapters.aws.sqs_event_source import SqsEventSource
    from catalog.entrypoints import lambda_jobs  # the function itself, as the relay's

    if not settings.jobs_queue_url:
        raise ConfigurationError("the jobs worker needs CATALOG_JOBS_QUEUE_URL (its own queue)")
    # A receive waits up to wait_seconds: the read timeout must outlast it.
    sqs = aws_client("sqs", read_timeout=wait_seconds + 15.0)
    source = SqsEventSource(
        sqs, settings.jobs_queue_url, lambda_jobs.handler, wait_seconds=wait_seconds
    )
    return source.poll


def redrive_relay_failures(settings: Settings, queue_url: str) -> RedriveReport:
    """Publish again the stream batches the relay Lambda gave up on (its failure queue)."""
    from catalog.adapters.aws.relay_redrive import RelayResources, redrive_failed_batches

    resources = RelayResources(
        sqs=aws_client("sqs"),
        streams=aws_client("dynamodbstreams"),
        dynamodb=aws_client("dynamodb", read_timeout=30.0),
        events=aws_client("events", read_timeout=15.0),
        table_name=settings.table_name,
        bus_name=settings.event_bus_name,
    )
    return redrive_failed_batches(resources, queue_url)


def backfill_table_indexes(
    settings: Settings, *, dry_run: bool, on_page: Callable[[BackfillReport], None]
) -> BackfillReport:
    """Give a table written before gsi3 and the merchant registry what they lack: the gsi3
    keys of its typed products, the registry entries of its merchants."""
    from catalog.adapters.aws.index_backfill import backfill_indexes

    dynamodb = aws_client("dynamodb", read_timeout=30.0)  # a Scan page is up to 1 MB
    return backfill_indexes(dynamodb, settings.table_name, dry_run=dry_run, on_page=on_page)
