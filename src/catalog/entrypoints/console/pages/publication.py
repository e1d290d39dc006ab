"""The editor's publication panel: one row per channel the product knows, with the listing's
state and the Publish / Unpublish buttons.

The panel is a fragment of its own (GET .../publication) so that htmx can swap it after a
button and poll it while a listing waits for its adapter; without JavaScript the buttons are
plain forms that come back to the editor.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from fastapi import APIRouter
from fastapi.responses import HTMLResponse, Response

from catalog.domain.errors import DomainError, ProductNotFound
from catalog.domain.listing import ListingState
from catalog.domain.product import Product
from catalog.entrypoints.api.presenters import product_view
from catalog.entrypoints.console.pages.products import load_product, render_editor
from catalog.entrypoints.console.web import TEMPLATES, Console, Form, FormErrors, Page
from catalog.service import channels
from catalog.service.commands import RequestPublication, RequestUnpublication
from catalog.service.problems import problem_of

router = APIRouter()

# A listing in these states waits for its adapter: the panel polls until none does.
WAITING = frozenset({ListingState.PENDING.value, ListingState.UNPUBLISHING.value})
# The states from which each button applies (domain/listing.py's tables); None: not listed.
PUBLISHABLE = frozenset({None, ListingState.FAILED.value, ListingState.UNPUBLISHED.value})
WITHDRAWABLE = frozenset({ListingState.PENDING.value, ListingState.PUBLISHED.value})


def publication_rows(product: dict[str, Any]) -> list[dict[str, Any]]:
    """A row per channel the product knows: those that declared requirements (its
    completeness names them) and those it has a listing on."""
    completeness = product["completeness"]["channels"]
    listings = product["listings"]
    rows = []
    for channel in sorted(set(completeness) | set(listings)):
        listing = listings.get(channel)
        state = str(listing["state"]) if listing else None
        rows.append(
            {
                "channel": channel,
                "state": state,
                "listing": listing,
                "missing": completeness.get(channel, {}).get("missing", []),
                "can_publish": state in PUBLISHABLE,
                "can_unpublish": state in WITHDRAWABLE,
            }
        )
    return rows


def is_waiting(product: dict[str, Any]) -> bool:
    return any(str(listing["state"]) in WAITING for listing in product["listings"].values())


# What a listing's outcome does not change: a page whose forms were rendered from this content
# may take a newer version as their base only while it is the same (console.js).
_NOT_CONTENT = frozenset({"status", "version", "listings", "completeness", "updated_at"})


def content_digest(view: dict[str, Any]) -> str:
    content = {k: v for k, v in view.items() if k not in _NOT_CONTENT}
    encoded = json.dumps(content, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(encoded.encode()).hexdigest()[:16]


TEMPLATES.env.globals["content_digest"] = content_digest
TEMPLATES.env.globals["publication_rows"] = publication_rows
TEMPLATES.env.globals["publication_waiting"] = is_waiting


def _is_htmx(console: Console) -> bool:
    return console.request.headers.get("hx-request") == "true"


def _panel(console: Console, product: Product, errors: FormErrors | None = None) -> HTMLResponse:
    # Always 200: htmx swaps only successful answers, and a refusal is shown in the panel.
    return console.render(
        "product/publication.html",
        product=product_view(product, console.ctx.assets),
        errors=errors or FormErrors(),
    )


@router.get("/products/{product_id}/publication", response_class=HTMLResponse)
async def publication_panel(console: Page, product_id: str) -> Response:
    return _panel(console, load_product(console, product_id))


@router.post("/products/{product_id}/channels/{channel}/publish", response_class=HTMLResponse)
async def publish(console: Form, product_id: str, channel: str) -> Response:
    command = RequestPublication(console.merchant_id, product_id, channel)
    return _request(console, product_id, channel, command)


@router.post("/products/{product_id}/channels/{channel}/unpublish", response_class=HTMLResponse)
async def unpublish(console: Form, product_id: str, channel: str) -> Response:
    command = RequestUnpublication(console.merchant_id, product_id, channel)
    return _request(console, product_id, channel, command)


def _request(
    console: Console,
    product_id: str,
    channel: str,
    command: RequestPublication | RequestUnpublication,
) -> Response:
    try:
        if isinstance(command, RequestPublication):
            product = channels.request_publication(console.ctx, console.principal, command)
        else:
            product = channels.request_unpublication(console.ctx, console.principal, command)
    except ProductNotFound:
        raise
    except DomainError as error:
        refused = _refusal(channel, error)
        current = load_product(console, product_id)
        if _is_htmx(console):
            return _panel(console, current, refused)
        return render_editor(console, current, errors=refused)
    if _is_htmx(console):
        return _panel(console, product)
    requested = isinstance(command, RequestPublication)
    notice = "publish-requested" if requested else "unpublish-requested"
    return console.redirect(f"/products/{product_id}", saved=notice)


def _refusal(channel: str, error: DomainError) -> FormErrors:
    """The refusal, shown in the channel's row: its title, why, and the missing pointers
    (the row lists them, the message names them)."""
    problem = problem_of(error) or {"title": "Refused", "status": 422}
    detail = str(problem.get("detail", ""))
    message = f"{problem['title']}: {detail[:1].upper()}{detail[1:]}." if detail else ""
    return FormErrors(
        by_input={f"channel:{channel}": message or str(problem["title"])},
        status=int(problem["status"]),
    )
