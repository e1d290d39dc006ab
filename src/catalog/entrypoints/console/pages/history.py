"""A product's history: the timeline of its versions, newest first, a page at a time (who,
when, what changed, the status transition, the events); and `Restore` on each older version,
which brings that version's content back as a new version."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from fastapi.responses import HTMLResponse, Response

from catalog.domain.errors import DomainError, InvalidField, PreconditionFailed, ProductNotFound
from catalog.domain.history import HistoryEntry
from catalog.domain.history_replay import content_at, content_document
from catalog.domain.product import Product
from catalog.entrypoints.api.presenters import product_view
from catalog.entrypoints.console.pages.products import load_product
from catalog.entrypoints.console.pages.timeline import timeline
from catalog.entrypoints.console.web import Console, Form, FormErrors, Page, text
from catalog.service import history_restore, products
from catalog.service.commands import ReadHistory
from catalog.service.history_restore import RestoreVersion
from catalog.service.problems import problem_of

router = APIRouter()

PAGE_SIZE = 20


@router.get("/products/{product_id}/history", response_class=HTMLResponse)
async def product_history(
    console: Page, product_id: str, cursor: str = "", restored: str = "", now: str = ""
) -> Response:
    notice = ""
    if restored.isdigit():
        notice = (
            f"Version {restored} restored as version {now}."
            if now.isdigit()
            else f"Version {restored} has the content the product has now: nothing changed."
        )
    return render_history(console, load_product(console, product_id), cursor, notice=notice)


def render_history(
    console: Console,
    product: Product,
    cursor: str = "",
    *,
    notice: str = "",
    errors: FormErrors | None = None,
) -> HTMLResponse:
    query = ReadHistory(console.merchant_id, product.id, PAGE_SIZE, cursor or None)
    page = products.product_history(console.ctx, console.principal, query)
    first = page.items[0] if page.items else None
    errors = errors or FormErrors()
    return console.render(
        "history.html",
        status_code=errors.status if errors else 200,
        product=product_view(product, console.ctx.assets),
        entries=timeline(_content_after(console, product, first), page.items),
        notice=notice,
        errors=errors,
        newest_url=console.url(f"/products/{product.id}/history") if cursor else None,
        older_url=(
            console.url(f"/products/{product.id}/history", cursor=page.next_cursor)
            if page.next_cursor
            else None
        ),
    )


def _content_after(
    console: Console, product: Product, first: HistoryEntry | None
) -> dict[str, Any] | None:
    """The product's content as `first` (the page's newest entry) left it; None when it
    cannot be known (a version written since the product was read)."""
    document = content_document(product)
    if first is None or first.version == product.version:
        return document
    if first.version > product.version:
        return None
    newer = history_restore.entries_since(console.ctx, product, first.version)
    try:
        return content_at(document, newer, first.version)
    except ValueError:
        return None


@router.post("/products/{product_id}/history/{version}/restore", response_class=HTMLResponse)
async def restore_version(console: Form, product_id: str, version: int) -> Response:
    form = await console.request.form()
    raw = text(form, "if_match")
    if_match = int(raw) if raw.isascii() and raw.isdigit() and len(raw) <= 18 else None
    command = RestoreVersion(console.merchant_id, product_id, version, if_match)
    try:
        restored = history_restore.restore_version(console.ctx, console.principal, command)
    except PreconditionFailed:
        return render_history(
            console,
            load_product(console, product_id),
            errors=FormErrors(
                title="Someone else changed this product",
                detail=f"Version {version} was not restored. The timeline shows the newest"
                " version now: check it and restore again if you still want to.",
                status=412,
            ),
        )
    except ProductNotFound:  # the product, or a version it never had
        raise
    except DomainError as error:
        return render_history(
            console, load_product(console, product_id), errors=_refusal(version, error)
        )
    if restored.version == if_match:
        return console.redirect(f"/products/{product_id}/history", restored=version)
    return console.redirect(
        f"/products/{product_id}/history", restored=version, now=restored.version
    )


def _refusal(version: int, error: DomainError) -> FormErrors:
    """Why the restore was refused, every field named: a restore has no input to show them at
    (the content is that version's, judged against the product's type as it is now)."""
    problem = problem_of(error) or {"title": "Refused", "status": 422}
    if isinstance(error, InvalidField):
        detail = "; ".join(f"{item.field} {item.message}" for item in error.fields)
    else:
        detail = str(problem.get("detail") or error)
    return FormErrors(
        title=f"Version {version} cannot be restored: {problem['title']}",
        detail=detail,
        status=int(problem["status"]),
    )
