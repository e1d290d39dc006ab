"""One import on several workers against moto (docs/jobs-aws.md, "One job in parallel"): the
first worker to take the job cuts its file into chunks and sends a message per chunk; workers
running chunks side by side end with what one worker running the file ends with (products,
counters, errors at the file's lines); a chunk delivered again applies its rows once; the last
chunk to end ends the job with one JobFinished; a cancel stops the chunks not yet done.

The API, the queue and the worker handler are test_jobs_lambda.py's `deployed` (FIFO queue,
`deliver` playing the event source mapping), here with chunks of a few hundred bytes.
"""

from __future__ import annotations

import json
import threading
from typing import Any

import pytest

from catalog.entrypoints import lambda_jobs
from tests.aws.test_jobs_lambda import (
    MERCHANT,
    Deployed,
    WorkerContext,
    counters,
    deployed,  # noqa: F401  # the fixture, shared
    jsonl,
)

CHUNK_BYTES = 300


@pytest.fixture
def chunked(deployed: Deployed, monkeypatch: pytest.MonkeyPatch) -> Deployed:  # noqa: F811
    monkeypatch.setenv("CATALOG_JOBS_CHUNK_BYTES", str(CHUNK_BYTES))
    lambda_jobs.reset()
    return deployed


def catalog_file(prefix: str, count: int = 30) -> str:
    """New products, with bad rows among them: a line that is not JSON, a row without a
    name, a blank line (it still counts)."""
    rows: list[Any] = []
    for n in range(1, count + 1):
        rows.append(
            {
                "sku": f"{prefix}-{n:03d}",
                "name": f"Boot {n}",
                "price": {"amount": n, "currency": "USD"},
            }
        )
        if n % 7 == 0:
            rows.append("{not json")
        if n % 11 == 0:
            rows.append({"sku": f"{prefix}-X{n}"})
        if n == 15:
            rows.append("")
    return jsonl(*rows)


def chunk_of(record: dict[str, Any]) -> int | None:
    chunk: int | None = json.loads(record["body"]).get("chunk")
    return chunk


def start_split(chunked: Deployed, content: str, **headers: str) -> tuple[dict[str, Any], int]:
    """The job started and its first message run: the job cut into its chunks."""
    started = chunked.start_import(content, **headers)
    assert chunked.deliver(chunked.receive()) == {"batchItemFailures": []}
    view = chunked.job(started["id"])
    assert view["status"] == "RUNNING"
    assert view["total"] is not None and view["processed"] == 0
    return view, view["total"]


def products_without(prefix: str, products: dict[str, dict[str, Any]]) -> dict[str, Any]:
    return {
        sku.removeprefix(prefix): (doc["name"], doc["price"], doc["version"])
        for sku, doc in products.items()
        if sku.startswith(prefix)
    }


def job_errors(chunked: Deployed, view: dict[str, Any], prefix: str) -> list[Any]:
    listed = chunked.api("GET", view["errors_url"])
    assert listed.status == 200
    errors = [json.loads(line) for line in listed.body.splitlines()]
    return [
        (e["line"], (e["sku"] or "").removeprefix(prefix), e["problem"]["type"]) for e in errors
    ]


