"""Measures what one get, one list page and one update really spend on AWS, and prices it.

    .venv/bin/python -m deploy.item_sizes [--memory-mb 512] [--page-size 20]

Runs the Lambda API handler (`catalog.entrypoints.lambda_api.handler`, the deployed code) on
API Gateway HTTP API events against DynamoDB and S3 emulated in-process by moto (a development
dependency: run it with the dev virtualenv). It builds a typical product through the API (long
description, a dozen attributes, one channel override, four images, live on two channels),
then records every AWS call of a GET, a list page and a PATCH: the DynamoDB items each one read
or wrote and their sizes (`dynamodb_items.item_size`, the bound the store enforces), and the
log bytes each invocation prints. From those it computes DynamoDB request units by
DynamoDB's billing rules and dollars per million operations at the PRICES below.

Then the same product sold in colours and sizes (DESIGN.md section 10): with 1, 50 and 250
variants (VARIANT_COUNTS), a GET, the add of the variant that makes that many, and a variant's
merge patch (its stock); a registration with the most variants one request may carry
(MAX_NEW_VARIANT_SKUS); and, computed without AWS, the worst case of 250 variants with every
field at its limit against the 400 KB item (docs/dynamodb.md "Variants" quotes it).

docs/deploy.md quotes its output. Lambda durations are estimates: the handler's CPU time per
warm invocation is measured here (moto runs in its own process), scaled to the function's
share of a vCPU, plus an assumed latency per DynamoDB call (LATENCY_MS); take real ones from
the functions' REPORT log lines once deployed.
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import functools
import io
import json
import math
import os
import socket
import statistics
import subprocess
import sys
import time
import unittest.mock
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from catalog.domain.product import Product

# Public on-demand prices, us-east-1, as published in 2025 (USD). DynamoDB: after the
# November 2024 on-demand price cut. Lambda: arm64, first pricing tier.
PRICES = {
    "dynamodb_write_request_unit": 0.625 / 1e6,
    "dynamodb_read_request_unit": 0.125 / 1e6,
    "lambda_request": 0.20 / 1e6,
    "lambda_arm64_gb_second": 0.0000133334,
    "http_api_request": 1.00 / 1e6,  # first 300 million a month; 512 KB metering blocks
    "eventbridge_custom_event": 1.00 / 1e6,  # per 64 KB chunk of a PutEvents entry
    "cloudwatch_logs_ingested_gb": 0.50,
}
PRICES_AS_OF = "us-east-1 on-demand list prices, 2025"

# Lambda prints these for every invocation besides the function's own lines (about this long).
PLATFORM_LOG_BYTES = len(
    "START RequestId: 6f0c3f1e-2b9d-4c43-9a55-0d6f1f1b2a3c Version: $LATEST\n"
    "END RequestId: 6f0c3f1e-2b9d-4c43-9a55-0d6f1f1b2a3c\n"
    "REPORT RequestId: 6f0c3f1e-2b9d-4c43-9a55-0d6f1f1b2a3c\tDuration: 14.52 ms\t"
    "Billed Duration: 15 ms\tMemory Size: 512 MB\tMax Memory Used: 118 MB\t\n"
)

MERCHANT = "acme"
PRODUCTS = f"/v1/merchants/{MERCHANT}/products"
CHANNELS = ("mercadolibre", "instagram")
TABLE, BUCKET, BUS = "catalog-cost", "catalog-cost-assets", "catalog-cost"
JSON, MERGE_PATCH = "application/json", "application/merge-patch+json"

# API Gateway's access log line (template.yaml HttpApi AccessLogSettings), filled in.
ACCESS_LOG_BYTES = len(
    '{"requestId":"Ab1CdEfGhIjKlMn=","ip":"203.0.113.7","time":"30/Nov/2026:12:00:00 +0000",'
    '"method":"GET","path":"/v1/merchants/acme/products/01JD0000000000000000000000",'
    '"routeKey":"ANY /{proxy+}","status":"200","responseLength":"3689","latency":"18",'
    '"integrationLatency":"15","integrationError":"-","authorizerError":"-","sub":"acme-user"}\n'
)

# Assumed in-region latency of each DynamoDB call (p50, milliseconds): what a billed duration
# adds to the handler's CPU time. Measure yours with X-Ray or the Latency metric.
LATENCY_MS = {"GetItem": 5.0, "Query": 8.0, "BatchGetItem": 8.0, "TransactWriteItems": 15.0}
FULL_VCPU_MB = 1769  # Lambda memory that buys one full vCPU; less memory, less CPU

# moto is not DynamoDB: it copies the whole table for every action of a transaction, so on a
# busy machine a write of a large product can outlast the handler's 5 s read timeout, and it
# ignores ClientRequestToken, so botocore's retry of a write that did happen fails its
# version condition (a 500 where DynamoDB would answer the first success). The emulated
# clients wait this long instead; what a call reads and writes is the same.
EMULATOR_READ_TIMEOUT = 120.0

# The relay's one JSON line per batch ("relayed stream batch", records, failed, bus).
RELAY_LOG_BYTES = 400

# A typical apparel product: the view field names are the API's (DESIGN.md section 4).
TYPICAL_PRODUCT: dict[str, Any] = {
    "name": "Trail running shoe, lightweight, waterproof",
    "description": (
        "A light trail running shoe with a waterproof breathable membrane, a rock plate under "
        "the forefoot and a 4 mm lugged outsole that grips on wet rock and loose gravel. The "
        "cushioned midsole keeps its spring over long distances; the gusseted tongue keeps "
        "out grit. Reflective details for early mornings. Machine washable at 30 degrees. "
        "Sizes run true; choose half a size up for long races where feet swell."
    ),
    "price": {"amount": 12999, "currency": "USD"},
    "attributes": {
        "brand": "Northpeak",
        "model": "Ridge 3",
        "color": "red",
        "size": 42,
        "gender": "unisex",
        "material": "recycled polyester mesh",
        "sole": "rubber, 4 mm lugs",
        "drop_mm": 6,
        "weight_g": 285,
        "waterproof": True,
        "gtin": "07612345678904",
        "country_of_origin": "VN",
    },
    "channel_overrides": {
        "mercadolibre": {
            "name": "Zapatilla de trail running impermeable",
            "price": {"amount": 11999, "currency": "USD"},
        }
    },
}
IMAGES = 4

# The same shoe sold in 10 colours and 25 sizes: its options are the axes (no longer
# attributes of the product), each variant as merchants keep them (variant_body).
VARIANT_COUNTS = (1, 50, 250)
VARIANT_PRODUCT: dict[str, Any] = {
    **TYPICAL_PRODUCT,
    "attributes": {
        name: value
        for name, value in TYPICAL_PRODUCT["attributes"].items()
        if name not in ("color", "size", "gtin")
    },
    "options": ["color", "size"],
}
COLORS = ("black", "red", "blue", "grey", "green", "orange", "white", "navy", "olive", "purple")
SIZES = tuple(f"{half / 2:g}" for half in range(72, 97))  # EU 36 to 48 in half sizes


@dataclass
class Call:
    service: str
    operation: str
    read_item_bytes: list[int] = field(default_factory=list)
    consistent: bool = False
    written_item_bytes: list[int] = field(default_factory=list)
    written_item_types: list[str] = field(default_factory=list)  # beside written_item_bytes
    transactional: bool = False
    actions: int = 0  # of a transaction, the 100 DynamoDB accepts at most


@dataclass
class Measured:
    name: str
    calls: list[Call]
    log_bytes: int
    status: int
    response_bytes: int = 0  # the body the client receives
    cpu_ms: float = 0.0  # of this one invocation

    def written(self, item_type: str) -> list[int]:
        """The sizes of the items of that type the operation wrote (DELETE: deletes)."""
        return [
            size
            for call in self.dynamodb()
            for size, kind in zip(call.written_item_bytes, call.written_item_types, strict=True)
            if kind == item_type
        ]

    def transaction_actions(self) -> int:
        return sum(call.actions for call in self.dynamodb())

    def dynamodb(self) -> list[Call]:
        return [call for call in self.calls if call.service == "dynamodb"]

    def read_units(self) -> float:
        total = 0.0
        for call in self.dynamodb():
            if call.operation == "Query":
                # A Query is billed on the sum of the items it read, rounded up to 4 KB.
                units = max(1, math.ceil(sum(call.read_item_bytes) / 4096))
            elif call.operation == "GetItem":
                # An item that is not there costs a unit all the same.
                units = max(1, math.ceil(sum(call.read_item_bytes) / 4096))
            elif call.operation == "BatchGetItem":
                units = sum(max(1, math.ceil(size / 4096)) for size in call.read_item_bytes)
            else:
                continue
            total += units if call.consistent else units / 2
        return total

    def write_units(self) -> float:
        """Table writes: 1 KB units per item, doubled in a transaction."""
        total = 0
        for call in self.dynamodb():
            per_kb = 2 if call.transactional else 1
            total += sum(
                per_kb * max(1, math.ceil(size / 1024)) for size in call.written_item_bytes
            )
        return total


class Recorder:
    """Every AWS call the handler makes, with the DynamoDB items it read or wrote."""

    def __init__(self) -> None:
        self.calls: list[Call] = []
        self.index_writes: list[int] = []  # item sizes propagated to the GSIs
        self.events = 0  # outbox items: each becomes one EventBridge event

    @contextlib.contextmanager
    def installed(self) -> Iterator[None]:
        from botocore.client import BaseClient

        # Every client's calls go through this method (the tests count calls the same way).
        client_class: Any = BaseClient
        original = client_class._make_api_call
        recorder = self

        def recorded(client: Any, operation: str, params: dict[str, Any]) -> Any:
            response = original(client, operation, params)
            recorder.record(client.meta.service_model.service_name, operation, params, response)
            return response

        client_class._make_api_call = recorded
        try:
            yield
        finally:
            client_class._make_api_call = original

    def record(
        self, service: str, operation: str, params: dict[str, Any], response: dict[str, Any]
    ) -> None:
        from catalog.adapters.aws.dynamodb_items import item_size

        call = Call(service, operation, consistent=bool(params.get("ConsistentRead")))
        if operation == "GetItem" and "Item" in response:
            call.read_item_bytes = [item_size(response["Item"])]
        elif operation == "Query":
            call.read_item_bytes = [item_size(item) for item in response.get("Items", [])]
        elif operation == "BatchGetItem":
            requested = params["RequestItems"].values()
            call.consistent = all(table.get("ConsistentRead") for table in requested)
            for found in response.get("Responses", {}).values():
                call.read_item_bytes += [item_size(item) for item in found]
        elif operation == "TransactWriteItems":
            call.transactional = True
            call.actions = len(params["TransactItems"])
            for action in params["TransactItems"]:
                if "Put" in action:
                    item = action["Put"]["Item"]
                    call.written_item_bytes.append(item_size(item))
                    call.written_item_types.append(item.get("item_type", {}).get("S", "?"))
                    if item.get("item_type") == {"S": "EVENT"}:
                        self.events += 1
                    # Every product and listing item is in a GSI: one more write there each.
                    if "gsi1pk" in item:
                        self.index_writes.append(item_size(item))
                    if "gsi2pk" in item:
                        self.index_writes.append(item_size(item))
                    if "gsi3pk" in item:  # typed products only (sparse)
                        self.index_writes.append(item_size(item))
                elif "Delete" in action:
                    call.written_item_bytes.append(1)  # a delete costs one unit
                    call.written_item_types.append("DELETE")
        self.calls.append(call)


def http_event(
    method: str,
    path: str,
    *,
    roles: str = "[merchant]",
    body: bytes | None = None,
    headers: dict[str, str] | None = None,
    query: str = "",
) -> dict[str, Any]:
    """An API Gateway HTTP API event (payload 2.0) with JWT authorizer claims."""
    now = time.time()
    event: dict[str, Any] = {
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": path,
        "rawQueryString": query,
        "headers": {"host": "api.example.test", "authorization": "Bearer x", **(headers or {})},
        "requestContext": {
            "accountId": "123456789012",
            "apiId": "costmodel",
            "domainName": "api.example.test",
            "http": {"method": method, "path": path, "protocol": "HTTP/1.1", "sourceIp": "1.2.3.4"},
            "requestId": uuid.uuid4().hex,
            "routeKey": "$default",
            "stage": "$default",
            "timeEpoch": int(now * 1000),
            "authorizer": {
                # A channel token's scope (`merchants`) is the merchant it reports for.
                "jwt": {
                    "claims": {
                        "sub": "cost-model",
                        "merchant_id": MERCHANT,
                        "merchants": f"[{MERCHANT}]",
                        "roles": roles,
                    }
                }
            },
        },
        "isBase64Encoded": body is not None,
    }
    if query:
        event["queryStringParameters"] = dict(part.split("=", 1) for part in query.split("&"))
    if body is not None:
        event["body"] = base64.b64encode(body).decode()
    return event


class LambdaContext:
    function_name = "catalog-api"
    memory_limit_in_mb = 512
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:catalog-api"

    def __init__(self) -> None:
        self.aws_request_id = str(uuid.uuid4())


def invoke(event: dict[str, Any]) -> tuple[dict[str, Any], int]:
    """The handler's answer and the bytes it logged (JSON line + metrics)."""
    from catalog.entrypoints import lambda_api

    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        response = lambda_api.handler(event, LambdaContext())
    return response, len(printed.getvalue().encode())


