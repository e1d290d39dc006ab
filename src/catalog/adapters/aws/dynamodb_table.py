"""Creates the catalog table when it is missing (`catalog aws bootstrap`, emulators, tests).

The shape is the one docs/dynamodb.md describes; production stacks declare the same table in
their infrastructure code, and this function leaves an existing table as it is, only making
sure its TTL is on.
"""

from __future__ import annotations

import contextlib
from typing import TYPE_CHECKING

from catalog.adapters.aws.dynamodb_items import (
    GSI1,
    GSI1_PK,
    GSI1_SK,
    GSI2,
    GSI2_PK,
    GSI2_SK,
    PK,
    SK,
    TTL,
)

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient


def ensure_table(client: DynamoDBClient, table_name: str) -> None:
    """Create `table_name` (on-demand, stream of new images, TTL on `ttl`, both GSIs) unless it
    exists, wait until it is ACTIVE, and enable its TTL if it is off. Safe to run concurrently
    and repeatedly."""
    errors = client.exceptions
    # ResourceInUse: it exists, or another process is creating it right now.
    with contextlib.suppress(errors.ResourceInUseException):
        client.create_table(
            TableName=table_name,
            BillingMode="PAY_PER_REQUEST",
            AttributeDefinitions=[
                {"AttributeName": name, "AttributeType": "S"}
                for name in (PK, SK, GSI1_PK, GSI1_SK, GSI2_PK, GSI2_SK)
            ],
            KeySchema=[
                {"AttributeName": PK, "KeyType": "HASH"},
                {"AttributeName": SK, "KeyType": "RANGE"},
            ],
            GlobalSecondaryIndexes=[
                {
                    "IndexName": index,
                    "KeySchema": [
                        {"AttributeName": hash_key, "KeyType": "HASH"},
                        {"AttributeName": range_key, "KeyType": "RANGE"},
                    ],
                    # ALL: a listing page is one Query, no second read of the documents.
                    "Projection": {"ProjectionType": "ALL"},
                }
                for index, hash_key, range_key in (
                    (GSI1, GSI1_PK, GSI1_SK),
                    (GSI2, GSI2_PK, GSI2_SK),
                )
            ],
            StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_IMAGE"},
        )
    client.get_waiter("table_exists").wait(
        TableName=table_name, WaiterConfig={"Delay": 1, "MaxAttempts": 120}
    )
    ttl = client.describe_time_to_live(TableName=table_name)["TimeToLiveDescription"]
    if ttl.get("TimeToLiveStatus") not in ("ENABLED", "ENABLING"):
        try:
            client.update_time_to_live(
                TableName=table_name,
                TimeToLiveSpecification={"Enabled": True, "AttributeName": TTL},
            )
        except errors.ClientError as error:
            # Two bootstraps racing: the other one enabled it in between.
            if "already enabled" not in str(error).lower():
                raise
