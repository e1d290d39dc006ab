"""The stored documents: every field of the product is stored, and documents written by earlier
releases still load.

stored_v1_documents.json holds documents exactly as a release before the `schema` member
stored them (read out of a real SQLite database that the code of that release filled through
its API: a bare draft, a complete ACTIVE product with images, overrides and listings in three
states, a deactivated one, their history, and an idempotency record's product). Keep it as it
is: when the document shape changes (SCHEMA and an upgrade step in product_documents.py),
these must still load, and a fixture of the new version's documents joins them.
stored_v2_documents.json holds schema 2 documents (a bare draft, and a typed ACTIVE product
with overrides, an image, a listing and a stored completeness) as that release wrote them.
"""

from __future__ import annotations

import dataclasses
import json
import sqlite3
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from catalog.adapters import product_documents
from catalog.adapters.embedded.sqlite_store import SqliteStore
from catalog.adapters.product_documents import (
    SCHEMA,
    UPGRADES,
    UnknownDocumentSchema,
    history_from_document,
    history_to_document,
    product_from_document,
    product_to_document,
    upgrade,
)
from catalog.domain.completeness import Completeness
from catalog.domain.lifecycle import Status
from catalog.domain.listing import Listing, ListingState
from catalog.domain.product import Product, Stamp
from catalog.domain.values import ChannelOverride, Money, VariantOverride
from catalog.domain.variants import Variant
from catalog.service.ports import Change

from .conftest import T0, image

STORED_V1 = json.loads((Path(__file__).parent / "stored_v1_documents.json").read_text())
# Documents of schema 2 (product types, before variants), as that release wrote them.
STORED_V2 = json.loads((Path(__file__).parent / "stored_v2_documents.json").read_text())
Document = dict[str, Any]


def by_sku(sku: str) -> Document:
    return next(doc for doc in STORED_V1["products"] if doc["sku"] == sku)


def current(stored: Document) -> Document:
    """A stored document in the shape this release writes: upgraded, and (from version 1,
    which stored none) with the completeness its product computes when read."""
    upgraded = {**upgrade(stored), "schema": SCHEMA}
    if upgraded["completeness"] is None:
        upgraded["completeness"] = product_from_document(stored).completeness.to_json()
    return upgraded


def test_a_version_1_product_is_untyped_and_its_completeness_computed_when_read() -> None:
    bare, full = product_from_document(by_sku("BARE-1")), product_from_document(by_sku("TS-1"))
    assert (bare.product_type, bare.completeness.ready) == (
        None,
        ("/description", "/price", "/images"),
    )
    assert full.completeness.ready == ()
    assert set(full.completeness.channels) == set(full.listings)
    assert all(not missing for missing in full.completeness.channels.values())


VARIANT_ID = "01JD8X5J9ZK8Q5W6V2C3N4M5V1"
SIDE_VIEW = image(alt="Side view")


def every_field_set() -> Product:
    """A product whose every field differs from the default a new product starts with."""
    return Product(
        id="01JD8X5J9ZK8Q5W6V2C3N4M5P6",
        merchant_id="acme",
        sku="TS-1",
        product_type="shoes",
        name="Trail shoe",
        description="Light",
        price=Money(12999, "USD"),
        attributes={"color": "red", "dims": {"w": 30}},
        options=("size", "width"),
        channel_overrides={
            "meta": ChannelOverride(
                name="Shoe",
                attributes={"color": None},
                variants={
                    VARIANT_ID: VariantOverride(
                        price=Money(9999, "USD"), attributes={"dims": {"w": None}}
                    )
                },
            ),
            "mercadolibre": ChannelOverride(
                variants={VARIANT_ID: VariantOverride(attributes={"color": "blue"})}
            ),
        },
        variants=[
            Variant(
                id=VARIANT_ID,
                sku="TS-1-42-W",
                options={"size": "42", "width": "wide"},
                price=Money(13999, "USD"),
                attributes={"color": None, "grip": "high"},
                image_ids=(SIDE_VIEW.id,),
                barcode="4006381333931",
                stock=7,
            ),
            Variant(id="01JD8X5J9ZK8Q5W6V2C3N4M5V2", sku="TS-1-43", options={"size": "43"}),
        ],
        images=[SIDE_VIEW],
        listings={
            "meta": Listing(
                ListingState.PUBLISHED, T0, 2, "M-1", "https://meta.test/M-1", None, {"a": 1}
            )
        },
        status=Status.ACTIVE,
        completeness=Completeness(ready=("/attributes/brand",), channels={"meta": ("/x",)}),
        version=3,
        created_at=T0,
        updated_at=T0 + timedelta(minutes=5),
    )


def test_every_field_of_the_product_is_stored_and_read_back() -> None:
    product = every_field_set()
    for declared in dataclasses.fields(Product):
        if declared.init and declared.default is not dataclasses.MISSING:
            assert getattr(product, declared.name) != declared.default, declared.name
        if declared.init and declared.default_factory is not dataclasses.MISSING:
            assert getattr(product, declared.name) != declared.default_factory(), declared.name

    document = product_to_document(product)

    declared_fields = {f.name for f in dataclasses.fields(Product) if f.init}
    assert set(document) == declared_fields | {"schema"}
    assert document["schema"] == SCHEMA
    assert product_from_document(json.loads(json.dumps(document))) == product


