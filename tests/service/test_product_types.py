"""Product type use cases on the in-memory adapters: create, read, list, patch, delete, who may
do each, and the events they emit."""

from __future__ import annotations

from typing import Any

import pytest

from catalog.adapters.memory.store import MemoryStore
from catalog.adapters.ulid_ids import UlidIds
from catalog.domain.errors import (
    AccessDenied,
    DuplicateProductType,
    InvalidField,
    MerchantNotFound,
    PreconditionFailed,
    ProductTypeNotFound,
)
from catalog.domain.events import EventName
from catalog.service import product_types
from catalog.service.commands import (
    CreateProductType,
    DeleteProductType,
    GetProductType,
    ListProductTypes,
    PatchProductType,
)
from catalog.service.context import CatalogContext
from catalog.service.cursors import CursorCodec
from tests.clocks import FixedClock
from tests.principals import ALICE, OPERATOR, adapter, merchant

APPAREL: dict[str, Any] = {
    "key": "apparel",
    "name": "Apparel",
    "attributes": {
        "brand": {"type": "string", "required": True},
        "size": {"type": "enum", "values": ["S", "M", "L"], "variant_axis": True},
    },
}


@pytest.fixture
def store() -> MemoryStore:
    return MemoryStore()


@pytest.fixture
def ctx(store: MemoryStore) -> CatalogContext:
    return CatalogContext(
        store=store,
        assets=None,  # type: ignore[arg-type]  # product types touch no asset
        images=None,  # type: ignore[arg-type]
        clock=FixedClock(),
        ids=UlidIds(),
        cursors=CursorCodec(b"test-cursor-secret-0123456789abcdef"),
    )


def events(store: MemoryStore) -> list[tuple[str, str | None, int, dict[str, Any]]]:
    return [
        (r.event.name.value, r.event.product_type, r.event.version, r.event.data)
        for r in store.read_after(0, 100)
    ]


def create(ctx: CatalogContext, body: dict[str, Any] = APPAREL) -> None:
    product_types.create_product_type(ctx, ALICE, CreateProductType.from_json("acme", body))


def test_a_type_is_created_read_and_announced(ctx: CatalogContext, store: MemoryStore) -> None:
    create(ctx)
    read = product_types.get_product_type(ctx, ALICE, GetProductType("acme", "apparel"))
    assert (read.key, read.version, read.content.required_names()) == ("apparel", 1, ["brand"])
    assert events(store) == [
        (
            "ProductTypeCreated",
            "apparel",
            1,
            {"name": "Apparel", "attribute_names": ["brand", "size"]},
        )
    ]


def test_a_key_is_created_once_per_merchant(ctx: CatalogContext, store: MemoryStore) -> None:
    create(ctx)
    with pytest.raises(DuplicateProductType):
        create(ctx)
    other = CreateProductType.from_json("globex", APPAREL)
    product_types.create_product_type(ctx, merchant("globex"), other)
    assert len(events(store)) == 2


def test_a_malformed_type_is_refused_with_every_pointer_and_nothing_written(
    ctx: CatalogContext, store: MemoryStore
) -> None:
    body = {"key": "Apparel", "name": "", "attributes": {"size": {"type": "enum"}}}
    with pytest.raises(InvalidField) as refused:
        create(ctx, body)
    assert {e.field for e in refused.value.fields} == {"/key", "/name", "/attributes/size/values"}
    assert events(store) == []


def test_a_patch_merges_into_definitions_and_names_what_changed(
    ctx: CatalogContext, store: MemoryStore
) -> None:
    create(ctx)
    patch = {
        "attributes": {"size": {"values": ["S", "M", "L", "XL"]}, "material": {"type": "string"}}
    }
    revised = product_types.patch_product_type(
        ctx, ALICE, PatchProductType.from_json("acme", "apparel", patch, if_match=1)
    )
    assert revised.version == 2
    assert revised.content.attributes["size"].values == ("S", "M", "L", "XL")
    assert events(store)[-1][:3] == ("ProductTypeUpdated", "apparel", 2)
    assert events(store)[-1][3]["changed_fields"] == ["/attributes/size", "/attributes/material"]


