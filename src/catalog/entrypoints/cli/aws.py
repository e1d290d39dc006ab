"""`catalog aws ...`: operate the AWS deployment's resources."""

from __future__ import annotations

import typer

from catalog.entrypoints.cli.options import aws_endpoint, load_settings

app = typer.Typer(help="Operate the AWS deployment's resources.", no_args_is_help=True)


@app.command("bootstrap")
def bootstrap() -> None:
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

    settings = load_settings(None)
    region = aws_region()
    typer.echo(f"catalog: AWS resources in {region or 'the default region'} at {aws_endpoint()}")
    results = [
        ensure_catalog_table(aws_client("dynamodb"), settings.table_name),
        ensure_bucket(aws_client("s3"), settings.bucket_name, region),
        ensure_event_bus(aws_client("events"), settings.event_bus_name),
    ]
    for result in results:
        typer.echo(f"  {result}")
