"""Re-evaluation: when a product type or a channel's requirements change, every product they
judge is evaluated again, in the background (DESIGN.md section 9).

A type's change walks the merchant's products of that type (the by-type index); a channel's
walks every merchant's products (requirements are platform-wide). Each product whose
completeness changed gets a version by actor `system` whose history names the cause, with
ProductCompletenessChanged; the others are not written. So a run repeated, or resumed from
its start after a crash, writes nothing twice: what it already did reads as unchanged.

A run is given a `should_stop` check (a Lambda's remaining time) and answers the position to
go on from, so one change may be worked off in several runs.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

from msgspec import Struct, field, structs

from catalog.domain.channel_requirements import RequirementsSet
from catalog.domain.errors import VersionConflict
from catalog.domain.events import DomainEvent, EventName
from catalog.domain.product import Product, Stamp
from catalog.domain.product_types import ProductType
from catalog.service.context import CatalogContext
from catalog.service.ports import Change, ListingsBefore, ProductRules
from catalog.service.products import MAX_CONFLICT_RETRIES, bind_rules

SYSTEM_ACTOR = "system"
PAGE_SIZE = 100


class Reevaluation(Struct, frozen=True):
    """What changed: a merchant's type `type_key` (`merchant_id` set), or a channel's
    requirements (`channel` set: every merchant). `position` is where an earlier run of
    the same change stopped: the merchant it was on (channel runs) and the last product
    done there."""

    merchant_id: str | None = None
    type_key: str | None = None
    channel: str | None = None
    position_merchant: str | None = None
    position_product: str | None = None

    @classmethod
    def after(cls, event: DomainEvent) -> Reevaluation | None:
        """The re-evaluation an event calls for; None for every other event."""
        if event.name is EventName.PRODUCT_TYPE_UPDATED:
            # Completeness reads only attribute definitions: a new name changes nothing.
            changed = event.data.get("changed_fields")
            if changed is not None and not any(f.startswith("/attributes/") for f in changed):
                return None
            return cls(merchant_id=event.merchant_id, type_key=event.product_type)
        if event.name is EventName.CHANNEL_REQUIREMENTS_CHANGED:
            return cls(channel=event.channel)
        return None


class ReevaluationReport(Struct):
    """How far a run went: products looked at and products given a new version; `resume`
    is the re-evaluation to run next when the run stopped before the end."""

    visited: int = 0
    changed: int = 0
    resume: Reevaluation | None = None


class _Rules(Struct):
    """The rules of one run, read fresh once at its start: every channel's requirements and
    each type as the run first needs it."""

    ctx: CatalogContext
    requirements: RequirementsSet
    types: dict[tuple[str, str], ProductType | None] = field(default_factory=dict)

    def of(self, product: Product) -> ProductRules | None:
        key = product.product_type
        if key is None:
            return ProductRules(None, self.requirements)
        cache_key = (product.merchant_id, key)
        if cache_key not in self.types:
            rules = self.ctx.store.product_rules(product.merchant_id, key, fresh=True)
            self.types[cache_key] = rules.product_type
        found = self.types[cache_key]
        return ProductRules(found, self.requirements) if found is not None else None

    def reason(self, product: Product, change: Reevaluation) -> str:
        if change.channel is not None:
            version = self.requirements.of(change.channel).version
            return f"channel {change.channel} requirements v{version}"
        rules = self.of(product)
        version = rules.product_type.version if rules and rules.product_type else 0
        return f"product type {change.type_key} v{version}"


def reevaluate(
    ctx: CatalogContext,
    change: Reevaluation,
    should_stop: Callable[[], bool] = lambda: False,
) -> ReevaluationReport:
    """Evaluate again every product `change` judges, from its position on. No principal: the
    system runs it, from an event the catalog itself emitted."""
    report = ReevaluationReport()
    rules = _Rules(ctx, ctx.store.channel_requirements())
    for merchant_id, page_products, position in _pages(ctx, change):
        for product in page_products:
            report.visited += 1
            if _reevaluate_one(ctx, product, rules, change):
                report.changed += 1
        if should_stop():
            report.resume = structs.replace(
                change, position_merchant=merchant_id, position_product=position
            )
            return report
    return report


def _pages(ctx: CatalogContext, change: Reevaluation) -> Iterator[tuple[str, list[Product], str]]:
    """Every page of products the change judges, with its merchant and the position after it."""
    if change.merchant_id is not None:
        merchant_id, type_key = change.merchant_id, change.type_key
        yield from _merchant_pages(ctx, merchant_id, type_key, change.position_product)
        return
    position = change.position_merchant  # the merchant a run stopped on is finished first
    if position is not None:
        yield from _merchant_pages(ctx, position, None, change.position_product)
    while True:
        merchants = ctx.store.merchants(limit=PAGE_SIZE, position=position)
        for merchant_id in merchants.items:
            yield from _merchant_pages(ctx, merchant_id, None, None)
        if merchants.position is None:
            return
        position = merchants.position


def _merchant_pages(
    ctx: CatalogContext, merchant_id: str, type_key: str | None, position: str | None
) -> Iterator[tuple[str, list[Product], str]]:
    while True:
        page = ctx.store.page(
            merchant_id,
            status=None,
            channel=None,
            product_type=type_key,
            limit=PAGE_SIZE,
            position=position,
        )
        if page.items:
            yield merchant_id, page.items, page.items[-1].id
        if page.position is None:
            return
        position = page.position


def _reevaluate_one(
    ctx: CatalogContext, product: Product | None, rules: _Rules, change: Reevaluation
) -> bool:
    """One product under the run's rules; re-read and done again when a writer got there
    between the page and the commit. True when a new version was committed."""
    for _ in range(MAX_CONFLICT_RETRIES):
        if product is None:
            return False
        product_rules = rules.of(product)
        if product_rules is None:  # its type went since the page was read: nothing to judge
            return False
        bind_rules(product, product_rules)
        before = ListingsBefore.of(product)
        stamp = Stamp(SYSTEM_ACTOR, ctx.clock.now())
        if not product.reevaluate(stamp, rules.reason(product, change)):
            return False
        pending = product.pull_change(ctx.ids.new_id)
        assert pending is not None
        commit = Change(
            product,
            pending.expected_version,
            pending.history,
            pending.events,
            listings_before=before,
            type_before=product.product_type,
        )
        try:
            ctx.store.commit(commit)
        except VersionConflict:
            product = ctx.store.get(product.merchant_id, product.id)
            continue
        return True
    assert product is not None
    raise VersionConflict(product.id, product.version)


def reevaluate_after(ctx: CatalogContext, event: DomainEvent) -> ReevaluationReport | None:
    """The whole re-evaluation an event calls for, in one go (the embedded worker); None for
    an event that calls for none."""
    change = Reevaluation.after(event)
    return reevaluate(ctx, change) if change is not None else None
