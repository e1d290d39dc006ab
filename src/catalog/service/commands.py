"""What each use case is asked to do, as typed commands and queries.

Entrypoints (the HTTP API, the CLI, a job worker, the console) translate their input into one
of these and call the use case with the Principal making the request. Bodies are parsed here,
by the domain's parsers, once: whichever entrypoint built a command, a bad field is reported
with the same JSON pointer and message. Who may run a command is decided by the use case.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import Any

from msgspec import Struct, field

from catalog.domain import limits
from catalog.domain.editable import (
    EditableFields,
    parse_editable,
    parse_patch,
    reject_unknown,
)
from catalog.domain.errors import FieldErrors, InvalidField
from catalog.domain.jobs import ImportFormat, JobKind, JobStatus
from catalog.domain.lifecycle import Status, parse_requested_status
from catalog.domain.listing import ListingOutcome, parse_outcome
from catalog.domain.product import EDITABLE_FIELDS
from catalog.domain.product_types import (
    TYPE_CONTENT_MEMBERS,
    TypeContent,
    parse_type_content,
    parse_type_key,
)
from catalog.domain.values import JSON, parse_channel, parse_sku, parse_text
from catalog.domain.variants import (
    VariantBody,
    parse_variant_bodies,
    parse_variant_body,
    parse_variant_patch,
)

# The types the image inspector accepts; anything else would be rejected at confirmation, so
# an upload ticket for it is refused before the client spends an upload on it.
UPLOADABLE_TYPES = ("image/png", "image/jpeg", "image/webp", "image/gif")


def fingerprint(payload: Any) -> str:
    """A stable digest of a request body, to tell a retry from a different request."""
    canonical = json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


class KeyedRequest(Struct, frozen=True):
    """A request sent with an Idempotency-Key: the key and a digest of what was asked."""

    key: str
    fingerprint: str

    @classmethod
    def of(cls, key: str | None, payload: Any) -> KeyedRequest | None:
        return cls(key, fingerprint(payload)) if key else None


def _object(body: JSON, what: str) -> Mapping[str, JSON]:
    if not isinstance(body, dict):
        raise InvalidField("/", f"{what} must be a JSON object")
    return body


def _optional_alt(value: JSON) -> str | None:
    return parse_text(value, "/alt", limits.MAX_ALT_LENGTH, required=False)


class ProductTarget(Struct, frozen=True):
    """The product a command or query is about."""

    merchant_id: str
    product_id: str


# ------------------------------------------------------------------ products


class RegisterProduct(Struct, frozen=True):
    merchant_id: str
    sku: str
    fields: EditableFields
    idempotency: KeyedRequest | None = None
    # Its variants, without the ids the use case makes (errors name them by index).
    variants: tuple[VariantBody, ...] = ()

    @classmethod
    def from_json(
        cls, merchant_id: str, body: JSON, idempotency_key: str | None = None
    ) -> RegisterProduct:
        document = _object(body, "a product")
        errors = FieldErrors()
        known = ("sku", *EDITABLE_FIELDS, "variants")
        reject_unknown(document, known, errors, "is not a product field")
        sku = errors.check(parse_sku, document.get("sku"))
        variants = errors.check(parse_variant_bodies, document.get("variants"))
        fields = parse_editable(document, errors)  # raises every error collected so far
        assert sku is not None and variants is not None
        keyed = KeyedRequest.of(idempotency_key, body)
        return cls(merchant_id, sku, fields, keyed, variants)


class PatchProduct(ProductTarget, frozen=True):
    """A JSON merge patch (RFC 7396) of the editable fields."""

    patch: Mapping[str, JSON]
    if_match: int | None = None

    @classmethod
    def from_json(
        cls, merchant_id: str, product_id: str, body: JSON, if_match: int | None = None
    ) -> PatchProduct:
        return cls(merchant_id, product_id, parse_patch(body), if_match)


class ChangeStatus(ProductTarget, frozen=True):
    status: Status
    reason: str | None = None
    if_match: int | None = None

    @classmethod
    def from_json(
        cls, merchant_id: str, product_id: str, body: JSON, if_match: int | None = None
    ) -> ChangeStatus:
        document = _object(body, "a status change")
        errors = FieldErrors()
        reject_unknown(document, ("status", "reason"), errors, "is not a field of a status change")
        status = errors.check(parse_requested_status, document.get("status"))
        reason = errors.check(
            parse_text, document.get("reason"), "/reason", limits.MAX_REASON_LENGTH, required=False
        )
        errors.raise_any()
        assert status is not None
        return cls(merchant_id, product_id, status, reason, if_match)


class DeactivateProduct(ProductTarget, frozen=True):
    if_match: int | None = None


class GetProduct(ProductTarget, frozen=True):
    """Read one product."""


class ListProducts(Struct, frozen=True):
    merchant_id: str
    status: Status | None = None
    channel: str | None = None
    limit: int = limits.DEFAULT_PAGE_SIZE
    cursor: str | None = None
    product_type: str | None = None  # a type key: only products of that type


class ReadHistory(ProductTarget, frozen=True):
    limit: int = limits.DEFAULT_PAGE_SIZE
    cursor: str | None = None


# ------------------------------------------------------------------ channels


class ChannelRequest(ProductTarget, frozen=True):
    """A merchant's request about the product's listing on one channel."""

    channel: str
    if_match: int | None = None


class RequestPublication(ChannelRequest, frozen=True):
    """List the product on the channel (its adapter publishes it and reports back)."""


class RequestUnpublication(ChannelRequest, frozen=True):
    """Withdraw the product's listing from the channel."""


