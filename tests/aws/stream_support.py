"""Test-only helpers of the stream and bus tests on moto: what a table's stream holds, and a
bus whose catalog events land on a queue a test can read."""

from __future__ import annotations

import json
from typing import Any


def stream_records(dynamodb: Any, streams: Any, table_name: str) -> list[dict[str, Any]]:
    """Every record of the table's stream, from the start of each shard, as GetRecords
    returns them (moto writes them in commit order)."""
    arn = dynamodb.describe_table(TableName=table_name)["Table"]["LatestStreamArn"]
    shards = streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"]
    records: list[dict[str, Any]] = []
    for shard in shards:
        iterator = streams.get_shard_iterator(
            StreamArn=arn, ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON"
        )["ShardIterator"]
        # An open shard always hands out a next iterator: its first empty answer is its end.
        while iterator:
            response = streams.get_records(ShardIterator=iterator, Limit=1000)
            if not response["Records"]:
                break
            records.extend(response["Records"])
            iterator = response.get("NextShardIterator")
    return records


def bus_to_queue(events: Any, sqs: Any, bus_name: str, queue_name: str) -> str:
    """Create the bus and a queue receiving each of its catalog events; the queue's URL."""
    events.create_event_bus(Name=bus_name)
    queue_url: str = sqs.create_queue(QueueName=queue_name)["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])[
        "Attributes"
    ]["QueueArn"]
    rule = "all-catalog-events"
    events.put_rule(
        Name=rule, EventBusName=bus_name, EventPattern=json.dumps({"source": ["catalog"]})
    )
    events.put_targets(
        Rule=rule, EventBusName=bus_name, Targets=[{"Id": "queue", "Arn": queue_arn}]
    )
    return queue_url
