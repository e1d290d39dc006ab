"""Jobs on AWS end to end against moto: the API Lambda starts a job (API Gateway events), the
job's message is on the jobs queue (SQS FIFO), the worker Lambda runs it from that message as
the event source mapping delivers it, and the results are read back through the API, from
DynamoDB and from S3 (presigned URLs fetched over HTTP).

`deliver` plays the event source mapping: it receives messages, hands them to the worker's
handler as an SQS event, and deletes those the handler did not report as failed. A worker
that dies is an exception that is not an Exception (the process gone: nothing of the handler
runs after it), its message left in flight; the end of its visibility timeout is played by
setting the visibility to 0.
"""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from typer.testing import CliRunner

from catalog import bootstrap
from catalog.adapters.aws.sqs_event_source import SqsEventSource
from catalog.entrypoints import lambda_api, lambda_jobs
from catalog.entrypoints.cli import app as cli
from tests.aws.apigw_events import ACME, http_event
from tests.aws.apigw_events import LambdaContext as ApiContext
from tests.aws.moto_serial import serialize_dynamodb_requests
from tests.conftest import AwsEndpoint

CURSOR_SECRET = "jobs-lambda-tests-cursor-secret-0123456789abcdef"
BUCKET = "jobs-lambda-assets"
TABLE = "jobs-lambda"
MERCHANT = "/v1/merchants/acme"
NDJSON = "application/x-ndjson"
ROOMY_MS = 800_000


class Killed(BaseException):
    """The worker's process ends here (a timeout, out of memory): no handler code runs on."""


@dataclass
class WorkerContext:
    """The Lambda context the worker reads: its remaining time answers `remaining_ms` in turn
    (the last one from then on); past `kill_after` reads, the process dies."""

    remaining_ms: list[int] = field(default_factory=lambda: [ROOMY_MS])
    kill_after: int | None = None
    aws_request_id: str = "worker-request"
    reads: int = 0

    def get_remaining_time_in_millis(self) -> int:
        self.reads += 1
        if self.kill_after is not None and self.reads > self.kill_after:
            raise Killed()
        return self.remaining_ms.pop(0) if len(self.remaining_ms) > 1 else self.remaining_ms[0]


