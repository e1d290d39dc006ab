"""`catalog serve`."""

from __future__ import annotations

import os
from enum import StrEnum
from typing import Annotated

import typer

from catalog.entrypoints.cli.options import DataDir, aws_endpoint, load_settings


class LogLevel(StrEnum):
    """uvicorn's log levels."""

    CRITICAL = "critical"
    ERROR = "error"
    WARNING = "warning"
    INFO = "info"
    DEBUG = "debug"
    TRACE = "trace"


_ACCESS_LOG_LEVELS = (LogLevel.INFO, LogLevel.DEBUG, LogLevel.TRACE)


def serve(
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port.", envvar="CATALOG_PORT")] = 8000,
    data_dir: DataDir = None,
    log_level: Annotated[
        LogLevel, typer.Option("--log-level", help="What the server logs.")
    ] = LogLevel.INFO,
) -> None:
    """Serve the API (embedded backend unless CATALOG_BACKEND=aws)."""
    import uvicorn

    from catalog.bootstrap import build_container
    from catalog.entrypoints.api.app import create_app

    overrides: dict[str, object] = {}
    if "CATALOG_PUBLIC_URL" not in os.environ:
        shown = "127.0.0.1" if host in ("0.0.0.0", "::") else host
        overrides["public_url"] = f"http://{shown}:{port}"
    settings = load_settings(data_dir, **overrides)
    container = build_container(settings)
    if settings.backend == "aws":
        typer.echo(
            f"catalog: aws backend, table {settings.table_name}, bucket {settings.bucket_name}"
            f" at {aws_endpoint()}"
        )
    else:
        typer.echo(f"catalog: {settings.backend} backend, data in {settings.data_dir.resolve()}")
    uvicorn.run(
        create_app(container),
        host=host,
        port=port,
        log_level=log_level.value,
        # uvicorn logs each request at INFO; above that level it would still build each line's
        # arguments (the client's address, the quoted path) for nothing.
        access_log=log_level in _ACCESS_LOG_LEVELS,
    )
