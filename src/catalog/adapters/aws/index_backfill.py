"""Backfill of a table written before gsi3 and the merchant registry (`catalog aws backfill`).

An earlier release wrote typed products without the sparse by-type index keys (`gsi3pk`,
`gsi3sk`) and put no registry entry (`MERCHANTS` / merchant) for new products' merchants, so
those products are missing from `?product_type=` pages and from the re-evaluation of their
type, and those merchants from `merchants()` (the walk a requirements change runs). This pass
gives them what a current write gives them:

- it reads the registry once (a Query of `MERCHANTS`), to know which merchants it already has;
- it reads every product item once (a paginated Scan, `item_type = PRODUCT`, only the
  attributes it needs); for a typed one without `gsi3pk` it sets the keys `product_item`
  would write (one UpdateItem, conditioned on the version it read: a product rewritten since
  already has them, from the write itself, and is skipped); for a merchant not in the
  registry it puts its entry (`merchant_item`, once per merchant and run).

Running it again changes nothing: what it wrote is what it looks for. An operator's tool, like
relay_redrive.py: the Scan is the catalog's second, run once after an upgrade with the
operator's credentials (the functions' roles are not granted Scan).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from functools import partial
from typing import Any

from botocore.exceptions import ClientError
from msgspec import Struct
from tenacity import RetryCallState, retry_if_exception

from catalog.adapters.aws import dynamodb_items as items
from catalog.adapters.aws.dynamodb_items import GSI3_PK, GSI3_SK, ITEM_TYPE, PK, SK, Item
from catalog.adapters.retries import Backoff

logger = logging.getLogger(__name__)

# What botocore's standard mode (3 attempts) may give up on over a Scan of a whole table: the
# table's throughput, or the account's request rate. Each call is safe to repeat (a page is read
# again from the same key; the writes set the same values), so it is tried up to 6 times in
# all, the n-th retry after a full-jitter wait of up to 0.25 s x 2**n (0.5 s, 1 s, ...), 20 s
# at most.
THROTTLED = frozenset(
    {"ProvisionedThroughputExceededException", "ThrottlingException", "RequestLimitExceeded"}
)
THROTTLE_BACKOFF = Backoff(attempts=6, first_seconds=0.5, max_seconds=20.0)

# Every attribute of a product item the pass reads: its key, its version (the condition of
# its update), its document (merchant, id and type) and whether it has the gsi3 keys.
_PROJECTION = {"#pk": PK, "#version": "version", "#doc": "doc", "#gsi3pk": GSI3_PK}

# Runs one DynamoDB request (a call without arguments), retried while throttled.
_Call = Callable[[Callable[[], Any]], Any]


class BackfillReport(Struct):
    """What a pass did (with `dry_run`: would do), counted as it goes."""

    dry_run: bool = False
    items_read: int = 0  # every item the Scan read, of any type (what it is billed for)
    products_scanned: int = 0
    gsi3_keys_set: int = 0  # typed products given their gsi3 keys
    merchants_registered: int = 0  # registry entries put
    # Typed products rewritten between the Scan and their update: the write that moved their
    # version gave them their keys (a writer of the earlier release did not: a rerun will).
    skipped: int = 0
    estimated_items: int | None = None  # the table's item count, as DynamoDB last measured it

    @property
    def changed_nothing(self) -> bool:
        return not (self.gsi3_keys_set or self.merchants_registered)


def backfill_indexes(
    dynamodb: Any,
    table_name: str,
    *,
    dry_run: bool = False,
    page_size: int | None = None,
    on_page: Callable[[BackfillReport], None] = lambda report: None,
    sleep: Callable[[float], None] = time.sleep,
) -> BackfillReport:
    """One pass over the table's product items, giving the typed ones their gsi3 keys and
    their merchants a registry entry; with `dry_run` it only counts what it would write.
    A Scan page reads up to `page_size` items (None: DynamoDB's 1 MB); `on_page` sees the
    report after each page (progress)."""
    report = BackfillReport(dry_run=dry_run)
    call = _with_retries(sleep)
    described = call(partial(dynamodb.describe_table, TableName=table_name))
    report.estimated_items = described["Table"].get("ItemCount")
    registered = _registered_merchants(dynamodb, table_name, call)
    start: dict[str, Any] = {}
    while True:
        page = call(partial(dynamodb.scan, **_scan_request(table_name, page_size, start)))
        report.items_read += page.get("ScannedCount", 0)
        for item in page.get("Items", []):
            report.products_scanned += 1
            _backfill_product(dynamodb, table_name, item, registered, report, call)
        on_page(report)
        if "LastEvaluatedKey" not in page:
            return report
        start = {"ExclusiveStartKey": page["LastEvaluatedKey"]}


def _registered_merchants(dynamodb: Any, table_name: str, call: _Call) -> set[str]:
    """The merchant ids the registry holds: its partition, read to the end."""
    merchants: set[str] = set()
    start: dict[str, Any] = {}
    while True:
        request = {
            "TableName": table_name,
            "KeyConditionExpression": "#pk = :registry",
            "ExpressionAttributeNames": {"#pk": PK, "#merchant": "merchant_id"},
            "ExpressionAttributeValues": {":registry": items.str_attr(items.MERCHANTS_PK)},
            "ProjectionExpression": "#merchant",
            "ConsistentRead": True,
            **start,
        }
        page = call(partial(dynamodb.query, **request))
        merchants.update(item["merchant_id"]["S"] for item in page.get("Items", []))
        if "LastEvaluatedKey" not in page:
            return merchants
        start = {"ExclusiveStartKey": page["LastEvaluatedKey"]}


def _scan_request(table_name: str, page_size: int | None, start: dict[str, Any]) -> dict[str, Any]:
    limit = {} if page_size is None else {"Limit": page_size}
    return {
        "TableName": table_name,
        "FilterExpression": "#item_type = :product",
        "ProjectionExpression": ", ".join(_PROJECTION),
        "ExpressionAttributeNames": {**_PROJECTION, "#item_type": ITEM_TYPE},
        "ExpressionAttributeValues": {":product": items.str_attr("PRODUCT")},
        **limit,
        **start,
    }


def _backfill_product(
    dynamodb: Any,
    table_name: str,
    item: Item,
    registered: set[str],
    report: BackfillReport,
    call: _Call,
) -> None:
    product = items.product_from_item(item)
    if product.merchant_id not in registered:
        if not report.dry_run:
            entry = items.merchant_item(product.merchant_id)
            call(partial(dynamodb.put_item, TableName=table_name, Item=entry))
        registered.add(product.merchant_id)
        report.merchants_registered += 1
    if product.product_type is None or GSI3_PK in item:
        return
    if report.dry_run:
        report.gsi3_keys_set += 1
        return
    partition = items.type_products_partition(product.merchant_id, product.product_type)
    request = {
        "TableName": table_name,
        "Key": {PK: item[PK], SK: items.str_attr(items.PRODUCT_SK)},
        "UpdateExpression": "SET #gsi3pk = :gsi3pk, #gsi3sk = :gsi3sk",
        "ConditionExpression": "#version = :seen",
        "ExpressionAttributeNames": {"#gsi3pk": GSI3_PK, "#gsi3sk": GSI3_SK, "#version": "version"},
        "ExpressionAttributeValues": {
            ":gsi3pk": items.str_attr(partition),
            ":gsi3sk": items.str_attr(items.sortable_id(product.id)),
            ":seen": item["version"],
        },
    }
    try:
        call(partial(dynamodb.update_item, **request))
    except ClientError as error:
        if _code(error) != "ConditionalCheckFailedException":
            raise
        logger.info("product %s was rewritten during the backfill; skipped", product.id)
        report.skipped += 1
        return
    report.gsi3_keys_set += 1


def _with_retries(sleep: Callable[[float], None]) -> _Call:
    """Runs a call, again while DynamoDB throttles it (THROTTLE_BACKOFF); past the attempts
    the last error propagates."""

    def log_throttled(state: RetryCallState) -> None:
        logger.warning("throttled (attempt %d); retrying", state.attempt_number)

    def call(request: Callable[[], Any]) -> Any:
        retrying = THROTTLE_BACKOFF.retrying(
            retry_if_exception(_throttled), sleep=sleep, before_sleep=log_throttled
        )
        return retrying(request)

    return call


def _throttled(error: BaseException) -> bool:
    return isinstance(error, ClientError) and _code(error) in THROTTLED


def _code(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Code", ""))