@dataclass(frozen=True)
class Reply:
    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class Deployed:
    aws: AwsEndpoint
    queue_url: str
    dead_letter_url: str

    @property
    def sqs(self) -> Any:
        return self.aws.client("sqs")

    @property
    def dynamodb(self) -> Any:
        return self.aws.client("dynamodb")

    # -- the API ----------------------------------------------------------------------------

    def api(self, method: str, path: str, body: str | None = None, **headers: str) -> Reply:
        event = http_event(method, path, claims=ACME, headers=headers, body=body)
        response = lambda_api.handler(event, ApiContext())
        raw = response.get("body", "")
        content = base64.b64decode(raw) if response.get("isBase64Encoded") else raw.encode()
        return Reply(response["statusCode"], response.get("headers", {}), content)

    def start_import(self, content: str, **headers: str) -> dict[str, Any]:
        started = self.api(
            "POST", f"{MERCHANT}/imports", content, **{"content-type": NDJSON, **headers}
        )
        assert started.status == 202, started.body
        view: dict[str, Any] = started.json()
        return view

    def start(self, kind: str, body: dict[str, Any]) -> dict[str, Any]:
        started = self.api(
            "POST", f"{MERCHANT}/{kind}", json.dumps(body), **{"content-type": "application/json"}
        )
        assert started.status == 202, started.body
        view: dict[str, Any] = started.json()
        return view

    def job(self, job_id: str) -> dict[str, Any]:
        reply = self.api("GET", f"{MERCHANT}/jobs/{job_id}")
        assert reply.status == 200, reply.body
        view: dict[str, Any] = reply.json()
        return view

    # -- the queue and the worker -----------------------------------------------------------

    @property
    def source(self) -> SqsEventSource:
        """The event source mapping (batch size 1), as `catalog aws jobs` plays it."""
        return SqsEventSource(self.sqs, self.queue_url, lambda_jobs.handler, wait_seconds=0)

    def receive(self) -> list[dict[str, Any]]:
        """Messages as Lambda's event source mapping hands them to the function."""
        return self.source.receive()

    def receive_all(self) -> list[dict[str, Any]]:
        """Every message visible now (a chunk's each: message groups of their own)."""
        found: list[dict[str, Any]] = []
        while records := self.receive():
            found += records
        return found

    def deliver(
        self, records: list[dict[str, Any]], context: WorkerContext | None = None
    ) -> dict[str, Any]:
        """The records to the worker; those it did not report failed are deleted."""
        return self.source.deliver(records, context or WorkerContext())

    def work_off(self) -> int:
        """Run every message on the queue, as the mapping would; how many it ran."""
        ran = 0
        while records := self.receive():
            assert self.deliver(records) == {"batchItemFailures": []}
            ran += 1
        return ran

    def visible_again(self, records: list[dict[str, Any]]) -> None:
        """The end of their visibility timeout."""
        for record in records:
            self.sqs.change_message_visibility(
                QueueUrl=self.queue_url, ReceiptHandle=record["receiptHandle"], VisibilityTimeout=0
            )

    def worker_calls(self, operation: str, hook: Callable[[], None] | None = None) -> list[int]:
        """Counts the worker's DynamoDB calls of `operation` (one entry a call); `hook` runs
        before each is sent."""
        calls: list[int] = []

        def count(**kwargs: Any) -> None:
            calls.append(len(calls) + 1)
            if hook is not None:
                hook()

        client = lambda_jobs.runtime().worker.ctx.store.client  # type: ignore[attr-defined]
        client.meta.events.register(f"before-send.dynamodb.{operation}", count)
        return calls

    # -- what is stored ---------------------------------------------------------------------

    def items(self, item_type: str) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = []
        for page in self.dynamodb.get_paginator("scan").paginate(TableName=TABLE):
            found += [item for item in page["Items"] if item["item_type"]["S"] == item_type]
        return found

    def event_names(self) -> Counter[str]:
        return Counter(json.loads(item["event"]["S"])["name"] for item in self.items("EVENT"))

    def products(self) -> dict[str, dict[str, Any]]:
        docs = (json.loads(item["doc"]["S"]) for item in self.items("PRODUCT"))
        return {doc["sku"]: doc for doc in docs}


@pytest.fixture
def deployed(
    aws: AwsEndpoint, monkeypatch: pytest.MonkeyPatch, tmp_path: Any
) -> Iterator[Deployed]:
    """The API's and the worker's environment on Lambda: resources of `catalog aws bootstrap`,
    and the jobs queue with its dead-letter queue, FIFO as in template.yaml."""
    serialize_dynamodb_requests()
    # moto answers a transaction of a batch in seconds on a busy machine (and two runs of a
    # job at once wait on each other): the Lambdas' 5 s read timeout is AWS's, not moto's.
    client_of = bootstrap.aws_client
    monkeypatch.setattr(
        bootstrap,
        "aws_client",
        lambda service, **options: client_of(service, **{**options, "read_timeout": 120.0}),
    )
    sqs = aws.client("sqs")
    fifo = {"FifoQueue": "true"}
    dead_letters = sqs.create_queue(QueueName="jobs-dead.fifo", Attributes=fifo)["QueueUrl"]
    dead_arn = sqs.get_queue_attributes(QueueUrl=dead_letters, AttributeNames=["QueueArn"])
    redrive = {"deadLetterTargetArn": dead_arn["Attributes"]["QueueArn"], "maxReceiveCount": "5"}
    queue = sqs.create_queue(
        QueueName="jobs.fifo",
        Attributes={**fifo, "VisibilityTimeout": "5400", "RedrivePolicy": json.dumps(redrive)},
    )["QueueUrl"]
    for name, value in {
        "CATALOG_BACKEND": "aws",
        "CATALOG_AUTH": "apigw",
        "CATALOG_CURSOR_SECRET": CURSOR_SECRET,
        "CATALOG_TABLE_NAME": TABLE,
        "CATALOG_BUCKET_NAME": BUCKET,
        "CATALOG_JOBS_QUEUE_URL": queue,
        "CATALOG_DATA_DIR": str(tmp_path / "never-used"),
        "CATALOG_RATE_LIMIT": "off",
    }.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("CATALOG_ASSET_BASE_URL", raising=False)
    result = CliRunner().invoke(cli, ["aws", "bootstrap"])
    assert result.exit_code == 0, result.output
    lambda_api.reset()
    lambda_jobs.reset()
    yield Deployed(aws, queue, dead_letters)
    lambda_api.reset()
    lambda_jobs.reset()