def call_json(
    method: str, path: str, payload: Any = None, *, roles: str = "[merchant]", **headers: str
) -> dict[str, Any]:
    body = json.dumps(payload).encode() if payload is not None else None
    response, _ = invoke(
        http_event(
            method,
            path,
            roles=roles,
            body=body,
            headers={"content-type": "application/json", **headers} if body else headers,
        )
    )
    assert response["statusCode"] < 300, response
    raw = response.get("body", "")
    text = base64.b64decode(raw).decode() if response.get("isBase64Encoded") else raw
    result: dict[str, Any] = json.loads(text)
    return result


def png(seed: int) -> bytes:
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (800, 800), (seed * 40 % 256, 90, 160)).save(buffer, "PNG")
    return buffer.getvalue()


def upload_image(product_id: str, seed: int) -> None:
    boundary = "costmodel" + uuid.uuid4().hex
    body = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="alt"\r\n\r\n'
        f"Side view {seed}, red upper on a white background\r\n"
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{seed}.png"\r\n'
        "Content-Type: image/png\r\n\r\n"
    ).encode()
    body += png(seed) + f"\r\n--{boundary}--\r\n".encode()
    content_type = f"multipart/form-data; boundary={boundary}"
    response, _ = invoke(
        http_event(
            "POST",
            f"{PRODUCTS}/{product_id}/images",
            body=body,
            headers={"content-type": content_type},
        )
    )
    assert response["statusCode"] == 201, response


