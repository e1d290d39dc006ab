"""The product type part of the ProductStore contract: every backend stores, conditions, lists
and deletes types alike, each write atomic with its events (DESIGN.md section 9)."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from datetime import timedelta
from typing import Any

import pytest
from msgspec.structs import replace

from catalog.adapters.type_documents import type_to_document
from catalog.domain.errors import DuplicateProductType, ProductTypeInUse, VersionConflict
from catalog.domain.events import DomainEvent, EventName
from catalog.domain.product import Product, Stamp
from catalog.domain.product_types import ProductType, parse_type_content
from catalog.service.ports import Change, TypeChange

from .conftest import ACTOR, T0, CatalogStore, committed, new_id
from .test_product_store_contract import race

APPAREL: dict[str, Any] = {
    "name": "Apparel «ropa» 👕",
    "attributes": {
        "brand": {"type": "string", "label": "Marca", "max_length": 60, "required": True},
        "size": {"type": "enum", "values": ["S", "M", "L"], "variant_axis": True},
        "chest_cm": {"type": "integer", "minimum": 40, "maximum": 160},
        "weight_kg": {"type": "number", "minimum": 0.05, "maximum": 9.5},
        "organic": {"type": "boolean", "required_on": ["facebook", "mercadolibre"]},
        "care_url": {"type": "url", "max_length": 300},
    },
    "additional_attributes": False,
}


# ---------------------------------------------------------------------- builders


def new_type(
    key: str = "apparel", merchant_id: str = "acme", document: dict[str, Any] | None = None
) -> ProductType:
    return ProductType.create(merchant_id, key, parse_type_content(document or APPAREL), T0)


def type_event(
    name: EventName, product_type: ProductType, changed: list[str] | None = None
) -> DomainEvent:
    """The event of a type write, with the data its JSON Schema (docs/events) asks for."""
    data: dict[str, Any] = {}
    if name is not EventName.PRODUCT_TYPE_DELETED:
        content = product_type.content
        data = {"name": content.name, "attribute_names": list(content.attributes)}
    if changed:
        data["changed_fields"] = changed
    return DomainEvent(
        id=new_id(),
        name=name,
        merchant_id=product_type.merchant_id,
        product_id=None,
        version=product_type.version,
        occurred_at=product_type.updated_at,
        data=data,
        product_type=product_type.key,
    )


def creation(product_type: ProductType) -> TypeChange:
    return TypeChange(product_type, 0, (type_event(EventName.PRODUCT_TYPE_CREATED, product_type),))


def revision(product_type: ProductType, name: str | None = None) -> TypeChange:
    """The next version of `product_type`, renamed (by default: its name plus '+')."""
    content = replace(product_type.content, name=name or product_type.content.name + "+")
    revised, changed = product_type.revised(content, product_type.updated_at + timedelta(minutes=1))
    assert changed
    event = type_event(EventName.PRODUCT_TYPE_UPDATED, revised, changed)
    return TypeChange(revised, product_type.version, (event,))


def deletion(product_type: ProductType) -> TypeChange:
    """As the service deletes: the event carries the version after the type's last."""
    gone = replace(
        product_type,
        version=product_type.version + 1,
        updated_at=product_type.updated_at + timedelta(minutes=1),
    )
    event = type_event(EventName.PRODUCT_TYPE_DELETED, gone)
    return TypeChange(gone, product_type.version, (event,), deleted=True)


def committed_type(store: CatalogStore, change: TypeChange) -> ProductType:
    store.commit_type(change)
    return change.product_type


def event_ids(store: CatalogStore) -> list[str]:
    return [record.event.id for record in store.read_after(0, 1000)]


def ids_of(*changes: TypeChange) -> list[str]:
    return [event.id for change in changes for event in change.events]


def walk(store: CatalogStore, merchant_id: str, limit: int) -> list[list[str]]:
    """The keys of every page, following positions until the store says there is no more."""
    pages: list[list[str]] = []
    position = None
    while True:
        page = store.product_types(merchant_id, limit=limit, position=position)
        pages.append([product_type.key for product_type in page.items])
        if page.position is None:
            return pages
        assert page.position == page.items[-1].key
        assert len(pages) < 50, "paging does not end"
        position = page.position


def typed_change(product_type: ProductType) -> Change:
    """The registration of a product of `product_type`, as the service builds it."""
    product = Product.register(
        id=new_id(),
        merchant_id=product_type.merchant_id,
        sku="SKU-" + new_id(),
        name="Typed",
        product_type=product_type.key,
        stamp=Stamp(ACTOR, T0),
        type_content=product_type.content,
    )
    pending = product.pull_change(new_id)
    assert pending is not None
    return Change(product, pending.expected_version, pending.history, pending.events)


