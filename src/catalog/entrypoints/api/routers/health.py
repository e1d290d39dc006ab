"""Liveness: answers without authentication and without touching storage."""

from __future__ import annotations

from fastapi import APIRouter

from catalog.entrypoints.api.schemas import Health

router = APIRouter(tags=["health"])


@router.get("/health", response_model=Health, summary="Liveness probe")
async def health() -> dict[str, str]:
    return {"status": "ok"}