def jsonl(*rows: Any) -> str:
    return "".join((r if isinstance(r, str) else json.dumps(r)) + "\n" for r in rows)


def shoes(count: int) -> list[dict[str, Any]]:
    return [
        {
            "sku": f"SH-{n:03d}",
            "name": f"Shoe {n}",
            "price": {"amount": 1000 + n, "currency": "USD"},
        }
        for n in range(1, count + 1)
    ]


COUNTERS = ("status", "total", "processed", "created", "updated", "unchanged", "failed")


def counters(view: dict[str, Any]) -> dict[str, Any]:
    return {name: view[name] for name in COUNTERS}


# ---------------------------------------------------------------------- imports


def test_an_import_posted_to_the_api_is_run_by_the_worker_from_its_message(
    deployed: Deployed,
) -> None:
    rows: list[Any] = shoes(3)
    rows.insert(1, "{not json")  # line 2
    rows.append({"sku": "NO-NAME"})  # line 5
    started = deployed.start_import(jsonl(*rows), **{"Idempotency-Key": "first-import"})
    assert started["status"] == "QUEUED"
    # The file is in S3, where the worker reads it.
    s3 = deployed.aws.client("s3")
    key = f"jobs/acme/{started['id']}/input.jsonl"
    assert s3.get_object(Bucket=BUCKET, Key=key)["Body"].read().decode() == jsonl(*rows)

    (record,) = deployed.receive()
    assert json.loads(record["body"]) == {"merchant_id": "acme", "job_id": started["id"]}
    assert record["attributes"]["MessageGroupId"] == started["id"]
    assert deployed.deliver([record]) == {"batchItemFailures": []}

    done = deployed.job(started["id"])
    assert counters(done) == {
        "status": "SUCCEEDED",
        "total": 5,
        "processed": 5,
        "created": 3,
        "updated": 0,
        "unchanged": 0,
        "failed": 2,
    }
    assert [(e["line"], e["sku"]) for e in done["errors"]] == [(2, None), (5, "NO-NAME")]
    listed = deployed.api("GET", done["errors_url"])
    assert listed.status == 200
    assert [json.loads(line) for line in listed.body.splitlines()] == done["errors"]
    products = deployed.products()
    assert sorted(products) == ["SH-001", "SH-002", "SH-003"]
    assert products["SH-002"]["price"] == {"amount": 1002, "currency": "USD"}
    assert deployed.event_names() == {"ProductCreated": 3, "JobFinished": 1}
    assert deployed.receive() == []  # nothing left to run

    # The same request again answers the same job and queues nothing.
    again = deployed.start_import(jsonl(*rows), **{"Idempotency-Key": "first-import"})
    assert again["id"] == started["id"]
    assert deployed.receive() == []


