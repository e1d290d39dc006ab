"""Ports: what the use cases need from the outside world. Adapters implement them."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import IO, Any, Protocol, runtime_checkable

from msgspec import Struct

from catalog.domain.channel_requirements import RequirementsSet
from catalog.domain.events import DomainEvent
from catalog.domain.history import HistoryEntry
from catalog.domain.jobs import ChunkRange, Job, JobKind, JobStatus, RowError
from catalog.domain.lifecycle import Status
from catalog.domain.listing import ListingState
from catalog.domain.product import Product
from catalog.domain.product_types import ProductType
from catalog.service.principals import Principal


class IdempotencyRecord(Struct, frozen=True):
    """The first outcome of a keyed request, replayed to retries of the same request."""

    merchant_id: str
    key: str
    fingerprint: str
    product: Product  # as the first request returned it; the store keeps a copy
    expires_at: datetime


class ListingsBefore(Struct, frozen=True):
    """Where the product's listings stood in the version a change replaces: the product's
    status and each listing's state. Lets a store that indexes listings leave untouched
    the index entries that did not move."""

    status: Status
    states: Mapping[str, ListingState]

    @classmethod
    def of(cls, product: Product) -> ListingsBefore:
        return cls(product.status, {c: lst.state for c, lst in product.listings.items()})


class SkuOwner(Struct, frozen=True):
    """Who holds a SKU of a merchant: a product (`variant_id` None) or one of its variants."""

    sku: str
    product_id: str
    variant_id: str | None = None


class Change(Struct, frozen=True):
    """Everything one use case writes, committed atomically or not at all.

    `expected_version` is the stored version this change replaces; 0 means a new product,
    which also claims its sku. A store raises VersionConflict, DuplicateSku or
    IdempotencyKeyRaced and writes nothing when a condition fails, and ProductTooLarge when
    the product or its history record would outgrow limits.MAX_DOCUMENT_BYTES stored.
    """

    product: Product
    expected_version: int
    history: HistoryEntry
    events: tuple[DomainEvent, ...]
    idempotency: IdempotencyRecord | None = None
    # None: unknown, so a store rewrites whatever it derives from the listings.
    listings_before: ListingsBefore | None = None
    # The type the replaced version had (None: untyped, or a new product): a store that counts
    # a type's products (to refuse deleting one in use) moves the count when it differs.
    type_before: str | None = None
    # Variant SKUs the change takes (DuplicateSku, nothing written, when one is held by any
    # product or variant of the merchant; a new product's own sku is claimed by the store
    # itself) and the ones it gives up. A SKU in both moves within the product.
    skus_claimed: tuple[SkuOwner, ...] = ()
    skus_released: tuple[str, ...] = ()


class StoredPage(Struct, frozen=True):
    """Products of one page and the backend's position after them (None: last page)."""

    items: list[Product]
    position: str | None


class MerchantPage(Struct, frozen=True):
    """Ids of merchants that have products, in ascending order, and the position after them
    (the last id; None: last page)."""

    items: list[str]
    position: str | None


class TypeChange(Struct, frozen=True):
    """One product type write, atomic with its events. `expected_version` is the stored
    version it replaces; 0 means a new type, refused with DuplicateProductType when the key
    exists. `deleted` removes the type, refused with ProductTypeInUse while a product has it.
    A store raises VersionConflict and writes nothing when the version moved on."""

    product_type: ProductType  # as written; for a deletion, as it was last
    expected_version: int
    events: tuple[DomainEvent, ...]
    deleted: bool = False


class TypePage(Struct, frozen=True):
    """Product types of one page, in key order, and the position after them (None: last)."""

    items: list[ProductType]
    position: str | None


class RequirementsChange(Struct, frozen=True):
    """A write of one channel's requirements: the whole set as it is to be stored (every
    channel's, `channel`'s replaced). `expected_version` is the stored set's version it
    replaces (0: none stored). A store raises VersionConflict and writes nothing when the set's
    version moved on (a write of any channel), RequirementsTooLarge when the set would outgrow
    MAX_REQUIREMENTS_BYTES stored."""

    channel: str
    requirements: RequirementsSet
    expected_version: int
    events: tuple[DomainEvent, ...] = ()


