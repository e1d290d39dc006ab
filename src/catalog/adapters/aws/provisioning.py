"""Creates the AWS resources the catalog needs when they are missing (`catalog aws bootstrap`).

For emulators (moto, LocalStack) and a first deployment by hand; infrastructure as code owns
them in production. Every step is idempotent: it looks first and creates only what is absent,
leaving existing resources as they are.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError
from msgspec import Struct

from catalog.adapters.aws.dynamodb_table import ensure_table
from catalog.service.uploads import STAGING_PREFIX

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_events import EventBridgeClient
    from mypy_boto3_s3 import S3Client
    from mypy_boto3_s3.type_defs import LifecycleRuleTypeDef
    from mypy_boto3_sqs import SQSClient
    from mypy_boto3_sqs.literals import QueueAttributeNameType

# Browsers upload large images straight to the bucket with a presigned POST (the upload
# ticket route), so the bucket must answer their CORS preflight.
CORS_METHODS = ["POST", "PUT", "GET", "HEAD"]
# Direct uploads wait under uploads/ for their confirmation (service/uploads.py); whatever is
# still there a day later (a ticket lasts 15 minutes) was abandoned, or is the mark of a used
# ticket that can no longer be used anyway. The same rule as template.yaml's.
ABANDONED_UPLOADS_RULE: LifecycleRuleTypeDef = {
    "ID": "abandoned-uploads",
    "Status": "Enabled",
    "Filter": {"Prefix": f"{STAGING_PREFIX}/"},
    "Expiration": {"Days": 1},
    "NoncurrentVersionExpiration": {"NoncurrentDays": 1},
    "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 1},
}


class Provisioned(Struct, frozen=True):
    kind: str  # "table", "bucket", "event bus" or "jobs queue"
    name: str
    created: bool
    # What an existing resource was given that it lacked (the table: indexes).
    added: tuple[str, ...] = ()

    def __str__(self) -> str:
        found = f"{self.kind} {self.name}: {'created' if self.created else 'already there'}"
        return found + "".join(f", {what} added" for what in self.added)


def ensure_catalog_table(client: DynamoDBClient, table_name: str) -> Provisioned:
    """The catalog's table, with its stream, TTL and indexes (dynamodb_table.ensure_table):
    an existing table gets the indexes it lacks."""
    try:
        client.describe_table(TableName=table_name)
        existed = True
    except ClientError as error:
        if _code(error) != "ResourceNotFoundException":
            raise
        existed = False
    # Also on an existing table: it turns TTL on when it is off and adds missing indexes.
    added = ensure_table(client, table_name)
    return Provisioned(
        "table", table_name, created=not existed, added=tuple(f"index {name}" for name in added)
    )


def ensure_bucket(
    client: S3Client, bucket: str, region: str | None, cors_origins: Sequence[str] = ("*",)
) -> Provisioned:
    """A private bucket that accepts browser uploads from `cors_origins` and expires the
    direct uploads never confirmed. An existing bucket is left as it is."""
    try:
        client.head_bucket(Bucket=bucket)
    except ClientError as error:
        if _code(error) not in ("404", "NoSuchBucket", "NotFound"):
            raise
    else:
        return Provisioned("bucket", bucket, created=False)
    create: dict[str, Any] = {"Bucket": bucket}
    if region and region != "us-east-1":
        # us-east-1 is the one region that refuses an explicit location constraint.
        create["CreateBucketConfiguration"] = {"LocationConstraint": region}
    try:
        client.create_bucket(**create)
    except ClientError as error:
        if _code(error) != "BucketAlreadyOwnedByYou":
            raise
        return Provisioned("bucket", bucket, created=False)
    client.put_public_access_block(
        Bucket=bucket,
        PublicAccessBlockConfiguration={
            "BlockPublicAcls": True,
            "IgnorePublicAcls": True,
            "BlockPublicPolicy": True,
            "RestrictPublicBuckets": True,
        },
    )
    client.put_bucket_cors(
        Bucket=bucket,
        CORSConfiguration={
            "CORSRules": [
                {
                    "AllowedOrigins": list(cors_origins),
                    "AllowedMethods": CORS_METHODS,
                    "AllowedHeaders": ["*"],
                    "ExposeHeaders": ["ETag"],
                    "MaxAgeSeconds": 3600,
                }
            ]
        },
    )
    client.put_bucket_lifecycle_configuration(
        Bucket=bucket, LifecycleConfiguration={"Rules": [ABANDONED_UPLOADS_RULE]}
    )
    return Provisioned("bucket", bucket, created=True)


def ensure_event_bus(client: EventBridgeClient, name: str) -> Provisioned:
    """The custom bus the relay publishes every domain event to."""
    try:
        client.describe_event_bus(Name=name)
    except ClientError as error:
        if _code(error) != "ResourceNotFoundException":
            raise
    else:
        return Provisioned("event bus", name, created=False)
    try:
        client.create_event_bus(Name=name)
    except ClientError as error:
        # Someone else created it between the two calls: it is there, which is the goal.
        if _code(error) != "ResourceAlreadyExistsException":
            raise
        return Provisioned("event bus", name, created=False)
    return Provisioned("event bus", name, created=True)


# As template.yaml's JobsQueue and JobsDeadLetterQueue (see the reasons there).
JOBS_QUEUE_ATTRIBUTES: dict[QueueAttributeNameType, str] = {
    "FifoQueue": "true",
    "ContentBasedDeduplication": "false",
    "VisibilityTimeout": "5400",
    "MessageRetentionPeriod": "1209600",
}
JOBS_MAX_RECEIVES = 5


def ensure_jobs_queue(client: SQSClient, queue_url: str) -> Provisioned:
    """The jobs queue that CATALOG_JOBS_QUEUE_URL names (the name is the URL's last part, a
    FIFO queue's ending in .fifo), with its dead-letter queue `<name>-dead-letters.fifo`."""
    name = queue_url.rstrip("/").rsplit("/", 1)[-1]
    if not name.endswith(".fifo"):
        raise ValueError(f"{queue_url}: the jobs queue is FIFO, its name ends in .fifo")
    try:
        client.get_queue_url(QueueName=name)
    except ClientError as error:
        if _code(error) not in ("AWS.SimpleQueueService.NonExistentQueue", "QueueDoesNotExist"):
            raise
    else:
        return Provisioned("jobs queue", name, created=False)
    kept = ("FifoQueue", "MessageRetentionPeriod")  # the template's dead-letter queue's
    dead_letters = {key: value for key, value in JOBS_QUEUE_ATTRIBUTES.items() if key in kept}
    dead_name = name.removesuffix(".fifo") + "-dead-letters.fifo"
    dead_url = client.create_queue(QueueName=dead_name, Attributes=dead_letters)["QueueUrl"]
    dead_arn = client.get_queue_attributes(QueueUrl=dead_url, AttributeNames=["QueueArn"])
    redrive = {
        "deadLetterTargetArn": dead_arn["Attributes"]["QueueArn"],
        "maxReceiveCount": str(JOBS_MAX_RECEIVES),
    }
    # Creating a queue that exists with the same attributes answers its URL: a race is fine.
    client.create_queue(
        QueueName=name, Attributes={**JOBS_QUEUE_ATTRIBUTES, "RedrivePolicy": json.dumps(redrive)}
    )
    return Provisioned("jobs queue", name, created=True)


def _code(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Code", ""))