class ReportOutcome(ProductTarget, frozen=True):
    """What a channel's adapter reports about its listing of the product."""

    channel: str
    outcome: ListingOutcome

    @property
    def if_match(self) -> None:
        """Outcomes are never conditional: they name the version the adapter acted on."""
        return None

    @classmethod
    def from_json(
        cls, merchant_id: str, product_id: str, channel: str, body: JSON
    ) -> ReportOutcome:
        return cls(merchant_id, product_id, channel, parse_outcome(body))


# ------------------------------------------------------------------ images


class AddImage(ProductTarget, frozen=True):
    data: bytes
    alt: str | None = None
    if_match: int | None = None
    idempotency: KeyedRequest | None = None

    @classmethod
    def of(
        cls,
        merchant_id: str,
        product_id: str,
        data: bytes,
        alt: JSON = None,
        if_match: int | None = None,
        idempotency_key: str | None = None,
    ) -> AddImage:
        text = _optional_alt(alt)
        digest = hashlib.sha256(data).hexdigest()
        keyed = KeyedRequest.of(idempotency_key, ["image", product_id, text, digest])
        return cls(merchant_id, product_id, data, text, if_match, keyed)


class RemoveImage(ProductTarget, frozen=True):
    image_id: str
    if_match: int | None = None


class ChangeImageAlt(ProductTarget, frozen=True):
    """A new alternative text for one image; None removes it."""

    image_id: str
    alt: str | None = None
    if_match: int | None = None
    # False for a merge patch without `alt` (`{}`): it changes nothing, yet the image and
    # If-Match are checked as for any other patch.
    sets_alt: bool = True

    @classmethod
    def from_json(
        cls,
        merchant_id: str,
        product_id: str,
        image_id: str,
        body: JSON,
        if_match: int | None = None,
    ) -> ChangeImageAlt:
        """From a JSON merge patch of the image: `{"alt": "..."}`, or null or "" to remove it."""
        document = _object(body, "an image patch")
        errors = FieldErrors()
        reject_unknown(document, ("alt",), errors, "is not an image field you can change")
        alt = errors.check(_optional_alt, document.get("alt"))
        errors.raise_any()
        return cls(merchant_id, product_id, image_id, alt or None, if_match, "alt" in document)