class ProductRules(Struct, frozen=True):
    """What a product write is judged by: the product's type (None for an untyped product,
    or a key the merchant has no type for) and every channel's requirements."""

    product_type: ProductType | None
    requirements: RequirementsSet


class ProductStore(Protocol):
    """Documents, history, outbox and idempotency records of every merchant.

    Every method takes the merchant id: there is no way to reach another tenant's data. The
    exceptions hold no tenant's data: the channels' requirements, the same for every
    merchant, and `merchants`, which names the merchants that have products and nothing of
    what they hold.
    """

    def get(self, merchant_id: str, product_id: str) -> Product | None: ...

    def page(
        self,
        merchant_id: str,
        *,
        status: Status | None,
        channel: str | None,
        limit: int,
        position: str | None,
        product_type: str | None = None,
    ) -> StoredPage:
        """A page of the merchant's products in id order, after `position`, keeping those
        with every filter given (`product_type`: products of that type; untyped products are
        in no type's pages). A page may hold fewer than `limit` products, even none, while
        `position` says more may follow: a backend that filters what its index read (DynamoDB)
        continues after the last product it read, so none is skipped."""
        ...

    def merchants(self, *, limit: int, position: str | None) -> MerchantPage:
        """Every merchant that has at least one product, in ascending id order, after
        `position`: the walk of work that concerns all merchants (a channel's requirements are
        platform-wide). The one method not bound to a merchant, returning only ids."""
        ...

    def history(
        self, merchant_id: str, product_id: str, *, limit: int, before_version: int | None
    ) -> list[HistoryEntry]: ...

    def idempotency_record(
        self, merchant_id: str, key: str, now: datetime
    ) -> IdempotencyRecord | None: ...

    def commit(self, change: Change) -> None: ...

    def sku_owner(self, merchant_id: str, sku: str) -> SkuOwner | None:
        """The product or variant holding the merchant's `sku`, in one storage read."""
        ...

    # Product types (DESIGN.md section 9): per merchant, like everything else.

    def product_type(self, merchant_id: str, key: str) -> ProductType | None: ...

    def product_types(self, merchant_id: str, *, limit: int, position: str | None) -> TypePage: ...

    def commit_type(self, change: TypeChange) -> None: ...

    # Channel requirements (DESIGN.md section 9): platform-wide, every channel's in one read.

    def channel_requirements(self) -> RequirementsSet: ...

    def commit_requirements(self, change: RequirementsChange) -> None: ...

    def product_rules(
        self, merchant_id: str, type_key: str | None, *, fresh: bool = False
    ) -> ProductRules:
        """The type `type_key` of the merchant (if any) and the channels' requirements, in at
        most one storage read. A store may answer requirements it read a few seconds ago
        (its configured age; the re-evaluation after a change catches up on what a write
        judged by the earlier ones); `fresh` reads them now."""
        ...


class OutboxRecord(Struct, frozen=True):
    seq: int
    event: DomainEvent


class Outbox(Protocol):
    """The committed events in commit order, and how far each sink has consumed them."""

    def read_after(self, seq: int, limit: int) -> list[OutboxRecord]: ...

    def offset(self, sink: str) -> int: ...

    def save_offset(self, sink: str, seq: int) -> None: ...

    def prune(self, up_to_seq: int) -> None:
        """Forget the events up to `up_to_seq` (every sink has them). Sequence numbers are
        never reused."""
        ...


class AssetStore(Protocol):
    """Object storage for image bytes; the catalog keeps only keys."""

    def put(self, key: str, data: bytes, content_type: str) -> None: ...

    def delete(self, key: str) -> None: ...

    def url_for(self, key: str) -> str:
        """A URL that serves the object, computed without any call to the storage."""
        ...


