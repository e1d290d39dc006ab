"""Imports over HTTP (DESIGN.md section 11): POST the file, follow the job, read its errors,
list and cancel jobs; each row through the API's own rules, on every backend. The jobs run
as they are queued here (tests/api/conftest.py, InlineJobQueue)."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

from catalog.adapters.job_files import MemoryJobFiles
from catalog.bootstrap import Container
from catalog.domain.events import EventName
from tests.api.support import Api, VariantsApi, assert_problem, error_fields

NDJSON = "application/x-ndjson"


def jsonl(*rows: Any) -> str:
    return "".join((r if isinstance(r, str) else json.dumps(r)) + "\n" for r in rows)


def post_import(
    api: Api, content: str, media: str = NDJSON, key: str | None = None
) -> httpx.Response:
    headers = api._headers({"Content-Type": media, **({"Idempotency-Key": key} if key else {})})
    return api._send(
        "post", f"/v1/merchants/{api.merchant}/imports", content=content, headers=headers
    )


def job(api: Api, url: str) -> dict[str, Any]:
    response = api._send("get", url, headers=api.headers)
    assert response.status_code == 200, response.text
    view: dict[str, Any] = response.json()
    return view


SHIRT = {
    "sku": "SH",
    "name": "Shirt",
    "price": {"amount": 2500, "currency": "USD"},
    "options": ["size"],
    "variants": [
        {"sku": "SH-S", "options": {"size": "S"}},
        {"sku": "SH-M", "options": {"size": "M"}},
    ],
}


def test_an_import_answers_its_job_and_registers_the_rows(
    acme: Api, events: Callable[[], list[Any]]
) -> None:
    started = post_import(acme, jsonl({"sku": "A", "name": "Shoe A"}, SHIRT))
    assert started.status_code == 202, started.text
    view = started.json()
    location = started.headers["Location"]
    assert location == f"/v1/merchants/acme/jobs/{view['id']}"
    assert view["errors_url"] == f"{location}/errors"
    assert started.headers["Cache-Control"] == "no-store"

    done = job(acme, location)
    assert {k: done[k] for k in ("kind", "status", "total", "processed", "created", "failed")} == {
        "kind": "import",
        "status": "SUCCEEDED",
        "total": 2,
        "processed": 2,
        "created": 2,
        "failed": 0,
    }
    assert done["finished_at"] is not None and done["download_url"] is None
    found = VariantsApi(acme).find_sku("SH-M").json()
    shirt = acme.get(found["product_id"]).json()
    assert [v["sku"] for v in shirt["variants"]] == ["SH-S", "SH-M"]
    names = [e.name for e in events()]
    assert names == [EventName.PRODUCT_CREATED, EventName.PRODUCT_CREATED, EventName.JOB_FINISHED]


def test_bad_rows_are_listed_at_their_line_inline_and_at_errors_url(acme: Api) -> None:
    content = jsonl({"sku": "A", "name": "A"}, "{oops", {"sku": "B"}, {"sku": "C", "name": "C"})
    view = job(acme, post_import(acme, content).headers["Location"])
    assert (view["created"], view["failed"]) == (2, 2)
    assert [(e["line"], e["sku"]) for e in view["errors"]] == [(2, None), (3, "B")]
    assert view["errors"][1]["problem"]["errors"] == [
        {"field": "/name", "in": "body", "message": "is required"}
    ]
    listed = acme._send("get", view["errors_url"], headers=acme.headers)
    assert listed.status_code == 200
    assert listed.headers["content-type"].startswith(NDJSON)
    assert [json.loads(line) for line in listed.text.splitlines()] == view["errors"]


def test_reimporting_a_file_changes_nothing(acme: Api, events: Callable[[], list[Any]]) -> None:
    content = jsonl({"sku": "A", "name": "A"}, SHIRT)
    job(acme, post_import(acme, content).headers["Location"])
    emitted = len(events())
    again = job(acme, post_import(acme, content).headers["Location"])
    assert (again["unchanged"], again["created"], again["updated"]) == (2, 0, 0)
    assert [e.name for e in events()[emitted:]] == [EventName.JOB_FINISHED]


def test_the_same_key_answers_the_same_job(acme: Api) -> None:
    content = jsonl({"sku": "A", "name": "A"})
    first = post_import(acme, content, key="import-a")
    again = post_import(acme, content, key="import-a")
    assert again.status_code == 202
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.json()["id"] == first.json()["id"]
    other = post_import(acme, jsonl({"sku": "B", "name": "B"}), key="import-a")
    assert assert_problem(other, 422)["type"] == "/problems/idempotency-key-reused"


def test_only_files_of_the_documented_types_are_taken(acme: Api) -> None:
    refused = post_import(acme, jsonl({"sku": "A", "name": "A"}), media="application/xml")
    assert assert_problem(refused, 415)["type"] == "/problems/unsupported-media-type"
    # JSON names an uploaded file, nothing else: a row sent so is a clear 422.
    as_json = post_import(acme, json.dumps({"sku": "A", "name": "A"}), media="application/json")
    assert error_fields(assert_problem(as_json, 422)) == ["/name", "/sku", "/upload_id"]
    too_large = post_import(acme, "x" * (10 * 1024 * 1024 + 1))
    assert assert_problem(too_large, 413)["type"] == "/problems/content-too-large"
    assert acme.list().json()["items"] == []


def test_jobs_are_listed_newest_first_and_filtered(acme: Api) -> None:
    ids = [post_import(acme, jsonl({"sku": f"P{n}", "name": "P"})).json()["id"] for n in range(3)]
    url = "/v1/merchants/acme/jobs"
    first = acme._send("get", url, params={"limit": 2}, headers=acme.headers).json()
    assert [j["id"] for j in first["items"]] == ids[::-1][:2]
    rest = acme._send(
        "get", url, params={"limit": 2, "cursor": first["next_cursor"]}, headers=acme.headers
    ).json()
    assert ([j["id"] for j in rest["items"]], rest["next_cursor"]) == ([ids[0]], None)
    exports = acme._send("get", url, params={"kind": "export"}, headers=acme.headers).json()
    assert exports["items"] == []
    bad = acme._send("get", url, params={"status": "DONE"}, headers=acme.headers)
    assert_problem(bad, 422)


def test_cancelling_a_finished_job_leaves_it_so(acme: Api) -> None:
    location = post_import(acme, jsonl({"sku": "A", "name": "A"})).headers["Location"]
    cancelled = acme._send("post", f"{location}/cancel", headers=acme.headers)
    assert cancelled.status_code == 200, cancelled.text
    assert cancelled.json()["status"] == "SUCCEEDED"


def test_another_merchant_finds_no_job(acme: Api, globex: Api) -> None:
    location = post_import(acme, jsonl({"sku": "A", "name": "A"})).headers["Location"]
    for path in (location, f"{location}/errors"):
        assert_problem(globex._send("get", path, headers=globex.headers), 404)
    assert_problem(globex._send("post", f"{location}/cancel", headers=globex.headers), 404)
    theirs = globex._send("get", location.replace("/acme/", "/globex/"), headers=globex.headers)
    assert assert_problem(theirs, 404)["type"] == "/problems/not-found"
    assert_problem(
        acme._send("get", "/v1/merchants/acme/jobs/01JDNOSUCHJOB", headers=acme.headers), 404
    )


EXAMPLE_CSV = (
    Path(__file__).resolve().parents[2] / "docs" / "examples" / "products-with-variants.csv"
)


def test_the_documented_csv_example_imports_and_imports_again_as_unchanged(acme: Api) -> None:
    content = EXAMPLE_CSV.read_text(encoding="utf-8")
    first = job(acme, post_import(acme, content, media="text/csv").headers["Location"])
    assert (first["status"], first["created"], first["failed"]) == ("SUCCEEDED", 2, 0), first
    products = {p["sku"]: p for p in acme.list().json()["items"]}
    with_variants = [p for p in products.values() if p["variants"]]
    assert len(with_variants) == 1 and len(with_variants[0]["variants"]) == 3
    again = job(
        acme, post_import(acme, content, media="text/csv; charset=utf-8").headers["Location"]
    )
    assert (again["unchanged"], again["created"], again["updated"]) == (2, 0, 0)


def test_a_new_product_may_bring_more_variants_than_one_registration_takes(acme: Api) -> None:
    row = {
        "sku": "BIG",
        "name": "Many sizes",
        "options": ["size"],
        "variants": [{"sku": f"BIG-{n}", "options": {"size": str(n)}} for n in range(75)],
    }
    done = job(acme, post_import(acme, jsonl(row)).headers["Location"])
    assert (done["created"], done["failed"]) == (1, 0), done["errors"]
    found = VariantsApi(acme).find_sku("BIG-74").json()
    assert len(acme.get(found["product_id"]).json()["variants"]) == 75


def test_a_large_file_goes_through_an_upload_ticket(acme: Api, container: Container) -> None:
    requested = acme._send(
        "post",
        "/v1/merchants/acme/imports/uploads",
        json={"format": "jsonl", "size": 10 * 1024**3},
        headers=acme.headers,
    )
    assert error_fields(assert_problem(requested, 422)) == ["/size"]
    content = jsonl(*({"sku": f"U{n}", "name": f"U {n}"} for n in range(3))).encode()
    ticket = acme._send(
        "post",
        "/v1/merchants/acme/imports/uploads",
        json={"format": "jsonl", "size": len(content)},
        headers=acme.headers,
    )
    assert ticket.status_code == 201, ticket.text
    view = ticket.json()
    assert view["max_bytes"] == len(content) and view["url"] and view["fields"]
    body = {"upload_id": view["upload_id"], "format": "jsonl"}

    def start(key: str | None = None) -> httpx.Response:
        headers = acme._headers({"Idempotency-Key": key} if key else {})
        return acme._send("post", "/v1/merchants/acme/imports", json=body, headers=headers)

    assert error_fields(assert_problem(start(), 422)) == ["/upload_id"]  # nothing uploaded yet
    assert container.jobs is not None
    files = container.jobs.files
    assert isinstance(files, MemoryJobFiles)
    assert files.receive(view["fields"], content)
    started = start("big-import")
    assert started.status_code == 202, started.text
    done = job(acme, started.headers["Location"])
    assert (done["status"], done["created"]) == ("SUCCEEDED", 3)
    again = start("big-import")
    assert again.json()["id"] == done["id"] and again.headers["Idempotent-Replayed"] == "true"
    # Another merchant cannot import acme's upload: its key is derived from the merchant.
    globex_body = {"upload_id": view["upload_id"], "format": "jsonl"}
    other = acme.as_merchant("globex")._send(
        "post", "/v1/merchants/globex/imports", json=globex_body, headers=acme.headers
    )
    assert_problem(other, 404)
