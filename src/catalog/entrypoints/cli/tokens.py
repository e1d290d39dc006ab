"""`catalog token` and `catalog webhook-secret`: the embedded deployment's secrets."""

from __future__ import annotations

from typing import Annotated

import typer

from catalog.entrypoints.cli.options import DataDir, load_settings

ROLE_FORMS = "merchant, platform or channel:<slug>"


def _check_roles(roles: list[str] | None) -> list[str] | None:
    """The roles the API knows; anything else would give a token that can do nothing."""
    from catalog.domain.limits import CHANNEL_PATTERN
    from catalog.service.principals import CHANNEL_PREFIX, MERCHANT, PLATFORM

    for role in roles or []:
        is_channel = role.startswith(CHANNEL_PREFIX) and CHANNEL_PATTERN.fullmatch(
            role.removeprefix(CHANNEL_PREFIX)
        )
        if role not in (MERCHANT, PLATFORM) and not is_channel:
            raise typer.BadParameter(
                f"{role!r} is not a role: use {ROLE_FORMS} (a slug is 2 to 40 of a-z, 0-9 and '-')."
            )
    return roles


def token(
    merchant: Annotated[
        str, typer.Option(metavar="MERCHANT", help="The merchant the token acts for.")
    ],
    role: Annotated[
        list[str] | None,
        typer.Option(
            metavar="ROLE",
            callback=_check_roles,
            help=f"{ROLE_FORMS}; repeatable. Default: merchant.",
        ),
    ] = None,
    subject: Annotated[
        str | None,
        typer.Option(
            metavar="SUBJECT",
            help="The `sub` claim, the actor history credits."
            " Default: channel:<slug> for a channel token, else <merchant>-user.",
        ),
    ] = None,
    ttl: Annotated[int, typer.Option(metavar="SECONDS", help="Lifetime in seconds.")] = 30
    * 24
    * 3600,
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