def test_a_patch_that_changes_nothing_writes_nothing(
    ctx: CatalogContext, store: MemoryStore
) -> None:
    create(ctx)
    same = PatchProductType.from_json("acme", "apparel", {"name": "Apparel"})
    assert product_types.patch_product_type(ctx, ALICE, same).version == 1
    assert len(events(store)) == 1


def test_a_stale_patch_is_412_and_a_patch_breaking_the_type_is_422(ctx: CatalogContext) -> None:
    create(ctx)
    with pytest.raises(PreconditionFailed, match="product type is at version 1, not 3"):
        product_types.patch_product_type(
            ctx, ALICE, PatchProductType.from_json("acme", "apparel", {"name": "X"}, if_match=3)
        )
    with pytest.raises(InvalidField) as refused:
        product_types.patch_product_type(
            ctx,
            ALICE,
            PatchProductType.from_json(
                "acme", "apparel", {"attributes": {"size": {"values": None}}}
            ),
        )
    assert refused.value.field == "/attributes/size/values"
    with pytest.raises(InvalidField) as renamed:
        PatchProductType.from_json("acme", "apparel", {"key": "clothes", "colour": 1})
    assert {e.field for e in renamed.value.fields} == {"/key", "/colour"}


def test_a_deleted_type_is_gone_and_a_retry_is_404(ctx: CatalogContext, store: MemoryStore) -> None:
    create(ctx)
    product_types.delete_product_type(ctx, ALICE, DeleteProductType("acme", "apparel"))
    with pytest.raises(ProductTypeNotFound):
        product_types.get_product_type(ctx, ALICE, GetProductType("acme", "apparel"))
    with pytest.raises(ProductTypeNotFound):
        product_types.delete_product_type(ctx, ALICE, DeleteProductType("acme", "apparel"))
    assert [e[:3] for e in events(store)] == [
        ("ProductTypeCreated", "apparel", 1),
        ("ProductTypeDeleted", "apparel", 2),
    ]


def test_types_are_listed_by_key_one_page_at_a_time(ctx: CatalogContext) -> None:
    for key in ["shoes", "apparel", "electronics"]:
        create(ctx, {**APPAREL, "key": key})
    first = product_types.list_product_types(ctx, ALICE, ListProductTypes("acme", limit=2))
    assert [t.key for t in first.items] == ["apparel", "electronics"]
    rest = product_types.list_product_types(
        ctx, ALICE, ListProductTypes("acme", limit=2, cursor=first.next_cursor)
    )
    assert ([t.key for t in rest.items], rest.next_cursor) == (["shoes"], None)
    assert product_types.list_product_types(ctx, OPERATOR, ListProductTypes("acme")).items
    elsewhere = product_types.list_product_types(
        ctx, merchant("globex"), ListProductTypes("globex")
    )
    assert elsewhere.items == []


def test_another_merchant_sees_no_type_and_changes_none(
    ctx: CatalogContext, store: MemoryStore
) -> None:
    create(ctx)
    stranger = merchant("globex")
    with pytest.raises(MerchantNotFound):
        product_types.get_product_type(ctx, stranger, GetProductType("acme", "apparel"))
    with pytest.raises(MerchantNotFound):
        product_types.list_product_types(ctx, stranger, ListProductTypes("acme"))
    with pytest.raises(MerchantNotFound):
        product_types.delete_product_type(ctx, stranger, DeleteProductType("acme", "apparel"))
    assert len(events(store)) == 1


def test_the_platform_manages_any_merchants_types_and_an_adapter_none(
    ctx: CatalogContext, store: MemoryStore
) -> None:
    product_types.create_product_type(ctx, OPERATOR, CreateProductType.from_json("acme", APPAREL))
    with pytest.raises((AccessDenied, MerchantNotFound)):
        product_types.create_product_type(
            ctx, adapter("ml"), CreateProductType.from_json("acme", {**APPAREL, "key": "other"})
        )
    with pytest.raises((AccessDenied, MerchantNotFound)):
        product_types.delete_product_type(ctx, adapter("ml"), DeleteProductType("acme", "apparel"))
    assert [e[0] for e in events(store)] == [EventName.PRODUCT_TYPE_CREATED.value]
