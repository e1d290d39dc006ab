"""What the OpenAPI document says of each operation beyond its decorator: its tag, its place in
the order a user meets it, and every problem it can answer (status -> problem types).

The problems are declared once here, composed from what each route goes through (the query
check, authentication, the access checks, If-Match, a JSON body, the body size limit, the store)
plus what its use case raises. openapi.build_openapi writes them into the document, and
tests/api/test_openapi_statuses.py sends the failing requests and checks that every answer is
documented, with its problem type.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from msgspec import Struct, field, structs

Problems = Mapping[int, tuple[str, ...]]

# Every route: the QueryParameterCheck middleware (query_parameters.py). A parameter can be
# repeated only on a route that takes one: elsewhere any parameter is unknown first.
QUERY = {400: ("unknown-query-parameter",)}
QUERY_PARAMETERS = {400: ("unknown-query-parameter", "repeated-query-parameter")}
# Every route with a bearer token: no token (401), the verifier (jwks) or the store busy (503).
AUTHENTICATED = {401: ("unauthorized",), 503: ("store-unavailable", "verifier-unavailable")}
# A merchant the caller may not read, or an id that cannot exist: the same 404 as absence.
HIDDEN = {404: ("not-found",)}
WRITER = {403: ("forbidden",)}
IF_MATCH = {400: ("invalid-header",), 412: ("precondition-failed",)}
# BodySizeLimit refuses any body over the limit, on every method that may carry one.
BODY_LIMIT = {413: ("content-too-large",)}
JSON_BODY = {
    400: ("malformed-body",),
    415: ("unsupported-media-type",),
    422: ("validation-error",),
    **BODY_LIMIT,
}
# Writers retry their own version conflicts; past the retries (or a lost key race) it is a 409.
RETRIED = {409: ("conflict",)}
INVALID = {422: ("validation-error",)}


def problems(*parts: Problems) -> dict[int, tuple[str, ...]]:
    """The union of problem maps, each status's types in the order first given."""
    merged: dict[int, tuple[str, ...]] = {}
    for part in parts:
        for status, slugs in part.items():
            known = merged.get(status, ())
            merged[status] = known + tuple(slug for slug in slugs if slug not in known)
    return dict(sorted(merged.items()))


class Operation(Struct, frozen=True):
    tag: str
    problems: dict[int, tuple[str, ...]]
    returns_product: bool = False
    # Answers 304 to an If-None-Match that names the current ETag.
    conditional: bool = False


_READ = (QUERY, AUTHENTICATED, HIDDEN)
_READ_WITH_QUERY = (QUERY_PARAMETERS, AUTHENTICATED, HIDDEN)
_WRITE = (QUERY, AUTHENTICATED, HIDDEN, WRITER, BODY_LIMIT, RETRIED)
# A deployment built without a job store (none today: both have one).
_NO_JOBS = {501: ("jobs-unavailable",)}

