"""The baseline of bench/get_product.py: a bare FastAPI endpoint serving documents from memory.

Same route shape as the catalog's GET product, no auth, no storage: what is left is FastAPI's
routing plus JSON serialization of the very document the catalog returned for that product id.
Served with `uvicorn --factory bare_app:create_app`; the documents are read from the JSON file
named by $BENCH_DOCUMENTS (an object: product id -> document) when the app is built, not at
import. With $BENCH_HEADERS (a file: product id -> headers), each answer also carries the
catalog's own headers for that product (`get_product.py --same-headers`).
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from fastapi import FastAPI
from fastapi.responses import JSONResponse


def create_app(
    documents: Mapping[str, dict[str, Any]] | None = None,
    headers: Mapping[str, dict[str, str]] | None = None,
) -> FastAPI:
    if documents is None:
        documents = json.loads(Path(os.environ["BENCH_DOCUMENTS"]).read_text())
    if headers is None and os.environ.get("BENCH_HEADERS"):
        headers = json.loads(Path(os.environ["BENCH_HEADERS"]).read_text())
    by_id = dict(documents)
    headers_by_id = dict(headers or {})
    app = FastAPI(openapi_url=None, docs_url=None, redoc_url=None)

    @app.get("/health")
    async def health() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/v1/merchants/{merchant_id}/products/{product_id}")
    async def get_product(merchant_id: str, product_id: str) -> JSONResponse:
        document = by_id.get(product_id)
        if document is None:
            return JSONResponse({"title": "Not Found"}, status_code=404)
        # Serialized on every request, as the catalog does: only the document is cached.
        return JSONResponse(document, headers=headers_by_id.get(product_id))

    return app
