"""The trailing-slash redirect, on the configured public URL instead of the Host header.

Starlette's `redirect_slashes` builds the `Location` from the request's Host header, so
`Host: evil.example` got a redirect to evil.example (a cache in front would hand it to
everyone). This replaces it as the router's fallback: the same redirect (307, so the method
and body are kept) onto `public_url`, or, when the deployment has no public URL of its own
(AWS without CATALOG_PUBLIC_URL), no redirect at all: the 404 problem of any unknown path.
"""

from __future__ import annotations

from starlette.responses import RedirectResponse
from starlette.routing import Match, Router
from starlette.types import Receive, Scope, Send

from catalog.entrypoints.api.routing import route_path


class TrailingSlashRedirect:
    """The router's `default`: runs for a path no route matched."""

    def __init__(self, router: Router, public_url: str | None) -> None:
        self.router = router
        self.public_url = public_url.rstrip("/") if public_url else None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        location = self.location_for(scope) if scope["type"] == "http" else None
        if location is None:
            await self.router.not_found(scope, receive, send)
            return
        await RedirectResponse(location, status_code=307)(scope, receive, send)

    def location_for(self, scope: Scope) -> str | None:
        if self.public_url is None:
            return None
        root_path: str = scope.get("root_path", "")
        path = route_path(scope)
        if path in ("", "/"):
            return None
        other = path.rstrip("/") if path.endswith("/") else path + "/"
        other_scope = {**scope, "path": root_path + other}
        if not any(route.matches(other_scope)[0] is not Match.NONE for route in self.router.routes):
            return None
        query = scope.get("query_string", b"").decode("latin-1")
        return self.public_url + other + (f"?{query}" if query else "")
