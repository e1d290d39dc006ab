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
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from mypy_boto3_sqs import SQSClient


class SqsJobQueue:
    def __init__(self, client: SQSClient, queue_url: str) -> None:
        self._client = client
        self._url = queue_url
        self._fifo = queue_url.endswith(".fifo")

    def enqueue(self, merchant_id: str, job_id: str) -> None:
        """A new job (the API)."""
        self._send(merchant_id, job_id, job_id)

    def requeue(self, merchant_id: str, job_id: str, version: int) -> None:
        """A job whose run stopped at `version`, to be run on from there (the worker)."""
        self._send(merchant_id, job_id, f"{job_id}-v{version}")

    def retry_in(self, receipt_handle: str, seconds: int) -> None:
        """The received message back on the queue in `seconds` rather than at the end of its
        visibility timeout."""
        self._client.change_message_visibility(
            QueueUrl=self._url, ReceiptHandle=receipt_handle, VisibilityTimeout=seconds
        )

    def _send(self, merchant_id: str, job_id: str, deduplication_id: str) -> None:
        message: dict[str, Any] = {
            "QueueUrl": self._url,
            "MessageBody": json.dumps({"merchant_id": merchant_id, "job_id": job_id}),
        }
        if self._fifo:
            message["MessageGroupId"] = job_id
            message["MessageDeduplicationId"] = deduplication_id
        self._client.send_message(**message)


def job_of_message(body: str) -> tuple[str, str]:
    """(merchant id, job id) of a message's body; ValueError for anything else."""
    message = json.loads(body)
    if not isinstance(message, dict):
        raise ValueError("a job message is a JSON object")
    merchant_id, job_id = message.get("merchant_id"), message.get("job_id")
    if not isinstance(merchant_id, str) or not isinstance(job_id, str):
        raise ValueError('a job message names its "merchant_id" and "job_id"')
    return merchant_id, job_id
