"""The jobs worker on AWS Lambda: SQS -> run_job (DESIGN.md section 11, docs/jobs-aws.md).

The API stores a job QUEUED and sends `{"merchant_id", "job_id"}` to the jobs queue
(adapters/aws/sqs_job_queue.py). The function's event source mapping hands the messages here
one at a time (batch size 1), with `ReportBatchItemFailures`. For each one:

- the job runs from where it stands (service/jobs.run_job): each batch of rows is committed
  with the job's progress in one transaction, so a run resumes after the last committed batch;
- once the invocation is within STOP_MARGIN_MS of its timeout, the run stops between two
  batches (the job stays RUNNING) and the job is sent to the queue again, a new message whose
  deduplication id carries the job's version. The message handled is done: the job goes on in
  the next invocation at once, and a stop counts towards no dead-letter queue;
- a finished or unknown job is left alone: a message delivered again, a job cancelled while
  it was queued;
- a VersionConflict on the job's own record means another run of the same job committed
  first (SQS delivered the message twice, or a continuation met a redelivered message). Every
  write of this run was conditioned on the job's version it had read, so it wrote no row, and
  it lets its message go: the run that won goes on with the job under its own message, still
  in flight. The FIFO queue makes this rare: SQS hands out a job's next message only once the
  one before it is deleted;
- an import the run cut into chunks ends its message once their messages are sent: each
  chunk is a message of its own (`"chunk"`), run as above, the job's end coming with the end
  of its last chunk (docs/jobs-aws.md "One job in parallel");
- any other error: the message is put back on the queue RETRY_DELAY_SECONDS later (its
  visibility is changed, then it is reported in `batchItemFailures`); after the queue's
  maxReceiveCount receives it goes to the dead-letter queue, and the job stays RUNNING, to be
  resumed by a redrive of the message once the cause is fixed.

A worker that is killed (its timeout, out of memory) leaves its message invisible until the
queue's visibility timeout ends; SQS then delivers it again and the run resumes after the
last committed batch.

The runtime (settings, clients) is built on the first invocation and kept for the container's
life; importing this module builds nothing.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.logging.utils import copy_config_to_registered_loggers
from aws_lambda_powertools.metrics import MetricUnit
from msgspec import Struct

from catalog.adapters.aws.sqs_job_queue import job_of_message
from catalog.bootstrap import AwsJobsWorker, aws_jobs_worker
from catalog.domain.errors import VersionConflict
from catalog.domain.jobs import chunk_id
from catalog.entrypoints.lambda_runtime import PerEnvironment
from catalog.service.jobs import run_job
from catalog.settings import Settings

SERVICE = "catalog-jobs"
METRICS_NAMESPACE = "Catalog"
# Messages handled, and those that failed (reported for another delivery): a failure is
# handled, so Lambda's Errors metric does not count it (template.yaml alarms on this one).
MESSAGES_METRIC = "JobMessages"
FAILED_METRIC = "JobMessagesFailed"
# Stop taking batches this long before the timeout. A batch of rows is a few seconds at worst
# (20 rows, each alone on a conflict, with DynamoDB's retries); the end of a job makes its
# output whole (a few seconds for a file of gigabytes); sending the continuation is one call.
STOP_MARGIN_MS = 60_000
# A failed message is run again this much later rather than at the end of the visibility
# timeout (90 minutes for the template's 15-minute function).
RETRY_DELAY_SECONDS = 60


class _Runtime(Struct, frozen=True):
    """What one Lambda container builds once and reuses for every invocation."""

    worker: AwsJobsWorker
    logger: Logger
    metrics: Metrics


def _start(settings: Settings) -> _Runtime:
    logger = Logger(service=SERVICE)
    # The job adapters log through the standard `catalog.*` loggers: same JSON lines.
    copy_config_to_registered_loggers(source_logger=logger, include={"catalog"})
    metrics = Metrics(namespace=METRICS_NAMESPACE, service=SERVICE)
    return _Runtime(aws_jobs_worker(settings), logger, metrics)


_environment = PerEnvironment(_start)
runtime = _environment.runtime
reset = _environment.reset


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    current, _ = _environment.invocation(context)
    return run(current, event, context)


def run(current: _Runtime, event: dict[str, Any], context: Any) -> dict[str, Any]:
    """The messages of one SQS event; the ones to deliver again as `batchItemFailures`."""
    failed: list[str] = []
    records = event.get("Records") or []
    for record in records:
        if failed:
            # A FIFO queue's messages go back in order: none after one that failed is done.
            failed.append(record["messageId"])
            continue
        try:
            _run_message(current, record, context)
        except Exception:
            current.logger.exception(
                "job message failed", extra={"message_id": record.get("messageId")}
            )
            _retry_soon(current, record)
            failed.append(record["messageId"])
    metrics = current.metrics
    metrics.add_metric(name=MESSAGES_METRIC, unit=MetricUnit.Count, value=len(records))
    metrics.add_metric(name=FAILED_METRIC, unit=MetricUnit.Count, value=len(failed))
    metrics.flush_metrics()
    return {"batchItemFailures": [{"itemIdentifier": message} for message in failed]}


def _run_message(current: _Runtime, record: dict[str, Any], context: Any) -> None:
    message = job_of_message(record["body"])
    merchant_id, job_id, chunk = message.merchant_id, message.job_id, message.chunk
    worker, logger = current.worker, current.logger

    def stopping() -> bool:
        return bool(context.get_remaining_time_in_millis() < STOP_MARGIN_MS)

    facts: dict[str, Any] = {"merchant_id": merchant_id, "job_id": job_id}
    if chunk is not None:
        facts["chunk"] = chunk
    own_id = job_id if chunk is None else chunk_id(job_id, chunk)
    try:
        job = run_job(
            worker.ctx, worker.for_run(), merchant_id, job_id, stopping=stopping, chunk=chunk
        )
    except VersionConflict as conflict:
        if conflict.product_id != own_id:
            raise
        logger.info("job run by another worker", extra=facts)
        return
    if job is None:
        logger.warning("no such job", extra=facts)
        return
    facts.update(status=job.status.value, processed=job.processed, total=job.total)
    if chunk is None and job.chunks and not job.status.finished:
        logger.info("job runs as chunks", extra={**facts, "chunks": job.chunks})
        return
    if not job.status.finished:
        worker.queue.requeue(merchant_id, job_id, job.version, chunk)
        logger.info("job continues in a new invocation", extra=facts)
        return
    logger.info("chunk finished" if chunk is not None else "job finished", extra=facts)


def _retry_soon(current: _Runtime, record: dict[str, Any]) -> None:
    try:
        current.worker.queue.retry_in(record["receiptHandle"], RETRY_DELAY_SECONDS)
    except Exception:
        # The message still comes back, at the end of its visibility timeout.
        current.logger.warning("could not bring the message back sooner", exc_info=True)
