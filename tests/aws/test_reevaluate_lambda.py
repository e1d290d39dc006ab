"""The re-evaluation Lambda on DynamoDB (moto): events as the bus rule delivers them, the wait
for a requirements change, a run out of time continuing itself, and what a run spends.

The events are the real ones: committed by the use cases, read back from the table's stream
and turned into the bus's entry by the relay's own code (eventbridge_relay.outbox_entry), then
wrapped the way EventBridge hands an event to a Lambda target (`detail` is the CloudEvent).
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from aws_lambda_powertools import Logger

from catalog.adapters.aws.dynamodb_store import DynamoDbStore
from catalog.adapters.aws.eventbridge_relay import outbox_entry
from catalog.adapters.memory.assets import MemoryAssetStore
from catalog.adapters.pillow_images import PillowImageInspector
from catalog.adapters.system_clock import SystemClock
from catalog.adapters.ulid_ids import UlidIds
from catalog.domain.events import EventName
from catalog.entrypoints import lambda_reevaluate
from catalog.service import channel_requirements, product_types, products
from catalog.service.channel_requirements import PutChannelRequirements
from catalog.service.commands import CreateProductType, PatchProductType, RegisterProduct
from catalog.service.context import CatalogContext
from catalog.service.cursors import CursorCodec
from tests.aws.dynamodb_support import TABLE, CallCounter, fresh_table
from tests.aws.stream_support import stream_records
from tests.conftest import REGION, AwsEndpoint
from tests.principals import ALICE, OPERATOR, merchant

GLOBEX = merchant("globex")
FUNCTION_ARN = "arn:aws:lambda:us-east-1:123456789012:function:catalog-prod-reevaluate"
MAX_AGE = 5.0
# Plenty of time left (the timeout is 15 minutes), and too little to take another page.
ROOMY_MS = 800_000
NEARLY_OUT_MS = lambda_reevaluate.STOP_MARGIN_MS - 1
# What a run may call: reads of the rules and pages, one transaction per changed product.
RUN_CALLS = {"GetItem", "BatchGetItem", "Query", "TransactWriteItems"}
APPAREL: dict[str, Any] = {
    "key": "apparel",
    "name": "Apparel",
    "attributes": {"brand": {"type": "string"}, "material": {"type": "string"}},
}


@dataclass
class LambdaContext:
    """What the handler reads of Lambda's context; the remaining time answers `remaining_ms`
    in turn, its last value from then on."""

    remaining_ms: list[int] = field(default_factory=lambda: [ROOMY_MS])
    invoked_function_arn: str = FUNCTION_ARN
    aws_request_id: str = "request-1"

    def get_remaining_time_in_millis(self) -> int:
        return self.remaining_ms.pop(0) if len(self.remaining_ms) > 1 else self.remaining_ms[0]


@dataclass
class Deployed:
    """The function's runtime over moto, with what it asked of Lambda and of the clock."""

    ctx: CatalogContext
    calls: CallCounter
    dynamodb: Any
    streams: Any
    continued: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    waits: list[float] = field(default_factory=list)

    @property
    def runtime(self) -> Any:
        def invoke_again(function_arn: str, payload: dict[str, Any]) -> None:
            # What Lambda hands the next invocation: the payload through JSON.
            self.continued.append((function_arn, json.loads(json.dumps(payload))))

        logger = Logger(service=lambda_reevaluate.SERVICE)
        return lambda_reevaluate._Runtime(self.ctx, invoke_again, MAX_AGE, logger)

    def run(self, event: dict[str, Any], context: LambdaContext | None = None) -> dict[str, Any]:
        return lambda_reevaluate.run(
            self.runtime, event, context or LambdaContext(), sleep=self.waits.append
        )

    def records(self) -> list[dict[str, Any]]:
        return stream_records(self.dynamodb, self.streams, TABLE)

    def delivered(self, name: EventName) -> dict[str, Any]:
        """The last `name` event, as the bus rule hands it to the function."""
        entries = [e for r in self.records() if (e := outbox_entry(r, "catalog-prod"))]
        entry = [e for e in entries if e["DetailType"] == name.value][-1]
        return {
            "version": "0",
            "id": "eb-" + json.loads(entry["Detail"])["id"],
            "detail-type": entry["DetailType"],
            "source": entry["Source"],
            "account": "123456789012",
            "time": json.loads(entry["Detail"])["time"],
            "region": REGION,
            "resources": [],
            "detail": json.loads(entry["Detail"]),
        }

    def completeness_changes(self) -> Counter[str]:
        """How many ProductCompletenessChanged events each product got."""
        counts: Counter[str] = Counter()
        for record in self.records():
            entry = outbox_entry(record, "catalog-prod")
            if entry and entry["DetailType"] == EventName.COMPLETENESS_CHANGED.value:
                counts[json.loads(entry["Detail"])["data"]["product_id"]] += 1
        return counts