# In the order a user meets them; the document lists paths and Swagger UI operations so.
OPERATIONS: dict[str, Operation] = {
    "register_product": Operation(
        "products",
        problems(
            *_WRITE,
            JSON_BODY,
            {409: ("duplicate-sku", "duplicate-variant"), 413: ("product-too-large",)},
            {422: ("idempotency-key-reused",)},
        ),
        returns_product=True,
    ),
    "get_product": Operation(
        "products", problems(*_READ_WITH_QUERY, INVALID), returns_product=True, conditional=True
    ),
    "list_products": Operation(
        "products", problems(*_READ_WITH_QUERY, {400: ("invalid-cursor",)}, INVALID)
    ),
    "update_product": Operation(
        "products",
        problems(
            *_WRITE,
            IF_MATCH,
            JSON_BODY,
            {409: ("product-inactive", "duplicate-variant"), 413: ("product-too-large",)},
            {422: ("product-incomplete",)},
        ),
        returns_product=True,
    ),
    "change_status": Operation(
        "products",
        problems(
            *_WRITE,
            IF_MATCH,
            JSON_BODY,
            {409: ("invalid-transition",), 422: ("product-incomplete",)},
        ),
        returns_product=True,
    ),
    "deactivate_product": Operation("products", problems(*_WRITE, IF_MATCH), returns_product=True),
    "product_history": Operation(
        "history", problems(*_READ_WITH_QUERY, {400: ("invalid-cursor",)}, INVALID)
    ),
    "restore_version": Operation(
        "history",
        problems(
            *_WRITE,
            IF_MATCH,
            {404: ("not-found",), 409: ("product-inactive", "duplicate-sku")},
            {413: ("product-too-large",), 422: ("validation-error", "product-incomplete")},
        ),
        returns_product=True,
    ),
    "upload_image": Operation(
        "images",
        problems(
            *_WRITE,
            IF_MATCH,
            {400: ("invalid-multipart",)},
            {409: ("product-inactive",), 413: ("product-too-large",)},
            {415: ("unsupported-media-type", "unsupported-image")},
            {422: ("validation-error", "idempotency-key-reused")},
        ),
        returns_product=True,
    ),
    "update_image": Operation(
        "images",
        problems(
            *_WRITE,
            IF_MATCH,
            JSON_BODY,
            {409: ("product-inactive",), 413: ("product-too-large",)},
        ),
        returns_product=True,
    ),
    "delete_image": Operation(
        "images",
        # An ACTIVE product cannot lose its last image.
        problems(*_WRITE, IF_MATCH, {409: ("product-inactive",), 422: ("product-incomplete",)}),
        returns_product=True,
    ),
    "add_variant": Operation(
        "variants",
        problems(
            *_WRITE,
            IF_MATCH,
            JSON_BODY,
            {409: ("product-inactive", "duplicate-sku", "duplicate-variant")},
            {413: ("product-too-large",), 422: ("idempotency-key-reused",)},
        ),
        returns_product=True,
    ),
    "update_variant": Operation(
        "variants",
        problems(
            *_WRITE,
            IF_MATCH,
            JSON_BODY,
            {409: ("product-inactive", "duplicate-sku", "duplicate-variant")},
            {413: ("product-too-large",), 422: ("product-incomplete",)},
        ),
        returns_product=True,
    ),
    "delete_variant": Operation(
        "variants",
        problems(*_WRITE, IF_MATCH, {409: ("product-inactive",), 422: ("product-incomplete",)}),
        returns_product=True,
    ),
    "find_sku": Operation("skus", problems(*_READ)),
    "request_publication": Operation(
        "channels",
        problems(
            *_WRITE, IF_MATCH, {409: ("not-publishable", "invalid-listing-transition")}, INVALID
        ),
        returns_product=True,
    ),
    "request_unpublication": Operation(
        "channels", problems(*_WRITE, IF_MATCH, INVALID), returns_product=True
    ),
    "report_listing": Operation(
        "channels",
        problems(
            *_READ,
            {403: ("forbidden",)},
            JSON_BODY,
            RETRIED,
            {409: ("invalid-listing-transition",)},
        ),
        returns_product=True,
    ),
    "create_product_type": Operation(
        "product-types",
        problems(*_WRITE, JSON_BODY, {409: ("duplicate-product-type",)}),
    ),
    "list_product_types": Operation(
        "product-types", problems(*_READ_WITH_QUERY, {400: ("invalid-cursor",)}, INVALID)
    ),
    "get_product_type": Operation("product-types", problems(*_READ)),
    "update_product_type": Operation("product-types", problems(*_WRITE, IF_MATCH, JSON_BODY)),
    "delete_product_type": Operation(
        "product-types", problems(*_WRITE, IF_MATCH, {409: ("product-type-in-use",)})
    ),
    # Platform-wide, outside every merchant: no merchant to hide; 404 is a slug that cannot be.
    "get_channel_requirements": Operation("channel-requirements", problems(*_READ)),
    "put_channel_requirements": Operation(
        "channel-requirements",
        problems(*_WRITE, IF_MATCH, JSON_BODY, {413: ("requirements-too-large",)}),
    ),
    # A ticket writes nothing: no version to race for.
    "import_products": Operation(
        "jobs",
        problems(
            *_WRITE,
            {415: ("unsupported-media-type",), 422: ("idempotency-key-reused",)},
            {400: ("malformed-body",), 422: ("validation-error",)},
            _NO_JOBS,
        ),
    ),
    "request_import_upload": Operation("jobs", problems(*_WRITE, JSON_BODY, _NO_JOBS)),
    "export_products": Operation(
        "jobs", problems(*_WRITE, JSON_BODY, {422: ("idempotency-key-reused",)}, _NO_JOBS)
    ),
    "bulk_action": Operation(
        "jobs", problems(*_WRITE, JSON_BODY, {422: ("idempotency-key-reused",)}, _NO_JOBS)
    ),
    "list_jobs": Operation(
        "jobs", problems(*_READ_WITH_QUERY, {400: ("invalid-cursor",)}, INVALID, _NO_JOBS)
    ),
    "get_job": Operation("jobs", problems(*_READ, _NO_JOBS)),
    "cancel_job": Operation("jobs", problems(*_WRITE, _NO_JOBS)),
    "job_errors": Operation("jobs", problems(*_READ, _NO_JOBS)),
    "request_upload": Operation(
        "uploads",
        problems(QUERY, AUTHENTICATED, HIDDEN, WRITER, JSON_BODY, {409: ("product-inactive",)}),
    ),
    "confirm_upload": Operation(
        "uploads",
        problems(
            *_WRITE,
            IF_MATCH,
            JSON_BODY,
            {404: ("not-found",), 409: ("upload-used", "product-inactive")},
            {413: ("content-too-large",), 415: ("unsupported-image",)},
        ),
        returns_product=True,
    ),
    "receive_upload": Operation(
        "uploads",
        problems(
            QUERY,
            {400: ("upload-refused", "invalid-multipart"), 403: ("upload-refused",)},
            BODY_LIMIT,
        ),
    ),
    "get_asset": Operation("assets", problems(QUERY_PARAMETERS, HIDDEN), conditional=True),
    "health": Operation("health", problems(QUERY)),
}