def test_an_import_the_queue_refused_is_handed_on_by_its_retry(deployed: Deployed) -> None:
    attributes = deployed.sqs.get_queue_attributes(
        QueueUrl=deployed.queue_url, AttributeNames=["FifoQueue", "VisibilityTimeout"]
    )["Attributes"]
    deployed.sqs.delete_queue(QueueUrl=deployed.queue_url)
    content = jsonl(*shoes(2))
    key = {"content-type": NDJSON, "Idempotency-Key": "refused-once"}

    refused = deployed.api("POST", f"{MERCHANT}/imports", content, **key)

    assert refused.status == 503, refused.body
    assert refused.json()["type"].endswith("/store-unavailable")
    assert refused.headers["retry-after"] == "1"
    deployed.sqs.create_queue(QueueName="jobs.fifo", Attributes=attributes)
    retried = deployed.api("POST", f"{MERCHANT}/imports", content, **key)
    assert retried.status == 202, retried.body
    assert retried.headers["idempotent-replayed"] == "true"
    (record,) = deployed.receive()
    assert json.loads(record["body"])["job_id"] == retried.json()["id"]
    assert deployed.deliver([record]) == {"batchItemFailures": []}
    assert counters(deployed.job(retried.json()["id"]))["created"] == 2


def test_a_run_near_its_timeout_stops_and_the_next_message_goes_on_with_every_row_once(
    deployed: Deployed,
) -> None:
    started = deployed.start_import(jsonl(*shoes(45)))  # batches of 20, 20 and 5
    first = deployed.receive()
    # Out of time once the first batch is written: the run stops and queues the job again.
    stopped = WorkerContext(remaining_ms=[lambda_jobs.STOP_MARGIN_MS - 1])
    assert deployed.deliver(first, stopped) == {"batchItemFailures": []}
    halfway = deployed.job(started["id"])
    assert counters(halfway) == {
        "status": "RUNNING",
        "total": 45,
        "processed": 20,
        "created": 20,
        "updated": 0,
        "unchanged": 0,
        "failed": 0,
    }

    (continuation,) = deployed.receive()
    assert continuation["messageId"] != first[0]["messageId"]
    assert json.loads(continuation["body"])["job_id"] == started["id"]
    # A new message rather than the first one delivered again: it was received once.
    assert continuation["attributes"]["ApproximateReceiveCount"] == "1"
    assert deployed.deliver([continuation]) == {"batchItemFailures": []}

    done = deployed.job(started["id"])
    assert (done["status"], done["processed"], done["created"]) == ("SUCCEEDED", 45, 45)
    products = deployed.products()
    assert len(products) == 45
    assert {doc["version"] for doc in products.values()} == {1}
    assert deployed.event_names() == {"ProductCreated": 45, "JobFinished": 1}
    assert deployed.receive() == []


def test_a_worker_that_dies_mid_batch_leaves_its_message_to_be_delivered_again(
    deployed: Deployed,
) -> None:
    started = deployed.start_import(jsonl(*shoes(45)))
    records = deployed.receive()

    # The process dies sending the second batch's transaction: that batch is not written.
    def die_on_the_second_batch() -> None:
        if len(transactions) == 3:  # the start, the first batch, the second batch
            raise Killed()

    transactions = deployed.worker_calls("TransactWriteItems", die_on_the_second_batch)
    with pytest.raises(Killed):
        deployed.deliver(records)
    assert deployed.job(started["id"])["processed"] == 20
    assert deployed.receive() == []  # still in flight

    deployed.visible_again(records)
    redelivered = deployed.receive()
    assert [r["messageId"] for r in redelivered] == [r["messageId"] for r in records]
    assert redelivered[0]["attributes"]["ApproximateReceiveCount"] == "2"
    lambda_jobs.reset()  # a new execution environment
    assert deployed.deliver(redelivered) == {"batchItemFailures": []}

    done = deployed.job(started["id"])
    assert (done["status"], done["processed"], done["created"]) == ("SUCCEEDED", 45, 45)
    assert {doc["version"] for doc in deployed.products().values()} == {1}
    assert deployed.event_names() == {"ProductCreated": 45, "JobFinished": 1}