def test_chunks_on_two_workers_at_once_end_as_one_worker_running_the_file(
    chunked: Deployed, monkeypatch: pytest.MonkeyPatch
) -> None:
    # One worker, the whole file (chunks larger than it).
    monkeypatch.setenv("CATALOG_JOBS_CHUNK_BYTES", str(8 * 1024 * 1024))
    lambda_jobs.reset()
    alone = chunked.start_import(catalog_file("ONE"))
    assert chunked.work_off() == 1
    sequential = chunked.job(alone["id"])

    monkeypatch.setenv("CATALOG_JOBS_CHUNK_BYTES", str(CHUNK_BYTES))
    lambda_jobs.reset()
    view, _ = start_split(chunked, catalog_file("TWO"))
    messages = chunked.receive_all()
    chunks = len(messages)
    assert chunks >= 6
    assert sorted(chunk_of(m) for m in messages) == list(range(1, chunks + 1))
    # Each chunk is a message group of its own: they are handed out side by side.
    assert len({m["attributes"]["MessageGroupId"] for m in messages}) == chunks
    chunked.visible_again(messages)

    ran: dict[str, list[int | None]] = {"a": [], "b": []}
    both_holding_one = threading.Barrier(2, timeout=30)
    failures: list[BaseException] = []

    def worker(name: str) -> None:
        try:
            first = chunked.receive()
            both_holding_one.wait()  # two chunks run at once, for sure
            records = first
            while records:
                assert chunked.deliver(records) == {"batchItemFailures": []}
                ran[name] += [chunk_of(r) for r in records]
                records = chunked.receive()
        except BaseException as error:
            failures.append(error)

    threads = [threading.Thread(target=worker, args=(name,)) for name in ran]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert failures == []
    assert ran["a"] and ran["b"]
    assert sorted(ran["a"] + ran["b"]) == list(range(1, chunks + 1))

    done = chunked.job(view["id"])
    assert counters(done) == counters(sequential)
    assert done["failed"] == 6 and done["created"] == 30
    # Errors at the lines of the whole file, in line order, inline and at errors_url.
    assert [(e["line"], e["sku"]) for e in done["errors"]] == [
        (e["line"], (e["sku"] or "").replace("ONE", "TWO") or None) for e in sequential["errors"]
    ]
    assert job_errors(chunked, done, "TWO") == job_errors(chunked, sequential, "ONE")
    products = chunked.products()
    assert products_without("TWO", products) == products_without("ONE", products)
    assert chunked.event_names() == {"ProductCreated": 60, "JobFinished": 2}
    assert chunked.receive() == []


def test_the_last_chunk_to_end_ends_the_job_once(chunked: Deployed) -> None:
    view, total = start_split(chunked, catalog_file("LAST", 12))
    messages = chunked.receive_all()
    assert len(messages) >= 3
    *first, last = messages
    for message in first:
        assert chunked.deliver([message]) == {"batchItemFailures": []}
    halfway = chunked.job(view["id"])
    assert halfway["status"] == "RUNNING"
    assert 0 < halfway["processed"] < total
    assert halfway["errors"]  # the chunks' errors show while the job runs
    assert chunked.event_names()["JobFinished"] == 0

    assert chunked.deliver([last]) == {"batchItemFailures": []}
    done = chunked.job(view["id"])
    assert (done["status"], done["processed"], done["total"]) == ("SUCCEEDED", total, total)
    assert done["finished_at"] is not None
    assert chunked.event_names() == {"ProductCreated": 12, "JobFinished": 1}
    (finished,) = [
        json.loads(item["event"]["S"])
        for item in chunked.items("EVENT")
        if json.loads(item["event"]["S"])["name"] == "JobFinished"
    ]
    assert finished["data"]["processed"] == total
    assert finished["data"]["created"] == 12
    # Nothing left unfinished: no marker, no message.
    assert chunked.items("UNFINISHED_JOB") == []
    assert chunked.receive() == []


def test_a_chunk_delivered_again_applies_its_rows_once(chunked: Deployed) -> None:
    view, total = start_split(chunked, catalog_file("AGAIN", 12))
    first, *others = chunked.receive_all()
    # The worker commits the chunk's rows and dies before its message is deleted.
    outcome = lambda_jobs.handler({"Records": [first]}, WorkerContext())
    assert outcome == {"batchItemFailures": []}
    after_first = chunked.job(view["id"])
    chunked.visible_again([first, *others])

    again = [m for m in chunked.receive_all() if chunk_of(m) == chunk_of(first)]
    assert again[0]["attributes"]["ApproximateReceiveCount"] == "2"
    writes = chunked.worker_calls("TransactWriteItems")
    assert chunked.deliver(again) == {"batchItemFailures": []}
    assert writes == []  # the chunk had ended: nothing written again
    assert chunked.job(view["id"]) == after_first

    chunked.visible_again(others)
    chunked.work_off()
    done = chunked.job(view["id"])
    assert (done["status"], done["processed"], done["created"]) == ("SUCCEEDED", total, 12)
    assert {doc["version"] for doc in chunked.products().values()} == {1}
    assert chunked.event_names() == {"ProductCreated": 12, "JobFinished": 1}


