"""`catalog token` and `catalog webhook-secret`: the embedded deployment's secrets.

Whoever runs `catalog token` holds the data folder's secret, which is the platform's
authority: it can mint any token. A channel token for every merchant is therefore never a
default or a typo away: it takes `--all-merchants`, and the command says so on stderr, where
it describes every token it prints (stdout carries the token alone, for `$(...)`).
"""

from __future__ import annotations

from typing import Annotated

import typer

from catalog.entrypoints.cli.options import DataDir, load_settings

ROLE_FORMS = "merchant, platform or channel:<slug>"
DEFAULT_TTL_SECONDS = 30 * 24 * 3600


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


def _check_merchants(values: list[str] | None) -> list[str]:
    """Every merchant id given, repeated or comma separated, in order, once each."""
    from catalog.domain.limits import MERCHANT_ID_PATTERN

    merchants: list[str] = []
    for value in values or []:
        for merchant in (part.strip() for part in value.split(",")):
            if not MERCHANT_ID_PATTERN.match(merchant):
                hint = " (for every merchant: --all-merchants)" if merchant == "*" else ""
                raise typer.BadParameter(
                    f"{merchant!r} is not a merchant id: 1 to 63 of a-z, 0-9, '_' and '-', "
                    f"starting with a letter or digit{hint}."
                )
            if merchant not in merchants:
                merchants.append(merchant)
    return merchants


def _duration(seconds: int) -> str:
    if seconds % 86400 == 0:
        return f"{seconds // 86400} days"
    return f"{seconds} seconds"


def describe(
    roles: list[str], merchant_id: str | None, scope: list[str], subject: str, ttl: int
) -> list[str]:
    """What a token may do, one line per role, as `catalog token` prints it."""
    from catalog.service.principals import ALL_MERCHANTS, CHANNEL_PREFIX, MERCHANT, PLATFORM

    if ALL_MERCHANTS in scope:
        reach = "ALL merchants (*)"
    else:
        reach = ("merchant " if len(scope) == 1 else "merchants ") + ", ".join(scope)
    lines = [f"token for {subject}, valid {_duration(ttl)}:"]
    for role in roles:
        if role == MERCHANT:
            lines.append(f"  {role}: reads and changes the products of merchant {merchant_id}")
        elif role == PLATFORM:
            lines.append(f"  {role}: reads and changes the products of every merchant")
        else:
            channel = role.removeprefix(CHANNEL_PREFIX)
            lines.append(
                f"  {role}: reads the products of {reach} and reports their {channel} listings"
            )
    return lines


def _token_claims(
    roles: list[str], merchants: list[str], all_merchants: bool
) -> tuple[str | None, list[str]]:
    """The `merchant_id` claim and the channel scope, or a usage error saying what is wrong."""
    from catalog.service.principals import ALL_MERCHANTS, CHANNEL_PREFIX, MERCHANT

    channel_roles = [role for role in roles if role.startswith(CHANNEL_PREFIX)]
    if all_merchants and not channel_roles:
        raise typer.BadParameter(
            "only a channel token acts for every merchant: give a --role channel:<slug>"
            " (for a token that changes every merchant's products, use --role platform).",
            param_hint="'--all-merchants'",
        )
    if all_merchants and merchants:
        raise typer.BadParameter(
            "give either --merchant or --all-merchants, not both",
            param_hint="'--all-merchants'",
        )
    if MERCHANT in roles and len(merchants) != 1:
        raise typer.BadParameter(
            "a merchant token acts for exactly one merchant: give one --merchant",
            param_hint="'--merchant'",
        )
    if channel_roles and not merchants and not all_merchants:
        raise typer.BadParameter(
            "a channel token acts only for the merchants it names: give --merchant M"
            " (repeatable, or comma separated), or --all-merchants",
            param_hint="'--merchant'",
        )
    if not channel_roles and len(merchants) > 1:
        raise typer.BadParameter(
            "several merchants are a channel token's scope: only a --role channel:<slug>"
            " token takes more than one --merchant",
            param_hint="'--merchant'",
        )
    merchant_id = merchants[0] if len(merchants) == 1 else None
    scope = [ALL_MERCHANTS] if all_merchants else merchants if channel_roles else []
    return merchant_id, scope


def token(
    merchant: Annotated[
        list[str] | None,
        typer.Option(
            metavar="MERCHANT",
            callback=_check_merchants,
            help="The merchant the token acts for. A channel token may name several"
            " (repeat the option, or separate them with commas).",
        ),
    ] = None,
    all_merchants: Annotated[
        bool,
        typer.Option(
            "--all-merchants",
            help="A channel token for every merchant, present and future (scope *).",
        ),
    ] = False,
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
    ttl: Annotated[
        int, typer.Option(metavar="SECONDS", help="Lifetime in seconds.")
    ] = DEFAULT_TTL_SECONDS,
    data_dir: DataDir = None,
) -> None:
    """Print a bearer token signed with the data folder's secret; stderr says what it may do."""
    from catalog.bootstrap import local_tokens
    from catalog.service.principals import default_subject

    roles = role or ["merchant"]
    merchant_id, scope = _token_claims(roles, merchant or [], all_merchants)
    tokens = local_tokens(load_settings(data_dir))
    subject = subject or default_subject(merchant_id, roles)
    issued = tokens.issue(merchant_id, roles, subject=subject, ttl_seconds=ttl, merchants=scope)
    for line in describe(roles, merchant_id, scope, subject, ttl):
        typer.echo(line, err=True)
    typer.echo(issued)


def webhook_secret(data_dir: DataDir = None) -> None:
    """Print the secret that signs webhook deliveries (Standard Webhooks, whsec_...)."""
    from catalog.bootstrap import webhook_signing_secret

    typer.echo(webhook_signing_secret(load_settings(data_dir)))
