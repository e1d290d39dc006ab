"""API Gateway HTTP API events (payload format 2.0) and a Lambda context, as Lambda passes
them to a handler. Standard library only: the cold-start test and benchmark import this in
a fresh interpreter and check which modules the handler loaded.
"""

from __future__ import annotations

import base64
import os
import time
import uuid
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, urlencode

# A bearer token is still sent: API Gateway's JWT authorizer reads it from this header.
AUTHORIZATION = "Bearer eyJhbGciOiJSUzI1NiJ9.verified.by-api-gateway"

# Claims as API Gateway's HTTP API hands them over: every value a string, arrays rendered
# as "[a b]".
ACME = {
    "sub": "acme-user",
    "merchant_id": "acme",
    "roles": "[merchant]",
    "iss": "https://issuer.example.test/",
    "aud": "catalog-api",
    "iat": "1795000000",
    "exp": "1895000000",
}
GLOBEX = {**ACME, "sub": "globex-user", "merchant_id": "globex"}
PLATFORM = {"sub": "ops-admin", "roles": "[merchant platform]", "exp": "1895000000"}


@dataclass
class LambdaContext:
    function_name: str = "catalog-api"
    function_version: str = "$LATEST"
    memory_limit_in_mb: int = 512
    invoked_function_arn: str = "arn:aws:lambda:us-east-1:123456789012:function:catalog-api"
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))

    def get_remaining_time_in_millis(self) -> int:
        return 30_000


def http_event(
    method: str,
    path: str,
    *,
    claims: dict[str, str] | None = ACME,
    query: dict[str, Any] | None = None,
    headers: dict[str, str] | None = None,
    body: bytes | str | None = None,
    binary: bool = False,
    request_id: str | None = None,
) -> dict[str, Any]:
    """An API Gateway HTTP API event (payload format 2.0), as a `$default` route sends it."""
    request_id = request_id or base64.b32encode(os.urandom(10)).decode().rstrip("=")
    raw_query = urlencode(query or {})
    all_headers = {
        "host": "api.example.test",
        "user-agent": "pytest",
        "x-forwarded-for": "203.0.113.7",
        "x-forwarded-port": "443",
        "x-forwarded-proto": "https",
        "x-amzn-trace-id": "Root=1-5f84c7a7-1b0a5b7c6c5e0c2a3d4e5f60",
    }
    if claims is not None:
        all_headers["authorization"] = AUTHORIZATION
    all_headers.update({name.lower(): value for name, value in (headers or {}).items()})
    now = time.time()
    context: dict[str, Any] = {
        "accountId": "123456789012",
        "apiId": "a1b2c3d4e5",
        "domainName": "api.example.test",
        "domainPrefix": "api",
        "http": {
            "method": method,
            "path": path,
            "protocol": "HTTP/1.1",
            "sourceIp": "203.0.113.7",
            "userAgent": "pytest",
        },
        "requestId": request_id,
        "routeKey": "$default",
        "stage": "$default",
        "time": time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime(now)),
        "timeEpoch": int(now * 1000),
    }
    if claims is not None:
        context["authorizer"] = {"jwt": {"claims": claims, "scopes": None}}
    event: dict[str, Any] = {
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": path,
        "rawQueryString": raw_query,
        "headers": all_headers,
        "requestContext": context,
        "isBase64Encoded": binary,
    }
    if raw_query:
        event["queryStringParameters"] = dict(parse_qsl(raw_query))
    if body is not None:
        raw = body.encode() if isinstance(body, str) else body
        event["body"] = base64.b64encode(raw).decode() if binary else raw.decode()
    return event