def typical_product(sku: str) -> dict[str, Any]:
    """A product as merchants keep them: complete, four images, ACTIVE on two channels."""
    created = call_json("POST", PRODUCTS, {"sku": sku, **TYPICAL_PRODUCT})
    for seed in range(IMAGES):
        upload_image(created["id"], seed)
    return go_live(created, sku)


def go_live(created: dict[str, Any], sku: str) -> dict[str, Any]:
    """The complete product READY, then published on every channel of CHANNELS."""
    url = f"{PRODUCTS}/{created['id']}"
    call_json("POST", f"{url}/status", {"status": "READY"})
    product = created
    for channel in CHANNELS:
        product = call_json("POST", f"{url}/channels/{channel}/publish")
        outcome = {
            "state": "PUBLISHED",
            "product_version": product["version"],
            "external_id": f"{channel.upper()}-{sku}",
            "external_url": f"https://{channel}.example.test/item/{sku}",
        }
        product = call_json(
            "PUT", f"{url}/channels/{channel}/listing", outcome, roles=f"[channel:{channel}]"
        )
    return product


def create_event(
    sku: str, idempotency_key: str, fields: dict[str, Any] = TYPICAL_PRODUCT
) -> dict[str, Any]:
    """A POST of the typical product's fields (images and listings come later), keyed."""
    return http_event(
        "POST",
        PRODUCTS,
        body=json.dumps({"sku": sku, **fields}).encode(),
        headers={"content-type": "application/json", "idempotency-key": idempotency_key},
    )


