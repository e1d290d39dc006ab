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
from catalog.service.context import CatalogContext
from catalog.service.cursors import CursorCodec
from catalog.service.ports import Change


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
                products.update_product(
                    self.ctx, product.merchant_id, product.id, {"name": name}, "b"
                )
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
    product = products.register_product(ctx, "acme", {"sku": "S", "name": "A"}, "a").product

    store.race_next = True
    with pytest.raises(PreconditionFailed) as raised:
        products.update_product(ctx, "acme", product.id, {"description": "x"}, "a", if_match=1)

    assert raised.value.current_version == 3
    assert products.get_product(ctx, "acme", product.id).name == "B"


def test_a_blind_writer_that_lost_the_race_is_applied_on_top(raced: Any) -> None:
    store, ctx = raced
    product = products.register_product(ctx, "acme", {"sku": "S", "name": "A"}, "a").product

    store.race_next = True
    updated = products.update_product(ctx, "acme", product.id, {"description": "x"}, "a")

    assert (updated.version, updated.name, updated.description) == (4, "B", "x")