def test_a_message_delivered_again_for_a_finished_job_does_nothing(deployed: Deployed) -> None:
    started = deployed.start_import(jsonl(*shoes(3)))
    records = deployed.receive()
    assert deployed.deliver(records) == {"batchItemFailures": []}
    done = deployed.job(started["id"])

    writes = deployed.worker_calls("TransactWriteItems")
    assert deployed.deliver(records) == {"batchItemFailures": []}  # SQS delivering it twice
    assert writes == []
    assert deployed.job(started["id"]) == done
    assert deployed.receive() == []  # and no continuation
    assert deployed.event_names() == {"ProductCreated": 3, "JobFinished": 1}


def test_the_loser_of_two_runs_of_one_job_stops_without_writing_a_row(
    deployed: Deployed, caplog: pytest.LogCaptureFixture
) -> None:
    started = deployed.start_import(jsonl(*shoes(45)))
    records = deployed.receive()
    duplicate = [dict(record) for record in records]  # the same message, delivered twice

    # While the first run sends its second batch, the other run (the duplicate) goes through
    # the whole job; the first run's batch then fails on the job's version.
    def other_run_first() -> None:
        if len(transactions) == 3:
            assert deployed.deliver(duplicate) == {"batchItemFailures": []}

    transactions = deployed.worker_calls("TransactWriteItems", other_run_first)
    caplog.clear()
    assert deployed.deliver(records) == {"batchItemFailures": []}  # it lets its message go
    # The duplicate finished the job; the first run found its batch refused, and stopped.
    worker_logs = [r.getMessage() for r in caplog.records if r.name == lambda_jobs.SERVICE]
    assert worker_logs == [
        "job finished",
        "job run by another worker",
    ]

    done = deployed.job(started["id"])
    assert (done["status"], done["processed"], done["created"], done["failed"]) == (
        "SUCCEEDED",
        45,
        45,
        0,
    )
    products = deployed.products()
    assert len(products) == 45
    assert {doc["version"] for doc in products.values()} == {1}
    assert deployed.event_names() == {"ProductCreated": 45, "JobFinished": 1}
    assert deployed.receive() == []


def test_a_message_that_fails_comes_back_soon_and_is_counted(
    deployed: Deployed, capsys: pytest.CaptureFixture[str]
) -> None:
    deployed.sqs.send_message(
        QueueUrl=deployed.queue_url,
        MessageBody="not a job",
        MessageGroupId="stray",
        MessageDeduplicationId="stray",
    )
    records = deployed.receive()
    asked: list[dict[str, Any]] = []
    sqs = lambda_jobs.runtime().worker.queue._client
    sqs.meta.events.register(
        "provide-client-params.sqs.ChangeMessageVisibility",
        lambda params, **kwargs: asked.append(dict(params)),
    )
    capsys.readouterr()
    outcome = deployed.deliver(records)
    assert outcome == {"batchItemFailures": [{"itemIdentifier": records[0]["messageId"]}]}
    assert [(p["ReceiptHandle"], p["VisibilityTimeout"]) for p in asked] == [
        (records[0]["receiptHandle"], lambda_jobs.RETRY_DELAY_SECONDS)
    ]
    # Handled, so no Lambda error: the function's own metric counts it (template.yaml alarms).
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines() if line]
    (blob,) = [line for line in lines if lambda_jobs.FAILED_METRIC in line]
    (directive,) = blob["_aws"]["CloudWatchMetrics"]
    assert directive["Namespace"] == lambda_jobs.METRICS_NAMESPACE
    assert (blob[lambda_jobs.MESSAGES_METRIC], blob[lambda_jobs.FAILED_METRIC]) == ([1.0], [1.0])
    assert blob["service"] == lambda_jobs.SERVICE


# Modules the API's cold path never needs, even with jobs: the worker, and boto3's transfer
# manager (an import's file is uploaded with it, once one arrives).
OFF_THE_API_COLD_PATH = ["catalog.entrypoints.lambda_jobs", "boto3.s3.transfer"]