@runtime_checkable
class DirectUploads(Protocol):
    """Uploads that go from the client straight to object storage, past the API.

    A separate port from AssetStore so the core one stays minimal; every asset store of the
    catalog implements both (see service/uploads.py).
    """

    def presign_upload(
        self, key: str, content_type: str, max_bytes: int, expires_in: int
    ) -> tuple[str, dict[str, str]]:
        """Where and how to upload one object: a URL taking an HTML-form POST of `fields`
        plus a `file` part, accepted only for `key`, with this content type, between 1 and
        `max_bytes` bytes, for `expires_in` seconds. Computed without calling the storage."""
        ...

    def read(self, key: str, max_bytes: int) -> bytes | None:
        """The object's bytes, None when there is none. Reads at most `max_bytes` + 1 bytes:
        a longer result means the object is larger than `max_bytes`."""
        ...

    def close_upload(self, key: str) -> None:
        """End the ticket of `key` for good (its upload was confirmed or rejected): the object
        under `key` is removed and `upload_closed(key)` holds for at least as long as the
        ticket could still be used. Storage that can refuses later uploads with that ticket
        (the embedded one); S3 cannot revoke a presigned POST, so there only the catalog's
        confirmation refuses them. Idempotent."""
        ...

    def upload_closed(self, key: str) -> bool:
        """Whether close_upload(key) was called (and its mark has not yet expired)."""
        ...


class ImageInfo(Struct, frozen=True):
    content_type: str
    extension: str
    width: int
    height: int


class ImageInspector(Protocol):
    def inspect(self, data: bytes) -> ImageInfo:
        """Read type and dimensions from the bytes; raises ImageRejected."""
        ...


class Clock(Protocol):
    def now(self) -> datetime: ...


class IdGenerator(Protocol):
    def new_id(self) -> str: ...


# ------------------------------------------------------------------ authentication


class InvalidToken(Exception):
    """The request's credentials are not acceptable (the client gets a 401)."""


class VerifierUnavailable(Exception):
    """Credentials cannot be checked right now (the issuer's keys are unreachable): a 503,
    not a 401, so clients retry instead of throwing their token away."""


class TokenVerifier(Protocol):
    """Turns a bearer token into the Principal it was issued to.

    `verify` raises InvalidToken when the token is not acceptable, VerifierUnavailable when
    it cannot be checked now.

    A verifier may also define `authenticate_request(scope) -> Principal | None` (see
    RequestAuthenticator): the API then authenticates from the ASGI scope instead of the
    bearer token, None meaning the request carries no credentials.
    """

    def verify(self, token: str) -> Principal: ...


class RequestAuthenticator(Protocol):
    """The optional capability of verifiers whose credentials travel outside the token, such
    as the claims API Gateway puts in the Lambda event (catalog.adapters.apigw_auth)."""

    def authenticate_request(self, scope: Mapping[str, Any]) -> Principal | None: ...


# ------------------------------------------------------------------ assets served by the API


class AssetUnavailable(Exception):
    """No object can be served for this key and signature (bad key, signature, expiry or
    missing file). Deliberately one error: a caller learns nothing about which."""


