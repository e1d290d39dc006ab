"""Every event the catalog emits matches the JSON Schema of its name in docs/events/."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from catalog.adapters.cloudevents import to_cloudevent
from catalog.adapters.ulid_ids import UlidIds
from catalog.domain.events import DomainEvent, EventName
from catalog.domain.jobs import Job, JobKind, RowError, RowOutcome, RowResult
from catalog.domain.lifecycle import Status
from catalog.domain.product import Product, Stamp
from catalog.domain.values import ChannelOverride, ImageRef, Money
from catalog.domain.variants import Variant, VariantBody

SCHEMAS = Path(__file__).resolve().parents[2] / "docs" / "events"
T0 = datetime(2026, 11, 30, 12, 0, 0, 123_000, tzinfo=UTC)
ids = UlidIds()


def validator(name: str) -> Draft202012Validator:
    schema = json.loads((SCHEMAS / f"{name}.schema.json").read_text(encoding="utf-8"))
    return Draft202012Validator(schema, format_checker=Draft202012Validator.FORMAT_CHECKER)


def errors(envelope: dict[str, Any]) -> list[str]:
    found = validator(envelope["type"]).iter_errors(envelope)
    return [f"{list(error.absolute_path)}: {error.message}" for error in found]


def product_lifetime() -> list[DomainEvent]:
    """The events of a realistic life: register (with a variant), revise, image, READY, an
    edit that makes the product incomplete again, deactivate, reactivate, then add, revise
    and remove a variant."""
    events: list[DomainEvent] = []
    minutes = iter(range(100))

    def stamp() -> Stamp:
        return Stamp("alice", T0 + timedelta(minutes=next(minutes)))

    def pull() -> None:
        pending = product.pull_change(ids.new_id)
        assert pending is not None
        events.extend(pending.events)

    product = Product.register(
        id=ids.new_id(),
        merchant_id="acme",
        sku="TS-1/blue.42",
        name="Trail shoe",
        description=None,
        price=None,
        attributes={"color": "red"},
        options=("size",),
        channel_overrides={},
        variants=[Variant(id=ids.new_id(), sku="TS-1/blue.42-41", options={"size": "41"})],
        stamp=stamp(),
    )
    pull()
    product.revise(
        name="Trail shoe II",
        description="Light and fast",
        price=Money(12999, "USD"),
        attributes={"color": "blue", "size/eu": 42},
        channel_overrides={"mercadolibre": ChannelOverride(price=Money(11999, "USD"))},
        stamp=stamp(),
    )
    pull()
    image_id = ids.new_id()
    product.add_image(
        ImageRef(image_id, f"acme/{product.id}/{image_id}.png", "image/png", 800, 800, 10240),
        stamp(),
    )
    pull()
    product.transition(Status.READY, stamp(), "approved by Bob")
    pull()
    product.revise(
        name=product.name,
        description=None,
        price=product.price,
        attributes=product.attributes,
        channel_overrides=product.channel_overrides,
        stamp=stamp(),
    )
    pull()  # ProductUpdated, then READY -> DRAFT: the description is missing
    product.deactivate(stamp(), "discontinued")
    pull()
    product.transition(Status.DRAFT, stamp())
    pull()
    added = product.add_variant(
        VariantBody(sku="TS-1/blue.42-42", options={"size": "42"}, barcode="4006381333931"),
        ids.new_id(),
        stamp(),
    )
    pull()
    product.revise_variant(added.id, {"price": {"amount": 13999, "currency": "USD"}}, stamp())
    pull()
    product.remove_variant(added.id, stamp())
    pull()
    return events


def publication_examples() -> list[DomainEvent]:
    """The publication events' contract, until the domain emits them (channel orchestration)."""
    product_id = ids.new_id()

    def event(name: EventName, version: int, **data: Any) -> DomainEvent:
        at = T0 + timedelta(minutes=version)
        return DomainEvent(ids.new_id(), name, "acme", product_id, version, at, data)

    return [
        event(EventName.PUBLICATION_REQUESTED, 5, channel="mercadolibre"),
        event(EventName.PUBLICATION_FAILED, 6, channel="mercadolibre", message="price too low"),
        event(
            EventName.PRODUCT_PUBLISHED,
            7,
            channel="mercadolibre",
            external_id="MLA123",
            external_url="https://articulo.mercadolibre.com.ar/MLA-123",
        ),
        event(
            EventName.PRODUCT_PUBLISHED, 7, channel="facebook", external_id="9", external_url=None
        ),
        event(EventName.UNPUBLICATION_REQUESTED, 8, channel="facebook"),
        event(EventName.PRODUCT_UNPUBLISHED, 9, channel="facebook"),
    ]


