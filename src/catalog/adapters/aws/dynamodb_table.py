"""Creates the catalog table when it is missing (`catalog aws bootstrap`, emulators, tests).

The shape is the one docs/dynamodb.md describes; production stacks declare the same table in
their infrastructure code, and this function leaves an existing table as it is, only making
sure its TTL is on and adding the indexes a newer version of the catalog reads (gsi3, the
products by type) that it lacks.
"""

from __future__ import annotations

import contextlib
import time
from typing import TYPE_CHECKING

from catalog.adapters.aws.dynamodb_items import INDEXES, TABLE_KEYS, TTL, Index, KeySchema

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_dynamodb.type_defs import (
        AttributeDefinitionTypeDef,
        GlobalSecondaryIndexTypeDef,
        KeySchemaElementTypeDef,
    )

# How long ensure_table waits for an index it added to be ACTIVE (filled from the table's
# items; minutes on a large table): until then no Query may use it.
INDEX_WAIT_SECONDS = 30 * 60
_INDEX_POLL_SECONDS = 1.0


def ensure_table(client: DynamoDBClient, table_name: str) -> list[str]:
    """Create `table_name` (on-demand, stream of new images, TTL on `ttl`, every GSI) unless it
    exists, wait until it is ACTIVE, enable its TTL if it is off, and add each GSI an older
    table lacks, waiting until it is ACTIVE. Returns the names of the indexes it added to an
    existing table. Safe to run concurrently and repeatedly."""
    errors = client.exceptions
    # ResourceInUse: it exists, or another process is creating it right now.
    with contextlib.suppress(errors.ResourceInUseException):
        client.create_table(
            TableName=table_name,
            BillingMode="PAY_PER_REQUEST",
            AttributeDefinitions=_attributes(TABLE_KEYS, *INDEXES),
            KeySchema=_key_schema(TABLE_KEYS),
            GlobalSecondaryIndexes=[_index(index) for index in INDEXES],
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
    return _add_missing_indexes(client, table_name)


def _add_missing_indexes(client: DynamoDBClient, table_name: str) -> list[str]:
    """Add every GSI of INDEXES the table lacks (DynamoDB takes one new index per UpdateTable,
    while no other update of the table runs), waiting until each is ACTIVE."""
    added: list[str] = []
    for index in INDEXES:
        deadline = time.monotonic() + INDEX_WAIT_SECONDS
        while index.name not in _index_statuses(client, table_name):
            try:
                client.update_table(
                    TableName=table_name,
                    AttributeDefinitions=_attributes(index),
                    GlobalSecondaryIndexUpdates=[{"Create": _index(index)}],
                )
            except client.exceptions.ResourceInUseException:
                # Another update of the table is running (another bootstrap adding this
                # very index, most likely): look again once it is done.
                _check_deadline(deadline, f"table {table_name} is still being updated")
                time.sleep(_INDEX_POLL_SECONDS)
            else:
                added.append(index.name)
        while _index_statuses(client, table_name)[index.name] != "ACTIVE":
            _check_deadline(deadline, f"index {index.name} of table {table_name} is not ACTIVE")
            time.sleep(_INDEX_POLL_SECONDS)
    return added


def _check_deadline(deadline: float, what: str) -> None:
    if time.monotonic() > deadline:
        raise TimeoutError(f"{what} after {INDEX_WAIT_SECONDS} s")


def _index_statuses(client: DynamoDBClient, table_name: str) -> dict[str, str]:
    table = client.describe_table(TableName=table_name)["Table"]
    return {
        index["IndexName"]: index.get("IndexStatus", "ACTIVE")
        for index in table.get("GlobalSecondaryIndexes", [])
    }


def _attributes(*schemas: KeySchema) -> list[AttributeDefinitionTypeDef]:
    return [
        {"AttributeName": name, "AttributeType": "S"}
        for keys in schemas
        for name in (keys.hash_key, keys.range_key)
    ]


def _index(index: Index) -> GlobalSecondaryIndexTypeDef:
    return {
        "IndexName": index.name,
        "KeySchema": _key_schema(index),
        # ALL: a listing page is one Query, no second read of the documents.
        "Projection": {"ProjectionType": "ALL"},
    }


def _key_schema(keys: KeySchema) -> list[KeySchemaElementTypeDef]:
    return [
        {"AttributeName": keys.hash_key, "KeyType": "HASH"},
        {"AttributeName": keys.range_key, "KeyType": "RANGE"},
    ]