def retyped(product: Product, product_type: ProductType | None, **content: Any) -> Change:
    """The next version of `product` with `product_type` (None: untyped) and `content`,
    mutated in place. The change names the type it replaces, as the service's do."""
    type_before = product.product_type
    product.revise(
        stamp=Stamp(ACTOR, product.updated_at + timedelta(minutes=1)),
        type_content=product_type.content if product_type else None,
        product_type=product_type.key if product_type else None,
        **content,
    )
    pending = product.pull_change(new_id)
    assert pending is not None
    return Change(
        product,
        pending.expected_version,
        pending.history,
        pending.events,
        type_before=type_before,
    )


# ---------------------------------------------------------------------- documents


def test_a_created_type_reads_back_with_every_definition(store: CatalogStore) -> None:
    created = committed_type(store, creation(new_type()))

    stored = store.product_type("acme", "apparel")

    assert stored == created
    assert stored is not None
    assert type_to_document(stored) == type_to_document(created)
    assert stored.content.to_json() == APPAREL
    assert (stored.version, stored.created_at, stored.updated_at) == (1, T0, T0)


def test_an_unknown_type_is_absent(store: CatalogStore) -> None:
    committed_type(store, creation(new_type("apparel")))

    assert store.product_type("acme", "electronics") is None
    assert store.product_type("globex", "apparel") is None


def test_a_revision_replaces_the_content_and_keeps_the_creation_time(
    store: CatalogStore,
) -> None:
    created = committed_type(store, creation(new_type()))
    revised = committed_type(store, revision(created, name="Clothing"))

    stored = store.product_type("acme", "apparel")

    assert stored == revised
    assert stored is not None
    assert (stored.version, stored.content.name) == (2, "Clothing")
    assert (stored.created_at, stored.updated_at) == (T0, T0 + timedelta(minutes=1))
    assert walk(store, "acme", limit=10) == [["apparel"]]


def test_a_deleted_type_is_gone_and_its_key_can_be_taken_again(store: CatalogStore) -> None:
    first = creation(new_type())
    created = committed_type(store, first)
    gone = deletion(created)
    store.commit_type(gone)

    assert store.product_type("acme", "apparel") is None
    assert walk(store, "acme", limit=10) == [[]]

    again = creation(new_type(document={"name": "Apparel again"}))
    recreated = committed_type(store, again)
    assert store.product_type("acme", "apparel") == recreated
    # Every write's event, each once: the new type's version 1 is not the old one's.
    assert event_ids(store) == ids_of(first, gone, again)


# ---------------------------------------------------------------------- conditions


def test_creating_an_existing_key_is_refused_and_writes_nothing(store: CatalogStore) -> None:
    first = creation(new_type())
    created = committed_type(store, first)

    with pytest.raises(DuplicateProductType) as raised:
        store.commit_type(creation(new_type(document={"name": "Other", "attributes": {}})))

    assert raised.value.key == "apparel"
    assert store.product_type("acme", "apparel") == created
    assert event_ids(store) == ids_of(first)


def test_a_stale_version_is_a_conflict_and_writes_nothing(store: CatalogStore) -> None:
    first = creation(new_type())
    created = committed_type(store, first)
    second = revision(created, name="Winner")
    winner = committed_type(store, second)

    for stale in (revision(created, name="Loser"), deletion(created)):
        with pytest.raises(VersionConflict):
            store.commit_type(stale)

    assert store.product_type("acme", "apparel") == winner
    assert event_ids(store) == ids_of(first, second)


def test_revising_or_deleting_a_type_that_does_not_exist_is_a_conflict(
    store: CatalogStore,
) -> None:
    ghost = new_type()  # built but never committed

    with pytest.raises(VersionConflict):
        store.commit_type(revision(ghost))
    with pytest.raises(VersionConflict):
        store.commit_type(deletion(ghost))

    assert store.product_type("acme", "apparel") is None
    assert walk(store, "acme", limit=10) == [[]]
    assert event_ids(store) == []


def test_a_type_in_use_cannot_be_deleted_until_no_product_has_it(store: CatalogStore) -> None:
    first = creation(new_type())
    created = committed_type(store, first)
    product = committed(store, typed_change(created))
    events_before = event_ids(store)

    with pytest.raises(ProductTypeInUse) as raised:
        store.commit_type(deletion(created))

    assert raised.value.key == "apparel"
    assert store.product_type("acme", "apparel") == created
    assert event_ids(store) == events_before
    # A stale delete of a type in use is told about the version first, as any stale write.
    revised = committed_type(store, revision(created))
    with pytest.raises(VersionConflict):
        store.commit_type(deletion(created))

    committed(store, retyped(product, None))
    gone = deletion(revised)
    store.commit_type(gone)
    assert store.product_type("acme", "apparel") is None
    assert event_ids(store)[-1] == gone.events[0].id