class RequestUpload(ProductTarget, frozen=True):
    """A ticket to upload one image of `content_type`, at most `max_bytes` bytes."""

    content_type: str
    max_bytes: int

    @classmethod
    def from_json(cls, merchant_id: str, product_id: str, body: JSON) -> RequestUpload:
        document = _object(body, "an upload request")
        errors = FieldErrors()
        reject_unknown(document, ("content_type", "size"), errors, "is not a known field")
        content_type = errors.check(_content_type, document.get("content_type"))
        size = errors.check(_size, document.get("size"))
        errors.raise_any()
        assert content_type is not None and size is not None
        return cls(merchant_id, product_id, content_type, size)


def _content_type(value: JSON) -> str:
    if not isinstance(value, str) or value not in UPLOADABLE_TYPES:
        raise InvalidField("/content_type", f"must be one of {', '.join(UPLOADABLE_TYPES)}")
    return value


def _size(value: JSON) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidField("/size", "must be an integer number of bytes")
    if not 1 <= value <= limits.MAX_IMAGE_BYTES:
        raise InvalidField("/size", f"must be between 1 and {limits.MAX_IMAGE_BYTES} bytes")
    return value


class ConfirmUpload(ProductTarget, frozen=True):
    upload_id: str
    alt: str | None = None
    if_match: int | None = None

    @classmethod
    def from_json(
        cls,
        merchant_id: str,
        product_id: str,
        upload_id: str,
        body: JSON,
        if_match: int | None = None,
    ) -> ConfirmUpload:
        document = _object(body, "a confirmation")
        errors = FieldErrors()
        reject_unknown(document, ("alt",), errors, "is not a known field")
        alt = errors.check(_optional_alt, document.get("alt"))
        errors.raise_any()
        return cls(merchant_id, product_id, upload_id, alt, if_match)


# ------------------------------------------------------------------ product types


class TypeTarget(Struct, frozen=True):
    """A product type of one merchant, by key."""

    merchant_id: str
    key: str


class CreateProductType(Struct, frozen=True):
    merchant_id: str
    key: str
    content: TypeContent

    @classmethod
    def from_json(cls, merchant_id: str, body: JSON) -> CreateProductType:
        document = _object(body, "a product type")
        errors = FieldErrors()
        key = errors.check(parse_type_key, document.get("key"))
        content = errors.check(
            parse_type_content, {k: v for k, v in document.items() if k != "key"}
        )
        errors.raise_any()
        assert key is not None and content is not None
        return cls(merchant_id, key, content)


class PatchProductType(TypeTarget, frozen=True):
    """A JSON merge patch (RFC 7396) of the type's name, attributes and
    additional_attributes; the key never changes."""

    patch: Mapping[str, JSON]
    if_match: int | None = None

    @classmethod
    def from_json(
        cls, merchant_id: str, key: str, body: JSON, if_match: int | None = None
    ) -> PatchProductType:
        document = dict(_object(body, "a merge patch"))
        errors = FieldErrors()
        if "key" in document:
            errors.add("/key", "a product type's key never changes")
        reject_unknown(
            document,
            (*sorted(TYPE_CONTENT_MEMBERS), "key"),
            errors,
            "is not a member of a product type",
        )
        errors.raise_any()
        return cls(merchant_id, key, document, if_match)


class DeleteProductType(TypeTarget, frozen=True):
    if_match: int | None = None


class GetProductType(TypeTarget, frozen=True):
    pass


class ListProductTypes(Struct, frozen=True):
    merchant_id: str
    limit: int = limits.DEFAULT_PAGE_SIZE
    cursor: str | None = None


# ------------------------------------------------------------------ variants


class AddVariant(ProductTarget, frozen=True):
    """One variant more; `variant_id` is made by the entrypoint before the body is parsed,
    so every error names the variant as it will be known (`/variants/<id>/...`)."""

    variant_id: str
    body: VariantBody
    if_match: int | None = None
    idempotency: KeyedRequest | None = None

    @classmethod
    def from_json(
        cls,
        merchant_id: str,
        product_id: str,
        variant_id: str,
        body: JSON,
        if_match: int | None = None,
        idempotency_key: str | None = None,
    ) -> AddVariant:
        parsed = parse_variant_body(body, f"/variants/{variant_id}")
        # The product is part of what was asked: the key reused on another product is a 422.
        keyed = KeyedRequest.of(idempotency_key, {"product_id": product_id, "variant": body})
        return cls(merchant_id, product_id, variant_id, parsed, if_match, keyed)


