"""The `catalog` command: serve the API, issue local tokens, read the delivered events.

One module per group of commands; this one only assembles them.
"""

from __future__ import annotations

import typer

from catalog.entrypoints.cli import aws, events, serve, tokens

app = typer.Typer(help="Product catalog: serve the API and operate the embedded deployment.")
app.command()(serve.serve)
app.command()(tokens.token)
app.command("webhook-secret")(tokens.webhook_secret)
app.add_typer(events.app, name="events")
app.add_typer(aws.app, name="aws")

__all__ = ["app"]
