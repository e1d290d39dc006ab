"""`catalog import`, `catalog export` and `catalog jobs`: drive a running server's jobs
(DESIGN.md section 11).

They talk to the server over HTTP (`--url`, default $CATALOG_URL, else the embedded default)
as any client would, with a token minted from the data folder's secret (the embedded
deployment) or given with `--token`. `import` and `export` follow their job with a progress
bar until it ends, then print the counts and where every error is (an export then downloads
its file).
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from catalog.entrypoints.cli.options import DataDir, load_settings

if TYPE_CHECKING:
    import httpx
    from rich.console import Console

DEFAULT_URL = "http://127.0.0.1:8000"
MEDIA = {"jsonl": "application/x-ndjson", "csv": "text/csv"}
EXTENSIONS = {".jsonl": "jsonl", ".ndjson": "jsonl", ".csv": "csv"}
MAX_INLINE_BYTES = 10 * 1024 * 1024
POLL_SECONDS = 0.5
SHOWN_ERRORS = 10
# Exit statuses: every row applied; the job failed or was cancelled; some rows failed.
EXIT_ROWS_FAILED = 2

Url = Annotated[
    str | None,
    typer.Option("--url", help=f"The server (default: $CATALOG_URL, else {DEFAULT_URL})."),
]
Token = Annotated[
    str | None,
    typer.Option(
        "--token", help="A bearer token (default: one minted from the data folder's secret)."
    ),
]
Merchant = Annotated[str, typer.Option("--merchant", help="The merchant whose catalog it is.")]


def import_file(
    file: Annotated[
        Path, typer.Argument(metavar="FILE", help="A JSONL or CSV file (docs/jobs.md).")
    ],
    merchant: Merchant,
    file_format: Annotated[
        str | None,
        typer.Option("--format", help="jsonl or csv (default: from the file's extension)."),
    ] = None,
    no_wait: Annotated[
        bool, typer.Option("--no-wait", help="Print the job's id and return at once.")
    ] = False,
    key: Annotated[
        str | None,
        typer.Option("--key", help="An Idempotency-Key: the same file again is the same job."),
    ] = None,
    upload: Annotated[
        bool,
        typer.Option(
            "--upload",
            help=f"Upload the file with a ticket even under {MAX_INLINE_BYTES} bytes "
            "(larger files always are).",
        ),
    ] = False,
    url: Url = None,
    token: Token = None,
    data_dir: DataDir = None,
) -> None:
    """Import products from FILE: each row upserted by SKU; follow the job to its end."""
    chosen = file_format or EXTENSIONS.get(file.suffix.lower())
    if chosen not in MEDIA:
        raise typer.BadParameter("give --format jsonl or csv", param_hint="--format")
    if not file.is_file():
        raise typer.BadParameter(f"{file} is not a file", param_hint="FILE")
    size = file.stat().st_size
    if size > MAX_INLINE_BYTES:
        typer.echo(
            f"{file} has {size} bytes; an import sent inline takes at most {MAX_INLINE_BYTES}",
            err=True,
        )
        raise typer.Exit(1)
    with _client(url, token, merchant, data_dir) as client:
        headers = {"Content-Type": MEDIA[chosen], **({"Idempotency-Key": key} if key else {})}
        with file.open("rb") as body:
            response = client.post(
                f"/v1/merchants/{merchant}/imports", content=body, headers=headers
            )
        job = _answer(response)
        if no_wait:
            typer.echo(job["id"])
            return
        final = _follow(client, job, file.name)
    raise typer.Exit(_summarize(final, client_base(url)))


def export_products(
    merchant: Merchant,
    out: Annotated[Path, typer.Option("--out", help="Where to write the file.")],
    file_format: Annotated[
        str | None,
        typer.Option("--format", help="jsonl or csv (default: from --out's extension)."),
    ] = None,
    status: Annotated[str | None, typer.Option(help="Only products in this status.")] = None,
    channel: Annotated[str | None, typer.Option(help="Only products listed there.")] = None,
    product_type: Annotated[str | None, typer.Option(help="Only products of this type.")] = None,
    url: Url = None,
    token: Token = None,
    data_dir: DataDir = None,
) -> None:
    """Export the merchant's products to --out: follow the job, then download its file."""
    chosen = file_format or EXTENSIONS.get(out.suffix.lower())
    if chosen not in MEDIA:
        raise typer.BadParameter("give --format jsonl or csv", param_hint="--format")
    kept = {"status": status, "channel": channel, "product_type": product_type}
    body = {"format": chosen, "filter": {k: v for k, v in kept.items() if v}}
    with _client(url, token, merchant, data_dir) as client:
        job = _answer(client.post(f"/v1/merchants/{merchant}/exports", json=body))
        final = _follow(client, job, out.name)
        status_code = _summarize(final, client_base(url))
        if final["status"] != "SUCCEEDED" or not final["download_url"]:
            raise typer.Exit(status_code or 1)
        download = str(final["download_url"])
        if download.startswith("/"):
            download = client_base(url) + download
    import httpx

    # The signed URL needs no token (it may name another host: S3), so none is sent.
    with httpx.stream("GET", download, timeout=60.0) as response:
        if response.status_code != 200:
            typer.echo(f"the download answered {response.status_code}", err=True)
            raise typer.Exit(1)
        with out.open("wb") as file:
            for chunk in response.iter_bytes():
                file.write(chunk)
    typer.echo(f"{final['processed']} products written to {out}")
    raise typer.Exit(status_code)