@pytest.fixture
def deployed(aws: AwsEndpoint) -> Iterator[Deployed]:
    client = fresh_table(aws)
    calls = CallCounter(client)
    ctx = CatalogContext(
        store=DynamoDbStore(client, TABLE, requirements_max_age=MAX_AGE),
        assets=MemoryAssetStore("https://cdn.example.test"),
        images=PillowImageInspector(),
        # The real clock: the wait for a requirements change is measured from the event's time.
        clock=SystemClock(),
        ids=UlidIds(),
        cursors=CursorCodec(b"reevaluate-lambda-cursor-secret-0123456789"),
    )
    yield Deployed(ctx, calls, client, aws.client("dynamodbstreams"))
    # Whatever a test did, it never scanned.
    assert "Scan" not in calls.calls


def register(ctx: CatalogContext, sku: str, who: Any = ALICE, **fields: Any) -> str:
    body = {"sku": sku, "name": "Shirt", "price": {"amount": 1999, "currency": "USD"}, **fields}
    command = RegisterProduct.from_json(who.merchant_id, body)
    return products.register_product(ctx, who, command).product.id


def version_of(ctx: CatalogContext, merchant_id: str, product_id: str) -> int:
    found = ctx.store.get(merchant_id, product_id)
    assert found is not None
    return found.version


def require_material(ctx: CatalogContext) -> None:
    patch = {"attributes": {"material": {"type": "string", "required": True}}}
    product_types.patch_product_type(
        ctx, ALICE, PatchProductType.from_json("acme", "apparel", patch)
    )


def declare(ctx: CatalogContext, channel: str, needs: list[str]) -> None:
    command = PutChannelRequirements.from_json(channel, {"required": needs})
    channel_requirements.put_channel_requirements(ctx, OPERATOR, command)


def test_a_type_update_reevaluates_that_types_products_and_nothing_else(
    deployed: Deployed,
) -> None:
    ctx = deployed.ctx
    product_types.create_product_type(ctx, ALICE, CreateProductType.from_json("acme", APPAREL))
    missing = [register(ctx, f"SH-{n}", product_type="apparel") for n in range(2)]
    made = register(ctx, "SH-9", product_type="apparel", attributes={"material": "silk"})
    untyped = register(ctx, "MUG-1")
    require_material(ctx)
    event = deployed.delivered(EventName.PRODUCT_TYPE_UPDATED)

    deployed.calls.reset()
    summary = deployed.run(event)

    assert summary == {"visited": 3, "changed": 2, "continued": False}
    # The requirements (GetItem), the page of the type's products (Query on gsi3), the type
    # read fresh with the requirements once for the run (BatchGetItem), then one transaction
    # per product whose completeness changed.
    assert deployed.calls.counts() == Counter(
        {"GetItem": 1, "Query": 1, "BatchGetItem": 1, "TransactWriteItems": 2}
    )
    assert deployed.completeness_changes() == Counter(missing)
    for product_id in missing:
        assert version_of(ctx, "acme", product_id) == 2
        [entry] = ctx.store.history("acme", product_id, limit=1, before_version=None)
        assert (entry.actor, entry.reason) == ("system", "product type apparel v2")
    assert version_of(ctx, "acme", made) == 1
    assert version_of(ctx, "acme", untyped) == 1
    # A type's change is about this merchant's products only: nothing to wait for.
    assert deployed.waits == []
    assert deployed.continued == []


def test_a_requirements_change_waits_out_the_max_age_then_reevaluates_every_merchant(
    deployed: Deployed,
) -> None:
    ctx = deployed.ctx
    acme = [register(ctx, "A-1"), register(ctx, "A-2")]
    globex = register(ctx, "G-1", GLOBEX)
    declare(ctx, "mercadolibre", ["/attributes/brand"])
    event = deployed.delivered(EventName.CHANNEL_REQUIREMENTS_CHANGED)
    assert "merchant_id" not in event["detail"]["data"]  # a platform-wide event

    deployed.calls.reset()
    summary = deployed.run(event)

    assert summary == {"visited": 3, "changed": 3, "continued": False}
    # API processes may judge writes by the earlier requirements for MAX_AGE after the change:
    # the run waits until then, counted from the event's time.
    [waited] = deployed.waits
    assert MAX_AGE - 3.0 < waited <= MAX_AGE
    # The requirements, the merchants registry (Query), each merchant's page (Query on gsi1),
    # one transaction per product; untyped products need no type read.
    assert deployed.calls.counts() == Counter({"GetItem": 1, "Query": 3, "TransactWriteItems": 3})
    assert deployed.completeness_changes() == Counter([*acme, globex])
    for merchant_id, product_id in [("acme", acme[0]), ("acme", acme[1]), ("globex", globex)]:
        found = ctx.store.get(merchant_id, product_id)
        assert found is not None and found.version == 2
        assert "/attributes/brand" in found.completeness.missing_on("mercadolibre")


