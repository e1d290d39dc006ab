"""Request headers over a documented size are refused with a 431 problem, on every route.

The limit is the app's own, so it holds wherever the app runs. Behind uvicorn, the HTTP parser
(h11) has a limit of its own: it drops a request head it has buffered 16 KiB of without seeing
its end, with a bare 400 (how much arrives at once depends on the network, so a larger head
may or may not reach the app). Behind API Gateway, HTTP APIs refuse more than 10,240 bytes of
request line and headers before the Lambda runs. Under both, a request whose headers are
between this limit and theirs gets this problem document.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.types import ASGIApp, Receive, Scope, Send

from catalog.entrypoints.api.problems import problem_response

# Names and values of every request header, in bytes as received. Bearer tokens of OIDC
# issuers are 1 to 4 KiB; 8 KiB leaves room for them and what a browser adds.
MAX_REQUEST_HEADER_BYTES = 8 * 1024


class RequestHeaderLimit:
    """Pure ASGI middleware: 431 when the request's headers exceed `limit` bytes in all."""

    def __init__(self, app: ASGIApp, *, limit: int = MAX_REQUEST_HEADER_BYTES) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            size = 0
            for name, value in scope["headers"]:
                size += len(name) + len(value)
            if size > self.limit:
                response = problem_response(
                    Request(scope),
                    431,
                    slug="request-headers-too-large",
                    title="Request header fields too large",
                    detail=f"the request headers take {size} bytes; at most {self.limit} are read",
                    extensions={"limit": self.limit},
                    headers={"Connection": "close"},
                )
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)
