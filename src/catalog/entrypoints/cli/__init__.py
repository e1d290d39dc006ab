"""The `catalog` command: serve the API, issue local tokens, read the delivered events.

One module per group of commands; this one only assembles them.
"""

from __future__ import annotations

from importlib.metadata import version
from typing import Annotated

import typer

from catalog.entrypoints.cli import aws, console, events, jobs, serve, tokens
from catalog.entrypoints.cli.options import CatalogGroup

app = typer.Typer(
    cls=CatalogGroup,
    help="Product catalog: serve the API and operate the embedded deployment.",
)


def _print_version(wanted: bool) -> None:
    if wanted:
        typer.echo(f"catalog {version('product-catalog')}")
        raise typer.Exit


@app.callback()
def catalog(
    show_version: Annotated[
        bool,
        typer.Option(
            "--version",
            callback=_print_version,
            is_eager=True,
            help="Print the installed version and exit.",
        ),
    ] = False,
) -> None:
    """Product catalog: serve the API and operate the embedded deployment."""


app.command()(serve.serve)
app.command()(tokens.token)
app.command("webhook-secret")(tokens.webhook_secret)
app.command()(console.console)
app.command("import")(jobs.import_file)
app.command("export")(jobs.export_products)
app.command("jobs")(jobs.list_jobs)
app.add_typer(events.app, name="events", cls=CatalogGroup)
app.add_typer(aws.app, name="aws", cls=CatalogGroup)

__all__ = ["app"]
