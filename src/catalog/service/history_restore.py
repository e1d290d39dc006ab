"""Restore an earlier version (DESIGN.md section 12): a new version whose content (the fields a
merge patch edits, and the variants) is that version's; status, listings and images stay.

The content is rebuilt from the product and the history entries since the version
(domain/history_replay.py), then applied as any change is (`products.apply`: If-Match,
conflict retries, one atomic write with its history entry, its events and the SKUs it takes
and gives up). The entry names the version it brought back (`restored_from`).
"""

from __future__ import annotations

from msgspec import Struct

from catalog.domain import limits
from catalog.domain.history import HistoryEntry, VersionNotFound
from catalog.domain.history_replay import content_at, content_document, parse_content
from catalog.domain.product import Product, Stamp
from catalog.service.context import CatalogContext
from catalog.service.principals import Principal, require_write
from catalog.service.products import apply, product_rules, type_content_of


class RestoreVersion(Struct, frozen=True):
    merchant_id: str
    product_id: str
    version: int
    if_match: int | None = None


def restore_version(ctx: CatalogContext, principal: Principal, command: RestoreVersion) -> Product:
    """The product with `command.version`'s content as its next version. A version it never
    had is a 404 (VersionNotFound); restoring the current version, or one whose content is the
    current one, writes nothing."""
    merchant_id, version = command.merchant_id, command.version
    require_write(principal, merchant_id, command.product_id)

    def restore(product: Product, stamp: Stamp) -> None:
        if not 1 <= version <= product.version:
            raise VersionNotFound(product.id, version)
        if version == product.version:
            return
        entries = entries_since(ctx, product, version)
        restored = parse_content(content_at(content_document(product), entries, version))
        # The type the restored content names, as it is now (a PATCH naming it is judged so).
        rules = product_rules(ctx, merchant_id, restored.fields.product_type)
        product.bind_requirements(rules.requirements.needs())
        product.restore(
            version=version,
            stamp=stamp,
            variants=restored.variants,
            type_content=type_content_of(rules),
            **restored.fields.as_arguments(),
        )

    return apply(ctx, principal, command, restore, binds_type=False)


def entries_since(ctx: CatalogContext, product: Product, version: int) -> list[HistoryEntry]:
    """The history entries of `product` newer than `version`, up to the product's own version
    (one written since the product was read is left out: that commit fails and `apply` reads
    again), newest first, a page at a time."""
    entries: list[HistoryEntry] = []
    before = product.version + 1
    while before - 1 > version:
        page = ctx.store.history(
            product.merchant_id,
            product.id,
            limit=min(limits.MAX_PAGE_SIZE, before - 1 - version),
            before_version=before,
        )
        if not page:
            break
        entries.extend(page)
        before = page[-1].version
    return entries