# Every route, before any of its own checks (app.create_app): RequestHeaderLimit answers 431,
# RateLimit 429 to a caller past its rate (issue 10, docs/api.md "Limits and headers").
EVERY_ROUTE = {429: ("rate-limited",), 431: ("request-headers-too-large",)}
for _name, _operation in OPERATIONS.items():
    OPERATIONS[_name] = structs.replace(
        _operation, problems=problems(_operation.problems, EVERY_ROUTE)
    )

# Response headers of problems, by status (RFC 9110, RFC 6750).
PROBLEM_HEADERS: dict[int, dict[str, Any]] = {
    401: {
        "WWW-Authenticate": {
            "description": 'The bearer challenge, e.g. `Bearer realm="catalog"`.',
            "schema": {"type": "string"},
        }
    },
    412: {
        "ETag": {
            "description": "The product's current version: re-read it, then retry.",
            "schema": {"type": "string"},
        }
    },
    429: {
        "Retry-After": {
            "description": "Seconds until this caller may send a request again.",
            "schema": {"type": "integer"},
        }
    },
    503: {
        "Retry-After": {
            "description": "Seconds to wait before retrying; nothing was written.",
            "schema": {"type": "integer"},
        }
    },
}

STATUS_DESCRIPTIONS = {
    400: "Bad request: an unknown query parameter, a malformed body, header or cursor",
    401: "Missing, invalid or expired bearer token",
    403: "The principal may read but not do this",
    404: "No such resource (or one the principal may not see)",
    409: "Conflict with the product's current state",
    412: "If-Match names a version that is no longer current",
    413: "Body, image or product larger than the limit",
    415: "Unsupported content type or image type",
    422: "Invalid field(s), named as JSON pointers",
    429: "Too many requests from this caller: retry after `Retry-After` seconds",
    431: "The request headers are larger than the limit",
    501: "Not available on this deployment",
    503: "Busy: nothing was written; retry after `Retry-After` seconds",
}


class ProblemExample(Struct, frozen=True):
    title: str
    detail: str
    extensions: dict[str, Any] = field(default_factory=dict)


_FIELD = {"errors": [{"field": "/price/amount", "in": "body", "message": "must be an integer"}]}

