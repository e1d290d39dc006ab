"""`catalog console --merchant M`: a one-time link that signs a merchant into the console."""

from __future__ import annotations

from typing import Annotated

import typer

from catalog.entrypoints.cli.options import DataDir, load_settings
from catalog.entrypoints.cli.tokens import _check_merchants


def console(
    merchant: Annotated[
        list[str],
        typer.Option(
            metavar="MERCHANT", callback=_check_merchants, help="The merchant to sign in as."
        ),
    ],
    subject: Annotated[
        str | None,
        typer.Option(
            metavar="SUBJECT", help="Who history credits the changes to. Default: <merchant>-user."
        ),
    ] = None,
    url: Annotated[
        str | None,
        typer.Option(
            metavar="URL", help="The server's address. Default: $CATALOG_PUBLIC_URL (or :8000)."
        ),
    ] = None,
    data_dir: DataDir = None,
) -> None:
    """Print a link that signs into the console once, within ten minutes."""
    from catalog.bootstrap import console_key
    from catalog.entrypoints.console import MOUNT_PATH
    from catalog.entrypoints.console.sessions import SignInTickets

    if len(merchant) != 1:
        raise typer.BadParameter("sign in as exactly one merchant", param_hint="'--merchant'")
    settings = load_settings(data_dir)
    ticket = SignInTickets(console_key(settings)).issue(merchant[0], subject)
    base = (url or settings.public_url).rstrip("/")
    typer.echo(f"console link for merchant {merchant[0]}, valid once, for 10 minutes:", err=True)
    typer.echo(f"{base}{MOUNT_PATH}/sign-in?ticket={ticket}")
