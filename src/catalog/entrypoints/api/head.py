"""HEAD answered wherever GET is: the GET route runs and its body is dropped.

FastAPI registers a GET route for GET only, so HEAD was a 405. Answering it from the GET route
itself keeps status and headers (ETag, Content-Length, Cache-Control, 304 on If-None-Match)
identical by construction, for every GET route present and future, without a HEAD operation
per route in the OpenAPI document.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send


class HeadAsGet:
    """Pure ASGI middleware: a HEAD request is routed as a GET and answered without a body."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "HEAD":
            await self.app(scope, receive, send)
            return

        async def send_headers_only(message: Message) -> None:
            if message["type"] == "http.response.body":
                if message.get("more_body", False):
                    return
                message = {"type": "http.response.body", "body": b"", "more_body": False}
            await send(message)

        # A copy: the server keeps its own scope saying HEAD, so it expects no body after the
        # GET's Content-Length.
        await self.app({**scope, "method": "GET"}, receive, send_headers_only)