def test_a_run_near_the_timeout_continues_itself_and_the_rest_is_done_once(
    deployed: Deployed, monkeypatch: pytest.MonkeyPatch
) -> None:
    from catalog.service import reevaluation

    monkeypatch.setattr(reevaluation, "PAGE_SIZE", 2)
    ctx = deployed.ctx
    made = [register(ctx, f"A-{n}") for n in range(3)] + [register(ctx, "G-1", GLOBEX)]
    declare(ctx, "meta", ["/attributes/gtin"])
    event = deployed.delivered(EventName.CHANNEL_REQUIREMENTS_CHANGED)

    first = deployed.run(event, LambdaContext(remaining_ms=[NEARLY_OUT_MS]))

    assert first == {"visited": 2, "changed": 2, "continued": True}
    [(function_arn, payload)] = deployed.continued
    assert function_arn == FUNCTION_ARN  # itself, asynchronously (the role allows no other)
    assert payload["continuation"]["channel"] == "meta"
    assert payload["continuation"]["position_merchant"] == "acme"

    deployed.continued.clear()
    rest = deployed.run(payload)

    assert rest == {"visited": 2, "changed": 2, "continued": False}
    assert deployed.continued == []
    assert len(deployed.waits) == 1  # the continuation does not wait again
    assert deployed.completeness_changes() == Counter(made)
    for product_id in made[:3]:
        assert version_of(ctx, "acme", product_id) == 2
    assert version_of(ctx, "globex", made[3]) == 2


def test_a_second_run_of_the_same_event_writes_nothing(deployed: Deployed) -> None:
    ctx = deployed.ctx
    product_types.create_product_type(ctx, ALICE, CreateProductType.from_json("acme", APPAREL))
    for n in range(3):
        register(ctx, f"SH-{n}", product_type="apparel")
    require_material(ctx)
    event = deployed.delivered(EventName.PRODUCT_TYPE_UPDATED)
    deployed.run(event)
    before = deployed.records()

    deployed.calls.reset()
    again = deployed.run(event)  # a retry, or EventBridge delivering the event twice

    assert again == {"visited": 3, "changed": 0, "continued": False}
    assert "TransactWriteItems" not in deployed.calls.counts()
    assert set(deployed.calls.counts()) <= RUN_CALLS
    assert deployed.records() == before


def test_an_event_that_changes_no_rule_is_ignored(deployed: Deployed) -> None:
    register(deployed.ctx, "A-1")
    event = deployed.delivered(EventName.PRODUCT_CREATED)

    deployed.calls.reset()
    summary = deployed.run(event)

    assert summary == {"visited": 0, "changed": 0, "continued": False}
    assert deployed.calls.calls == []
    assert (deployed.waits, deployed.continued) == ([], [])


@pytest.fixture
def environment(aws: AwsEndpoint, monkeypatch: pytest.MonkeyPatch, tmp_path: Any) -> Iterator[None]:
    """The function's configuration as template.yaml sets it."""
    fresh_table(aws)
    for name, value in {
        "CATALOG_BACKEND": "aws",
        "CATALOG_AUTH": "apigw",
        "CATALOG_TABLE_NAME": TABLE,
        "CATALOG_CURSOR_SECRET": "reevaluate-lambda-cursor-secret-0123456789",
        "CATALOG_DATA_DIR": str(tmp_path / "never-used"),
    }.items():
        monkeypatch.setenv(name, value)
    lambda_reevaluate.reset()
    yield
    lambda_reevaluate.reset()


def test_the_handler_builds_its_runtime_from_the_environment_once(
    environment: None, tmp_path: Any
) -> None:
    continuation = {"continuation": {"merchant_id": "acme", "type_key": "apparel"}}

    answer = lambda_reevaluate.handler(continuation, LambdaContext())
    first = lambda_reevaluate.runtime()
    lambda_reevaluate.handler(continuation, LambdaContext())

    assert answer == {"visited": 0, "changed": 0, "continued": False}
    assert lambda_reevaluate.runtime() is first
    assert not (tmp_path / "never-used").exists()  # no data folder, no local secret