class PatchVariant(ProductTarget, frozen=True):
    """A JSON merge patch of one variant's fields."""

    variant_id: str
    patch: Mapping[str, JSON]
    if_match: int | None = None

    @classmethod
    def from_json(
        cls,
        merchant_id: str,
        product_id: str,
        variant_id: str,
        body: JSON,
        if_match: int | None = None,
    ) -> PatchVariant:
        patch = parse_variant_patch(body, f"/variants/{variant_id}")
        return cls(merchant_id, product_id, variant_id, patch, if_match)


class RemoveVariant(ProductTarget, frozen=True):
    variant_id: str
    if_match: int | None = None


class FindSku(Struct, frozen=True):
    """Which product (and variant) of the merchant holds `sku`."""

    merchant_id: str
    sku: str


# ------------------------------------------------------------------ jobs


class StartImport(Struct, frozen=True):
    """An import of `content`, a file of `format` sent inline, or of the file uploaded with
    the ticket `upload_id` (RequestImportUpload)."""

    merchant_id: str
    format: ImportFormat
    content: bytes | None = None
    idempotency_key: str | None = None
    upload_id: str | None = None

    @classmethod
    def of_upload(
        cls, merchant_id: str, body: JSON, idempotency_key: str | None = None
    ) -> StartImport:
        """`{"upload_id", "format"}`: the file is the one uploaded with that ticket."""
        document = _object(body, "an import of an uploaded file")
        errors = FieldErrors()
        reject_unknown(document, ("upload_id", "format"), errors, "is not a field of an import")
        upload_id = document.get("upload_id")
        if not isinstance(upload_id, str) or not limits.ULID_PATTERN.fullmatch(upload_id):
            errors.add("/upload_id", "must be the upload_id of an import upload ticket")
        file_format = errors.check(parse_file_format, document.get("format", "jsonl"))
        errors.raise_any()
        assert isinstance(upload_id, str) and file_format is not None
        return cls(merchant_id, file_format, None, idempotency_key, upload_id)


class RequestImportUpload(Struct, frozen=True):
    """A ticket to upload an import file of `format`, at most `size` bytes, past the API."""

    merchant_id: str
    format: ImportFormat
    size: int

    @classmethod
    def from_json(cls, merchant_id: str, body: JSON) -> RequestImportUpload:
        document = _object(body, "an upload ticket request")
        errors = FieldErrors()
        reject_unknown(document, ("format", "size"), errors, "is not a field of a ticket request")
        file_format = errors.check(parse_file_format, document.get("format", "jsonl"))
        size = document.get("size")
        if (
            not isinstance(size, int)
            or isinstance(size, bool)
            or not 1 <= size <= limits.MAX_IMPORT_UPLOAD_BYTES
        ):
            errors.add(
                "/size", f"must be the file's size in bytes, 1 to {limits.MAX_IMPORT_UPLOAD_BYTES}"
            )
        errors.raise_any()
        assert file_format is not None and isinstance(size, int)
        return cls(merchant_id, file_format, size)


class StartExport(Struct, frozen=True):
    """The products `filter` keeps (`status`, `channel`, `product_type`), to a file."""

    merchant_id: str
    format: ImportFormat
    filter: Mapping[str, str]
    idempotency_key: str | None = None

    @classmethod
    def from_json(
        cls, merchant_id: str, body: JSON, idempotency_key: str | None = None
    ) -> StartExport:
        document = _object(body, "an export")
        errors = FieldErrors()
        reject_unknown(document, ("format", "filter"), errors, "is not a field of an export")
        file_format = errors.check(parse_file_format, document.get("format", "jsonl"))
        kept = errors.check(parse_product_filter, document.get("filter"))
        errors.raise_any()
        assert file_format is not None and kept is not None
        return cls(merchant_id, file_format, kept, idempotency_key)


