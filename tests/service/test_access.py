"""Who may run which use case, decided by the use cases themselves: every use case with every
role and scope, on the in-memory adapters, without HTTP. A refusal writes nothing and emits
nothing. This is the table of docs/api.md ("Who may do what"), cell by cell:

- read (get, list, history; get and list product types): the merchant, the platform, and a
  channel adapter whose scope holds the merchant (named, or `*`), whichever its channel;
- write (every change a merchant makes, product types included): the merchant and the
  platform; a channel adapter in scope is refused (it may read);
- report (a listing outcome): only the adapter of that channel, with the merchant in scope;
- anybody else sees nothing, the 404 of an absent product: another merchant, a channel
  adapter scoped to other merchants or to none (a token without the scope claim).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest

from catalog.adapters.memory.assets import MemoryAssetStore
from catalog.adapters.memory.store import MemoryStore
from catalog.adapters.pillow_images import PillowImageInspector
from catalog.adapters.system_clock import SystemClock
from catalog.adapters.ulid_ids import UlidIds
from catalog.domain.errors import AccessDenied, MerchantNotFound, ProductNotFound
from catalog.domain.lifecycle import Status
from catalog.domain.product import Product
from catalog.service import channels, images, product_types, products, uploads
from catalog.service.commands import (
    AddImage,
    ChangeStatus,
    ConfirmUpload,
    CreateProductType,
    DeactivateProduct,
    DeleteProductType,
    GetProduct,
    GetProductType,
    ListProducts,
    ListProductTypes,
    PatchProduct,
    PatchProductType,
    ReadHistory,
    RegisterProduct,
    RemoveImage,
    ReportOutcome,
    RequestPublication,
    RequestUnpublication,
    RequestUpload,
)
from catalog.service.context import CatalogContext
from catalog.service.cursors import CursorCodec
from catalog.service.principals import ALL_MERCHANTS, Principal
from tests.api.support import png
from tests.principals import ALICE, OPERATOR, adapter, merchant

ROLES: dict[str, Principal] = {
    "merchant": ALICE,
    "platform": OPERATOR,
    "adapter of the channel": adapter("ml", ("acme",)),
    "adapter of the channel for several merchants": adapter("ml", ("globex", "acme")),
    "adapter of the channel for every merchant": adapter("ml", (ALL_MERCHANTS,)),
    "adapter of the channel for another merchant": adapter("ml", ("globex",)),
    "adapter of the channel without a scope": adapter("ml", ()),
    "adapter of another channel": adapter("fb", ("acme",)),
    "adapter of another channel for every merchant": adapter("fb", (ALL_MERCHANTS,)),
    # A scope is the channel role's: holding the merchant role too does not extend it.
    "merchant holding the channel role without a scope": Principal(
        "acme-shop", "acme", frozenset({"merchant", "channel:ml"})
    ),
    "another merchant": merchant("globex"),
    "no role": Principal("stranger", "acme", frozenset()),
}
READERS = {
    "merchant",
    "platform",
    "adapter of the channel",
    "adapter of the channel for several merchants",
    "adapter of the channel for every merchant",
    "adapter of another channel",
    "adapter of another channel for every merchant",
    "merchant holding the channel role without a scope",
}
WRITERS = {"merchant", "platform", "merchant holding the channel role without a scope"}
REPORTERS = {
    "adapter of the channel",
    "adapter of the channel for several merchants",
    "adapter of the channel for every merchant",
}


@dataclass
class Catalog:
    ctx: CatalogContext
    store: MemoryStore
    assets: MemoryAssetStore
    product: Product  # READY, two images, PENDING on channel ml; and product type "apparel"

    def current(self) -> Product:
        found = self.store.get("acme", self.product.id)
        assert found is not None
        return found

    def events(self) -> int:
        return len(self.store.read_after(0, 10_000))


@pytest.fixture
def catalog() -> Catalog:
    store, assets = MemoryStore(), MemoryAssetStore()
    ctx = CatalogContext(
        store, assets, PillowImageInspector(), SystemClock(), UlidIds(), CursorCodec(b"k" * 32)
    )
    body = {
        "sku": "TS-1",
        "name": "Trail shoe",
        "description": "Light",
        "price": {"amount": 12999, "currency": "USD"},
    }
    product = products.register_product(ctx, ALICE, RegisterProduct.from_json("acme", body)).product
    # Two images: removing one leaves the pending listing complete (DESIGN.md section 9).
    for _ in range(2):
        images.add_image(ctx, ALICE, AddImage.of("acme", product.id, png()))
    products.change_status(ctx, ALICE, ChangeStatus("acme", product.id, Status.READY))
    product = channels.request_publication(ctx, ALICE, RequestPublication("acme", product.id, "ml"))
    apparel = {"key": "apparel", "name": "Apparel", "attributes": {"brand": {"type": "string"}}}
    product_types.create_product_type(ctx, ALICE, CreateProductType.from_json("acme", apparel))
    return Catalog(ctx, store, assets, product)


UseCase = Callable[[Catalog, Principal], Any]


def _staged_upload(c: Catalog) -> str:
    ticket = uploads.request_upload(
        c.ctx, ALICE, RequestUpload("acme", c.product.id, "image/png", 10_000)
    )
    assert c.assets.receive_upload(ticket.url, ticket.fields, png())
    return ticket.upload_id


READS: dict[str, UseCase] = {
    "get": lambda c, p: products.get_product(c.ctx, p, GetProduct("acme", c.product.id)),
    "list": lambda c, p: products.list_products(c.ctx, p, ListProducts("acme")),
    "history": lambda c, p: products.product_history(c.ctx, p, ReadHistory("acme", c.product.id)),
    "get type": lambda c, p: product_types.get_product_type(
        c.ctx, p, GetProductType("acme", "apparel")
    ),
    "list types": lambda c, p: product_types.list_product_types(c.ctx, p, ListProductTypes("acme")),
}
WRITES: dict[str, UseCase] = {
    "register": lambda c, p: products.register_product(
        c.ctx, p, RegisterProduct.from_json("acme", {"sku": "TS-2", "name": "Other"})
    ),
    "patch": lambda c, p: products.update_product(
        c.ctx, p, PatchProduct.from_json("acme", c.product.id, {"name": "Renamed"})
    ),
    "change status": lambda c, p: products.change_status(
        c.ctx, p, ChangeStatus("acme", c.product.id, Status.DRAFT)
    ),
    "deactivate": lambda c, p: products.deactivate_product(
        c.ctx, p, DeactivateProduct("acme", c.product.id)
    ),
    "publish": lambda c, p: channels.request_publication(
        c.ctx, p, RequestPublication("acme", c.product.id, "fb")
    ),
    "unpublish": lambda c, p: channels.request_unpublication(
        c.ctx, p, RequestUnpublication("acme", c.product.id, "ml")
    ),
    "add image": lambda c, p: images.add_image(c.ctx, p, AddImage.of("acme", c.product.id, png())),
    "remove image": lambda c, p: images.remove_image(
        c.ctx, p, RemoveImage("acme", c.product.id, c.product.images[0].id)
    ),
    "request upload": lambda c, p: uploads.request_upload(
        c.ctx, p, RequestUpload("acme", c.product.id, "image/png", 10_000)
    ),
    "confirm upload": lambda c, p: uploads.confirm_upload(
        c.ctx, p, ConfirmUpload("acme", c.product.id, _staged_upload(c))
    ),
    "create type": lambda c, p: product_types.create_product_type(
        c.ctx, p, CreateProductType.from_json("acme", {"key": "shoes", "name": "Shoes"})
    ),
    "patch type": lambda c, p: product_types.patch_product_type(
        c.ctx, p, PatchProductType.from_json("acme", "apparel", {"name": "Clothes"})
    ),
    "delete type": lambda c, p: product_types.delete_product_type(
        c.ctx, p, DeleteProductType("acme", "apparel")
    ),
}
OUTCOME = {"state": "PUBLISHED", "external_id": "MLA1"}
REPORTS: dict[str, UseCase] = {
    "report outcome": lambda c, p: channels.report_outcome(
        c.ctx,
        p,
        ReportOutcome.from_json(
            "acme", c.product.id, "ml", {**OUTCOME, "product_version": c.product.version}
        ),
    ),
}
WRITES_A_VERSION = set(WRITES) - {"request upload", "register", *(n for n in WRITES if "type" in n)}
# Decided on the merchant alone: what a refusal hides is the merchant, not a product.
MERCHANT_LEVEL = {"list", "register", *(name for name in {**READS, **WRITES} if "type" in name)}


def _cases(use_cases: dict[str, UseCase], allowed: set[str]) -> list[Any]:
    return [
        pytest.param(name, role, role in allowed, id=f"{name}-{role}")
        for name in use_cases
        for role in ROLES
    ]


def _refusal(use_case: str, role: str) -> type[Exception]:
    if role not in READERS:
        return MerchantNotFound if use_case in MERCHANT_LEVEL else ProductNotFound
    return AccessDenied


@pytest.mark.parametrize(("use_case", "role", "allowed"), _cases(READS, READERS))
def test_reads(catalog: Catalog, use_case: str, role: str, allowed: bool) -> None:
    read = READS[use_case]
    if allowed:
        assert read(catalog, ROLES[role]) is not None
    else:
        with pytest.raises(_refusal(use_case, role)):
            read(catalog, ROLES[role])


@pytest.mark.parametrize(("use_case", "role", "allowed"), _cases(WRITES, WRITERS))
def test_writes(catalog: Catalog, use_case: str, role: str, allowed: bool) -> None:
    before, events = catalog.current(), catalog.events()
    principal = ROLES[role]
    if allowed:
        WRITES[use_case](catalog, principal)
        if use_case in WRITES_A_VERSION:
            after = catalog.current()
            assert after.version == before.version + 1
            latest = catalog.ctx.store.history("acme", after.id, limit=1, before_version=None)
            assert latest[0].actor == principal.subject  # history names who did it
        return
    with pytest.raises(_refusal(use_case, role)):
        WRITES[use_case](catalog, principal)
    assert catalog.current().version == before.version
    assert catalog.events() == events
    assert len(products.list_products(catalog.ctx, ALICE, ListProducts("acme")).items) == 1


@pytest.mark.parametrize(("use_case", "role", "allowed"), _cases(REPORTS, REPORTERS))
def test_reports(catalog: Catalog, use_case: str, role: str, allowed: bool) -> None:
    before, events = catalog.current(), catalog.events()
    if allowed:
        reported = REPORTS[use_case](catalog, ROLES[role])
        assert reported.applied
        assert catalog.current().listings["ml"].state == "PUBLISHED"
        return
    with pytest.raises(_refusal(use_case, role)):
        REPORTS[use_case](catalog, ROLES[role])
    assert catalog.current().version == before.version
    assert catalog.events() == events
