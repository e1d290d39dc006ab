"""`catalog events`: the events the relay delivered; `dead` and `redrive`: the webhook events
parked after failing too often."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING, Annotated, Any

import typer

from catalog.entrypoints.cli.options import DataDir, load_settings

if TYPE_CHECKING:
    from rich.text import Text

app = typer.Typer(
    help="The delivered events (embedded: events.jsonl; aws: what the local relay published).",
)

# Readable mode colours, by event name.
_STYLES = {
    "ProductCreated": "green",
    "ProductUpdated": "cyan",
    "ProductStatusChanged": "yellow",
    "ProductDeactivated": "red",
    "ProductReactivated": "green",
    "ProductPublicationRequested": "magenta",
    "ProductUnpublicationRequested": "magenta",
    "ProductPublished": "bold green",
    "ProductPublicationFailed": "bold red",
    "ProductUnpublished": "blue",
}

JsonMode = Annotated[
    bool | None,
    typer.Option(
        "--json/--pretty",
        help="JSON lines, or one readable line per event. Default: readable on a terminal, "
        "JSON lines when piped.",
        show_default=False,
    ),
]


@app.callback(invoke_without_command=True)
def events(
    ctx: typer.Context,
    follow: Annotated[bool, typer.Option("--follow", "-f", help="Wait for new events.")] = False,
    as_json: JsonMode = None,
    product: Annotated[
        str | None, typer.Option("--product", metavar="ID", help="Only this product's events.")
    ] = None,
    event_type: Annotated[
        str | None,
        typer.Option("--type", metavar="NAME", help="Only events of this type (ProductUpdated)."),
    ] = None,
    data_dir: DataDir = None,
) -> None:
    """Print the delivered events, oldest first: one CloudEvent JSON per line, or readable."""
    if ctx.invoked_subcommand is not None:
        return
    from catalog import bootstrap

    settings = load_settings(data_dir)
    path = bootstrap.event_log_path(settings)
    if settings.backend == "aws" and not path.exists():
        typer.echo(
            f"catalog: on the aws backend events go to the EventBridge bus "
            f"{settings.event_bus_name}; the local stream relay (`catalog aws relay`, "
            f"started by `make run-aws`) copies what it publishes to {path}, which does "
            "not exist yet.",
            err=True,
        )
        if not follow:
            return
    readable = sys.stdout.isatty() if as_json is None else not as_json
    lines = _matching(bootstrap.read_event_log(path, follow=follow), product, event_type)
    try:
        if readable:
            _print_readable(lines)
        else:
            for line, _ in lines:
                typer.echo(line)
    except KeyboardInterrupt:
        pass


def _matching(
    lines: Iterable[str], product: str | None, event_type: str | None
) -> Iterator[tuple[str, dict[str, Any]]]:
    for line in lines:
        try:
            cloudevent = json.loads(line)
        except ValueError:
            continue  # not one of ours: the log only ever holds whole CloudEvent lines
        if product is not None and cloudevent.get("data", {}).get("product_id") != product:
            continue
        if event_type is not None and cloudevent.get("type") != event_type:
            continue
        yield line, cloudevent


def _print_readable(lines: Iterable[tuple[str, dict[str, Any]]]) -> None:
    from rich.console import Console

    console = Console(highlight=False, soft_wrap=True)
    for _, cloudevent in lines:
        console.print(readable_line(cloudevent))


def readable_line(cloudevent: dict[str, Any]) -> Text:
    """time, type, product, version (and the channel of channel events), one line."""
    from rich.text import Text

    data = cloudevent.get("data", {})
    kind = str(cloudevent.get("type", "?"))
    line = Text.assemble(
        (str(cloudevent.get("time", "")).replace("T", " "), "dim"),
        "  ",
        (f"{kind:<30}", _STYLES.get(kind, "")),
        "  ",
        (str(cloudevent.get("subject", "")), "bold"),
        "  ",
        f"v{data.get('version', '?')}",
    )
    if data.get("channel"):
        line.append(f"  {data['channel']}", "magenta")
    return line


# ------------------------------------------------------------------ dead letters


@app.command("dead")
def dead(
    as_json: Annotated[
        bool, typer.Option("--json", help="One JSON object per parked event.")
    ] = False,
    data_dir: DataDir = None,
) -> None:
    """List the webhook events parked after failing CATALOG_WEBHOOK_MAX_ATTEMPTS times."""
    from catalog import bootstrap

    letters = bootstrap.dead_letters(load_settings(data_dir))
    parked = letters.parked() if letters else []
    if as_json:
        for letter in parked:
            typer.echo(
                json.dumps(
                    {
                        "sink": letter.sink,
                        "event_id": letter.event_id,
                        "attempts": letter.attempts,
                        "last_error": letter.last_error,
                        "parked_at": letter.parked_at.isoformat(),
                        "event": bootstrap.as_cloudevent(letter.record.event),
                    },
                    ensure_ascii=False,
                )
            )
        return
    if not parked:
        typer.echo("No parked events.")
        return
    from rich.console import Console
    from rich.text import Text

    console = Console(highlight=False, soft_wrap=True)
    for letter in parked:
        event = letter.record.event
        console.print(
            Text.assemble(
                (letter.parked_at.strftime("%Y-%m-%d %H:%M:%S"), "dim"),
                "  ",
                (letter.event_id, "bold"),
                "  ",
                (f"{event.name.value:<30}", _STYLES.get(event.name.value, "")),
                f"  {event.subject} v{event.version}  ",
                letter.sink.removeprefix("webhook:"),
                f"  {letter.attempts} attempts, last: ",
                (letter.last_error, "red"),
            )
        )
    typer.echo(f"{len(parked)} parked; send them again with `catalog events redrive`.")


@app.command("redrive")
def redrive(
    sink: Annotated[
        str | None, typer.Option("--sink", metavar="URL", help="Only the events of this webhook.")
    ] = None,
    event_id: Annotated[
        str | None, typer.Option("--id", metavar="EVENT_ID", help="Only this event.")
    ] = None,
    data_dir: DataDir = None,
) -> None:
    """Send parked events again; each one delivered leaves the dead-letter list.

    Safe to repeat: only what is still parked is sent, and receivers deduplicate on the event
    id. Exits with 1 when some are still refused (they stay parked, with the new error).
    """
    from catalog import bootstrap

    settings = load_settings(data_dir)
    letters = bootstrap.dead_letters(settings)
    if letters is None:
        typer.echo("No parked events.")
        return
    outcome = bootstrap.redrive_parked_events(settings, letters, sink=sink, event_id=event_id)
    for letter in outcome.delivered:
        typer.echo(f"delivered  {letter.event_id}  to {letter.sink.removeprefix('webhook:')}")
    for letter, reason in outcome.failed:
        typer.echo(f"refused    {letter.event_id}  {reason}", err=True)
    typer.echo(f"{len(outcome.delivered)} delivered, {len(outcome.failed)} still parked.")
    if outcome.failed:
        raise typer.Exit(1)