class UploadRefused(Exception):
    """A direct upload the ticket does not allow; `status` is what the server answers (403 for
    a bad, tampered, expired or used-up ticket, 413 for too many bytes, 400 for none)."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


class UploadPolicy(Struct, frozen=True):
    """What one direct-upload ticket allows: one key, one content type, 1..max_bytes bytes,
    until `expires` (Unix time)."""

    key: str
    content_type: str
    max_bytes: int
    expires: int


class SignedAssetFiles(Protocol):
    """Objects the API itself serves and receives behind signatures: the embedded
    deployment's twin of S3's presigned GET and POST (GET and POST /assets). On AWS there is
    none: S3 serves and receives the bytes."""

    def open(self, key: str, expires: int, signature: str) -> tuple[Path, str]:
        """The file and content type behind a signed URL; raises AssetUnavailable."""
        ...

    def seconds_left(self, expires: int) -> int:
        """How long a URL expiring at `expires` stays valid: the bound of any cache max-age."""
        ...

    def verify_upload(self, fields: Mapping[str, str]) -> UploadPolicy:
        """The policy of a form upload's fields, checked before its file is read; raises
        UploadRefused."""
        ...

    def store_upload(self, policy: UploadPolicy, data: bytes | IO[bytes]) -> None:
        """Store the file of an upload whose policy passed verify_upload, read from `data` in
        chunks when it is a stream; raises UploadRefused."""
        ...


# ------------------------------------------------------------------ processes


class BackgroundWorker(Protocol):
    """Work a server process runs beside the requests (the embedded relay, the sweeper)."""

    def start(self) -> None: ...

    def stop(self, timeout: float = ...) -> None: ...


# ------------------------------------------------------------------ jobs (DESIGN.md section 11)


class JobPage(Struct, frozen=True):
    """Jobs of one page, newest first, and the position after them (None: last page)."""

    items: list[Job]
    position: str | None


class JobStore(Protocol):
    """Jobs of every merchant, and the atomic write of a batch of a job's rows.

    A job's record is written by the worker running it (`commit_rows`, conditioned on its
    version) and by `cancel` (which only stops a job that has not started, or asks a running
    one to stop). Every method takes the merchant id but `unfinished_jobs`, which names the
    jobs a restarted worker resumes. `rows_per_batch` is how many rows of a job its worker
    writes in one `commit_rows`: what one transaction of the backend holds with room to spare.
    """

    rows_per_batch: int

    def create_job(self, job: Job) -> None:
        """Store a new job; IdempotencyKeyRaced when another job of the merchant has its
        `idempotency_key`."""
        ...

    def job(self, merchant_id: str, job_id: str) -> Job | None: ...

    def job_by_key(self, merchant_id: str, key: str) -> Job | None: ...

    def jobs(
        self,
        merchant_id: str,
        *,
        kind: JobKind | None,
        status: JobStatus | None,
        limit: int,
        position: str | None,
    ) -> JobPage: ...

    def commit_rows(
        self,
        job: Job,
        expected_version: int,
        changes: Sequence[Change],
        errors: Sequence[RowError],
        events: Sequence[DomainEvent] = (),
    ) -> None:
        """In one transaction: each change as `ProductStore.commit` writes it, the job's
        record (`job.version` is the new version; VersionConflict when the stored one is not
        `expected_version`), the rows' errors and the job's own events. Nothing is written
        when any condition fails; the error is the first change's that failed."""
        ...

    def cancel(self, merchant_id: str, job_id: str, now: datetime) -> None:
        """A QUEUED job is CANCELLED at once; a RUNNING one is asked to stop
        (`cancel_requested`); a finished one is left as it is."""
        ...

    def cancel_requested(self, merchant_id: str, job_id: str) -> bool: ...

    def job_errors(
        self, merchant_id: str, job_id: str, *, after_line: int, limit: int
    ) -> list[RowError]:
        """The job's row errors in line order, after `after_line`."""
        ...

    def unfinished_jobs(self) -> list[tuple[str, str]]:
        """(merchant id, job id) of every QUEUED or RUNNING job, oldest first."""
        ...


class JobFiles(Protocol):
    """The files of jobs: what an import reads, what an export writes."""

    def save(self, key: str, stream: IO[bytes]) -> int:
        """Store the stream's bytes under `key`, read in chunks; the number of bytes."""
        ...

    def open(self, key: str) -> IO[bytes]:
        """The file under `key`, for reading from its start; FileNotFoundError if none."""
        ...

    def write(self, key: str, offset: int, data: bytes) -> int:
        """Cut the file under `key` (created if none) at `offset` and append `data`; the new
        size. A job resumed after a crash cuts what it wrote past its last committed batch."""
        ...

    def download_url(self, key: str) -> str:
        """A URL that serves the file without credentials for a while (signed), computed
        without any call to the storage."""
        ...

    def upload_ticket(
        self, key: str, content_type: str, max_bytes: int, expires_in: int
    ) -> tuple[str, dict[str, str]]:
        """Where a client uploads a file to `key` itself, past the API (DirectUploads'
        presigned form POST: `fields` plus a `file` part), computed without any call."""
        ...