@pytest.mark.parametrize("stored", STORED_V1["products"], ids=lambda doc: doc["sku"])
def test_a_product_document_stored_before_schema_versions_loads_unchanged(
    stored: Document,
) -> None:
    assert "schema" not in stored

    product = product_from_document(stored)

    assert (product.id, product.sku, product.version) == (
        stored["id"],
        stored["sku"],
        stored["version"],
    )
    # Nothing is lost: written again, it is the stored document as upgraded, now versioned.
    assert product_to_document(product) == current(stored)


@pytest.mark.parametrize("stored", STORED_V2["products"], ids=lambda doc: doc["sku"])
def test_a_version_2_product_loads_without_options_or_variants(stored: Document) -> None:
    assert stored["schema"] == 2

    product = product_from_document(stored)

    assert (product.options, product.variants) == ((), [])
    assert product.product_type == stored["product_type"]
    # Its completeness was stored and stands: variants change nothing for a product without.
    assert product.completeness.to_json() == stored["completeness"]
    assert product_to_document(product) == {
        **stored,
        "schema": SCHEMA,
        "options": [],
        "variants": [],
    }


def test_an_idempotency_record_stored_before_schema_versions_loads() -> None:
    for stored in STORED_V1["idempotency_products"]:
        assert product_to_document(product_from_document(stored)) == current(stored)


@pytest.mark.parametrize(
    "stored", STORED_V1["history"], ids=lambda doc: f"{doc['product_id'][-4:]}-v{doc['version']}"
)
def test_a_stored_history_entry_loads_unchanged(stored: Document) -> None:
    assert history_to_document(history_from_document(stored)) == stored


@pytest.fixture
def v1_database(tmp_path: Path) -> Iterator[SqliteStore]:
    """An embedded database whose rows an earlier release wrote."""
    path = tmp_path / "catalog.db"
    SqliteStore(path).close()  # the tables, as any release creates them
    with sqlite3.connect(path) as db:
        for doc in STORED_V1["products"]:
            db.execute(
                "INSERT INTO products (merchant_id, id, sku, status, version, doc)"
                " VALUES (?, ?, ?, ?, ?, ?)",
                (
                    doc["merchant_id"],
                    doc["id"],
                    doc["sku"],
                    doc["status"],
                    doc["version"],
                    json.dumps(doc, ensure_ascii=False, separators=(",", ":")),
                ),
            )
        for doc in STORED_V1["history"]:
            db.execute(
                "INSERT INTO history (merchant_id, product_id, version, doc) VALUES (?, ?, ?, ?)",
                ("acme", doc["product_id"], doc["version"], json.dumps(doc, ensure_ascii=False)),
            )
    store = SqliteStore(path)
    yield store
    store.close()


def test_an_embedded_database_of_an_earlier_release_reads_and_updates(
    v1_database: SqliteStore,
) -> None:
    full = by_sku("TS-1")

    product = v1_database.get("acme", full["id"])
    history = v1_database.history("acme", full["id"], limit=100, before_version=None)

    assert product is not None and product_to_document(product) == current(full)
    assert [entry.version for entry in history] == list(range(full["version"], 0, -1))
    page = v1_database.page("acme", status=Status.ACTIVE, channel=None, limit=10, position=None)
    assert [listed.id for listed in page.items] == [full["id"]]

    stamp = Stamp("user-1", product.updated_at + timedelta(minutes=1))
    product.revise(name="Renamed", stamp=stamp)
    pending = product.pull_change(lambda: "01JD8X5J9ZK8Q5W6V2C3N4M5Z9")
    assert pending is not None
    v1_database.commit(Change(product, full["version"], pending.history, pending.events))

    updated = v1_database.get("acme", full["id"])
    assert updated == product
    assert (updated.name, updated.version) == ("Renamed", full["version"] + 1)
    assert product_to_document(updated)["schema"] == SCHEMA


def test_a_document_from_a_newer_release_is_refused_not_misread() -> None:
    newer = {**by_sku("BARE-1"), "schema": SCHEMA + 1}

    with pytest.raises(UnknownDocumentSchema):
        product_from_document(newer)


def test_an_older_document_is_upgraded_one_version_at_a_time(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    steps: list[int] = []

    def step(version: int, change: Document) -> Any:
        def upgrade(doc: Document) -> Document:
            steps.append(version)
            return {**doc, **change, "schema": version + 1}

        return upgrade

    # As if two more releases changed the shape after this one.
    now = SCHEMA
    monkeypatch.setattr(product_documents, "SCHEMA", now + 2)
    monkeypatch.setattr(
        product_documents,
        "UPGRADES",
        {
            **UPGRADES,
            now: step(now, {"name": "renamed by the first"}),
            now + 1: step(now + 1, {"description": "added by the second"}),
        },
    )

    product = product_from_document(by_sku("BARE-1"))

    assert steps == [now, now + 1]
    assert (product.name, product.description) == ("renamed by the first", "added by the second")
