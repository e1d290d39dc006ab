"""Export and bulk action jobs at the service layer (DESIGN.md section 11): an export writes
the products a filter keeps to a file that imports again as all `unchanged`; a bulk action
applies one use case to each product with the API's rules and reports each outcome; both
resume after their last committed batch."""

from __future__ import annotations

import itertools
import json
from typing import Any

import pytest

from catalog.domain.errors import InvalidField, InvalidFields
from catalog.domain.events import EventName
from catalog.domain.jobs import ImportFormat, Job, JobStatus
from catalog.domain.lifecycle import Status
from catalog.service import jobs as use_cases
from catalog.service.commands import ChangeStatus, StartBulkAction, StartExport, StartImport
from catalog.service.products import change_status
from tests.principals import ALICE
from tests.service.test_imports import SHIRT, Setup, setup, shoe

__all__ = ["setup"]  # the fixture, on memory and SQLite


def export(setup: Setup, body: dict[str, Any] | None = None) -> Job:
    command = StartExport.from_json("acme", body or {"format": "jsonl"})
    return use_cases.start_export(setup.ctx, setup.jobs, ALICE, command).job


def bulk(setup: Setup, body: dict[str, Any]) -> Job:
    command = StartBulkAction.from_json("acme", body)
    return use_cases.start_bulk_action(setup.ctx, setup.jobs, ALICE, command).job


def output(setup: Setup, job: Job) -> list[dict[str, Any]]:
    assert job.output_key is not None
    with setup.jobs.files.open(job.output_key) as stream:
        return [json.loads(line) for line in stream.read().decode().splitlines()]


def deactivate(setup: Setup, sku: str) -> None:
    product = setup.product(sku)
    change_status(setup.ctx, ALICE, ChangeStatus("acme", product.id, Status.INACTIVE))


def test_an_export_imports_again_as_all_unchanged(setup: Setup) -> None:
    setup.run(setup.start([shoe("A", attributes={"color": "red"}), SHIRT, shoe("B")]))
    done = setup.run(export(setup), batch_size=2)
    assert (done.status, done.processed, done.total) == (JobStatus.SUCCEEDED, 3, 3)
    rows = output(setup, done)
    assert [row["sku"] for row in rows] == ["A", "SH", "B"]
    assert rows[1]["variants"][1] == {
        "sku": "SH-M",
        "options": {"size": "M"},
        "price": None,
        "attributes": {},
        "barcode": None,
        "stock": 5,
    }
    assert setup.jobs.files.download_url(done.output_key or "").endswith("export.jsonl")

    content = b"".join(json.dumps(row).encode() + b"\n" for row in rows)
    command = StartImport("acme", ImportFormat.JSONL, content)
    again = use_cases.start_import(setup.ctx, setup.jobs, ALICE, command).job
    reimported = setup.run(again)
    assert (reimported.unchanged, reimported.created, reimported.updated) == (3, 0, 0)


def test_an_export_keeps_what_its_filter_names(setup: Setup) -> None:
    setup.run(setup.start([shoe("A"), shoe("B"), shoe("C")]))
    deactivate(setup, "B")
    done = setup.run(export(setup, {"filter": {"status": "INACTIVE"}}))
    assert [row["sku"] for row in output(setup, done)] == ["B"]
    with pytest.raises((InvalidField, InvalidFields)):
        export(setup, {"filter": {"status": "GONE"}, "format": "xml"})


def test_an_export_stopped_between_batches_resumes_without_writing_twice(setup: Setup) -> None:
    setup.run(setup.start([shoe(f"P{n}") for n in range(5)]))
    job = export(setup)
    calls = itertools.count()
    stopped = setup.run(job, batch_size=2, stopping=lambda: next(calls) >= 1)
    assert (stopped.status, stopped.processed) == (JobStatus.RUNNING, 4)
    done = setup.run(job, batch_size=2)
    assert [row["sku"] for row in output(setup, done)] == [f"P{n}" for n in range(5)]
    assert done.processed == 5


