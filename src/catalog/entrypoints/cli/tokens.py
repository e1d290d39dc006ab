"""`catalog token` and `catalog webhook-secret`: the embedded deployment's secrets."""

from __future__ import annotations

from typing import Annotated

import typer

from catalog.entrypoints.cli.options import DataDir, load_settings


def token(
    merchant: Annotated[str, typer.Option(help="The merchant the token acts for.")],
    role: Annotated[
        list[str] | None,
        typer.Option(help="merchant (default), platform or channel:<slug>; repeatable."),
    ] = None,
    subject: Annotated[str | None, typer.Option(help="The `sub` claim (the actor).")] = None,
    ttl: Annotated[int, typer.Option(help="Lifetime in seconds.")] = 30 * 24 * 3600,
    data_dir: DataDir = None,
) -> None:
    """Print a bearer token signed with the data folder's secret."""
    from catalog.bootstrap import local_tokens

    tokens = local_tokens(load_settings(data_dir))
    typer.echo(tokens.issue(merchant, role or ["merchant"], subject=subject, ttl_seconds=ttl))


def webhook_secret(data_dir: DataDir = None) -> None:
    """Print the secret that signs webhook deliveries (Standard Webhooks, whsec_...)."""
    from catalog.bootstrap import webhook_signing_secret

    typer.echo(webhook_signing_secret(load_settings(data_dir)))
