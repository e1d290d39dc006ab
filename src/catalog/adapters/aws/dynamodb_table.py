"""Creates the catalog table when it is missing (`catalog aws bootstrap`, emulators, tests).

The shape is the one docs/dynamodb.md describes; production stacks declare the same table in
their infrastructure code, and this function leaves an existing table as it is, only making
sure its TTL is on.
"""

from __future__ import annotations

import contextlib
from typing import TYPE_CHECKING

from catalog.adapters.aws.dynamodb_items import INDEXES, TABLE_KEYS, TTL, KeySchema

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_dynamodb.type_defs import KeySchemaElementTypeDef


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
                for keys in (TABLE_KEYS, *INDEXES)
                for name in (keys.hash_key, keys.range_key)
            ],
            KeySchema=_key_schema(TABLE_KEYS),
            GlobalSecondaryIndexes=[
                {
                    "IndexName": index.name,
                    "KeySchema": _key_schema(index),
                    # ALL: a listing page is one Query, no second read of the documents.
                    "Projection": {"ProjectionType": "ALL"},
                }
                for index in INDEXES
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


def _key_schema(keys: KeySchema) -> list[KeySchemaElementTypeDef]:
    return [
        {"AttributeName": keys.hash_key, "KeyType": "HASH"},
        {"AttributeName": keys.range_key, "KeyType": "RANGE"},
    ]