def test_the_jobs_message_delivered_again_sends_its_chunks_again_and_they_do_nothing(
    chunked: Deployed,
) -> None:
    started = chunked.start_import(catalog_file("DUP", 12))
    (parent,) = chunked.receive()
    lambda_jobs.handler({"Records": [parent]}, WorkerContext())  # cut, chunks sent; not deleted
    chunked.work_off()
    done = chunked.job(started["id"])
    assert done["status"] == "SUCCEEDED"

    chunked.visible_again([parent])
    chunked.work_off()  # the job's message again: the job has ended, nothing is sent
    assert chunked.job(started["id"]) == done
    assert chunked.event_names() == {"ProductCreated": 12, "JobFinished": 1}


def test_a_cancel_stops_the_chunks_not_yet_done(chunked: Deployed) -> None:
    view, total = start_split(chunked, catalog_file("STOP", 12))
    first, *others = chunked.receive_all()
    assert chunked.deliver([first]) == {"batchItemFailures": []}
    ran = chunked.job(view["id"])["processed"]
    cancelled = chunked.api("POST", f"{MERCHANT}/jobs/{view['id']}/cancel")
    assert cancelled.status == 200

    chunked.visible_again(others)
    chunked.work_off()
    done = chunked.job(view["id"])
    assert done["status"] == "CANCELLED"
    assert done["processed"] == ran < total
    assert len(chunked.products()) == done["created"]
    assert chunked.event_names()["JobFinished"] == 1
    assert chunked.receive() == []


def test_a_csv_file_is_cut_between_products_and_keeps_its_lines(chunked: Deployed) -> None:
    header = "sku,name,price,currency,option1_name,option1_value,variant_sku\n"
    products = []
    for n in range(1, 13):
        products.append(f"P{n},Shirt {n},10.00,USD,size,S,P{n}-S\n")
        products.append(f"P{n},,,,,M,P{n}-M\n")
    products[9] = "P5,,,,,M,P5-M,extra\n"  # line 11: a value under no column
    content = header + "".join(products)
    started = chunked.start_import(content, **{"content-type": "text/csv"})
    assert chunked.deliver(chunked.receive()) == {"batchItemFailures": []}
    assert chunked.work_off() >= 2  # a message per chunk
    done = chunked.job(started["id"])
    assert (done["status"], done["total"], done["created"], done["failed"]) == (
        "SUCCEEDED",
        12,
        11,
        1,
    )
    assert [(e["line"], e["sku"]) for e in done["errors"]] == [(10, "P5")]
    docs = chunked.products()
    assert all(len(docs[f"P{n}"]["variants"]) == 2 for n in range(1, 13) if n != 5)


def test_a_chunk_near_its_timeout_goes_on_in_a_message_of_its_own(
    chunked: Deployed, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CATALOG_JOBS_CHUNK_BYTES", "2500")  # chunks of more than a batch
    lambda_jobs.reset()
    view, total = start_split(chunked, catalog_file("LONG", 45))
    first, *others = chunked.receive_all()
    stopped = WorkerContext(remaining_ms=[lambda_jobs.STOP_MARGIN_MS - 1])
    assert chunked.deliver([first], stopped) == {"batchItemFailures": []}
    assert chunked.job(view["id"])["processed"] == 20  # its first batch, then it stopped

    (continuation,) = chunked.receive_all()
    assert chunk_of(continuation) == chunk_of(first)
    assert continuation["attributes"]["MessageGroupId"] == first["attributes"]["MessageGroupId"]
    chunked.visible_again(others)
    chunked.deliver([continuation])
    chunked.work_off()
    done = chunked.job(view["id"])
    assert (done["status"], done["processed"], done["created"]) == ("SUCCEEDED", total, 45)
    assert chunked.event_names() == {"ProductCreated": 45, "JobFinished": 1}
