"""Liveness: answers without authentication and without touching storage."""

from __future__ import annotations

from fastapi import FastAPI, Request, Response

from catalog.entrypoints.api.responses import ViewResponse
from catalog.entrypoints.api.routing import HandReadRoute, add_routes, resource_router
from catalog.entrypoints.api.schemas import Health

router = resource_router(tags=["health"])

_OK = {"status": "ok"}


async def health(request: Request) -> Response:
    return ViewResponse(_OK)


# A HandReadRoute: a cold Lambda's first request, often a health check, is answered without
# FastAPI building any route's fields (routing.DeferredRoute).
router.add_api_route(
    "/health",
    health,
    methods=["GET"],
    route_class_override=HandReadRoute,
    response_model=Health,
    summary="Liveness probe",
)


def install_health(app: FastAPI) -> None:
    """/health right after GET product's routes (app.py): a cold Lambda's first request (a
    health check) is matched against few routes, and a request to another path pays one
    more regex match."""
    add_routes(app, router)
