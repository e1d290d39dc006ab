"""RFC 9457 problem documents of domain errors: the one shape in which every entrypoint
reports a refused command (the API as its answer, a job as a row's error), so a rule's error
reads the same whichever entrypoint applied it.

Each domain error maps to one problem type (a relative URI under /problems/ naming the kind
of failure, stable for clients to branch on), one status and the extension members a client
needs to react without parsing `detail`: `errors` for invalid input, `missing` for an
incomplete product, `current_status`, `current_version`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from msgspec import Struct

from catalog.domain import errors as domain
from catalog.domain.channel_requirements import RequirementsTooLarge

PROBLEM_BASE = "/problems/"


def problem_document(
    status: int,
    *,
    slug: str,
    title: str,
    detail: str | None,
    instance: str | None,
    extensions: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    document: dict[str, Any] = {
        "type": PROBLEM_BASE + slug,
        "title": title,
        "status": status,
    }
    if detail:
        document["detail"] = detail
    if instance:
        document["instance"] = instance
    if extensions:
        document.update(extensions)
    return document


class ProblemKind(Struct, frozen=True):
    status: int
    slug: str
    title: str
    extensions: Callable[[Any], dict[str, Any]] = lambda error: {}
    headers: Callable[[Any], dict[str, str]] = lambda error: {}


def _field_errors(error: domain.InvalidField) -> dict[str, Any]:
    return {
        "errors": [{"field": e.field, "in": "body", "message": e.message} for e in error.fields]
    }


# Ordered most specific first; lookup walks the exception's MRO, so a subclass added later
# still gets its parent's mapping instead of a 500.
DOMAIN_PROBLEMS: dict[type[domain.DomainError], ProblemKind] = {
    domain.InvalidField: ProblemKind(422, "validation-error", "Invalid request", _field_errors),
    domain.ProductNotFound: ProblemKind(404, "not-found", "Not found"),
    domain.MerchantNotFound: ProblemKind(404, "not-found", "Not found"),
    domain.AccessDenied: ProblemKind(403, "forbidden", "Forbidden"),
    domain.ImageNotFound: ProblemKind(404, "not-found", "Not found"),
    domain.ProductTypeNotFound: ProblemKind(404, "not-found", "Not found"),
    domain.DuplicateProductType: ProblemKind(
        409, "duplicate-product-type", "Product type already exists", lambda e: {"key": e.key}
    ),
    domain.ProductTypeInUse: ProblemKind(
        409, "product-type-in-use", "Product type in use", lambda e: {"key": e.key}
    ),
    domain.DuplicateSku: ProblemKind(
        409, "duplicate-sku", "SKU already in use", lambda e: {"sku": e.sku}
    ),
    domain.DuplicateVariant: ProblemKind(
        409,
        "duplicate-variant",
        "Variant options already in use",
        lambda e: {"options": e.options},
    ),
    domain.VariantNotFound: ProblemKind(404, "not-found", "Not found"),
    domain.SkuNotFound: ProblemKind(404, "not-found", "Not found"),
    domain.JobNotFound: ProblemKind(404, "not-found", "Not found"),
    domain.PreconditionFailed: ProblemKind(
        412,
        "precondition-failed",
        "Precondition failed",
        lambda e: {"current_version": e.current_version},
        lambda e: {"ETag": f'"{e.current_version}"'},
    ),
    domain.InvalidTransition: ProblemKind(
        409,
        "invalid-transition",
        "Status change not allowed",
        lambda e: {"current_status": e.current, "requested_status": e.requested},
    ),
    domain.ProductIncomplete: ProblemKind(
        422,
        "product-incomplete",
        "Product is incomplete",
        lambda e: {"missing": e.missing, **({"channel": e.channel} if e.channel else {})},
    ),
    domain.ProductInactive: ProblemKind(
        409, "product-inactive", "Product is inactive", lambda e: {"current_status": "INACTIVE"}
    ),
    domain.ProductNotPublishable: ProblemKind(
        409,
        "not-publishable",
        "Product is not publishable",
        lambda e: {"current_status": e.current},
    ),
    domain.InvalidListingTransition: ProblemKind(
        409,
        "invalid-listing-transition",
        "Listing change not allowed",
        lambda e: {"channel": e.channel, "current_state": e.current, "requested": e.requested},
    ),
    domain.ProductTooLarge: ProblemKind(
        413, "product-too-large", "Product too large", lambda e: {"limit": e.limit}
    ),
    RequirementsTooLarge: ProblemKind(
        413,
        "requirements-too-large",
        "Channel requirements too large",
        lambda e: {"limit": e.limit},
    ),
    domain.StoreUnavailable: ProblemKind(
        503,
        "store-unavailable",
        "Storage busy, retry",
        lambda e: {},
        lambda e: {"Retry-After": "1"},
    ),
    domain.IdempotencyKeyReused: ProblemKind(
        422, "idempotency-key-reused", "Idempotency-Key reused with another request"
    ),
    # Only reaches a client if the racing request's record vanished; retrying is safe.
    domain.IdempotencyKeyRaced: ProblemKind(409, "conflict", "Concurrent request, retry"),
    domain.InvalidCursor: ProblemKind(
        400,
        "invalid-cursor",
        "Invalid cursor",
        lambda e: {"errors": [{"field": "cursor", "in": "query", "message": str(e)}]},
    ),
    # 415: the uploaded file is not an image of a supported type (or cannot be decoded).
    domain.ImageRejected: ProblemKind(415, "unsupported-image", "Unsupported image"),
    domain.ImageTooLarge: ProblemKind(413, "content-too-large", "Content too large"),
    domain.UploadUsed: ProblemKind(409, "upload-used", "Upload ticket already used"),
    domain.VersionConflict: ProblemKind(
        409, "conflict", "Too many concurrent changes, retry the request"
    ),
}


def mapping_for(error: domain.DomainError) -> ProblemKind | None:
    for cls in type(error).__mro__:
        mapping = DOMAIN_PROBLEMS.get(cls)
        if mapping is not None:
            return mapping
    return None


def problem_of(error: domain.DomainError, instance: str | None = None) -> dict[str, Any] | None:
    """The problem document of a domain error, as the API answers it; None for an error no
    client is meant to see (a bug: the API answers it as a 500)."""
    mapping = mapping_for(error)
    if mapping is None:
        return None
    return problem_document(
        mapping.status,
        slug=mapping.slug,
        title=mapping.title,
        detail=str(error),
        instance=instance,
        extensions=mapping.extensions(error),
    )
