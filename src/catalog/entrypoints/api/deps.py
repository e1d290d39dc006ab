"""FastAPI dependencies, exposed as `Annotated` aliases the routers put in their signatures.

Order of the checks, which is what a client observes: authentication (401), then the path
(a malformed id or a merchant the principal may not read is 404, the same body as an absent
product), then write permission (403), then the request's headers and body.

Each route takes one access dependency (MerchantReader, MerchantWriter, ProductReader,
ProductWriter) that runs all of those checks in one flat function: FastAPI's cost is per
dependency, and GET product is the hot path. Dependencies are `async def` because they do no
I/O, and async ones run on the event loop instead of costing a thread hop each.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Annotated, Any, ParamSpec, TypeVar

from fastapi import Depends, Header, Request
from fastapi.exceptions import RequestValidationError
from msgspec import Struct
from starlette.concurrency import run_in_threadpool

from catalog.domain.errors import ImageNotFound, ProductNotFound, VariantNotFound
from catalog.domain.limits import MERCHANT_ID_PATTERN, ULID_PATTERN
from catalog.entrypoints.api.auth import authenticate
from catalog.entrypoints.api.problems import ApiProblem
from catalog.service.context import CatalogContext, JobsContext
from catalog.service.principals import Principal, hidden, require_read, require_write

# Crockford base32, as python-ulid writes it (upper case).
MAX_IDEMPOTENCY_KEY_LENGTH = 255

# Path parameters are read from request.path_params rather than declared on each dependency:
# FastAPI's cost grows with every declared parameter, and these are validated below anyway.
# openapi.build_openapi documents them on every operation.
PATH_PARAMETER_DESCRIPTIONS = {
    "merchant_id": "Merchant id: 1 to 63 of a-z, 0-9, '_' and '-', starting alphanumeric.",
    "product_id": "Product id (ULID, 26 characters).",
    "image_id": "Image id (ULID, 26 characters).",
    "variant_id": "Variant id (ULID, 26 characters).",
    "sku": "A product's or a variant's SKU, as registered (it may contain '/').",
    "key": "Product type key: 1 to 64 of a-z, 0-9, '_' and '-', starting with a letter.",
}


async def current_principal(request: Request) -> Principal:
    """The authenticated caller; authenticated once per request whoever asks first."""
    principal: Principal | None = getattr(request.state, "principal", None)
    if principal is None:
        principal = await authenticate(request)
        request.state.principal = principal
    return principal


def catalog_of(request: Request) -> CatalogContext:
    ctx: CatalogContext = request.app.state.container.ctx
    return ctx


def jobs_of(request: Request) -> JobsContext:
    jobs: JobsContext | None = request.app.state.container.jobs
    if jobs is None:
        raise ApiProblem(
            501, "jobs-unavailable", "Jobs unavailable", "this deployment runs no jobs"
        )
    return jobs


P = ParamSpec("P")
T = TypeVar("T")


async def run_read(request: Request, read: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
    """Run a read use case on the event loop or in the thread pool (see app.create_app)."""
    if request.app.state.inline_reads:
        return read(*args, **kwargs)
    return await run_in_threadpool(read, *args, **kwargs)


# ------------------------------------------------------------------ access


class MerchantAccess(Struct, frozen=True):
    """What a route may use once the caller was allowed in: the ports, who, for which merchant."""

    ctx: CatalogContext
    principal: Principal
    merchant_id: str


class ProductAccess(MerchantAccess, frozen=True):
    product_id: str


async def _merchant_access(
    request: Request, merchant_id: str, write: bool, product_id: str | None = None
) -> MerchantAccess:
    """The use case decides access again; asking the same rules here first keeps the order a
    client observes: 404 and 403 before any problem with its headers or body."""
    principal = await current_principal(request)
    if not MERCHANT_ID_PATTERN.match(merchant_id):
        raise hidden(merchant_id, product_id)
    if write:
        require_write(principal, merchant_id, product_id)
    else:
        require_read(principal, merchant_id, product_id)
    return MerchantAccess(catalog_of(request), principal, merchant_id)


async def _product_access(
    request: Request, merchant_id: str, product_id: str, write: bool
) -> ProductAccess:
    access = await _merchant_access(request, merchant_id, write, product_id)
    if not ULID_PATTERN.match(product_id):
        raise ProductNotFound(product_id)
    return ProductAccess(access.ctx, access.principal, access.merchant_id, product_id)


async def read_merchant(request: Request) -> MerchantAccess:
    return await _merchant_access(request, request.path_params["merchant_id"], write=False)


async def write_merchant(request: Request) -> MerchantAccess:
    return await _merchant_access(request, request.path_params["merchant_id"], write=True)


async def read_product(request: Request) -> ProductAccess:
    params = request.path_params
    return await _product_access(request, params["merchant_id"], params["product_id"], False)


async def write_product(request: Request) -> ProductAccess:
    params = request.path_params
    return await _product_access(request, params["merchant_id"], params["product_id"], True)


MerchantReader = Annotated[MerchantAccess, Depends(read_merchant)]
MerchantWriter = Annotated[MerchantAccess, Depends(write_merchant)]
ProductReader = Annotated[ProductAccess, Depends(read_product)]
ProductWriter = Annotated[ProductAccess, Depends(write_product)]


async def image_id_param(request: Request) -> str:
    image_id: str = request.path_params["image_id"]
    if not ULID_PATTERN.match(image_id):
        raise ImageNotFound(image_id)
    return image_id


ImageId = Annotated[str, Depends(image_id_param)]


async def variant_id_param(request: Request) -> str:
    params = request.path_params
    variant_id: str = params["variant_id"]
    if not ULID_PATTERN.match(variant_id):
        raise VariantNotFound(params["product_id"], variant_id)
    return variant_id


VariantId = Annotated[str, Depends(variant_id_param)]


# ------------------------------------------------------------------ headers


def _header_problem(status: int, header: str, message: str) -> ApiProblem:
    return ApiProblem(
        status,
        "invalid-header",
        "Invalid header",
        f"{header}: {message}",
        extensions={"errors": [{"field": header, "in": "header", "message": message}]},
    )


def version_from_etag(value: str) -> int | None:
    """`"3"`, `3`, `W/"3"` or a channel view's `"3;channel=x"` -> 3; anything else None."""
    tag = value.strip().removeprefix("W/").strip('"')
    number = tag.split(";", 1)[0]
    if number.isascii() and number.isdigit() and len(number) <= 18:
        return int(number)
    return None


