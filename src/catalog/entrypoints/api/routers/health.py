"""Liveness: answers without authentication and without touching storage."""

from __future__ import annotations

from fastapi import FastAPI

from catalog.entrypoints.api.schemas import Health


async def health() -> dict[str, str]:
    return {"status": "ok"}


def install_health(app: FastAPI) -> None:
    """/health right after GET product's routes (app.py): a cold Lambda's first request (a
    health check) is matched against few routes, and a request to another path pays one
    more regex match."""
    app.add_api_route(
        "/health", health, response_model=Health, summary="Liveness probe", tags=["health"]
    )
