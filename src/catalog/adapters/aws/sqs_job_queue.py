"""JobQueue on SQS (the AWS deployment; docs/jobs-aws.md): a message `{"merchant_id",
"job_id"}` hands a job to the worker Lambda (entrypoints/lambda_jobs.py).

On a FIFO queue (its URL ends in `.fifo`, as the template's does) every job is a message group
of its own: SQS hands out a group's next message only once the one before it is deleted, so
the messages of one job (the first, and each continuation of a run that stopped near its
timeout) are run one at a time, while the jobs of a queue run side by side. The deduplication
id names the job and, for a continuation, the job's version: SQS drops a second send of the
same message within 5 minutes (a retried send), never the next continuation. On a standard
queue the messages carry neither and two runs of one job may meet; the job's version-checked
commits keep that safe for its rows (lambda_jobs.py).

The chunks of a split import (`enqueue_chunks`, docs/jobs-aws.md "One job in parallel") are
messages `{"merchant_id", "job_id", "chunk"}`, each chunk a message group of its own (so they
run side by side, and each chunk's messages one at a time), sent ten to a request.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from botocore.exceptions import BotoCoreError, ClientError
from msgspec import Struct

from catalog.adapters.aws.exceptions import JobNotQueued
from catalog.domain.jobs import chunk_id

if TYPE_CHECKING:
    from mypy_boto3_sqs import SQSClient

#: SendMessageBatch's most messages a request.
SEND_BATCH = 10


class ChunksNotSent(RuntimeError):
    """SQS refused some messages of a batch: the job's message, delivered again, sends every
    chunk's again (a chunk already done does nothing)."""


class JobMessage(Struct, frozen=True):
    merchant_id: str
    job_id: str
    chunk: int | None = None  # one chunk of a split import


class SqsJobQueue:
    def __init__(self, client: SQSClient, queue_url: str) -> None:
        self._client = client
        self._url = queue_url
        self._fifo = queue_url.endswith(".fifo")

    def enqueue(self, merchant_id: str, job_id: str) -> None:
        """A new job (the API). A refusal is the API's 503: its client retries."""
        try:
            self._send(merchant_id, job_id, job_id)
        except (BotoCoreError, ClientError) as error:
            raise JobNotQueued(job_id, str(error)) from error

    def requeue(
        self, merchant_id: str, job_id: str, version: int, chunk: int | None = None
    ) -> None:
        """A job (or one of its chunks) whose run stopped at `version`, to be run on from
        there (the worker)."""
        group = job_id if chunk is None else chunk_id(job_id, chunk)
        self._send(merchant_id, job_id, f"{group}-v{version}", chunk)

    def enqueue_chunks(self, merchant_id: str, job_id: str, numbers: Sequence[int]) -> None:
        """The chunks of a split import, a message each, in batches of SEND_BATCH."""
        numbers = list(numbers)
        for start in range(0, len(numbers), SEND_BATCH):
            entries: list[Any] = []
            for number in numbers[start : start + SEND_BATCH]:
                entry: dict[str, Any] = {
                    "Id": str(number),
                    "MessageBody": _body(merchant_id, job_id, number),
                }
                if self._fifo:
                    entry["MessageGroupId"] = entry["MessageDeduplicationId"] = chunk_id(
                        job_id, number
                    )
                entries.append(entry)
            sent = self._client.send_message_batch(QueueUrl=self._url, Entries=entries)
            if sent.get("Failed"):
                raise ChunksNotSent(f"job {job_id}: {sent['Failed']}")

    def retry_in(self, receipt_handle: str, seconds: int) -> None:
        """The received message back on the queue in `seconds` rather than at the end of its
        visibility timeout."""
        self._client.change_message_visibility(
            QueueUrl=self._url, ReceiptHandle=receipt_handle, VisibilityTimeout=seconds
        )

    def _send(
        self, merchant_id: str, job_id: str, deduplication_id: str, chunk: int | None = None
    ) -> None:
        message: dict[str, Any] = {
            "QueueUrl": self._url,
            "MessageBody": _body(merchant_id, job_id, chunk),
        }
        if self._fifo:
            message["MessageGroupId"] = job_id if chunk is None else chunk_id(job_id, chunk)
            message["MessageDeduplicationId"] = deduplication_id
        self._client.send_message(**message)


def _body(merchant_id: str, job_id: str, chunk: int | None) -> str:
    body: dict[str, Any] = {"merchant_id": merchant_id, "job_id": job_id}
    if chunk is not None:
        body["chunk"] = chunk
    return json.dumps(body)


def job_of_message(body: str) -> JobMessage:
    """The job (and chunk) a message's body names; ValueError for anything else."""
    message = json.loads(body)
    if not isinstance(message, dict):
        raise ValueError("a job message is a JSON object")
    merchant_id, job_id = message.get("merchant_id"), message.get("job_id")
    if not isinstance(merchant_id, str) or not isinstance(job_id, str):
        raise ValueError('a job message names its "merchant_id" and "job_id"')
    chunk = message.get("chunk")
    if chunk is not None and (not isinstance(chunk, int) or isinstance(chunk, bool) or chunk < 1):
        raise ValueError('a job message\'s "chunk" is a number from 1')
    return JobMessage(merchant_id, job_id, chunk)
