"""Pages of one product type's products, and the walk of every merchant that has products
(DESIGN.md section 9): every backend lists them alike.

A page filtered on the type and something else may be short, even empty, while more follow
(DynamoDB filters what its index read, docs/dynamodb.md): those walks compare what all the
pages hold together, and only the type alone is held to full pages.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta

from catalog.domain.lifecycle import Status
from catalog.domain.product import Product, Stamp
from catalog.domain.product_types import ProductType
from catalog.service.ports import Change

from .conftest import (
    ACTOR,
    T0,
    CatalogStore,
    committed,
    create_change,
    listing,
    new_id,
    update_change,
)
from .test_type_store_contract import committed_type, creation, new_type, retyped


def typed(
    store: CatalogStore,
    product_type: ProductType,
    *,
    listings: Mapping[str, str] | None = None,
    deactivated: bool = False,
) -> str:
    """Registers a product of `product_type` (listings stored as given, deactivated if asked)
    and returns its id."""
    stamp = Stamp(ACTOR, T0)
    product = Product.register(
        id=new_id(),
        merchant_id=product_type.merchant_id,
        sku="SKU-" + new_id(),
        name="Typed",
        product_type=product_type.key,
        stamp=stamp,
        type_content=product_type.content,
    )
    # Stores keep listings as data; which commands produce them is the domain's business.
    product.listings = {channel: listing(state) for channel, state in (listings or {}).items()}
    if deactivated:
        product.deactivate(Stamp(ACTOR, T0 + timedelta(minutes=1)), "discontinued")
    pending = product.pull_change(new_id)
    assert pending is not None
    change = Change(product, pending.expected_version, pending.history, pending.events)
    return committed(store, change).id


def walk(
    store: CatalogStore,
    merchant_id: str,
    product_type: str,
    *,
    limit: int,
    status: Status | None = None,
    channel: str | None = None,
) -> list[list[str]]:
    """The ids of every page of the type, following positions to the end. Each page holds at
    most `limit` products, all after the position it started from: no product twice."""
    pages: list[list[str]] = []
    position = None
    while True:
        page = store.page(
            merchant_id,
            status=status,
            channel=channel,
            limit=limit,
            position=position,
            product_type=product_type,
        )
        ids = [product.id for product in page.items]
        assert len(ids) <= limit
        assert ids == sorted(ids)
        assert position is None or all(i > position for i in ids)
        assert all(p.product_type == product_type for p in page.items)
        pages.append(ids)
        if page.position is None:
            return pages
        assert not ids or page.position >= ids[-1]
        assert len(pages) < 50, "paging does not end"
        position = page.position


def listed(pages: list[list[str]]) -> list[str]:
    return [i for page in pages for i in page]


def merchants(store: CatalogStore, limit: int) -> list[list[str]]:
    pages: list[list[str]] = []
    position = None
    while True:
        page = store.merchants(limit=limit, position=position)
        pages.append(page.items)
        if page.position is None:
            return pages
        assert page.position == page.items[-1]
        assert len(pages) < 50, "paging does not end"
        position = page.position


# ---------------------------------------------------------------------- by type


def test_pages_of_a_type_walk_its_products_once_in_id_order(store: CatalogStore) -> None:
    apparel = committed_type(store, creation(new_type("apparel")))
    shoes = committed_type(store, creation(new_type("shoes")))
    theirs = committed_type(store, creation(new_type("apparel", merchant_id="globex")))
    clothes = sorted(typed(store, apparel) for _ in range(5))
    footwear = [typed(store, shoes)]
    committed(store, create_change())  # untyped
    their_id = typed(store, theirs)

    assert walk(store, "acme", "apparel", limit=2) == [clothes[:2], clothes[2:4], clothes[4:]]
    assert walk(store, "acme", "apparel", limit=5) == [clothes]
    assert walk(store, "acme", "shoes", limit=5) == [footwear]
    assert walk(store, "acme", "bags", limit=5) == [[]]  # no such type: nothing
    assert walk(store, "globex", "apparel", limit=5) == [[their_id]]


def test_the_type_filter_combines_with_the_status(store: CatalogStore) -> None:
    apparel = committed_type(store, creation(new_type("apparel")))
    shoes = committed_type(store, creation(new_type("shoes")))
    drafts, inactive = [], []
    for n in range(4):  # interleaved in id order, so a status is every other product
        drafts.append(typed(store, apparel))
        if n < 3:
            inactive.append(typed(store, apparel, deactivated=True))
    drafts.sort()
    inactive.sort()
    typed(store, shoes, deactivated=True)
    committed(store, create_change(deactivated=True))  # untyped

    for limit in (1, 2, 10):
        assert listed(walk(store, "acme", "apparel", status=Status.DRAFT, limit=limit)) == drafts
        assert listed(walk(store, "acme", "apparel", status=Status.INACTIVE, limit=limit)) == (
            inactive
        )
        assert listed(walk(store, "acme", "apparel", status=Status.READY, limit=limit)) == []


def test_the_type_filter_combines_with_the_channel(store: CatalogStore) -> None:
    apparel = committed_type(store, creation(new_type("apparel")))
    shoes = committed_type(store, creation(new_type("shoes")))
    live = sorted(typed(store, apparel, listings={"mercadolibre": "PUBLISHED"}) for _ in range(3))
    withdrawn = typed(store, apparel, listings={"mercadolibre": "UNPUBLISHING"}, deactivated=True)
    typed(store, apparel, listings={"mercadolibre": "FAILED"})
    typed(store, apparel)
    typed(store, shoes, listings={"mercadolibre": "PUBLISHED"})
    committed(store, create_change(listings={"mercadolibre": "PUBLISHED"}))  # untyped

    everything = sorted([*live, withdrawn])
    for limit in (1, 2, 10):
        pages = walk(store, "acme", "apparel", channel="mercadolibre", limit=limit)
        assert listed(pages) == everything
        drafts = walk(
            store, "acme", "apparel", channel="mercadolibre", status=Status.DRAFT, limit=limit
        )
        assert listed(drafts) == live
    assert listed(walk(store, "acme", "apparel", channel="facebook", limit=10)) == []


def test_a_product_whose_type_changes_moves_between_the_type_pages(store: CatalogStore) -> None:
    apparel = committed_type(store, creation(new_type("apparel")))
    shoes = committed_type(store, creation(new_type("shoes")))
    stays = typed(store, apparel)
    moving_id = typed(store, apparel)
    moving = store.get("acme", moving_id)
    assert moving is not None

    committed(store, retyped(moving, shoes))
    assert listed(walk(store, "acme", "apparel", limit=10)) == [stays]
    assert listed(walk(store, "acme", "shoes", limit=10)) == [moving_id]

    # Untyped again: in no type's pages, still in the merchant's.
    committed(store, retyped(moving, None))
    assert listed(walk(store, "acme", "apparel", limit=10)) == [stays]
    assert listed(walk(store, "acme", "shoes", limit=10)) == []
    everyone = store.page("acme", status=None, channel=None, limit=10, position=None).items
    assert sorted(p.id for p in everyone) == sorted([stays, moving_id])


def test_untyped_products_are_in_no_type_pages(store: CatalogStore) -> None:
    apparel = committed_type(store, creation(new_type("apparel")))
    for _ in range(3):
        committed(store, create_change())

    assert walk(store, "acme", "apparel", limit=2) == [[]]
    assert walk(store, "acme", "apparel", status=Status.DRAFT, limit=2)[-1] == []
    # A product taking the type appears; the untyped ones still do not.
    only = typed(store, apparel)
    assert listed(walk(store, "acme", "apparel", status=Status.DRAFT, limit=2)) == [only]


# ---------------------------------------------------------------------- every merchant


def test_merchants_are_walked_once_each_in_id_order(store: CatalogStore) -> None:
    names = ["zeta", "acme", "m-7", "globex", "beta_2"]
    for name in names:
        for _ in range(2):  # a merchant with many products is named once
            committed(store, create_change(name))

    assert merchants(store, limit=2) == [["acme", "beta_2"], ["globex", "m-7"], ["zeta"]]
    assert merchants(store, limit=5) == [sorted(names)]
    assert merchants(store, limit=100) == [sorted(names)]


def test_only_merchants_that_have_products_are_walked(store: CatalogStore) -> None:
    assert merchants(store, limit=10) == [[]]
    committed_type(store, creation(new_type("apparel", merchant_id="typesonly")))
    assert merchants(store, limit=10) == [[]]  # a type is not a product

    product = committed(store, create_change("acme"))
    committed(store, update_change(product))  # a later write names it no twice
    assert merchants(store, limit=10) == [["acme"]]
