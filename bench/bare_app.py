"""The baseline of bench/get_product.py: a bare FastAPI endpoint serving a document from memory.

Same route shape as the catalog's GET product, no auth, no storage: what is left is FastAPI's
routing plus JSON serialization of the very document the catalog returned. Served with
`uvicorn --factory bare_app:create_app`; the document is read from the JSON file named by
$BENCH_DOCUMENT when the app is built, not at import.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from fastapi import FastAPI
from fastapi.responses import JSONResponse


def create_app(document: dict[str, Any] | None = None) -> FastAPI:
    if document is None:
        document = json.loads(Path(os.environ["BENCH_DOCUMENT"]).read_text())
    app = FastAPI(openapi_url=None, docs_url=None, redoc_url=None)

    @app.get("/health")
    async def health() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/v1/merchants/{merchant_id}/products/{product_id}")
    async def get_product(merchant_id: str, product_id: str) -> JSONResponse:
        # Serialized on every request, as the catalog does: only the document is cached.
        return JSONResponse(document)

    return app