LIFETIME = product_lifetime()


def test_the_lifetime_covers_every_product_event_in_order() -> None:
    assert [event.name.value for event in LIFETIME] == [
        "ProductCreated",
        "ProductUpdated",
        "ProductUpdated",
        "ProductStatusChanged",
        "ProductUpdated",
        "ProductStatusChanged",
        "ProductDeactivated",
        "ProductReactivated",
        "ProductUpdated",
        "ProductUpdated",
        "ProductUpdated",
    ]
    variant_updates = [event.data for event in LIFETIME[-3:]]
    added = variant_updates[0]["variants"][0]
    assert [data["changed_fields"] for data in variant_updates] == [
        [f"/variants/{added}"],
        [f"/variants/{added}/price"],
        [f"/variants/{added}"],
    ]
    assert all(data["variants"] == [added] for data in variant_updates)


def finished_jobs() -> list[DomainEvent]:
    """JobFinished as each way a job ends emits it: SUCCEEDED with failed rows, CANCELLED, and
    FAILED before it counted its rows."""
    finished = []
    for end in ("succeeded", "cancelled", "failed"):
        job = Job(ids.new_id(), "acme", JobKind.IMPORT, T0, params={"format": "jsonl"})
        job.start()
        if end != "failed":
            job.counted(2)
            job.record(RowResult(1, RowOutcome.CREATED))
            problem = {"type": "/problems/validation-error", "status": 422}
            job.record(RowResult(2, RowOutcome.FAILED, RowError(2, "B", problem)))
            job.finish(T0 + timedelta(minutes=1), cancelled=end == "cancelled")
        else:
            job.fail("the job's file is gone", T0 + timedelta(minutes=1))
        job.version += 1
        finished.append(job.finished_event(ids.new_id()))
    return finished


def test_a_finished_job_reports_its_counts() -> None:
    succeeded, cancelled, failed = (to_cloudevent(e) for e in finished_jobs())
    assert succeeded["subject"] == f"jobs/{succeeded['data']['job_id']}"
    counts = {k: succeeded["data"][k] for k in ("total", "processed", "created", "failed")}
    assert counts == {"total": 2, "processed": 2, "created": 1, "failed": 1}
    assert (succeeded["data"]["status"], cancelled["data"]["status"]) == ("SUCCEEDED", "CANCELLED")
    assert (failed["data"]["status"], failed["data"]["total"]) == ("FAILED", None)


@pytest.mark.parametrize(
    "event",
    LIFETIME + publication_examples() + finished_jobs(),
    ids=lambda event: event.name.value,
)
def test_emitted_events_match_their_schema(event: DomainEvent) -> None:
    assert errors(to_cloudevent(event)) == []


def test_there_is_one_valid_2020_12_schema_per_event_name() -> None:
    files = {path.name for path in SCHEMAS.glob("*.schema.json")}
    assert files == {f"{name.value}.schema.json" for name in EventName}
    for name in EventName:
        schema = validator(name.value).schema
        Draft202012Validator.check_schema(schema)
        assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
        assert schema["properties"]["type"] == {"const": name.value}


def test_format_checking_is_active() -> None:
    # Without rfc3339-validator installed, jsonschema silently skips "date-time".
    assert "date-time" in Draft202012Validator.FORMAT_CHECKER.checkers


Mutation = Callable[[dict[str, Any]], None]


def _set(path: str, value: Any) -> Mutation:
    def mutate(envelope: dict[str, Any]) -> None:
        *parents, last = path.split(".")
        target = envelope
        for key in parents:
            target = target[key]
        target[last] = value

    return mutate


def _drop(path: str) -> Mutation:
    def mutate(envelope: dict[str, Any]) -> None:
        *parents, last = path.split(".")
        target = envelope
        for key in parents:
            target = target[key]
        del target[last]

    return mutate


