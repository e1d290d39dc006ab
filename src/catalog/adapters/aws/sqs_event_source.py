"""What Lambda's SQS event source mapping does for the jobs worker, for a worker on this
machine (`catalog aws jobs`, `make run-aws`): receive a message, hand it to the function as
an SQS event of one record (the template's batch size) with a context that runs out as the
function's timeout would, and delete it unless the function reported it failed.

A failed message stays on the queue: the function has already brought it back sooner
(lambda_jobs.RETRY_DELAY_SECONDS), and after the queue's maxReceiveCount it goes to the
dead-letter queue, as on AWS.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from msgspec import Struct, field

if TYPE_CHECKING:
    from mypy_boto3_sqs import SQSClient

Function = Callable[[dict[str, Any], Any], dict[str, Any]]

# The template's JobsFunction timeout.
FUNCTION_TIMEOUT_SECONDS = 900


class InvocationContext(Struct):
    """The part of Lambda's context the worker reads."""

    timeout_seconds: float = FUNCTION_TIMEOUT_SECONDS
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    started: float = field(default_factory=time.monotonic)

    def get_remaining_time_in_millis(self) -> int:
        left = self.timeout_seconds - (time.monotonic() - self.started)
        return max(0, int(left * 1000))


class SqsEventSource:
    def __init__(
        self,
        client: SQSClient,
        queue_url: str,
        function: Function,
        *,
        wait_seconds: int = 1,
    ) -> None:
        self._client = client
        self._url = queue_url
        self._function = function
        self._wait = wait_seconds
        self._arn: str | None = None

    def poll(self) -> int:
        """One receive (a long poll of `wait_seconds`) and, for a message, one invocation;
        how many messages it handed over (0 or 1)."""
        records = self.receive()
        if records:
            self.deliver(records)
        return len(records)

    def receive(self) -> list[dict[str, Any]]:
        """The next message, as the records of the SQS event the mapping would send."""
        received = self._client.receive_message(
            QueueUrl=self._url,
            MaxNumberOfMessages=1,
            WaitTimeSeconds=self._wait,
            MessageSystemAttributeNames=["All"],
        ).get("Messages", [])
        return [self._record(message) for message in received]

    def deliver(self, records: list[dict[str, Any]], context: Any = None) -> dict[str, Any]:
        """The records to the function; those it did not report failed are deleted. Its
        answer is returned."""
        event = {"Records": records}
        outcome = self._function(event, context or InvocationContext())
        failed = {failure["itemIdentifier"] for failure in outcome.get("batchItemFailures", [])}
        for record in records:
            if record["messageId"] not in failed:
                self._client.delete_message(
                    QueueUrl=self._url, ReceiptHandle=record["receiptHandle"]
                )
        return outcome

    def _record(self, message: Any) -> dict[str, Any]:
        return {
            "messageId": message["MessageId"],
            "receiptHandle": message["ReceiptHandle"],
            "body": message["Body"],
            "attributes": message.get("Attributes", {}),
            "messageAttributes": {},
            "md5OfBody": message["MD5OfBody"],
            "eventSource": "aws:sqs",
            "eventSourceARN": self._queue_arn(),
        }

    def _queue_arn(self) -> str:
        if self._arn is None:
            found = self._client.get_queue_attributes(
                QueueUrl=self._url, AttributeNames=["QueueArn"]
            )
            self._arn = found["Attributes"]["QueueArn"]
        return self._arn
