"""`catalog aws backfill` on moto: a table written by the release before gsi3 and the merchant
registry (typed products without their gsi3 keys, no registry entries) gets what it lacks, so
type pages and the walk of merchants find what it held; a second run, a dry run and a product
rewritten under the pass change nothing they should not (docs/dynamodb.md, "Tables from
before gsi3")."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError
from typer.testing import CliRunner

from catalog.adapters.aws import dynamodb_items as items
from catalog.adapters.aws.dynamodb_store import DynamoDbStore
from catalog.adapters.aws.index_backfill import (
    THROTTLE_BACKOFF,
    BackfillReport,
    backfill_indexes,
)
from catalog.domain.product_types import ProductType
from catalog.entrypoints.cli import app
from tests.aws.dynamodb_support import TABLE, CallCounter, fresh_table
from tests.contract.conftest import committed, create_change
from tests.contract.test_type_pages_contract import typed
from tests.contract.test_type_store_contract import committed_type, creation, new_type, retyped

runner = CliRunner()


@pytest.fixture
def client(aws: Any) -> Any:
    return fresh_table(aws)


@pytest.fixture
def store(client: Any) -> DynamoDbStore:
    return DynamoDbStore(client, TABLE)


def as_written_before_gsi3(client: Any, merchant_id: str, product_id: str) -> None:
    """The product item as the earlier release wrote it: no gsi3 keys."""
    client.update_item(
        TableName=TABLE,
        Key=items.product_key(merchant_id, product_id),
        UpdateExpression="REMOVE gsi3pk, gsi3sk",
    )


def without_registry(client: Any, *merchant_ids: str) -> None:
    for merchant_id in merchant_ids:
        client.delete_item(TableName=TABLE, Key=items.merchant_key(merchant_id))


def old_catalog(client: Any, store: DynamoDbStore) -> dict[str, list[str]]:
    """Two merchants' products as the earlier release left them: acme's two typed products
    (apparel) and an untyped one, globex's typed one (shoes). The ids of each type's products."""
    apparel = committed_type(store, creation(new_type("apparel")))
    shoes = committed_type(store, creation(new_type("shoes", merchant_id="globex")))
    apparel_ids = sorted(typed(store, apparel) for _ in range(2))
    shoes_ids = [typed(store, shoes)]
    committed(store, create_change())
    for product_id in apparel_ids:
        as_written_before_gsi3(client, "acme", product_id)
    as_written_before_gsi3(client, "globex", shoes_ids[0])
    without_registry(client, "acme", "globex")
    return {"apparel": apparel_ids, "shoes": shoes_ids}


def type_page(store: DynamoDbStore, product_type: ProductType | str, merchant: str) -> list[str]:
    key = product_type if isinstance(product_type, str) else product_type.key
    page = store.page(
        merchant, status=None, channel=None, limit=10, position=None, product_type=key
    )
    return [product.id for product in page.items]


def all_merchants(store: DynamoDbStore) -> list[str]:
    return store.merchants(limit=10, position=None).items


def writes(calls: CallCounter) -> Counter[str]:
    return Counter({name: n for name, n in calls.counts().items() if name in WRITES})


WRITES = {"UpdateItem", "PutItem", "DeleteItem", "TransactWriteItems", "BatchWriteItem"}


def test_the_backfill_puts_old_typed_products_on_their_type_pages_and_merchants_in_the_registry(
    client: Any, store: DynamoDbStore
) -> None:
    by_type = old_catalog(client, store)
    assert type_page(store, "apparel", "acme") == []  # what the upgrade left
    assert all_merchants(store) == []

    report = backfill_indexes(client, TABLE)

    assert (report.products_scanned, report.gsi3_keys_set) == (4, 3)
    assert (report.merchants_registered, report.skipped) == (2, 0)
    assert report.items_read > report.products_scanned  # the Scan read every item
    assert type_page(store, "apparel", "acme") == by_type["apparel"]
    assert type_page(store, "shoes", "globex") == by_type["shoes"]
    assert all_merchants(store) == ["acme", "globex"]
    # The keys a write of this release gives the product, nothing else touched.
    product_id = by_type["apparel"][0]
    stored = client.get_item(TableName=TABLE, Key=items.product_key("acme", product_id))["Item"]
    product = store.get("acme", product_id)
    assert product is not None
    assert stored == items.product_item(product)


def test_the_backfill_spends_one_scan_one_update_per_old_typed_product_one_put_per_merchant(
    client: Any, store: DynamoDbStore
) -> None:
    old_catalog(client, store)
    calls = CallCounter(client)

    backfill_indexes(client, TABLE)

    assert calls.counts() == Counter(
        {"DescribeTable": 1, "Query": 1, "Scan": 1, "UpdateItem": 3, "PutItem": 2}
    )


def test_a_second_run_changes_nothing_and_says_so(client: Any, store: DynamoDbStore) -> None:
    old_catalog(client, store)
    backfill_indexes(client, TABLE)
    calls = CallCounter(client)

    again = backfill_indexes(client, TABLE)

    assert again.changed_nothing
    assert (again.products_scanned, again.gsi3_keys_set, again.merchants_registered) == (4, 0, 0)
    assert writes(calls) == Counter()


def test_a_current_table_needs_nothing(client: Any, store: DynamoDbStore) -> None:
    apparel = committed_type(store, creation(new_type("apparel")))
    typed(store, apparel)
    committed(store, create_change())

    assert backfill_indexes(client, TABLE).changed_nothing


def test_a_dry_run_counts_what_it_would_write_and_writes_nothing(
    client: Any, store: DynamoDbStore
) -> None:
    old_catalog(client, store)
    calls = CallCounter(client)

    dry = backfill_indexes(client, TABLE, dry_run=True)

    assert dry.dry_run
    assert (dry.gsi3_keys_set, dry.merchants_registered) == (3, 2)
    assert not dry.changed_nothing
    assert writes(calls) == Counter()
    assert type_page(store, "apparel", "acme") == []
    assert all_merchants(store) == []


def rewrite_before_first_update(client: Any, rewrite: Any) -> None:
    """Runs `rewrite(product_key)` once, as the pass is about to update that product: a write
    that lands between the pass's Scan and its UpdateItem."""
    done: list[bool] = []

    def hook(params: dict[str, Any], **_: Any) -> None:
        if not done:
            done.append(True)
            rewrite(params["Key"])

    client.meta.events.register("provide-client-params.dynamodb.UpdateItem", hook)


