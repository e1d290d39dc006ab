"""The product list's bulk action (docs/jobs.md, "Bulk actions"): mark ready, back to draft,
deactivate, publish or unpublish on a channel, for the products ticked in the list or every
product the list's filters keep. It starts a job, whose page shows its progress and the
products the API's rules refused."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import HTMLResponse, Response
from starlette.datastructures import FormData

from catalog.domain.errors import DomainError
from catalog.domain.values import JSON
from catalog.entrypoints.console.pages.products import render_product_list
from catalog.entrypoints.console.web import Form, FormErrors, text
from catalog.service import jobs as use_cases
from catalog.service.commands import StartBulkAction

router = APIRouter()

# The action select's values -> the bulk action's body.
ACTIONS: dict[str, dict[str, JSON]] = {
    "ready": {"action": "status", "status": "READY"},
    "draft": {"action": "status", "status": "DRAFT"},
    "deactivate": {"action": "status", "status": "INACTIVE"},
    "publish": {"action": "publish"},
    "unpublish": {"action": "unpublish"},
}
# The list's filters (hidden inputs `filter.<name>`) -> the job's filter.
FILTERS = {"status": "status", "channel": "channel", "type": "product_type"}
INPUTS = {
    "/action": "bulk.action",
    "/status": "bulk.action",
    "/channel": "bulk.channel",
    "/ids": "bulk.scope",
    "/filter": "bulk.scope",
}


@router.post("/bulk-actions", response_class=HTMLResponse)
async def start_bulk_action(console: Form) -> Response:
    form = await console.request.form()
    shown = {name: text(form, f"filter.{name}") for name in FILTERS}
    values = {name: text(form, name) for name in ("bulk.action", "bulk.channel", "bulk.scope")}
    jobs = console.jobs
    if jobs is None:
        refused = FormErrors(title="This deployment runs no jobs", status=404)
        return render_product_list(console, **shown, bulk_errors=refused, bulk_values=values)
    try:
        command = StartBulkAction.from_json(
            console.merchant_id,
            _body(form),
            idempotency_key=text(form, "idempotency_key") or None,
        )
        started = use_cases.start_bulk_action(console.ctx, jobs, console.principal, command)
    except DomainError as error:
        refused = FormErrors.of(error, INPUTS)
        if "bulk.scope" in refused.by_input and text(form, "bulk.scope") != "filter":
            refused.by_input["bulk.scope"] = "needs a product ticked in the list"
        if refused.by_input and "form" not in refused.by_input:
            refused.title = refused.detail = ""  # each said at its input
        return render_product_list(console, **shown, bulk_errors=refused, bulk_values=values)
    return console.redirect(f"/jobs/{started.job.id}")


def _body(form: FormData) -> dict[str, JSON]:
    body: dict[str, JSON] = dict(ACTIONS.get(text(form, "bulk.action"), {"action": None}))
    if body.get("action") in ("publish", "unpublish"):
        body["channel"] = text(form, "bulk.channel").strip()
    if text(form, "bulk.scope") == "filter":
        body["filter"] = {
            name: value
            for shown, name in FILTERS.items()
            if (value := text(form, f"filter.{shown}").strip())
        }
    else:
        body["ids"] = [value for value in form.getlist("ids") if isinstance(value, str)]
    return body
