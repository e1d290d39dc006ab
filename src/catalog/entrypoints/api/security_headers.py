"""Response headers every answer carries: no content sniffing, a restrictive Content Security
Policy, and `Cache-Control: private` on authenticated reads.

The API answers JSON, which no browser should run, frame or render as anything else: `nosniff`
and a policy that allows nothing (`default-src 'none'`) say so on every response, problems
and errors included. The two HTML pages (Swagger UI, ReDoc) need their vendored scripts and
styles; they set their own, narrower-than-default policy (docs.py, `page_policy`), which this
middleware keeps.

A read that carried a verified bearer token answers what that caller may see: a shared cache
must not hand it to anyone else. GET product says `private, no-cache` itself (it revalidates
with its ETag); any other authenticated read without a Cache-Control gets `private`.
"""

from __future__ import annotations

import base64
import hashlib
import re

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from catalog.entrypoints.api.problems import UNEXPECTED_ERROR_HEADERS

NOSNIFF = (b"x-content-type-options", b"nosniff")
# JSON answers: nothing may load, nothing may frame them, no form may post from them. Written
# in problems.py, whose 500 answer Starlette sends outside this middleware.
API_POLICY = UNEXPECTED_ERROR_HEADERS["Content-Security-Policy"]
PRIVATE = (b"cache-control", b"private")
_READS = frozenset({"GET", "HEAD"})
_CSP = b"content-security-policy"
_CACHE_CONTROL = b"cache-control"

_INLINE_SCRIPT = re.compile(r"<script>(.*?)</script>", re.DOTALL)


def page_policy(html: str) -> str:
    """The policy of a documentation page: its own origin's scripts (the vendored assets) and
    exactly its inline scripts, by hash; inline styles (ReDoc writes its styles into the page);
    images from its origin and data: URIs (Swagger UI's icons); ReDoc's search worker."""
    hashes = " ".join(
        "'sha256-" + base64.b64encode(hashlib.sha256(script.encode()).digest()).decode() + "'"
        for script in _INLINE_SCRIPT.findall(html)
    )
    script_src = f"'self' {hashes}" if hashes else "'self'"
    return (
        f"default-src 'none'; script-src {script_src}; style-src 'self' 'unsafe-inline'; "
        "img-src 'self' data:; connect-src 'self'; worker-src blob:; "
        "frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
    )


class SecurityHeaders:
    """Pure ASGI middleware adding the headers above to every HTTP response."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self._policy = (_CSP, API_POLICY.encode())

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        # The app's request.state is this dict: authentication puts the principal in it. Made
        # here, so that scopes copied further in (HEAD as GET) share it.
        state = scope.setdefault("state", {})
        read = scope["method"] in _READS
        policy = self._policy

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = message.get("headers", [])
                if type(headers) is not list:
                    headers = message["headers"] = list(headers)
                # Lower case, as ASGI has response header names (Starlette writes them so).
                has_policy = has_cache_control = has_nosniff = False
                for name, _ in headers:
                    if name == _CSP:
                        has_policy = True
                    elif name == _CACHE_CONTROL:
                        has_cache_control = True
                    elif name == NOSNIFF[0]:
                        has_nosniff = True
                if not has_nosniff:
                    headers.append(NOSNIFF)
                if not has_policy:
                    headers.append(policy)
                if read and not has_cache_control and state.get("principal") is not None:
                    headers.append(PRIVATE)
            await send(message)

        await self.app(scope, receive, send_with_headers)