def test_a_product_rewritten_during_the_pass_is_skipped_without_error(
    aws: Any, client: Any, store: DynamoDbStore
) -> None:
    by_type = old_catalog(client, store)
    other_writer = DynamoDbStore(aws.client("dynamodb"), TABLE)
    rewritten: list[tuple[str, str]] = []

    def rewrite(key: dict[str, Any]) -> None:
        _, merchant_id, _, product_id = (items.unpart(p) for p in key["pk"]["S"].split("#"))
        product = other_writer.get(merchant_id, product_id)
        assert product is not None and product.product_type is not None
        product_type = other_writer.product_type(merchant_id, product.product_type)
        assert product_type is not None
        # A revision by this release: it puts the whole item, gsi3 keys included.
        committed(other_writer, retyped(product, product_type, name="Rewritten"))
        rewritten.append((merchant_id, product_id))

    rewrite_before_first_update(client, rewrite)

    report = backfill_indexes(client, TABLE)

    assert (report.gsi3_keys_set, report.skipped) == (2, 1)
    ((merchant_id, product_id),) = rewritten
    product = store.get(merchant_id, product_id)
    assert product is not None and product.version == 2  # the concurrent write stands
    assert type_page(store, "apparel", "acme") == by_type["apparel"]
    assert type_page(store, "shoes", "globex") == by_type["shoes"]


