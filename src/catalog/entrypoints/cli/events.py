"""`catalog events`: the events the relay delivered."""

from __future__ import annotations

from typing import Annotated

import typer

from catalog.entrypoints.cli.options import DataDir, load_settings


def events(
    follow: Annotated[bool, typer.Option("--follow", "-f", help="Wait for new events.")] = False,
    data_dir: DataDir = None,
) -> None:
    """Print delivered events, one CloudEvent JSON per line."""
    from catalog.adapters.embedded.event_log import follow_event_log

    settings = load_settings(data_dir)
    try:
        for line in follow_event_log(settings.data_dir / "events.jsonl", follow=follow):
            typer.echo(line)
    except KeyboardInterrupt:
        pass
