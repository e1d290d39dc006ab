"""`catalog aws ...`: operate the AWS deployment's resources."""

from __future__ import annotations

import enum
import time
from collections.abc import Sequence
from typing import Annotated, Any

import typer

from catalog.entrypoints.cli.options import DataDir, aws_endpoint, load_settings

app = typer.Typer(help="Operate the AWS deployment's resources.", no_args_is_help=True)


class StreamStart(enum.StrEnum):
    trim_horizon = "TRIM_HORIZON"
    latest = "LATEST"


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


@app.command("relay")
def relay(
    start: Annotated[
        StreamStart,
        typer.Option("--from", help="Where a first read of each shard starts."),
    ] = StreamStart.trim_horizon,
    poll_seconds: Annotated[
        float, typer.Option(help="Pause between polls that found nothing.")
    ] = 1.0,
    once: Annotated[
        bool, typer.Option("--once", help="Stop once the stream has nothing more.")
    ] = False,
    data_dir: DataDir = None,
) -> None:
    """Relay the table's stream to the event bus, as the relay Lambda does (for moto).

    Polls the stream (GetShardIterator, GetRecords) and hands each batch to the relay
    Lambda's code, which puts the events on $CATALOG_EVENT_BUS_NAME; what it published is
    appended to <data-dir>/aws/events.jsonl for `catalog events`. `make run-aws` starts it.
    """
    from catalog.adapters.aws.eventbridge_relay import outbox_event, relay_stream_records
    from catalog.adapters.aws.stream_reader import StreamFollower, table_stream_arn
    from catalog.adapters.embedded.event_log import EventLogSink
    from catalog.bootstrap import aws_client
    from catalog.entrypoints.cli.events import aws_relay_log
    from catalog.service.ports import OutboxRecord

    settings = load_settings(data_dir)
    events_client = aws_client("events", read_timeout=15.0)
    log = EventLogSink(aws_relay_log(settings))
    arn = table_stream_arn(aws_client("dynamodb"), settings.table_name)
    follower = StreamFollower(aws_client("dynamodbstreams"), arn, start=start.value)

    def publish(records: Sequence[dict[str, Any]]) -> list[str]:
        failed = relay_stream_records(records, events_client, settings.event_bus_name)
        # The failed records are a suffix of the batch: the rest went out, in order.
        published = records[: len(records) - len(failed)]
        log.deliver(
            [OutboxRecord(0, event) for record in published if (event := outbox_event(record))]
        )
        return failed

    typer.echo(
        f"catalog: relaying {settings.table_name}'s stream to bus {settings.event_bus_name} "
        f"at {aws_endpoint()}; published events in {log.path}",
        err=True,
    )
    try:
        while True:
            if follower.poll(publish):
                continue
            if once:
                return
            time.sleep(poll_seconds)
    except KeyboardInterrupt:
        pass


@app.command("redrive")
def redrive(
    queue_url: Annotated[
        str,
        typer.Option(
            envvar="CATALOG_RELAY_FAILURE_QUEUE_URL",
            help="The relay's failure queue (the stack output RelayFailureQueueUrl).",
        ),
    ],
) -> None:
    """Publish again the stream batches the relay gave up on, then delete their messages.

    Each message of the failure queue names a batch (shard, first and last sequence number):
    its records are read again from the stream, or from the table's outbox items once the
    stream no longer has them, and put on the bus with the same CloudEvent ids. A message is
    deleted only after its whole batch went out; exits with 1 when some are left.
    """
    from catalog.adapters.aws.relay_redrive import RelayResources, redrive_failed_batches
    from catalog.bootstrap import aws_client

    settings = load_settings(None)
    resources = RelayResources(
        sqs=aws_client("sqs"),
        streams=aws_client("dynamodbstreams"),
        dynamodb=aws_client("dynamodb", read_timeout=30.0),
        events=aws_client("events", read_timeout=15.0),
        table_name=settings.table_name,
        bus_name=settings.event_bus_name,
    )
    report = redrive_failed_batches(resources, queue_url)
    for done in report.redriven:
        typer.echo(
            f"redriven  {done.batch.shard_id} {done.batch.first_sequence}.."
            f"{done.batch.last_sequence}  {done.records} records from the {done.source}"
        )
    for batch, reason in report.failed:
        typer.echo(
            f"left      {batch.shard_id} {batch.first_sequence}..{batch.last_sequence}: {reason}",
            err=True,
        )
    for message_id in report.unreadable:
        typer.echo(f"left      message {message_id}: not a stream batch failure", err=True)
    left = len(report.failed) + len(report.unreadable)
    typer.echo(f"{len(report.redriven)} batches redriven, {left} left on the queue.")
    if left:
        raise typer.Exit(1)