def variant_body(number: int, image_ids: list[str], model: str = "RDG3") -> dict[str, Any]:
    """The number-th variant of the shoe (0 to 249): a colour and a size, a price of its own
    for the largest sizes, three attributes, one image, a GTIN-13 and a stock."""
    from catalog.domain.variants import gtin_check_digit

    color, size = COLORS[number // len(SIZES)], SIZES[number % len(SIZES)]
    payload = f"761234{number:06d}"
    return {
        "sku": f"{model}-{color.upper()}-{size}",
        "options": {"color": color, "size": size},
        "price": {"amount": 13999, "currency": "USD"} if float(size) >= 46 else None,
        "attributes": {
            "color_name": f"{color.title()} with black sole",
            "size_us": f"{float(size) - 33:g}",
            "weight_g": 255 + number % len(SIZES) * 2,
        },
        "image_ids": [image_ids[number % len(image_ids)]] if image_ids else [],
        "barcode": payload + str(gtin_check_digit(payload)),
        "stock": number * 7 % 40,
    }


def variants_text(count: int) -> str:
    return f"{count} variant{'' if count == 1 else 's'}"


def json_event(method: str, path: str, payload: Any, content_type: str) -> dict[str, Any]:
    body = json.dumps(payload).encode()
    return http_event(method, path, body=body, headers={"content-type": content_type})


def stock_patch(url: str, variant_id: str, stock: int) -> dict[str, Any]:
    """The commonest variant write: its stock, as a merge patch."""
    patch = {"stock": stock}
    return json_event("PATCH", f"{url}/variants/{variant_id}", patch, MERGE_PATCH)


@dataclass
class VariantCase:
    """What a product with `count` variants spends: a GET, the add of its count-th variant
    and a merge patch of one variant's stock."""

    count: int
    get: tuple[Measured, Recorder]
    add: tuple[Measured, Recorder]
    patch: tuple[Measured, Recorder]

    def rows(self) -> list[tuple[Measured, Recorder]]:
        return [self.get, self.add, self.patch]


def variant_cases(
    created: dict[str, Any], counts: tuple[int, ...]
) -> tuple[list[VariantCase], dict[str, float]]:
    """The product registered as `created` (VARIANT_PRODUCT, no variants yet) grown to each
    count in turn, measured at each; also the CPU of each operation (the add's of its one
    invocation: adding another would change the count)."""
    url = f"{PRODUCTS}/{created['id']}"
    for seed in range(IMAGES):
        upload_image(created["id"], seed)
    image_ids = [image["id"] for image in call_json("GET", url)["images"]]
    cases: list[VariantCase] = []
    cpu: dict[str, float] = {}
    added = 0
    for count in counts:
        while added < count - 1:
            call_json("POST", f"{url}/variants", variant_body(added, image_ids))
            added += 1
        # The first variant is added to the DRAFT product (it cannot go live without one).
        body = variant_body(added, image_ids)
        add = measure(
            f"variant add ({variants_text(count)})",
            json_event("POST", f"{url}/variants", body, JSON),
        )
        assert add[0].status == 201, add[0]
        added += 1
        if not cases:
            go_live(call_json("GET", url), "RDG3")
        first = call_json("GET", url)["variants"][0]["id"]
        get = measure(f"get ({variants_text(count)})", http_event("GET", url))
        patch = measure(
            f"variant patch ({variants_text(count)})", stock_patch(url, first, 1000 + count)
        )
        cases.append(VariantCase(count, get, add, patch))
        cpu[get[0].name] = cpu_ms(lambda run: http_event("GET", url), 30)
        cpu[patch[0].name] = cpu_ms(functools.partial(stock_patch, url, first), 15)
        cpu[add[0].name] = add[0].cpu_ms
    return cases, cpu


def registration_with_variants(count: int) -> tuple[tuple[Measured, Recorder], float]:
    """A keyed registration of the shoe with `count` variants (no images yet: a registration
    cannot name any), and its CPU."""

    def fields(model: str) -> dict[str, Any]:
        return {**VARIANT_PRODUCT, "variants": [variant_body(n, [], model) for n in range(count)]}

    measured = measure(
        f"create ({variants_text(count)})", create_event("RDG4", "variants-first", fields("RDG4"))
    )
    assert measured[0].status == 201, measured[0]
    spent = cpu_ms(lambda run: create_event(f"R5{run}", f"v-{run}", fields(f"R5{run}")), 5)
    return measured, spent


@dataclass(frozen=True)
class WorstCase:
    """The product with variants at their field limits, as DynamoDB would store it."""

    variants: int
    document_bytes: int  # what stored_change compares with limits.MAX_DOCUMENT_BYTES
    item_bytes: int  # the product item, DynamoDB's limit of 400 KB
    variant_bytes: int  # one variant in the document


def worst_cases(product_id: str) -> tuple[WorstCase, WorstCase, WorstCase, WorstCase]:
    """The stored product given 20 images and 3 axes of the longest names, and variants with
    every field at its limit: 250 of them without attributes, the most of them that fit the
    document limit; then the same two with attributes at their limits too (100 strings of
    2,000 characters, within one request's body)."""
    from catalog.adapters.aws.clients import aws_client
    from catalog.adapters.aws.dynamodb_items import product_from_item, product_key

    item = aws_client("dynamodb").get_item(
        TableName=TABLE, Key=product_key(MERCHANT, product_id), ConsistentRead=True
    )["Item"]
    product = product_from_item(item)
    flat = [worst_case(product, n, attributes=False) for n in (250, fitting(product, False))]
    full = [worst_case(product, n, attributes=True) for n in (250, fitting(product, True))]
    return flat[0], flat[1], full[0], full[1]


def at_limits(product: Product, count: int, *, attributes: bool) -> Product:
    """A copy of `product` with 20 images, 3 axes and `count` variants at their limits."""
    import dataclasses

    from msgspec import structs

    from catalog.adapters.ulid_ids import UlidIds
    from catalog.domain import limits
    from catalog.domain.variants import gtin_check_digit, parse_variant_body

    ids = UlidIds()
    image = product.images[0]
    images = [
        structs.replace(image, id=ids.new_id(), alt="a" * limits.MAX_ALT_LENGTH)
        for _ in range(limits.MAX_IMAGES)
    ]
    axes = tuple(f"axis{k}".ljust(64, "x") for k in range(limits.MAX_OPTIONS))
    payload = "7" * 13
    variants = []
    for number in range(count):
        raw = {
            "sku": f"V{number:03d}".ljust(limits.MAX_SKU_LENGTH, "X"),
            "options": {
                axis: f"{number:03d}".ljust(limits.MAX_OPTION_VALUE_LENGTH, "v") for axis in axes
            },
            "price": {"amount": limits.MAX_AMOUNT, "currency": "USD"},
            "attributes": (
                {
                    f"{k:03d}".ljust(limits.MAX_ATTRIBUTE_KEY_LENGTH, "k"): "s"
                    * limits.MAX_ATTRIBUTE_STRING_LENGTH
                    for k in range(limits.MAX_ATTRIBUTES)
                }
                if attributes
                else {}
            ),
            "image_ids": [image.id for image in images],
            "barcode": payload + str(gtin_check_digit(payload)),
            "stock": limits.MAX_STOCK,
        }
        # Parsed as the API parses a body: each value is one the catalog accepts.
        body = parse_variant_body(raw, f"/variants/{number}")
        variants.append(body.identified(ids.new_id()))
    return dataclasses.replace(product, images=images, options=axes, variants=variants)


def worst_case(product: Product, count: int, *, attributes: bool) -> WorstCase:
    from catalog.adapters.aws.dynamodb_items import item_size, product_item
    from catalog.adapters.product_documents import product_to_document
    from catalog.adapters.stored_values import compact_json

    grown = at_limits(product, count, attributes=attributes)
    one = at_limits(product, 1, attributes=attributes).variants[0]
    return WorstCase(
        count,
        len(compact_json(product_to_document(grown)).encode()),
        item_size(product_item(grown)),
        len(compact_json(one.to_json()).encode()),
    )


def fitting(product: Product, attributes: bool) -> int:
    """The most variants at their limits whose product stays within the document limit."""
    from catalog.adapters.product_documents import product_to_document
    from catalog.adapters.stored_values import compact_json
    from catalog.domain import limits

    def fits(count: int) -> bool:
        grown = at_limits(product, count, attributes=attributes)
        return len(compact_json(product_to_document(grown)).encode()) <= limits.MAX_DOCUMENT_BYTES

    low, high = 0, limits.MAX_VARIANTS  # fits(low); the answer is at most high
    while low < high:
        middle = (low + high + 1) // 2
        if fits(middle):
            low = middle
        else:
            high = middle - 1
    return low


def measure(name: str, event: dict[str, Any]) -> tuple[Measured, Recorder]:
    recorder = Recorder()
    with recorder.installed():
        started = time.process_time()
        response, log_bytes = invoke(event)
        spent = (time.process_time() - started) * 1000
    raw = response.get("body", "")
    body = base64.b64decode(raw) if response.get("isBase64Encoded") else raw.encode()
    measured = Measured(name, recorder.calls, log_bytes, response["statusCode"], len(body), spent)
    return measured, recorder


@dataclass(frozen=True)
class Assumptions:
    memory_mb: int  # the API function's
    duration_ms: dict[str, float]  # billed duration per operation name
    relay_memory_mb: int
    relay_ms: float  # one relay invocation per change: the worst case, batches of one record


def billed_ms(measured: Measured, cpu_ms: float, memory_mb: int) -> float:
    """CPU time scaled to the function's share of a vCPU, plus the DynamoDB round trips."""
    scaled = cpu_ms * max(1.0, FULL_VCPU_MB / memory_mb)
    waiting = sum(LATENCY_MS.get(call.operation, 0.0) for call in measured.dynamodb())
    return float(math.ceil(scaled + waiting))


def dollars(measured: Measured, recorder: Recorder, assumed: Assumptions) -> dict[str, float]:
    gb_seconds = assumed.memory_mb / 1024 * math.ceil(assumed.duration_ms[measured.name]) / 1000
    logs_gb = (measured.log_bytes + PLATFORM_LOG_BYTES + ACCESS_LOG_BYTES) / 1e9
    lambda_cost = PRICES["lambda_request"] + gb_seconds * PRICES["lambda_arm64_gb_second"]
    events = 0.0
    if recorder.events:
        relay_gb_seconds = assumed.relay_memory_mb / 1024 * math.ceil(assumed.relay_ms) / 1000
        lambda_cost += (
            PRICES["lambda_request"] + relay_gb_seconds * PRICES["lambda_arm64_gb_second"]
        )
        logs_gb += (RELAY_LOG_BYTES + PLATFORM_LOG_BYTES) / 1e9
        events = recorder.events * PRICES["eventbridge_custom_event"]
    return {
        "dynamodb_reads": measured.read_units() * PRICES["dynamodb_read_request_unit"],
        "dynamodb_writes": (measured.write_units() + index_units(recorder))
        * PRICES["dynamodb_write_request_unit"],
        "lambda": lambda_cost,
        "http_api": PRICES["http_api_request"],
        "eventbridge": events,
        "logs": logs_gb * PRICES["cloudwatch_logs_ingested_gb"],
    }


@contextlib.contextmanager
def emulated_aws() -> Iterator[None]:
    """moto's server in its own process, so this process's CPU time is the handler's alone."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    endpoint = f"http://127.0.0.1:{port}"
    server = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    settings = {
        "AWS_ENDPOINT_URL": endpoint,
        "AWS_REGION": "us-east-1",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "CATALOG_BACKEND": "aws",
        "CATALOG_AUTH": "apigw",
        "CATALOG_CURSOR_SECRET": "cost-model-cursor-secret-0123456789abcdef",
        "CATALOG_TABLE_NAME": TABLE,
        "CATALOG_BUCKET_NAME": BUCKET,
        "CATALOG_EVENT_BUS_NAME": BUS,
        # A process reads the channels' requirements for a write at most once per this many
        # seconds; under load that read is shared by many writes, so none is counted here
        # (with the default 5 s, whether a measured write makes it depends on the machine).
        "CATALOG_REQUIREMENTS_MAX_AGE": "300",
    }
    saved = {name: os.environ.get(name) for name in [*settings, "AWS_PROFILE"]}
    os.environ.update(settings)
    os.environ.pop("AWS_PROFILE", None)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                urllib.request.urlopen(f"{endpoint}/moto-api/", timeout=1).close()
                break
            except OSError:
                if server.poll() is not None or time.monotonic() > deadline:
                    raise SystemExit("moto's server did not start") from None
                time.sleep(0.2)
        from catalog import bootstrap
        from catalog.adapters.aws.clients import aws_client
        from catalog.adapters.aws.provisioning import ensure_bucket, ensure_catalog_table
        from catalog.entrypoints import lambda_api

        ensure_catalog_table(aws_client("dynamodb"), TABLE)
        ensure_bucket(aws_client("s3"), BUCKET, "us-east-1")

        def patient_client(service: str, *, read_timeout: float = 5.0, **options: Any) -> Any:
            return aws_client(
                service, read_timeout=max(read_timeout, EMULATOR_READ_TIMEOUT), **options
            )

        # The handler's clients, as the composition root makes them, with a longer wait.
        with unittest.mock.patch.object(bootstrap, "aws_client", patient_client):
            lambda_api.reset()
            yield
            lambda_api.reset()
    finally:
        server.kill()  # an emulator holding nothing worth a clean shutdown
        server.wait(timeout=10)
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def cpu_ms(event: Callable[[int], dict[str, Any]], runs: int) -> float:
    """Median CPU time of the handler for one warm invocation (moto runs in another process)."""
    spent = []
    for run in range(runs):
        started = time.process_time()
        response, _ = invoke(event(run))
        spent.append((time.process_time() - started) * 1000)
        assert response["statusCode"] < 300, response
    return statistics.median(spent)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--page-size", type=int, default=20)
    parser.add_argument(
        "--memory-mb", type=int, default=1024, help="the API function's (ApiMemorySize)"
    )
    parser.add_argument("--relay-memory-mb", type=int, default=256)
    parser.add_argument("--relay-ms", type=float, default=40.0, help="one PutEvents batch")
    parser.add_argument(
        "--no-variants",
        dest="variants",
        action="store_false",
        help="skip the product with variants (its 250 adds take most of the run)",
    )
    args = parser.parse_args(argv)
    from catalog.adapters.aws.dynamodb_store import MAX_ITEM_BYTES
    from catalog.domain.limits import MAX_DOCUMENT_BYTES, MAX_NEW_VARIANT_SKUS

    with emulated_aws():
        product = typical_product("TS-0")
        for number in range(1, args.page_size + 1):
            typical_product(f"TS-{number}")
        url = f"{PRODUCTS}/{product['id']}"
        get, get_index = measure("get", http_event("GET", url))
        page, page_index = measure(
            "list page", http_event("GET", PRODUCTS, query=f"limit={args.page_size}")
        )
        current = call_json("GET", url)
        patch = json.dumps({"price": {"amount": 11499, "currency": "USD"}}).encode()
        update, update_index = measure(
            "update",
            http_event(
                "PATCH",
                url,
                body=patch,
                headers={
                    "content-type": "application/merge-patch+json",
                    "if-match": f'"{current["version"]}"',
                },
            ),
        )
        channel_query = f"channel={CHANNELS[0]}&limit={args.page_size}"
        channel_page, channel_index = measure(
            "channel page", http_event("GET", PRODUCTS, query=channel_query)
        )
        create, create_index = measure("create", create_event("TS-new", "first-try"))
        # Warm invocations, after the ones above: CPU per operation on this machine.
        cpu = {
            "get": cpu_ms(lambda run: http_event("GET", url), 30),
            "list page": cpu_ms(
                lambda run: http_event("GET", PRODUCTS, query=f"limit={args.page_size}"), 15
            ),
            "update": cpu_ms(
                lambda run: http_event(
                    "PATCH",
                    url,
                    body=json.dumps({"price": {"amount": 12000 + run, "currency": "USD"}}).encode(),
                    headers={"content-type": "application/merge-patch+json"},
                ),
                15,
            ),
            "channel page": cpu_ms(
                lambda run: http_event("GET", PRODUCTS, query=channel_query), 15
            ),
            "create": cpu_ms(lambda run: create_event(f"TS-cpu-{run}", f"cpu-{run}"), 15),
        }
    cases: list[VariantCase] = []
    if args.variants:
        # On a table of their own: moto copies the whole table for every action of a
        # transaction (EMULATOR_READ_TIMEOUT), so a small table keeps the run short.
        with emulated_aws():
            shoe = call_json("POST", PRODUCTS, {"sku": "RDG3", **VARIANT_PRODUCT})
            registration, registration_cpu = registration_with_variants(MAX_NEW_VARIANT_SKUS)
            cpu[registration[0].name] = registration_cpu
            cases, variant_cpu = variant_cases(shoe, VARIANT_COUNTS)
            cpu.update(variant_cpu)
            worst = worst_cases(shoe["id"])

    print(
        f"typical product: {len(json.dumps(product))} bytes of JSON view, {IMAGES} images, "
        f"{len(CHANNELS)} live listings, version {product['version']}"
    )
    print()
    rows = [
        (get, get_index),
        (page, page_index),
        (channel_page, channel_index),
        (update, update_index),
        (create, create_index),
    ]
    print_calls(rows)
    print()
    print(
        "handler CPU per warm invocation on this machine (one full core, median): "
        + ", ".join(f"{measured.name} {cpu[measured.name]:.1f} ms" for measured, _ in rows)
    )
    print()
    variant_rows = [row for case in cases for row in case.rows()]
    if cases:
        variant_rows.append(registration)
    durations = {
        measured.name: billed_ms(measured, cpu[measured.name], args.memory_mb)
        for measured, _ in rows + variant_rows
    }
    assumed = Assumptions(args.memory_mb, durations, args.relay_memory_mb, args.relay_ms)
    print(
        f"dollars per million operations ({PRICES_AS_OF}; API function {args.memory_mb} MB "
        f"arm64; billed duration = CPU x {max(1.0, FULL_VCPU_MB / args.memory_mb):.2f} "
        "+ DynamoDB latency ("
        + ", ".join(f"{op} {ms:g} ms" for op, ms in LATENCY_MS.items())
        + "): "
        + ", ".join(f"{measured.name} {durations[measured.name]:g} ms" for measured, _ in rows)
        + f"; relay {args.relay_memory_mb} MB, {args.relay_ms:g} ms per change)"
    )
    print()
    print_dollars(rows, assumed)
    if not cases:
        return

    print()
    print(
        f"product with variants: the typical product with options {VARIANT_PRODUCT['options']} "
        f"({len(COLORS)} colours x {len(SIZES)} sizes), {IMAGES} images, live on "
        f"{len(CHANNELS)} channels; each variant a SKU, 2 option values, 3 attributes, 1 image "
        "id, a GTIN-13, a stock, and a price of its own for sizes 46 and up; the first variant "
        "is added before the product goes live (it cannot without one)"
    )
    print()
    print_variants(cases)
    print()
    reg = registration[0]
    print(
        f"registration with {MAX_NEW_VARIANT_SKUS} variants (MAX_NEW_VARIANT_SKUS, keyed): "
        f"{reg.transaction_actions()} items in its transaction "
        f"({len(reg.written('SKU'))} SKU guards: the product's and its variants'), "
        f"product item {reg.written('PRODUCT')[0]} bytes, "
        f"history item {reg.written('HISTORY')[0]} bytes, {reg.write_units():g} WRU table + "
        f"{index_units(registration[1])} WRU GSIs"
    )
    print()
    print_calls(variant_rows)
    print()
    print(
        "handler CPU on this machine (one full core; get and patch the median of warm "
        "invocations, add and create one invocation): "
        + ", ".join(f"{measured.name} {cpu[measured.name]:.1f} ms" for measured, _ in variant_rows)
    )
    print()
    print(
        "billed duration: "
        + ", ".join(f"{m.name} {durations[m.name]:g} ms" for m, _ in variant_rows)
    )
    print()
    print_dollars(variant_rows, assumed)
    print()
    flat, flat_fit, full, full_fit = worst
    print(
        "worst case (computed, the stored product above given 20 images with 500-character alt "
        "texts and 3 axes of 64-character names; each variant: a 64-character SKU, 3 option "
        "values of 200 characters, price 10^15, 20 image ids, a GTIN-14, stock 10^9):"
    )
    for case, what in (
        (flat, "no attributes"),
        (flat_fit, "no attributes"),
        (full, "100 attributes of 2,000 characters"),
        (full_fit, "100 attributes of 2,000 characters"),
    ):
        print(
            f"- {variants_text(case.variants)}, {what} ({case.variant_bytes} bytes each): document "
            f"{case.document_bytes} bytes (limit {MAX_DOCUMENT_BYTES}), product item "
            f"{case.item_bytes} bytes (DynamoDB's limit {MAX_ITEM_BYTES})"
        )


def index_units(recorder: Recorder) -> int:
    """Standard writes of the product item into each index that holds it."""
    return sum(max(1, math.ceil(size / 1024)) for size in recorder.index_writes)


def print_calls(rows: list[tuple[Measured, Recorder]]) -> None:
    print(
        "| operation | status | AWS calls | items read (bytes) | items written (bytes) "
        "| RRU | WRU table | WRU GSIs | log bytes |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    for measured, recorder in rows:
        calls = ", ".join(
            f"{c.service}.{c.operation}{' (consistent)' if c.consistent else ''}"
            for c in measured.calls
        )
        read = [size for c in measured.dynamodb() for size in c.read_item_bytes]
        written = [size for c in measured.dynamodb() for size in c.written_item_bytes]
        read_text = (
            f"{len(read)} x ~{sum(read) // max(1, len(read))} = {sum(read)}"
            if len(read) > 1
            else ", ".join(map(str, read)) or "-"
        )
        written_text = (
            f"{', '.join(map(str, written[:6]))} and {len(written) - 6} more"
            f" ({sum(written)} in all)"
            if len(written) > 8
            else ", ".join(map(str, written)) or "-"
        )
        print(
            f"| {measured.name} | {measured.status} | {calls} | {read_text} "
            f"| {written_text} | {measured.read_units():g} "
            f"| {measured.write_units():g} | {index_units(recorder)} | {measured.log_bytes} |"
        )


def print_dollars(rows: list[tuple[Measured, Recorder]], assumed: Assumptions) -> None:
    print(
        "| operation | DynamoDB reads | DynamoDB writes | Lambda | HTTP API | EventBridge "
        "| logs | total |"
    )
    print("|---|---|---|---|---|---|---|---|")
    for measured, recorder in rows:
        cost = dollars(measured, recorder, assumed)
        line = " | ".join(f"{value * 1e6:.2f}" for value in cost.values())
        print(f"| {measured.name} | {line} | {sum(cost.values()) * 1e6:.2f} |")


def print_variants(cases: list[VariantCase]) -> None:
    print(
        "| variants | product item (bytes) | GET response (bytes) | GET RRU "
        "| add: items, WRU table + GSIs | patch: items, history item (bytes) "
        "| patch WRU table + GSIs |"
    )
    print("|---|---|---|---|---|---|---|")
    for case in cases:
        get, add, patch = case.get[0], case.add[0], case.patch[0]
        item = get.dynamodb()[0].read_item_bytes[0]
        print(
            f"| {case.count} | {item} | {get.response_bytes} | {get.read_units():g} "
            f"| {add.transaction_actions()}, {add.write_units():g} + {index_units(case.add[1])} "
            f"| {patch.transaction_actions()}, {patch.written('HISTORY')[0]} "
            f"| {patch.write_units():g} + {index_units(case.patch[1])} |"
        )


if __name__ == "__main__":
    main()