# ------------------------------------------------------------------ one job on several workers


class ChunkEnd(Struct, frozen=True):
    """The end of a chunk's parent job, written by the commit that ends its last chunk: the
    parent as it ends, the version it was read at, and its JobFinished."""

    job: Job
    expected_version: int
    event: DomainEvent


class JobChunks(Protocol):
    """An import cut into chunks run side by side, each a record of its own (Job.chunk_of)
    that its worker commits as it would a job, the batch's counts added to the parent's in
    the same transaction. Only a backend with many workers has this port (DynamoDB); the
    others run every job as one (JobsContext.chunking is None)."""

    def split(self, job: Job, expected_version: int, ranges: Sequence[ChunkRange]) -> None:
        """In one transaction: the job's record (`job.chunks` = len(ranges), RUNNING, its
        total; VersionConflict when the stored version is not `expected_version`), its
        counters and its count of chunks left, and the ranges."""
        ...

    def chunk_range(self, merchant_id: str, job_id: str, number: int) -> ChunkRange | None:
        """Chunk `number` of a split job's ranges; None when the job was not split."""
        ...

    def chunk(self, merchant_id: str, job_id: str, number: int) -> Job | None:
        """The chunk's record once its first commit wrote it; None before."""
        ...

    def parent(self, merchant_id: str, job_id: str) -> tuple[Job, int] | None:
        """A split job with the counters its chunks have added up, and how many of its chunks
        have not ended."""
        ...

    def commit_chunk(
        self,
        chunk: Job,
        expected_version: int,
        changes: Sequence[Change],
        errors: Sequence[RowError],
        counted: Mapping[str, int],
        *,
        chunks_left: int | None = None,
        parent_end: ChunkEnd | None = None,
    ) -> None:
        """In one transaction: the changes and the chunk's record as JobStore.commit_rows
        writes them (VersionConflict on the chunk's version; version 0: the record is new),
        the rows' errors as the parent's, and `counted` added to the parent's counters.
        With `chunks_left` (the chunk's end), the parent's count of chunks left goes from
        that to one less (ChunksLeftChanged when it is not that any more) and, with
        `parent_end`, the parent ends with it: its record, its event, its unfinished marker
        gone."""
        ...


class ChunkQueue(Protocol):
    """Where the chunks of a split job go to be run, each on a worker of its own."""

    def enqueue_chunks(self, merchant_id: str, job_id: str, numbers: Sequence[int]) -> None: ...


class JobQueue(Protocol):
    """Where a new job goes to be run (the embedded worker's queue; SQS on AWS)."""

    def enqueue(self, merchant_id: str, job_id: str) -> None: ...


class SignInRefused(Exception):
    """The identity provider's answer signs nobody in: a refused or replayed code, an ID token
    that fails verification. The person starts again."""


class SignInUnavailable(Exception):
    """The identity provider cannot be reached, or answers what no provider should: the
    person tries again later."""


class ConsoleSignIn(Protocol):
    """The console's sign-in with an OpenID Connect provider: authorization code with PKCE."""

    def authorization_url(
        self, *, state: str, nonce: str, code_challenge: str, redirect_uri: str
    ) -> str:
        """Where to send the browser to sign in (S256 `code_challenge`); the provider comes
        back to `redirect_uri` with a code and `state`. SignInUnavailable when unreachable."""
        ...

    def exchange(
        self, *, code: str, code_verifier: str, redirect_uri: str, nonce: str
    ) -> Principal:
        """The person `code` signs in, read from the provider's ID token once it is verified
        (signature, issuer, audience, expiry, `nonce`). SignInRefused or SignInUnavailable."""
        ...
