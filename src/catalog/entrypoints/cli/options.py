"""Options and settings shared by the `catalog` commands."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

if TYPE_CHECKING:
    from catalog.settings import Settings

DataDir = Annotated[
    Path | None,
    typer.Option("--data-dir", help="Data folder (default: $CATALOG_DATA_DIR or .catalog)."),
]


def load_settings(data_dir: Path | None, **overrides: object) -> Settings:
    """Settings from the environment, with the command line's overrides on top."""
    from catalog.settings import Settings

    if data_dir is not None:
        overrides["data_dir"] = data_dir
    return Settings(**overrides)  # type: ignore[arg-type]


def aws_endpoint() -> str:
    return os.environ.get("AWS_ENDPOINT_URL") or "AWS"