CREATED, UPDATED, STATUS_CHANGED = LIFETIME[0], LIFETIME[1], LIFETIME[3]
DEACTIVATED, REACTIVATED = LIFETIME[6], LIFETIME[7]
PUBLISHED = publication_examples()[2]
MISMATCHES: list[tuple[str, DomainEvent, Mutation]] = [
    ("wrong specversion", CREATED, _set("specversion", "0.3")),
    ("wrong source", CREATED, _set("source", "elsewhere")),
    ("another event's type", CREATED, _set("type", "ProductUpdated")),
    ("id not a ULID", CREATED, _set("id", "event-1")),
    ("impossible time", CREATED, _set("time", "2026-13-45T12:00:00.000Z")),
    ("missing subject", CREATED, _drop("subject")),
    ("missing version", CREATED, _drop("data.version")),
    ("version zero", CREATED, _set("data.version", 0)),
    ("version as text", CREATED, _set("data.version", "1")),
    ("missing merchant", CREATED, _drop("data.merchant_id")),
    ("created not as draft", CREATED, _set("data.status", "READY")),
    ("unknown product field", CREATED, _set("data.price", 100)),
    ("invalid sku", CREATED, _set("data.sku", "-no spaces")),
    ("no changed fields", UPDATED, _set("data.changed_fields", [])),
    ("not a json pointer", UPDATED, _set("data.changed_fields", ["name"])),
    ("not a product field", UPDATED, _set("data.changed_fields", ["/status"])),
    ("variants not named", UPDATED, _drop("data.variants")),
    ("variant id not a ULID", UPDATED, _set("data.variants", ["v-1"])),
    ("transition not in the lifecycle", STATUS_CHANGED, _set("data.to_status", "ACTIVE")),
    ("deactivation as a status change", STATUS_CHANGED, _set("data.to_status", "INACTIVE")),
    ("missing reason", STATUS_CHANGED, _drop("data.reason")),
    ("deactivated into draft", DEACTIVATED, _set("data.to_status", "DRAFT")),
    ("reactivated from ready", REACTIVATED, _set("data.from_status", "READY")),
    ("invalid channel slug", PUBLISHED, _set("data.channel", "Mercado Libre")),
    ("published without external id", PUBLISHED, _drop("data.external_id")),
    ("attribute name not CloudEvents'", PUBLISHED, _set("Extension", "x")),
]


@pytest.mark.parametrize(
    ("event", "mutate"),
    [(event, mutate) for _, event, mutate in MISMATCHES],
    ids=[label for label, _, _ in MISMATCHES],
)
def test_a_mismatching_document_is_rejected(event: DomainEvent, mutate: Mutation) -> None:
    envelope = copy.deepcopy(to_cloudevent(event))
    assert errors(envelope) == []
    mutate(envelope)

    assert errors(envelope) != []


def test_publication_events_accept_fields_added_later() -> None:
    envelope = to_cloudevent(PUBLISHED)
    envelope["data"]["listing_state"] = "PUBLISHED"

    assert errors(envelope) == []


def reevaluation_examples() -> list[DomainEvent]:
    """What the background re-evaluation emits (a READY product falling back to DRAFT) and
    the platform-wide event that starts it."""
    product = Product.register(
        id=ids.new_id(),
        merchant_id="acme",
        sku="TS-2",
        name="Trail shoe",
        description="Light",
        price=Money(12999, "USD"),
        attributes={},
        channel_overrides={},
        stamp=Stamp("alice", T0),
    )
    product.pull_change(ids.new_id)
    product.status = Status.READY  # the path there is the lifetime's
    product.bind_requirements({"mercadolibre": ("/attributes/brand",), "facebook": ()})
    product.reevaluate(
        Stamp("system", T0 + timedelta(minutes=1)), "channel facebook requirements v1"
    )
    pending = product.pull_change(ids.new_id)
    assert pending is not None
    requirements = DomainEvent(
        ids.new_id(),
        EventName.CHANNEL_REQUIREMENTS_CHANGED,
        None,
        None,
        2,
        T0,
        {"required": ["/attributes/brand", "/images"]},
        channel="mercadolibre",
    )
    return [*pending.events, requirements]


REEVALUATION = reevaluation_examples()


@pytest.mark.parametrize("event", REEVALUATION, ids=lambda event: event.name.value)
def test_reevaluation_events_match_their_schema(event: DomainEvent) -> None:
    assert [e.name.value for e in REEVALUATION] == [
        "ProductCompletenessChanged",
        "ProductStatusChanged",
        "ChannelRequirementsChanged",
    ]
    assert errors(to_cloudevent(event)) == []


@pytest.mark.parametrize(
    "mutate",
    [
        _set("data.completeness.ready.missing", ["description"]),
        _drop("data.reason"),
        _set("data.completeness.channels.Mercado", {"complete": True, "missing": []}),
    ],
    ids=["not a pointer", "no reason", "bad channel"],
)
def test_a_mismatching_completeness_event_is_rejected(mutate: Mutation) -> None:
    envelope = copy.deepcopy(to_cloudevent(REEVALUATION[0]))
    mutate(envelope)
    assert errors(envelope) != []


def test_a_requirements_event_belongs_to_no_merchant() -> None:
    envelope = to_cloudevent(REEVALUATION[-1])
    assert envelope["subject"] == "channels/mercadolibre"
    assert "merchant_id" not in envelope["data"]
    envelope["data"]["merchant_id"] = "acme"
    assert errors(envelope) != []