async def if_match_version(
    if_match: Annotated[
        str | None,
        Header(
            alias="If-Match",
            description='The ETag (version) the change is based on, e.g. "3"; 412 when stale.',
        ),
    ] = None,
) -> int | None:
    if if_match is None or if_match.strip() == "*":
        return None
    if "," in if_match:
        raise _header_problem(400, "If-Match", "name exactly one version")
    version = version_from_etag(if_match)
    if version is None:
        raise _header_problem(400, "If-Match", 'must be an ETag of this API, such as "3"')
    return version


IfMatch = Annotated[int | None, Depends(if_match_version)]

IdempotencyKey = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        min_length=1,
        max_length=MAX_IDEMPOTENCY_KEY_LENGTH,
        description=(
            "Makes the POST safe to retry: a retry with the same key and body returns the first "
            "response (with `Idempotent-Replayed: true`); the same key with another body is a "
            "422. Keys are scoped by merchant and kept 24 hours."
        ),
    ),
]


# ------------------------------------------------------------------ bodies

JSON_MEDIA = "application/json"
MERGE_PATCH_MEDIA = "application/merge-patch+json"


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


def json_body_reader(
    *media_types: str, extra_headers: dict[str, str] | None = None
) -> Callable[[Request], Awaitable[Any]]:
    """A dependency returning the decoded JSON body (any JSON value: the caller validates).

    Read by hand rather than through a pydantic body parameter: merge patches and
    idempotency fingerprints need the JSON exactly as sent, and a wrong content type deserves
    a 415, not a validation error. The size limit is enforced by BodySizeLimit underneath.
    """
    accepted = frozenset(media_types)

    async def read_json_body(request: Request) -> Any:
        media = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
        if media not in accepted:
            raise ApiProblem(
                415,
                "unsupported-media-type",
                "Unsupported media type",
                f"send the body as {' or '.join(media_types)}",
                headers=extra_headers or {},
            )
        body = await request.body()
        if not body.strip():
            raise RequestValidationError(
                [{"type": "missing", "loc": ("body",), "msg": "a JSON body is required"}]
            )
        try:
            return json.loads(body, parse_constant=_reject_constant)
        except (ValueError, RecursionError) as error:
            raise ApiProblem(
                400,
                "malformed-body",
                "Malformed request body",
                f"the body is not valid JSON: {_short(error)}",
            ) from None

    return read_json_body


def _short(error: Exception) -> str:
    if isinstance(error, RecursionError):
        return "nested too deeply"
    return str(error)[:200]


JsonBody = Annotated[Any, Depends(json_body_reader(JSON_MEDIA))]
MergePatchBody = Annotated[
    Any,
    Depends(
        json_body_reader(
            MERGE_PATCH_MEDIA,
            JSON_MEDIA,
            extra_headers={"Accept-Patch": f"{MERGE_PATCH_MEDIA}, {JSON_MEDIA}"},
        )
    ),
]