def list_jobs(
    merchant: Merchant,
    kind: Annotated[str | None, typer.Option(help="import, export or bulk_action.")] = None,
    status: Annotated[str | None, typer.Option(help="QUEUED, RUNNING, SUCCEEDED, ...")] = None,
    limit: Annotated[int, typer.Option(help="How many, newest first.")] = 20,
    url: Url = None,
    token: Token = None,
    data_dir: DataDir = None,
) -> None:
    """The merchant's jobs, newest first."""
    from rich import box
    from rich.console import Console
    from rich.table import Table

    params: dict[str, Any] = {"limit": limit}
    params.update({k: v for k, v in (("kind", kind), ("status", status)) if v})
    with _client(url, token, merchant, data_dir) as client:
        page = _answer(client.get(f"/v1/merchants/{merchant}/jobs", params=params))
    names = ("id", "kind", "status", "rows", "created", "updated", "unchanged", "failed")
    rows = []
    for job in page["items"]:
        processed = f"{job['processed']}/{job['total']}" if job["total"] is not None else "-"
        counts = (str(job[k]) for k in ("created", "updated", "unchanged", "failed"))
        rows.append((job["id"], job["kind"], job["status"], processed, *counts))
    console = Console()
    if not console.is_terminal:
        # Piped: tab-separated lines a script can cut, whatever the width.
        for row in (names, *rows):
            typer.echo("\t".join(row))
        return
    table = Table(*names, box=box.SIMPLE_HEAD)
    for row in rows:
        table.add_row(*row)
    console.print(table)


# ------------------------------------------------------------------ the server


def client_base(url: str | None) -> str:
    return (url or os.environ.get("CATALOG_URL") or DEFAULT_URL).rstrip("/")


def _client(
    url: str | None, token: str | None, merchant: str, data_dir: Path | None
) -> httpx.Client:
    import httpx

    if token is None:
        from catalog.bootstrap import local_tokens

        token = local_tokens(load_settings(data_dir)).issue(merchant, ["merchant"])
    headers = {"Authorization": f"Bearer {token}"}
    return httpx.Client(base_url=client_base(url), headers=headers, timeout=60.0)


def _upload(client: httpx.Client, imports: str, file: Path, file_format: str, size: int) -> str:
    """Send the file straight to storage with a ticket (streamed, never read whole); the
    ticket's upload id."""
    import httpx

    ticket = _answer(client.post(f"{imports}/uploads", json={"format": file_format, "size": size}))
    target = str(ticket["url"])
    if target.startswith("/"):
        target = client_base(None) + target
    with file.open("rb") as content:
        files = {"file": (file.name, content, MEDIA[file_format])}
        # No token: the signed ticket is the permission (and S3 would refuse one).
        sent = httpx.post(target, data=ticket["fields"], files=files, timeout=None)
    if sent.status_code >= 300:
        typer.echo(f"the upload answered {sent.status_code}: {sent.text[:500]}", err=True)
        raise typer.Exit(1)
    return str(ticket["upload_id"])


def _answer(response: httpx.Response) -> dict[str, Any]:
    if response.status_code >= 400:
        try:
            problem = response.json()
            reason = f"{problem.get('title')}: {problem.get('detail')}"
        except ValueError:
            reason = response.text[:500]
        typer.echo(f"the server answered {response.status_code}: {reason}", err=True)
        raise typer.Exit(1)
    answer: dict[str, Any] = response.json()
    return answer


def _follow(client: httpx.Client, job: dict[str, Any], name: str) -> dict[str, Any]:
    """Poll the job until it finishes, with a progress bar of its rows."""
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    columns = (
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("rows"),
        TextColumn("{task.fields[rate]}"),
        TimeElapsedColumn(),
        TextColumn("ETA"),
        TimeRemainingColumn(),
    )
    location = f"/v1/merchants/{job_merchant(job)}/jobs/{job['id']}"
    started = time.monotonic()
    with Progress(*columns, console=_console()) as progress:
        task = progress.add_task(name, total=job["total"], rate="")
        while True:
            job = _answer(client.get(location))
            elapsed = max(time.monotonic() - started, 1e-6)
            rate = f"{job['processed'] / elapsed:,.0f} rows/s"
            progress.update(task, total=job["total"], completed=job["processed"], rate=rate)
            if job["finished_at"] is not None or job["status"] in (
                "SUCCEEDED",
                "FAILED",
                "CANCELLED",
            ):
                return job
            time.sleep(POLL_SECONDS)


def job_merchant(job: dict[str, Any]) -> str:
    # The job's own URL names its merchant: /v1/merchants/{m}/jobs/{id}/errors.
    return str(job["errors_url"]).split("/v1/merchants/", 1)[1].split("/", 1)[0]


def _summarize(job: dict[str, Any], base: str) -> int:
    from rich.console import Console

    console = Console(soft_wrap=True)
    if job["kind"] == "export":
        counts = f"{job['processed']} products, {job['failed']} failed"
    else:
        counts = ", ".join(f"{job[k]} {k}" for k in ("created", "updated", "unchanged", "failed"))
    console.print(f"job {job['id']} {job['status']}: {counts}")
    if job["status"] == "FAILED":
        console.print(f"[red]the job could not run: {job['message']}")
        return 1
    if job["status"] == "CANCELLED":
        return 1
    if not job["failed"]:
        return 0
    for error in job["errors"][:SHOWN_ERRORS]:
        problem = error["problem"]
        where = f"line {error['line']}" + (f" ({error['sku']})" if error["sku"] else "")
        console.print(f"  {where}: {problem.get('detail') or problem.get('title')}")
    if job["failed"] > SHOWN_ERRORS:
        console.print(f"  ... and {job['failed'] - SHOWN_ERRORS} more")
    console.print(f"every error, as JSON lines: {base}{job['errors_url']}")
    return EXIT_ROWS_FAILED


def _console() -> Console:
    """Progress goes to stderr: stdout carries the summary (or the job id) alone."""
    from rich.console import Console

    return Console(stderr=True)
