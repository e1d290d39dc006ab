"""What the jobs worker spends a row on AWS (docs/jobs-aws.md, "Cost and time"), counted on moto.

    PYTHONPATH=src:. .venv/bin/python bench/jobs_on_moto.py [--rows 400]

Runs the API Lambda handler and the jobs worker Lambda handler (entrypoints/lambda_jobs.py)
against moto's server in this process: an import of `--rows` new products (the cost model's
typical product, deploy/item_sizes.TYPICAL_PRODUCT, with its own SKU each), the same file
again (every row unchanged), the file with another price (every row changed), a JSONL
export of them, then an import of as many other new products cut into 8 chunks (the job's
first message and a message per chunk, run one after another: what the chunks add to a row).
For each job it prints the worker's DynamoDB calls per row, the bytes of the
items its transactions write per row (by item type) and their table WRU (2 per started KB),
and the worker thread's own CPU per row (time.thread_time(): moto answers on other threads).
moto's wall time means nothing about AWS and is left out.
"""

from __future__ import annotations

import argparse
import base64
import json
import logging
import math
import os
import time
from collections import Counter
from typing import Any

from moto.server import ThreadedMotoServer


class _Context:
    aws_request_id = "bench"

    def get_remaining_time_in_millis(self) -> int:
        return 800_000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=400)
    rows = parser.parse_args().rows

    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # a line per request otherwise
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    os.environ.update(
        {
            "AWS_ENDPOINT_URL": f"http://{host}:{port}",
            "AWS_REGION": "us-east-1",
            "AWS_DEFAULT_REGION": "us-east-1",
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "CATALOG_BACKEND": "aws",
            "CATALOG_AUTH": "apigw",
            "CATALOG_CURSOR_SECRET": "bench-" * 8,
            "CATALOG_TABLE_NAME": "bench-jobs",
            "CATALOG_BUCKET_NAME": "bench-jobs-files",
            "CATALOG_RATE_LIMIT": "off",
            "POWERTOOLS_METRICS_DISABLED": "true",
            "POWERTOOLS_LOG_LEVEL": "WARNING",
        }
    )
    try:
        run(rows)
    finally:
        server.stop()


def run(rows: int) -> None:
    import boto3
    from deploy.item_sizes import TYPICAL_PRODUCT
    from tests.aws.apigw_events import ACME, LambdaContext, http_event
    from tests.aws.moto_serial import serialize_dynamodb_requests
    from typer.testing import CliRunner

    import catalog.bootstrap as bootstrap
    from catalog.adapters.aws import dynamodb_items as items
    from catalog.entrypoints import lambda_api, lambda_jobs
    from catalog.entrypoints.cli import app as cli

    serialize_dynamodb_requests()  # moto's server interleaves transactions; DynamoDB does not
    # moto answers a transaction of 80 items in seconds on a busy machine; AWS does not.
    client_of = vars(bootstrap)["aws_client"]
    vars(bootstrap)["aws_client"] = lambda service, **options: client_of(
        service, **{**options, "read_timeout": 120.0}
    )
    sqs = boto3.client("sqs")
    queue = sqs.create_queue(
        QueueName="bench-jobs.fifo", Attributes={"FifoQueue": "true", "VisibilityTimeout": "5400"}
    )["QueueUrl"]
    os.environ["CATALOG_JOBS_QUEUE_URL"] = queue
    assert CliRunner().invoke(cli, ["aws", "bootstrap"]).exit_code == 0

    def api(method: str, path: str, body: str, media: str) -> dict[str, Any]:
        event = http_event(method, path, claims=ACME, headers={"content-type": media}, body=body)
        response = lambda_api.handler(event, LambdaContext())
        raw = response.get("body", "")
        view: dict[str, Any] = json.loads(
            base64.b64decode(raw) if response.get("isBase64Encoded") else raw
        )
        return view

    calls: Counter[str] = Counter()
    written: list[dict[str, Any]] = []

    def count(model: Any, params: dict[str, Any], **kwargs: Any) -> None:
        calls[model.name] += 1
        if model.name == "TransactWriteItems":
            written.extend(params["TransactItems"])

    def work(label: str, job: dict[str, Any]) -> None:
        events = lambda_jobs.runtime().worker.ctx.store.client.meta.events  # type: ignore[attr-defined]
        calls.clear()
        written.clear()
        events.register("provide-client-params.dynamodb.*", count)
        cpu = 0.0
        # The job's message, then its chunks' if it was cut into chunks.
        while messages := sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10).get(
            "Messages", []
        ):
            for message in messages:
                record = {
                    "messageId": message["MessageId"],
                    "receiptHandle": message["ReceiptHandle"],
                    "body": message["Body"],
                }
                started = time.thread_time()
                outcome = lambda_jobs.handler({"Records": [record]}, _Context())
                cpu += time.thread_time() - started
                assert outcome == {"batchItemFailures": []}, outcome
                sqs.delete_message(QueueUrl=queue, ReceiptHandle=message["ReceiptHandle"])
        events.unregister("provide-client-params.dynamodb.*", count)
        done = api("GET", f"/v1/merchants/acme/jobs/{job['id']}", "", "application/json")
        assert (done["status"], done["processed"]) == ("SUCCEEDED", rows), done
        sizes: Counter[str] = Counter()
        units = 0
        for action in written:
            ((operation, body),) = action.items()
            if operation == "Put":
                item = body["Item"]
            elif operation == "Update":  # the job item: its key and what the update sets
                values = body["ExpressionAttributeValues"]
                item = {**body["Key"], **{name.lstrip(":"): v for name, v in values.items()}}
            else:
                item = body["Key"]
            size = items.item_size(item)
            sizes[item.get("item_type", {}).get("S", "JOB")] += size
            units += 2 * math.ceil(size / 1024)
        print(f"{label}: {rows} rows")
        print("  calls per row:", {name: round(n / rows, 3) for name, n in sorted(calls.items())})
        print("  bytes written per row:", {name: round(n / rows) for name, n in sizes.items()})
        print(f"  table WRU per row (transactional): {units / rows:.2f}")
        print(f"  worker CPU per row: {cpu / rows * 1000:.2f} ms")

    def import_file(prefix: str = "SH", **fields: Any) -> str:
        lines = (
            json.dumps({"sku": f"{prefix}-{n:07d}", **TYPICAL_PRODUCT, **fields})
            for n in range(rows)
        )
        return "".join(line + "\n" for line in lines)

    imports, ndjson = "/v1/merchants/acme/imports", "application/x-ndjson"
    work("import, new products", api("POST", imports, import_file(), ndjson))
    work("import again, unchanged", api("POST", imports, import_file(), ndjson))
    cheaper = {"price": {"amount": 9999, "currency": "USD"}}
    work("import, price changed", api("POST", imports, import_file(**cheaper), ndjson))
    exported = api("POST", "/v1/merchants/acme/exports", '{"format": "jsonl"}', "application/json")
    work("export, jsonl", exported)
    chunked = import_file("CH")
    os.environ["CATALOG_JOBS_CHUNK_BYTES"] = str(len(chunked) // 8 + 1)
    lambda_jobs.reset()  # settings read again
    work("import, new products, 8 chunks", api("POST", imports, chunked, ndjson))


if __name__ == "__main__":
    main()