def test_a_type_is_in_use_while_any_of_its_products_has_it(store: CatalogStore) -> None:
    apparel = committed_type(store, creation(new_type("apparel")))
    shoes = committed_type(store, creation(new_type("shoes")))
    first = committed(store, typed_change(apparel))
    second = committed(store, typed_change(apparel))

    committed(store, retyped(first, shoes))  # apparel keeps one product, shoes has one
    with pytest.raises(ProductTypeInUse):
        store.commit_type(deletion(apparel))
    with pytest.raises(ProductTypeInUse):
        store.commit_type(deletion(shoes))
    committed(store, retyped(first, shoes, name="Renamed"))  # keeps its type: no change
    committed(store, retyped(second, shoes))

    store.commit_type(deletion(apparel))
    with pytest.raises(ProductTypeInUse):
        store.commit_type(deletion(shoes))
    committed(store, retyped(first, None))
    committed(store, retyped(second, None))
    store.commit_type(deletion(shoes))
    assert walk(store, "acme", limit=10) == [[]]


def test_another_merchants_product_does_not_hold_a_type(store: CatalogStore) -> None:
    acme = committed_type(store, creation(new_type("apparel", "acme")))
    globex = committed_type(store, creation(new_type("apparel", "globex")))
    committed(store, typed_change(globex))

    store.commit_type(deletion(acme))

    assert store.product_type("acme", "apparel") is None
    with pytest.raises(ProductTypeInUse):
        store.commit_type(deletion(globex))


def test_racing_creations_of_one_key_let_exactly_one_through(store: CatalogStore) -> None:
    changes = [creation(new_type(document={"name": f"Writer {n}"})) for n in range(6)]

    outcomes = race(store.commit_type, changes)  # type: ignore[arg-type]

    assert outcomes.count(None) == 1
    assert all(isinstance(o, DuplicateProductType) for o in outcomes if o is not None)
    winner = changes[outcomes.index(None)]
    assert store.product_type("acme", "apparel") == winner.product_type
    assert event_ids(store) == ids_of(winner)


def test_racing_revisions_of_one_version_let_exactly_one_through(store: CatalogStore) -> None:
    created = committed_type(store, creation(new_type()))
    changes = [revision(created, name=f"Writer {n}") for n in range(6)]

    outcomes = race(store.commit_type, changes)  # type: ignore[arg-type]

    assert outcomes.count(None) == 1
    assert all(isinstance(o, VersionConflict) for o in outcomes if o is not None)
    assert store.product_type("acme", "apparel") == changes[outcomes.index(None)].product_type


# ---------------------------------------------------------------------- pages and tenants


def test_pages_walk_every_type_once_in_key_order(store: CatalogStore) -> None:
    keys = ["shoes", "apparel", "toys", "electronics", "books", "garden", "food"]
    for key in keys:
        committed_type(store, creation(new_type(key)))

    assert walk(store, "acme", limit=3) == [
        ["apparel", "books", "electronics"],
        ["food", "garden", "shoes"],
        ["toys"],
    ]
    # A last page that is exactly full says so: no empty page after it.
    store.commit_type(deletion(new_type("toys")))
    assert walk(store, "acme", limit=3) == [
        ["apparel", "books", "electronics"],
        ["food", "garden", "shoes"],
    ]
    assert walk(store, "acme", limit=100) == [sorted(set(keys) - {"toys"})]
    page = store.product_types("acme", limit=2, position="electronics")
    assert [t.key for t in page.items] == ["food", "garden"]
    assert all(t == store.product_type("acme", t.key) for t in page.items)


def test_merchants_never_see_each_others_types(store: CatalogStore) -> None:
    acme = committed_type(store, creation(new_type("apparel", "acme")))
    globex = committed_type(
        store, creation(new_type("apparel", "globex", {"name": "Globex apparel"}))
    )
    committed_type(store, creation(new_type("electronics", "globex")))

    assert store.product_type("acme", "apparel") == acme
    assert store.product_type("globex", "apparel") == globex
    assert walk(store, "acme", limit=10) == [["apparel"]]
    assert walk(store, "globex", limit=10) == [["apparel", "electronics"]]
    assert walk(store, "initech", limit=10) == [[]]

    committed_type(store, revision(acme))
    store.commit_type(deletion(store.product_type("acme", "apparel")))  # type: ignore[arg-type]
    assert store.product_type("globex", "apparel") == globex


# ---------------------------------------------------------------------- restart


def test_types_survive_closing_and_reopening(
    reopen: Callable[[], AbstractContextManager[CatalogStore]],
) -> None:
    with reopen() as store:
        created = committed_type(store, creation(new_type("apparel")))
        revised = committed_type(store, revision(created))
        committed_type(store, creation(new_type("electronics")))
        events = event_ids(store)

    with reopen() as store:
        assert store.product_type("acme", "apparel") == revised
        assert walk(store, "acme", limit=1) == [["apparel"], ["electronics"]]
        assert event_ids(store) == events
        # Conditions hold across restarts too.
        with pytest.raises(DuplicateProductType):
            store.commit_type(creation(new_type("apparel")))
        with pytest.raises(VersionConflict):
            store.commit_type(revision(created))