BULK_ACTIONS = ("publish", "unpublish", "status")
MAX_BULK_IDS = 10_000


class StartBulkAction(Struct, frozen=True):
    """One action for each product `ids` names, or `filter` keeps."""

    merchant_id: str
    action: str
    channel: str | None = None
    status: Status | None = None
    ids: tuple[str, ...] | None = None
    filter: Mapping[str, str] = field(default_factory=dict)
    idempotency_key: str | None = None

    @classmethod
    def from_json(
        cls, merchant_id: str, body: JSON, idempotency_key: str | None = None
    ) -> StartBulkAction:
        document = _object(body, "a bulk action")
        errors = FieldErrors()
        known = ("action", "channel", "status", "ids", "filter")
        reject_unknown(document, known, errors, "is not a field of a bulk action")
        action = document.get("action")
        if action not in BULK_ACTIONS:
            errors.add("/action", "must be publish, unpublish or status")
        channel = status = None
        if action in ("publish", "unpublish"):
            channel = errors.check(_channel, document.get("channel"), "/channel")
        elif "channel" in document:
            errors.add("/channel", "is for publish and unpublish")
        if action == "status":
            status = errors.check(parse_requested_status, document.get("status"))
        elif "status" in document:
            errors.add("/status", "is for the status action")
        ids = document.get("ids")
        if ids is not None and "filter" in document:
            errors.add("/filter", "give ids or a filter, not both")
        if ids is not None and (
            not isinstance(ids, list)
            or not 1 <= len(ids) <= MAX_BULK_IDS
            or not all(isinstance(i, str) and limits.ULID_PATTERN.fullmatch(i) for i in ids)
        ):
            errors.add("/ids", f"must be a list of 1 to {MAX_BULK_IDS} product ids")
            ids = None
        kept = errors.check(parse_product_filter, document.get("filter"))
        errors.raise_any()
        assert isinstance(action, str) and kept is not None
        chosen = tuple(ids) if ids is not None else None
        return cls(merchant_id, action, channel, status, chosen, kept, idempotency_key)


def _channel(value: JSON, path: str) -> str:
    if not isinstance(value, str):
        raise InvalidField(path, "must be a channel slug")
    return parse_channel(value, path)


def parse_file_format(value: JSON) -> ImportFormat:
    try:
        return ImportFormat(value)
    except ValueError:
        raise InvalidField("/format", "must be jsonl or csv") from None


def parse_product_filter(value: JSON) -> dict[str, str]:
    """`{"status"?, "channel"?, "product_type"?}`: the products a job walks."""
    if value is None:
        return {}
    document = _object(value, "a filter")
    errors = FieldErrors()
    reject_unknown(document, ("status", "channel", "product_type"), errors, "is not a filter")
    kept: dict[str, str] = {}
    if document.get("status") is not None:
        try:
            kept["status"] = Status(document["status"]).value
        except ValueError:
            errors.add("/filter/status", "must be DRAFT, READY, ACTIVE or INACTIVE")
    if document.get("channel") is not None:
        kept["channel"] = errors.check(_channel, document["channel"], "/filter/channel") or ""
    if document.get("product_type") is not None:
        key = errors.check(parse_type_key, document["product_type"], "/filter/product_type")
        kept["product_type"] = key or ""
    errors.raise_any()
    return kept


class GetJob(Struct, frozen=True):
    merchant_id: str
    job_id: str


class ListJobs(Struct, frozen=True):
    merchant_id: str
    kind: JobKind | None = None
    status: JobStatus | None = None
    limit: int = 20
    cursor: str | None = None


class CancelJob(Struct, frozen=True):
    merchant_id: str
    job_id: str


class ReadJobErrors(Struct, frozen=True):
    merchant_id: str
    job_id: str
