"""A writer that loses the race between its read and its commit: with If-Match it learns the
version that won (412); without, its change is re-applied on top, nothing lost."""

from __future__ import annotations

from typing import Any

import pytest

from catalog.adapters.memory.assets import MemoryAssetStore
from catalog.adapters.memory.store import MemoryStore
from catalog.adapters.pillow_images import PillowImageInspector
from catalog.adapters.system_clock import SystemClock
from catalog.adapters.ulid_ids import UlidIds
from catalog.domain.errors import PreconditionFailed
from catalog.service import products
from catalog.service.commands import GetProduct, PatchProduct, RegisterProduct
from catalog.service.context import CatalogContext
from catalog.service.cursors import CursorCodec
from catalog.service.ports import Change
from tests.principals import merchant

A = merchant("acme", "a")


class RacedStore(MemoryStore):
    """Lets another writer change the product twice just before the next commit lands."""

    def __init__(self) -> None:
        super().__init__()
        self.ctx: CatalogContext | None = None
        self.race_next = False

    def commit(self, change: Change) -> None:
        if self.race_next and self.ctx is not None:
            self.race_next = False
            product = change.product
            for name in ("B0", "B"):
                patch = PatchProduct(product.merchant_id, product.id, {"name": name})
                products.update_product(self.ctx, merchant(product.merchant_id, "b"), patch)
        super().commit(change)


@pytest.fixture
def raced() -> tuple[RacedStore, CatalogContext]:
    store = RacedStore()
    ctx = CatalogContext(
        store,
        MemoryAssetStore(),
        PillowImageInspector(),
        SystemClock(),
        UlidIds(),
        CursorCodec(b"k" * 32),
    )
    store.ctx = ctx
    return store, ctx


def test_a_conditional_writer_that_lost_the_race_gets_412_naming_the_winner(raced: Any) -> None:
    store, ctx = raced
    product = products.register_product(
        ctx, A, RegisterProduct.from_json("acme", {"sku": "S", "name": "A"})
    ).product

    store.race_next = True
    with pytest.raises(PreconditionFailed) as raised:
        products.update_product(ctx, A, PatchProduct("acme", product.id, {"description": "x"}, 1))

    assert raised.value.current_version == 3
    assert products.get_product(ctx, A, GetProduct("acme", product.id)).name == "B"


def test_a_blind_writer_that_lost_the_race_is_applied_on_top(raced: Any) -> None:
    store, ctx = raced
    product = products.register_product(
        ctx, A, RegisterProduct.from_json("acme", {"sku": "S", "name": "A"})
    ).product

    store.race_next = True
    updated = products.update_product(
        ctx, A, PatchProduct("acme", product.id, {"description": "x"})
    )

    assert (updated.version, updated.name, updated.description) == (4, "B", "x")
