"""`catalog aws ...`: operate the AWS deployment's resources."""

from __future__ import annotations

import enum
import time
from typing import TYPE_CHECKING, Annotated

import typer

from catalog.entrypoints.cli.options import DataDir, aws_endpoint, load_settings

if TYPE_CHECKING:
    # A name for annotations only: the CLI reaches the adapter through bootstrap.
    from catalog.adapters.aws.index_backfill import BackfillReport

app = typer.Typer(help="Operate the AWS deployment's resources.", no_args_is_help=True)


class StreamStart(enum.StrEnum):
    trim_horizon = "TRIM_HORIZON"
    latest = "LATEST"


@app.command("bootstrap")
def bootstrap() -> None:
    """Create the table (with stream and TTL), the bucket and the event bus when missing.

    With $CATALOG_JOBS_QUEUE_URL, also the jobs queue it names (FIFO, with its dead-letter
    queue), as template.yaml makes it. Idempotent: what exists is left as it is. Runs
    against $AWS_ENDPOINT_URL when set (moto, LocalStack), else against AWS with the default
    credentials chain.
    """
    from catalog.bootstrap import aws_region, provision_aws

    settings = load_settings(None)
    region = aws_region()
    typer.echo(f"catalog: AWS resources in {region or 'the default region'} at {aws_endpoint()}")
    for result in provision_aws(settings):
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
    from catalog.bootstrap import aws_relay_log, local_stream_relay

    settings = load_settings(data_dir)
    poll = local_stream_relay(settings, start=start.value)
    typer.echo(
        f"catalog: relaying {settings.table_name}'s stream to bus {settings.event_bus_name} "
        f"at {aws_endpoint()}; published events in {aws_relay_log(settings)}",
        err=True,
    )
    try:
        while True:
            if poll():
                continue
            if once:
                return
            time.sleep(poll_seconds)
    except KeyboardInterrupt:
        pass


@app.command("jobs")
def jobs(
    wait_seconds: Annotated[
        int, typer.Option(min=0, max=20, help="Long poll of each receive (SQS allows 20).")
    ] = 1,
    once: Annotated[
        bool, typer.Option("--once", help="Stop once the queue has nothing more.")
    ] = False,
) -> None:
    """Run the jobs queue's messages with the jobs worker Lambda's code (for moto).

    Receives one message at a time from $CATALOG_JOBS_QUEUE_URL and hands it to the function
    as Lambda's event source mapping does: a continuation, a chunk, a retry, the dead-letter
    queue, all as on AWS (docs/jobs-aws.md). `make run-aws` starts it.
    """
    from catalog.bootstrap import local_jobs_worker

    settings = load_settings(None)
    poll = local_jobs_worker(settings, wait_seconds=wait_seconds)
    typer.echo(
        f"catalog: running the jobs of {settings.jobs_queue_url} at {aws_endpoint()}", err=True
    )
    try:
        while True:
            if poll():
                continue
            if once:
                return
            if not wait_seconds:
                time.sleep(1.0)  # no long poll to wait in: do not spin on an empty queue
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
    from catalog.bootstrap import redrive_relay_failures

    report = redrive_relay_failures(load_settings(None), queue_url)
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


@app.command("backfill")
def backfill(
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Count what it would write; write nothing.")
    ] = False,
) -> None:
    """Give a table written before gsi3 and the merchant registry what they lack, once.

    Reads every product item (one Scan of $CATALOG_TABLE_NAME): a typed product without its
    by-type index keys gets them (one UpdateItem, skipped if the product was rewritten
    meanwhile), a merchant missing from the registry gets its entry (one Put). Safe to run
    again: a second run finds nothing to do. Needs dynamodb:Scan, which the functions'
    roles do not have: run it with the operator's credentials.
    """
    from rich.console import Console
    from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    from catalog.bootstrap import backfill_table_indexes

    settings = load_settings(None)
    mode = " (dry run: nothing is written)" if dry_run else ""
    typer.echo(f"catalog: backfilling table {settings.table_name} at {aws_endpoint()}{mode}")
    progress = Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.completed} items read{task.fields[estimate]},"),
        TextColumn("{task.fields[products]} products"),
        TimeElapsedColumn(),
        console=Console(stderr=True),
    )
    with progress:
        task = progress.add_task("scanning", total=None, estimate="", products=0)

        def show(report: BackfillReport) -> None:
            # DynamoDB refreshes a table's item count about every 6 hours: an estimate, and 0
            # for a table it has not measured yet.
            estimate = report.estimated_items or None
            progress.update(
                task,
                completed=report.items_read,
                total=estimate and max(estimate, report.items_read),
                estimate=f" of ~{estimate}" if estimate else "",
                products=report.products_scanned,
            )

        report = backfill_table_indexes(settings, dry_run=dry_run, on_page=show)
    typer.echo(f"{report.items_read} items read, {report.products_scanned} products")
    if dry_run:
        counts = [("gsi3 keys to set", report.gsi3_keys_set)]
        counts.append(("merchants to register", report.merchants_registered))
    else:
        counts = [("gsi3 keys set", report.gsi3_keys_set)]
        counts.append(("merchants registered", report.merchants_registered))
        # The write that moved their version gave them their keys; one of the earlier
        # release did not, and a second run sets them.
        counts.append(("skipped, rewritten meanwhile", report.skipped))
    for label, count in counts:
        typer.echo(f"  {label + ':':<30}{count}")
    if report.changed_nothing:
        typer.echo(
            "Nothing to do: every typed product has its gsi3 keys and every merchant"
            " its registry entry."
        )