def test_a_product_rewritten_by_the_earlier_release_is_keyed_by_a_second_run(
    client: Any, store: DynamoDbStore
) -> None:
    by_type = old_catalog(client, store)

    def rewrite(key: dict[str, Any]) -> None:
        # A writer of the earlier release: a new version, still without gsi3 keys.
        client.update_item(
            TableName=TABLE,
            Key=key,
            UpdateExpression="SET version = version + :one",
            ExpressionAttributeValues={":one": {"N": "1"}},
        )

    rewrite_before_first_update(client, rewrite)
    first = backfill_indexes(client, TABLE)
    second = backfill_indexes(client, TABLE)

    assert (first.gsi3_keys_set, first.skipped) == (2, 1)
    assert (second.gsi3_keys_set, second.skipped) == (1, 0)
    assert type_page(store, "apparel", "acme") == by_type["apparel"]
    assert type_page(store, "shoes", "globex") == by_type["shoes"]


def test_the_pass_follows_the_scan_page_by_page(client: Any, store: DynamoDbStore) -> None:
    by_type = old_catalog(client, store)
    seen: list[tuple[int, int]] = []

    def on_page(report: BackfillReport) -> None:
        seen.append((report.items_read, report.products_scanned))

    report = backfill_indexes(client, TABLE, page_size=3, on_page=on_page)

    assert len(seen) > 2
    assert [read for read, _ in seen] == sorted(read for read, _ in seen)
    assert seen[-1] == (report.items_read, 4)
    assert type_page(store, "apparel", "acme") == by_type["apparel"]


class Throttled:
    """The table's client, whose first `times` Scans DynamoDB throttles past botocore."""

    def __init__(self, client: Any, times: int) -> None:
        self._client = client
        self.left = times

    def scan(self, **request: Any) -> Any:
        if self.left:
            self.left -= 1
            error = {"Error": {"Code": "ProvisionedThroughputExceededException", "Message": "."}}
            raise ClientError(error, "Scan")  # type: ignore[arg-type]
        return self._client.scan(**request)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._client, name)


def test_a_throttled_call_is_tried_again_within_the_bound(
    client: Any, store: DynamoDbStore
) -> None:
    old_catalog(client, store)
    waits: list[float] = []

    report = backfill_indexes(Throttled(client, 2), TABLE, sleep=waits.append)

    assert report.gsi3_keys_set == 3
    assert len(waits) == 2
    assert all(wait <= THROTTLE_BACKOFF.ceiling(n) for n, wait in enumerate(waits, 1))

    with pytest.raises(ClientError):
        backfill_indexes(Throttled(client, THROTTLE_BACKOFF.attempts), TABLE, sleep=waits.append)


def summary(output: str) -> dict[str, int]:
    """The counts the command printed, by label."""
    counted = (line.strip().rsplit(":", 1) for line in output.splitlines() if line[:2] == "  ")
    return {label: int(count) for label, count in counted}


def test_catalog_aws_backfill_runs_end_to_end(
    client: Any, store: DynamoDbStore, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    by_type = old_catalog(client, store)
    monkeypatch.setenv("CATALOG_BACKEND", "aws")
    monkeypatch.setenv("CATALOG_TABLE_NAME", TABLE)
    monkeypatch.setenv("CATALOG_DATA_DIR", str(tmp_path))

    dry = runner.invoke(app, ["aws", "backfill", "--dry-run"])

    assert dry.exit_code == 0, dry.output
    assert "dry run" in dry.stdout
    assert summary(dry.stdout) == {"gsi3 keys to set": 3, "merchants to register": 2}
    assert type_page(store, "apparel", "acme") == []

    done = runner.invoke(app, ["aws", "backfill"])

    assert done.exit_code == 0, done.output
    assert "4 products" in done.stdout
    assert summary(done.stdout) == {
        "gsi3 keys set": 3,
        "merchants registered": 2,
        "skipped, rewritten meanwhile": 0,
    }
    assert type_page(store, "apparel", "acme") == by_type["apparel"]
    assert all_merchants(store) == ["acme", "globex"]

    again = runner.invoke(app, ["aws", "backfill"])

    assert again.exit_code == 0, again.output
    assert "Nothing to do" in again.stdout