def test_jobs_leave_the_apis_cold_path_as_it_was(deployed: Deployed) -> None:
    script = f"""
import json, sys
from catalog.entrypoints import lambda_api
from tests.aws.apigw_events import ACME, LambdaContext, http_event
for event in (
    http_event("GET", "/health", claims=None),
    http_event("GET", "{MERCHANT}/jobs/01JD0000000000000000000000", claims=ACME),
):
    print(lambda_api.handler(event, LambdaContext())["statusCode"], file=sys.stderr)
print(json.dumps(sorted(sys.modules)))
"""
    done = subprocess.run(
        [sys.executable, "-c", script],
        env={**os.environ, "POWERTOOLS_LOG_LEVEL": "WARNING"},
        cwd=Path(__file__).parents[2],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert done.stderr.split() == ["200", "404"]  # jobs configured: a 404, not a 501
    loaded = set(json.loads(done.stdout.splitlines()[-1]))
    assert loaded.isdisjoint(OFF_THE_API_COLD_PATH), loaded.intersection(OFF_THE_API_COLD_PATH)


# ---------------------------------------------------------------------- exports and bulk actions


def test_an_export_is_downloaded_from_its_presigned_url_and_imports_back_unchanged(
    deployed: Deployed,
) -> None:
    deployed.start_import(jsonl(*shoes(45)))
    deployed.work_off()

    started = deployed.start("exports", {"format": "jsonl"})
    records = deployed.receive()

    # The worker dies on the commit of the second batch, after writing its lines to S3.
    def die_on_the_second_batch() -> None:
        if len(transactions) == 3:
            raise Killed()

    transactions = deployed.worker_calls("TransactWriteItems", die_on_the_second_batch)
    with pytest.raises(Killed):
        deployed.deliver(records)
    assert deployed.job(started["id"])["download_url"] is None  # not finished
    deployed.visible_again(records)
    lambda_jobs.reset()
    assert deployed.work_off() == 1

    done = deployed.job(started["id"])
    assert (done["status"], done["processed"]) == ("SUCCEEDED", 45)
    response = httpx.get(done["download_url"])
    assert response.status_code == 200
    assert response.headers["content-type"] == NDJSON
    lines = [json.loads(line) for line in response.text.splitlines()]
    assert [line["sku"] for line in lines] == [shoe["sku"] for shoe in shoes(45)]

    # The file imports back as all unchanged.
    again = deployed.start_import(response.text)
    deployed.work_off()
    assert counters(deployed.job(again["id"]))["unchanged"] == 45


def test_a_csv_export_is_served_as_csv(deployed: Deployed) -> None:
    deployed.start_import(jsonl(*shoes(3)))
    deployed.work_off()
    started = deployed.start("exports", {"format": "csv"})
    deployed.work_off()
    done = deployed.job(started["id"])
    response = httpx.get(done["download_url"])
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    rows = response.text.splitlines()
    assert rows[0].startswith("sku,")
    assert [row.split(",")[0] for row in rows[1:]] == ["SH-001", "SH-002", "SH-003"]


def test_a_bulk_actions_outcomes_are_at_its_download_url(deployed: Deployed) -> None:
    deployed.start_import(jsonl(*shoes(3)))
    deployed.work_off()
    ids = sorted(doc["id"] for doc in deployed.products().values())
    started = deployed.start("bulk-actions", {"action": "status", "status": "INACTIVE", "ids": ids})
    deployed.work_off()
    done = deployed.job(started["id"])
    assert (done["status"], done["updated"]) == ("SUCCEEDED", 3)
    outcomes = [json.loads(line) for line in httpx.get(done["download_url"]).text.splitlines()]
    assert [(o["id"], o["outcome"]) for o in outcomes] == [(i, "updated") for i in ids]
    # The parts the file was made of are gone once the job's end was committed.
    listed = deployed.aws.client("s3").list_objects_v2(Bucket=BUCKET, Prefix="jobs/acme/")
    keys = [entry["Key"] for entry in listed["Contents"]]
    assert not [key for key in keys if ".parts/" in key]
