"""The `catalog` command: serve the API, issue local tokens, read the delivered events."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import typer

app = typer.Typer(help="Product catalog: serve the API and operate the embedded deployment.")
aws_app = typer.Typer(help="Operate the AWS deployment's resources.", no_args_is_help=True)
app.add_typer(aws_app, name="aws")

DataDir = Annotated[
    Path | None,
    typer.Option("--data-dir", help="Data folder (default: $CATALOG_DATA_DIR or .catalog)."),
]


def _settings(data_dir: Path | None, **overrides: object):  # type: ignore[no-untyped-def]
    from catalog.settings import Settings

    if data_dir is not None:
        overrides["data_dir"] = data_dir
    return Settings(**overrides)  # type: ignore[arg-type]


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port.")] = 8000,
    data_dir: DataDir = None,
    workers_log_level: Annotated[str, typer.Option("--log-level")] = "info",
) -> None:
    """Serve the API (embedded backend unless CATALOG_BACKEND=aws)."""
    import uvicorn

    from catalog.bootstrap import build_container
    from catalog.entrypoints.api.app import create_app

    overrides: dict[str, object] = {}
    if "CATALOG_PUBLIC_URL" not in os.environ:
        shown = "127.0.0.1" if host in ("0.0.0.0", "::") else host
        overrides["public_url"] = f"http://{shown}:{port}"
    settings = _settings(data_dir, **overrides)
    container = build_container(settings)
    if settings.backend == "aws":
        typer.echo(
            f"catalog: aws backend, table {settings.table_name}, bucket {settings.bucket_name}"
            f" at {_aws_endpoint()}"
        )
    else:
        typer.echo(f"catalog: {settings.backend} backend, data in {settings.data_dir.resolve()}")
    uvicorn.run(create_app(container), host=host, port=port, log_level=workers_log_level)


@app.command()
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

    tokens = local_tokens(_settings(data_dir))
    typer.echo(tokens.issue(merchant, role or ["merchant"], subject=subject, ttl_seconds=ttl))


@app.command("webhook-secret")
def webhook_secret(data_dir: DataDir = None) -> None:
    """Print the secret that signs webhook deliveries (Standard Webhooks, whsec_...)."""
    from catalog.bootstrap import webhook_signing_secret

    typer.echo(webhook_signing_secret(_settings(data_dir)))


@app.command()
def events(
    follow: Annotated[bool, typer.Option("--follow", "-f", help="Wait for new events.")] = False,
    data_dir: DataDir = None,
) -> None:
    """Print delivered events, one CloudEvent JSON per line."""
    from catalog.adapters.embedded.event_log import follow_event_log

    settings = _settings(data_dir)
    try:
        for line in follow_event_log(settings.data_dir / "events.jsonl", follow=follow):
            typer.echo(line)
    except KeyboardInterrupt:
        pass


@aws_app.command("bootstrap")
def aws_bootstrap() -> None:
    """Create the table (with stream and TTL), the bucket and the event bus when missing.

    Idempotent: what exists is left as it is. Runs against $AWS_ENDPOINT_URL when set (moto,
    LocalStack), else against AWS with the default credentials chain.
    """
    from catalog.adapters.aws.provisioning import (
        ensure_bucket,
        ensure_catalog_table,
        ensure_event_bus,
    )
    from catalog.bootstrap import aws_client, aws_region

    settings = _settings(None)
    region = aws_region()
    typer.echo(f"catalog: AWS resources in {region or 'the default region'} at {_aws_endpoint()}")
    results = [
        ensure_catalog_table(aws_client("dynamodb"), settings.table_name),
        ensure_bucket(aws_client("s3"), settings.bucket_name, region),
        ensure_event_bus(aws_client("events"), settings.event_bus_name),
    ]
    for result in results:
        typer.echo(f"  {result}")


def _aws_endpoint() -> str:
    return os.environ.get("AWS_ENDPOINT_URL") or "AWS"


if __name__ == "__main__":
    app()
