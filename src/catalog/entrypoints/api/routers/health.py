"""Liveness: answers without authentication and without touching storage."""

from __future__ import annotations

from fastapi import FastAPI

from catalog.entrypoints.api.schemas import Health


async def health() -> dict[str, str]:
    return {"status": "ok"}


def install_health(app: FastAPI) -> None:
    """/health as a route of the app itself, not of an included router: FastAPI prepares an
    included router's routes when a request is first matched against them, so behind the
    others a cold Lambda's first request (a health check) prepared all of them. A route of
    the app's own is ready when added and costs a request to another path one regex match,
    where an included router in front would cost each GET product a few microseconds."""
    app.add_api_route(
        "/health", health, response_model=Health, summary="Liveness probe", tags=["health"]
    )
