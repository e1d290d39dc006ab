"""SKUs of products and of their variants, on every backend: one holder per merchant SKU,
taken and given up with the change that does it, looked up in one read, and exactly one
winner when two changes take the same SKU at the same moment."""

from __future__ import annotations

import threading

import pytest
from msgspec import structs

from catalog.domain.errors import DuplicateSku
from catalog.service.ports import Change, SkuOwner
from tests.backends import CatalogStore
from tests.contract.conftest import committed, create_change, new_id, update_change


def with_skus(
    change: Change, claimed: tuple[SkuOwner, ...] = (), released: tuple[str, ...] = ()
) -> Change:
    return structs.replace(change, skus_claimed=claimed, skus_released=released)


def test_a_products_sku_is_held_by_the_product(store: CatalogStore) -> None:
    product = committed(store, create_change(sku="TEE-1"))
    assert store.sku_owner("acme", "TEE-1") == SkuOwner("TEE-1", product.id, None)
    assert store.sku_owner("acme", "TEE-2") is None
    assert store.sku_owner("globex", "TEE-1") is None  # per merchant


def test_a_variant_takes_a_sku_with_its_change_and_gives_it_up(store: CatalogStore) -> None:
    product = committed(store, create_change(sku="TEE"))
    red = SkuOwner("TEE-RED", product.id, new_id())
    committed(store, with_skus(update_change(product), (red,)))
    assert store.sku_owner("acme", "TEE-RED") == red

    committed(store, with_skus(update_change(product), released=("TEE-RED",)))
    assert store.sku_owner("acme", "TEE-RED") is None


def test_a_sku_moves_between_variants_of_one_product_in_one_change(store: CatalogStore) -> None:
    product = committed(store, create_change(sku="TEE"))
    first, second = new_id(), new_id()
    committed(store, with_skus(update_change(product), (SkuOwner("TEE-X", product.id, first),)))
    moved = SkuOwner("TEE-X", product.id, second)
    committed(store, with_skus(update_change(product), (moved,), ("TEE-X",)))
    assert store.sku_owner("acme", "TEE-X") == moved


@pytest.mark.parametrize("taken", ["TEE", "MUG-RED"], ids=["a product's", "a variant's"])
def test_a_sku_held_by_anyone_is_refused_and_nothing_is_written(
    store: CatalogStore, taken: str
) -> None:
    committed(store, create_change(sku="TEE"))
    mug = committed(store, create_change(sku="MUG"))
    committed(store, with_skus(update_change(mug), (SkuOwner("MUG-RED", mug.id, new_id()),)))
    other = committed(store, create_change(sku="CAP"))
    version = other.version

    change = with_skus(update_change(other), (SkuOwner(taken, other.id, new_id()),))
    with pytest.raises(DuplicateSku) as refused:
        store.commit(change)

    assert refused.value.sku == taken
    stored = store.get("acme", other.id)
    assert stored is not None and stored.version == version


def test_a_new_products_sku_may_not_be_a_variants(store: CatalogStore) -> None:
    mug = committed(store, create_change(sku="MUG"))
    committed(store, with_skus(update_change(mug), (SkuOwner("MUG-RED", mug.id, new_id()),)))
    with pytest.raises(DuplicateSku):
        store.commit(create_change(sku="MUG-RED"))


def test_two_products_taking_one_sku_at_once_have_exactly_one_winner(
    store: CatalogStore,
) -> None:
    rivals = [committed(store, create_change(sku=f"P-{n}")) for n in range(2)]
    changes = [with_skus(update_change(p), (SkuOwner("SHARED", p.id, new_id()),)) for p in rivals]
    start = threading.Barrier(len(changes))
    outcomes: list[str] = []

    def take(change: Change) -> None:
        start.wait()
        try:
            store.commit(change)
            outcomes.append("won")
        except DuplicateSku:
            outcomes.append("refused")

    threads = [threading.Thread(target=take, args=(c,)) for c in changes]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(outcomes) == ["refused", "won"]
    owner = store.sku_owner("acme", "SHARED")
    assert owner is not None and owner.product_id in {p.id for p in rivals}