def test_a_bulk_status_change_reports_each_product(setup: Setup) -> None:
    setup.run(setup.start([shoe("A", description="d"), shoe("B"), shoe("C", description="d")]))
    a, b, c = (setup.product(sku) for sku in "ABC")
    setup.run(bulk(setup, {"action": "status", "status": "INACTIVE", "ids": [a.id]}))
    events = len(setup.events())

    done = setup.run(
        bulk(setup, {"action": "status", "status": "DRAFT", "ids": [a.id, b.id, c.id]})
    )

    assert (done.processed, done.updated, done.unchanged, done.failed) == (3, 1, 2, 0)
    outcomes = {row["sku"]: row["outcome"] for row in output(setup, done)}
    assert outcomes == {"A": "updated", "B": "unchanged", "C": "unchanged"}
    assert setup.product("A").status is Status.DRAFT
    names = [e.name for e in setup.events()[events:]]
    assert names.count(EventName.JOB_FINISHED) == 1 and len(names) > 1


def test_a_bulk_publication_follows_the_apis_rules_for_each_product(setup: Setup) -> None:
    setup.run(setup.start([shoe("A", description="d"), shoe("B", description="d")]))
    # No image: neither can be READY, so neither may be published (409 not-publishable).
    done = setup.run(bulk(setup, {"action": "publish", "channel": "shop", "filter": {}}))
    assert (done.total, done.processed, done.failed) == (2, 2, 2)
    assert {e.problem["type"] for e in done.errors} == {"/problems/not-publishable"}
    rows = output(setup, done)
    assert [row["outcome"] for row in rows] == ["failed", "failed"]
    assert rows[0]["problem"]["status"] == 409


def test_a_bulk_action_is_checked_before_it_starts(setup: Setup) -> None:
    for body in (
        {"action": "delete"},
        {"action": "publish"},
        {"action": "status", "status": "ACTIVE"},
        {"action": "status", "status": "DRAFT", "ids": ["nope"]},
        {"action": "status", "status": "DRAFT", "ids": [], "filter": {}},
    ):
        with pytest.raises((InvalidField, InvalidFields)):
            bulk(setup, body)
    assert setup.queue.queued == []


NULLS = {
    "sku": "NU",
    "name": "With nulls",
    "attributes": {"color": "red", "fit": "slim"},
    "channel_overrides": {"shop": {"attributes": {"color": None}}},
    "options": ["size"],
    "variants": [{"sku": "NU-S", "options": {"size": "S"}, "attributes": {"fit": None}}],
}


@pytest.mark.parametrize("file_format", ["jsonl", "csv"])
def test_exports_of_every_format_import_again_as_unchanged(setup: Setup, file_format: str) -> None:
    """Nulls that mean "removed here" (an override's attribute, a variant's) survive the trip."""
    setup.run(setup.start([NULLS, SHIRT, shoe("A", attributes={"weight_g": 180})]))
    done = setup.run(export(setup, {"format": file_format}), batch_size=2)
    assert (done.status, done.processed, done.failed) == (JobStatus.SUCCEEDED, 3, 0)
    assert done.output_key is not None and done.output_key.endswith(f".{file_format}")
    with setup.jobs.files.open(done.output_key) as stream:
        content = stream.read()
    if file_format == "csv":
        assert content.decode().count("\nsku,") == 0 and content.startswith(b"sku,")
    command = StartImport("acme", ImportFormat(file_format), content)
    again = setup.run(use_cases.start_import(setup.ctx, setup.jobs, ALICE, command).job)
    assert (again.unchanged, again.updated, again.failed) == (3, 0, 0), again.errors
    assert setup.product("NU").variants[0].attributes == {"fit": None}


def test_an_export_that_finds_nothing_is_an_empty_file(setup: Setup) -> None:
    done = setup.run(export(setup, {"format": "csv", "filter": {"status": "ACTIVE"}}))
    assert (done.status, done.total) == (JobStatus.SUCCEEDED, 0)
    assert done.output_key is not None
    with setup.jobs.files.open(done.output_key) as stream:
        assert stream.read().startswith(b"sku,name")