# One example per problem type, as the API writes it (problems.py and the routers).
PROBLEM_EXAMPLES: dict[str, ProblemExample] = {
    "unknown-query-parameter": ProblemExample(
        "Unknown query parameter",
        "this route has no query parameter `sku`; it takes `channel`",
        {"parameters": ["sku"], "accepted": ["channel"]},
    ),
    "repeated-query-parameter": ProblemExample(
        "Repeated query parameter",
        "give `limit` once: this route takes one value",
        {"parameters": ["limit"]},
    ),
    "malformed-body": ProblemExample(
        "Malformed request body", "the body is not valid JSON: Expecting value"
    ),
    "invalid-header": ProblemExample(
        "Invalid header",
        'If-Match: must be an ETag of this API, such as "3"',
        {"errors": [{"field": "If-Match", "in": "header", "message": "must be an ETag"}]},
    ),
    "invalid-cursor": ProblemExample(
        "Invalid cursor",
        "the cursor was not issued for this merchant and these filters",
        {"errors": [{"field": "cursor", "in": "query", "message": "not issued here"}]},
    ),
    "invalid-multipart": ProblemExample(
        "Invalid multipart form", "the multipart form cannot be read"
    ),
    "upload-refused": ProblemExample(
        "Upload refused", "the upload ticket's signature does not match or has expired"
    ),
    "unauthorized": ProblemExample("Unauthorized", "the bearer token is invalid or expired"),
    "forbidden": ProblemExample(
        "Forbidden", "this principal may read but not change the products of merchant acme"
    ),
    "not-found": ProblemExample("Not found", "no product 01JD8X5J9ZK8Q5W6V2C3N4M5P6"),
    "duplicate-sku": ProblemExample(
        "SKU already in use", "sku TS-1 is already in use", {"sku": "TS-1"}
    ),
    "duplicate-variant": ProblemExample(
        "Variant options already in use",
        "another variant already has the options color=red, size=M",
        {"options": {"color": "red", "size": "M"}},
    ),
    "duplicate-product-type": ProblemExample(
        "Product type already exists",
        "product type apparel already exists for this merchant",
        {"key": "apparel"},
    ),
    "product-type-in-use": ProblemExample(
        "Product type in use",
        "product type apparel is in use; give its products another type (or none) first",
        {"key": "apparel"},
    ),
    "requirements-too-large": ProblemExample(
        "Channel requirements too large",
        "the requirements of channel meta would make every channel's requirements 131200 bytes"
        " stored; at most 131072 are kept",
        {"limit": 131072},
    ),
    "invalid-transition": ProblemExample(
        "Status change not allowed",
        "cannot go from DRAFT to INACTIVE",
        {"current_status": "ACTIVE", "requested_status": "DRAFT"},
    ),
    "product-inactive": ProblemExample(
        "Product is inactive",
        "the product is INACTIVE: reactivate it (status DRAFT) first",
        {"current_status": "INACTIVE"},
    ),
    "not-publishable": ProblemExample(
        "Product is not publishable",
        "only READY or ACTIVE products can be published",
        {"current_status": "DRAFT"},
    ),
    "invalid-listing-transition": ProblemExample(
        "Listing change not allowed",
        "the mercadolibre listing is UNPUBLISHED: nothing to report PUBLISHED for",
        {"channel": "mercadolibre", "current_state": "UNPUBLISHED", "requested": "PUBLISHED"},
    ),
    "upload-used": ProblemExample(
        "Upload ticket already used", "upload 01JD8X6B2Q3R4S5T6V7W8X9Y0Z was already used"
    ),
    "conflict": ProblemExample(
        "Too many concurrent changes, retry the request",
        "the product kept changing while this change was applied",
    ),
    "precondition-failed": ProblemExample(
        "Precondition failed",
        "the product is at version 4, not 3",
        {"current_version": 4},
    ),
    "content-too-large": ProblemExample(
        "Content too large", "the request body exceeds 262144 bytes"
    ),
    "product-too-large": ProblemExample(
        "Product too large",
        "the product would exceed 307200 bytes serialized",
        {"limit": 307200},
    ),
    "unsupported-media-type": ProblemExample(
        "Unsupported media type", "send the body as application/json"
    ),
    "jobs-unavailable": ProblemExample("Jobs unavailable", "this deployment runs no jobs"),
    "unsupported-image": ProblemExample(
        "Unsupported image", "the file is not a PNG, JPEG, WebP or GIF image"
    ),
    "validation-error": ProblemExample(
        "Invalid request", "/price/amount: must be an integer", _FIELD
    ),
    "product-incomplete": ProblemExample(
        "Product is incomplete",
        "missing: /description, /images",
        {"missing": ["/description", "/images"]},
    ),
    "idempotency-key-reused": ProblemExample(
        "Idempotency-Key reused with another request",
        "Idempotency-Key 7f9c1 was used with another request",
    ),
    "store-unavailable": ProblemExample(
        "Storage busy, retry", "the store is throttling requests; nothing was written"
    ),
    "verifier-unavailable": ProblemExample(
        "Service unavailable", "credentials cannot be checked right now; retry shortly"
    ),
    "rate-limited": ProblemExample(
        "Too many requests",
        "this caller may send 100 requests per second, bursts of 200; retry in 1 s",
        {"retry_after": 1},
    ),
    "request-headers-too-large": ProblemExample(
        "Request header fields too large",
        "the request headers take 9216 bytes; at most 8192 are read",
        {"limit": 8192},
    ),
}
