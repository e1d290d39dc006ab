"""Request body size limits, enforced before and while the body is read.

A declared Content-Length over the limit is refused before the application runs. A body
without one (chunked) or lying about it is counted as it streams in and refused the moment it
crosses the limit, so no request can make the server buffer more than the limit.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from starlette.datastructures import Headers
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from catalog.entrypoints.api.problems import BodyTooLarge, problem_response

# Requests whose body no route reads: not worth wrapping (GET product is the hot path).
_BODYLESS = frozenset({"GET", "HEAD", "OPTIONS"})


class BodySizeLimit:
    """Pure ASGI middleware. `routes` lists (method, path regex, limit) exceptions to `default`
    (image uploads are larger than JSON bodies)."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        default: int,
        routes: Sequence[tuple[str, str, int]] = (),
    ) -> None:
        self.app = app
        self.default = default
        self.routes = [(method, re.compile(pattern), limit) for method, pattern, limit in routes]

    def limit_for(self, method: str, path: str) -> int:
        for route_method, pattern, limit in self.routes:
            if method == route_method and pattern.search(path):
                return limit
        return self.default

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] in _BODYLESS:
            await self.app(scope, receive, send)
            return
        limit = self.limit_for(scope["method"], scope["path"])
        declared = Headers(scope=scope).get("content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            await _refuse(scope, receive, send, limit)
            return

        received = 0
        response_started = False

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise BodyTooLarge(limit)
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal response_started
            if message["type"] == "http.response.start":
                response_started = True
            await send(message)

        try:
            await self.app(scope, limited_receive, tracking_send)
        except BodyTooLarge:
            # Normally the app's exception handlers answer it; this covers a read outside them.
            if response_started:
                raise
            await _refuse(scope, receive, send, limit)


async def _refuse(scope: Scope, receive: Receive, send: Send, limit: int) -> None:
    response = problem_response(
        Request(scope),
        413,
        slug="content-too-large",
        title="Content too large",
        detail=f"the request body exceeds {limit} bytes",
        headers={"Connection": "close"},
    )
    await response(scope, receive, send)
