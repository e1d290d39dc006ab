"""The Product aggregate: its invariants, lifecycle, history and events.

Commands mutate the aggregate and record what happened; `pull_change` then turns everything
recorded since the last pull into one new version: one history entry and its events, which the
service commits atomically with the document.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, fields, replace
from datetime import datetime
from typing import Any

import msgspec
from msgspec import Struct, structs

from catalog.domain import limits
from catalog.domain.completeness import READY_POINTERS, Completeness, evaluate
from catalog.domain.errors import (
    FieldErrors,
    ImageNotFound,
    InvalidField,
    InvalidListingTransition,
    InvalidTransition,
    ProductInactive,
    ProductIncomplete,
    ProductNotPublishable,
    VariantNotFound,
)
from catalog.domain.events import DomainEvent, EventName
from catalog.domain.history import FieldChange, HistoryEntry, StatusTransition, diff
from catalog.domain.lifecycle import Status, Trigger, is_allowed
from catalog.domain.listing import (
    FOLLOWING_STATES,
    OUTCOMES,
    PUBLISH_REQUEST,
    Listing,
    ListingOutcome,
    ListingState,
    Outcome,
)
from catalog.domain.merge_patch import merge_patch
from catalog.domain.product_types import TypeContent
from catalog.domain.values import JSON, ChannelOverride, ImageRef, Money, join_pointer, to_json
from catalog.domain.variants import (
    Judged,
    Variant,
    VariantBody,
    changed_variant_ids,
    check_variants,
    completeness_needs,
    completeness_view,
    effective_variant,
    in_axis_order,
    parse_variant_body,
    parse_variant_patch,
    refuse_duplicates,
    refuse_shared_combinations,
    variant_changes,
    variant_needs,
    without_axes_removed,
    without_image,
    without_variant_overrides,
)


class Stamp(Struct, frozen=True):
    """Who makes a change and when."""

    actor: str
    at: datetime


class Content(Struct, frozen=True):
    """The sellable content of a product, as seen by everyone or by one channel."""

    name: str
    description: str | None
    price: Money | None
    attributes: dict[str, JSON]


class PendingChange(Struct, frozen=True):
    """One new version ready to commit: expected_version is the version it replaces (0: new)."""

    expected_version: int
    history: HistoryEntry
    events: tuple[DomainEvent, ...]


class _Recorder(Struct):
    stamp: Stamp | None = None
    changes: list[FieldChange] = msgspec.field(default_factory=list)
    transition: StatusTransition | None = None
    events: list[tuple[EventName, dict[str, Any]]] = msgspec.field(default_factory=list)
    reason: str | None = None
    restored_from: int | None = None

    def empty(self) -> bool:
        return not (self.changes or self.transition or self.events)


# Roles of the product's fields (dataclass metadata): which ones a registration chooses and
# which ones a merge patch may change. Every other field is state the commands move.
IDENTITY = {"role": "identity"}  # chosen at registration, never changed
CONTENT = {"role": "content"}  # chosen at registration, revised by merge patches
# Chosen at registration, then changed only by commands of their own (never a merge patch of
# the product): the variants, added, revised and removed one at a time.
REGISTERED = {"role": "registered"}


@dataclass(kw_only=True)
class Product:
    """The product's fields, declared once. Every representation (the stored document, the API
    view, the OpenAPI schema) maps from these; a default is the value a new product starts
    with. Two products are equal when every field is (a product read back from a store equals
    the one committed); what is recorded but not yet pulled is not compared."""

    id: str = field(metadata=IDENTITY)
    merchant_id: str = field(metadata=IDENTITY)
    sku: str = field(metadata=IDENTITY)
    product_type: str | None = field(default=None, metadata=CONTENT)  # a type's key
    name: str = field(metadata=CONTENT)
    description: str | None = field(default=None, metadata=CONTENT)
    price: Money | None = field(default=None, metadata=CONTENT)
    attributes: dict[str, JSON] = field(default_factory=dict, metadata=CONTENT)
    options: tuple[str, ...] = field(default=(), metadata=CONTENT)  # variant axes, in order
    channel_overrides: dict[str, ChannelOverride] = field(default_factory=dict, metadata=CONTENT)
    variants: list[Variant] = field(default_factory=list, metadata=REGISTERED)  # creation order
    images: list[ImageRef] = field(default_factory=list)
    listings: dict[str, Listing] = field(default_factory=dict)
    status: Status = Status.DRAFT
    # What READY and each channel still miss, as of the last version (recomputed by every
    # change, stored so a read needs neither the type nor the channels' requirements).
    completeness: Completeness = field(default_factory=Completeness)
    version: int = 0  # 0 until the registration is pulled as version 1
    created_at: datetime
    updated_at: datetime
    _recorder: _Recorder = field(default_factory=_Recorder, init=False, repr=False, compare=False)
    # The rules of the product's type, bound by whoever changes a typed product (bind_type).
    _type: TypeContent | None = field(default=None, init=False, repr=False, compare=False)
    # What each channel that declared requirements needs (bind_requirements); none until bound.
    _channel_needs: Mapping[str, tuple[str, ...]] = field(
        default_factory=dict, init=False, repr=False, compare=False
    )

    # ----------------------------------------------------------------- creation

    @classmethod
    def register(
        cls, *, stamp: Stamp, type_content: TypeContent | None = None, **chosen: Any
    ) -> Product:
        """A new DRAFT product. `chosen` are its identity, content and registered fields, by
        name (any other field is refused); every other field starts at its default. A typed
        product comes with its type's content, which its attributes must satisfy. Its
        variants (with the ids the caller made) are named by their index in errors."""
        _require_fields(chosen, REGISTERED_FIELDS, "chosen at registration")
        product = cls(**chosen, created_at=stamp.at, updated_at=stamp.at)
        product.bind_type(type_content)
        product.variants = [in_axis_order(v, product.options) for v in product.variants]
        product.check_rules([Judged(v, f"/variants/{i}") for i, v in enumerate(product.variants)])
        recorder = product._start(stamp)
        given = {k: v for k, v in product.editable_document().items() if v not in (None, {}, [])}
        recorder.changes.extend(diff({}, given))
        recorder.changes.extend(variant_changes([], product.variants))
        recorder.transition = StatusTransition(None, product.status.value, "created")
        recorder.events.append(
            (
                EventName.PRODUCT_CREATED,
                {"sku": product.sku, "name": product.name, "status": product.status.value},
            )
        )
        return product

    # ----------------------------------------------------------------- queries

    def bind_type(self, type_content: TypeContent | None) -> None:
        """The content of the type the product names (None for an untyped one): what its
        attributes are checked against and what its completeness counts."""
        if (type_content is None) != (self.product_type is None):
            raise TypeError("a typed product is changed with its type's content, and only then")
        self._type = type_content

    def bind_requirements(self, needs: Mapping[str, Sequence[str]]) -> None:
        """The pointers each channel that declared requirements needs: each such channel gets
        an entry in the completeness of the next version, listed on it or not."""
        self._channel_needs = {channel: tuple(pointers) for channel, pointers in needs.items()}

    def check_rules(self, judged: Sequence[Judged] = (), *, whole: bool = True) -> None:
        """Every rule the product's fields break, reported at once (422), then the duplicates
        among its variants (409). `judged` are the variants a change adds or revises (their
        structure is checked); `whole` also checks everything else against its type: its
        attributes, each channel override's, its axes and every variant (a change of one
        variant checks only that one, `whole=False`)."""
        errors = FieldErrors()
        if self._type is not None and whole:
            errors.check(self._type.check_attributes, self.attributes)
            for channel, override in sorted(self.channel_overrides.items()):
                if override.attributes:
                    at = f"/channel_overrides/{channel}/attributes"
                    errors.check(self._type.check_attributes, override.attributes, at)
        check_variants(
            errors,
            axes=self.options,
            variants=self.variants,
            judged=judged,
            image_ids=[image.id for image in self.images],
            type_content=self._type,
            product_attributes=self.attributes,
            overrides=self.channel_overrides,
            whole=whole,
        )
        errors.raise_any()
        refuse_duplicates(self.sku, self.variants, judged)

    def evaluated(self, *also: str) -> Completeness:
        """Completeness as of now: READY's needs (and the type's `required`), and per channel
        listed, declaring requirements or named in `also`, READY's plus what the channel
        declared and what the type needs there."""
        if self._type is None and self.product_type is not None:
            raise TypeError(f"product {self.id} is evaluated without its type's content")
        axes, ids = self.options, [variant.id for variant in self.variants]
        ready_needs = [
            *completeness_needs([*READY_POINTERS, *self._attribute_pointers(None)], axes, ids),
            *variant_needs(axes, ids),
        ]
        channels = sorted({*self.listings, *self._channel_needs, *also})
        return evaluate(
            self._view_for(None),
            ready_needs,
            {channel: self._view_for(channel) for channel in channels},
            {
                channel: completeness_needs(
                    [*self._channel_needs.get(channel, ()), *self._attribute_pointers(channel)],
                    axes,
                    ids,
                )
                for channel in channels
            },
        )

    def _attribute_pointers(self, channel: str | None) -> list[str]:
        if self._type is None:
            return []
        return [join_pointer("/attributes", n) for n in self._type.required_names(channel)]

    def _view_for(self, channel: str | None) -> dict[str, JSON]:
        """What completeness pointers are looked up in: the members of the product's view as
        `channel` sees it (the presenter adds URLs, listings and timestamps). Variants are
        keyed by id, as every pointer names them (`/variants/<vid>/price`), with what
        completeness reads of them: their option values and effective prices."""
        content = self.content_for(channel)
        override = self.channel_overrides.get(channel) if channel else None
        return {
            "sku": self.sku,
            "product_type": self.product_type,
            "name": content.name,
            "description": content.description,
            "price": to_json(content.price),
            "attributes": content.attributes,
            "images": to_json(self.images),
            "options": list(self.options),
            "variants": completeness_view(
                self.variants, content.price, override.variants if override else {}
            ),
        }

    def editable_document(self) -> dict[str, JSON]:
        """The fields a merge patch may change, as JSON."""
        return {name: to_json(getattr(self, name)) for name in EDITABLE_FIELDS}

    def content_for(self, channel: str | None = None) -> Content:
        """The effective content on `channel`: its overrides applied over the product's own."""
        override = self.channel_overrides.get(channel) if channel else None
        if override is None:
            return Content(self.name, self.description, self.price, self.attributes)
        attributes = self.attributes
        if override.attributes is not None:
            attributes = merge_patch(self.attributes, override.attributes)
        return Content(
            name=override.name if override.name is not None else self.name,
            description=(
                override.description if override.description is not None else self.description
            ),
            price=override.price if override.price is not None else self.price,
            attributes=attributes,
        )

    def variants_for(self, channel: str | None = None) -> list[Variant]:
        """The variants as `channel` (or no channel) sees them: each one's effective price
        (its override on the channel, else its own, else the product's effective price) and
        attributes (the product's effective ones, its own, its override's, merged)."""
        content = self.content_for(channel)
        override = self.channel_overrides.get(channel) if channel else None
        overrides = override.variants if override else {}
        return [
            effective_variant(variant, content.price, content.attributes, overrides.get(variant.id))
            for variant in self.variants
        ]

    def variant(self, variant_id: str) -> Variant:
        for variant in self.variants:
            if variant.id == variant_id:
                return variant
        raise VariantNotFound(self.id, variant_id)

    # ----------------------------------------------------------------- commands

    def revise(
        self, *, stamp: Stamp, type_content: TypeContent | None = None, **content: Any
    ) -> None:
        """Replace content fields (keyword per field), with the content of the type the
        revised product names. A READY product left incomplete falls back to DRAFT; one left
        incomplete on a channel where it is listed or being listed is refused."""
        self._require_not_inactive()
        _require_fields(content, EDITABLE_FIELDS, "editable")
        # Judged on a copy, so a refused revision leaves this product as it was.
        revised = replace(self, **content)
        revised.bind_type(type_content)
        revised.bind_requirements(self._channel_needs)
        # An axis the product no longer names leaves its variants, in the same version.
        revised.variants = without_axes_removed(self.variants, revised.options)
        revised.check_rules()
        refuse_shared_combinations(revised.variants)
        changes = diff(
            self.editable_document(), revised.editable_document(), whole=_is_channel_overlay
        )
        changes += variant_changes(self.variants, revised.variants)
        if not changes:
            # At most nulls came or went where null reads as absent: keep the stored document.
            return
        revised.require_complete_where_listed(than=self.completeness)
        for name, value in content.items():
            setattr(self, name, value)
        self.variants = revised.variants
        self._type = type_content
        recorder = self._start(stamp)
        recorder.changes.extend(changes)
        self._record_update(sorted({c.field for c in changes}))

    def restore(
        self,
        *,
        version: int,
        stamp: Stamp,
        variants: Sequence[Variant],
        type_content: TypeContent | None = None,
        **content: Any,
    ) -> None:
        """Bring back the content of an earlier `version` (its content fields, by keyword as
        for `revise`, and its variants, ids included) as a new version whose history names
        it. Judged as a revision is, against the type the content names now; images,
        listings and status stay, so a variant's image ids the product no longer has are
        dropped. Content equal to the current one records nothing."""
        self._require_not_inactive()
        _require_fields(content, EDITABLE_FIELDS, "editable")
        options = content.get("options", self.options)
        images = {image.id for image in self.images}
        kept = [
            structs.replace(v, image_ids=tuple(i for i in v.image_ids if i in images))
            for v in variants
        ]
        restored = replace(self, **content, variants=[in_axis_order(v, options) for v in kept])
        restored.bind_type(type_content)
        restored.bind_requirements(self._channel_needs)
        # Every variant against the type, none structurally: the version had them so (a
        # variant may lack an axis added after it), and they were unique among themselves.
        restored.check_rules()
        refuse_shared_combinations(restored.variants)
        changes = diff(
            self.editable_document(), restored.editable_document(), whole=_is_channel_overlay
        )
        changes += variant_changes(self.variants, restored.variants)
        if not changes:
            return
        restored.require_complete_where_listed(than=self.completeness)
        for name, value in content.items():
            setattr(self, name, value)
        self.variants = restored.variants
        self._type = type_content
        recorder = self._start(stamp)
        recorder.restored_from = version
        recorder.changes.extend(changes)
        self._record_update(sorted({c.field for c in changes}))

    def transition(self, target: Status, stamp: Stamp, reason: str | None = None) -> None:
        """A requested status change. Asking for the current status changes nothing."""
        if target is self.status:
            return
        if not is_allowed(self.status, target, Trigger.REQUEST):
            raise InvalidTransition(self.status.value, target.value)
        if target is Status.READY:
            missing = self.evaluated().ready
            if missing:
                raise ProductIncomplete(missing)
        self._start(stamp)
        self._move(target, reason)
        self._withdraw_listings(stamp)

    def deactivate(self, stamp: Stamp, reason: str | None = None) -> None:
        self.transition(Status.INACTIVE, stamp, reason)

    def add_image(self, image: ImageRef, stamp: Stamp) -> None:
        self._require_not_inactive()
        if len(self.images) >= limits.MAX_IMAGES:
            raise InvalidField("/images", f"a product holds at most {limits.MAX_IMAGES} images")
        self._change_images([*self.images, image], stamp)

    def remove_image(self, image_id: str, stamp: Stamp) -> ImageRef:
        self._require_not_inactive()
        kept = [image for image in self.images if image.id != image_id]
        if len(kept) == len(self.images):
            raise ImageNotFound(image_id)
        removed = next(image for image in self.images if image.id == image_id)
        # The variants that show the image lose it in the same version.
        variants = without_image(self.variants, image_id)
        self._candidate(images=kept, variants=variants).require_complete_where_listed(
            than=self.completeness
        )
        self._change_images(kept, stamp, variants)
        return removed

    def change_image_alt(self, image_id: str, alt: str | None, stamp: Stamp) -> None:
        """A new alternative text for one image (None removes it); the same text changes
        nothing. History names the image by id (`/images/<image_id>/alt`), as it names a
        variant: an index would point at another image once an earlier one is removed."""
        self._require_not_inactive()
        index = next((i for i, image in enumerate(self.images) if image.id == image_id), None)
        if index is None:
            raise ImageNotFound(image_id)
        before = self.images[index]
        if before.alt == alt:
            return
        images = [*self.images]
        images[index] = structs.replace(before, alt=alt)
        self._candidate(images=images).require_complete_where_listed(than=self.completeness)
        self.images = images
        pointer = join_pointer(join_pointer("/images", image_id), "alt")
        recorder = self._start(stamp)
        recorder.changes.append(FieldChange(pointer, before.alt, alt))
        self._record_update([pointer])

    def add_variant(self, body: VariantBody, variant_id: str, stamp: Stamp) -> Variant:
        """A new variant (with the id the caller made), after the others. Errors name it
        `/variants/<variant_id>/...`; so should the parser of its body (parse_variant_body)."""
        self._require_not_inactive()
        if any(variant.id == variant_id for variant in self.variants):
            raise ValueError(f"variant id {variant_id} is taken: ids are made unique")
        if len(self.variants) >= limits.MAX_VARIANTS:
            raise InvalidField(
                "/variants", f"a product holds at most {limits.MAX_VARIANTS} variants"
            )
        variant = in_axis_order(body.identified(variant_id), self.options)
        at = join_pointer("/variants", variant_id)
        self._change_variants([*self.variants, variant], stamp, Judged(variant, at))
        return variant

    def revise_variant(self, variant_id: str, patch: Mapping[str, JSON], stamp: Stamp) -> None:
        """A JSON merge patch of one variant's fields (parse_variant_patch), merged over it
        and parsed whole, so each rule applies to the value that would be stored. A revised
        variant names every axis of the product, as a new one does."""
        self._require_not_inactive()
        current = self.variant(variant_id)
        at = join_pointer("/variants", variant_id)
        parse_variant_patch(patch, at)
        body = parse_variant_body(merge_patch(current.editable_json(), patch), at)
        revised = in_axis_order(body.identified(variant_id), self.options)
        variants = [revised if v.id == variant_id else v for v in self.variants]
        self._change_variants(variants, stamp, Judged(revised, at))

    def remove_variant(self, variant_id: str, stamp: Stamp) -> None:
        """Remove a variant, and its overrides on every channel, in one version."""
        self._require_not_inactive()
        self.variant(variant_id)
        variants = [variant for variant in self.variants if variant.id != variant_id]
        overrides = without_variant_overrides(self.channel_overrides, variant_id)
        self._change_variants(variants, stamp, overrides=overrides)

    def request_publication(self, channel: str, stamp: Stamp) -> None:
        """Ask the channel's adapter to publish; a listing already under way is left alone."""
        if self.status not in (Status.READY, Status.ACTIVE):
            raise ProductNotPublishable(self.status.value)
        listing = self.listings.get(channel)
        current = listing.state if listing else None
        if current not in PUBLISH_REQUEST:
            raise InvalidListingTransition(channel, current, "publish")
        if PUBLISH_REQUEST[current] is None:
            return
        missing = self.evaluated(channel).missing_on(channel)
        if missing:
            raise ProductIncomplete(missing, action=f"be published on {channel}", channel=channel)
        if listing is None and len(self.listings) >= limits.MAX_LISTINGS:
            raise InvalidField(
                "/channel", f"a product is listed on at most {limits.MAX_LISTINGS} channels"
            )
        pending = Listing(ListingState.PENDING, stamp.at, requested_version=self.version + 1)
        self._set_listing(channel, pending, stamp, EventName.PUBLICATION_REQUESTED, {})

    def request_unpublication(self, channel: str, stamp: Stamp) -> None:
        """Ask the adapter to withdraw the listing; nothing to do unless it follows the product."""
        listing = self.listings.get(channel)
        if listing is not None and listing.state in FOLLOWING_STATES:
            self._withdraw(channel, listing, stamp)

    def record_outcome(self, channel: str, outcome: ListingOutcome, stamp: Stamp) -> bool:
        """Apply what the adapter reports. False when the outcome answers a superseded request
        (older than the listing's current one) and was ignored."""
        listing = self.listings.get(channel)
        if listing is not None and outcome.product_version < listing.requested_version:
            return False
        if outcome.product_version > self.version:
            raise InvalidField("/product_version", f"the product is at version {self.version}")
        current = listing.state if listing else None
        target = OUTCOMES.get((current, outcome.state)) if current else None
        if listing is None or target is None:
            raise InvalidListingTransition(channel, current, outcome.state.value)
        if outcome.state is Outcome.PUBLISHED:
            updated = structs.replace(
                listing,
                state=target,
                external_id=outcome.external_id,
                external_url=outcome.external_url,
                message=None,
            )
            event, data = (
                EventName.PRODUCT_PUBLISHED,
                {
                    "external_id": outcome.external_id,
                    "external_url": outcome.external_url,
                },
            )
        elif outcome.state is Outcome.FAILED:
            updated = structs.replace(listing, state=target, message=outcome.message)
            event, data = EventName.PUBLICATION_FAILED, {"message": outcome.message}
        else:
            updated = structs.replace(listing, state=target, message=None)
            event, data = EventName.PRODUCT_UNPUBLISHED, {}
        if listing_json(updated) != listing_json(listing):
            at = structs.replace(updated, updated_at=stamp.at)
            self._set_listing(channel, at, stamp, event, data)
            self._derive_status(channel)
        return True

    def reevaluate(self, stamp: Stamp, reason: str) -> bool:
        """Completeness again, under the rules bound now (its type or a channel's requirements
        changed: `reason` says which). Unchanged: nothing is recorded and False is returned, so
        a repeated re-evaluation writes nothing. Changed: the new completeness in history and
        ProductCompletenessChanged; a READY product left incomplete with no listing live or on
        its way falls back to DRAFT, one with such a listing keeps its status and listings. An
        INACTIVE product is left alone: reactivating it evaluates it again."""
        if self.status is Status.INACTIVE:
            return False
        before, after = self.completeness, self.evaluated()
        if after == before:
            return False
        recorder = self._start(stamp)
        recorder.reason = reason
        recorder.changes.extend(diff(before.to_json(), after.to_json(), "/completeness"))
        live = any(listing.state in FOLLOWING_STATES for listing in self.listings.values())
        if after.ready and self.status is Status.READY and not live:
            self._move(Status.DRAFT, f"{reason}: missing " + ", ".join(after.ready))
            self._withdraw_listings(stamp)
        recorder.events.insert(
            0,
            (
                EventName.COMPLETENESS_CHANGED,
                {"reason": reason, "completeness": after.to_json()},
            ),
        )
        return True

    def pull_change(self, new_id: Callable[[], str]) -> PendingChange | None:
        """Close everything recorded since the last pull into one new version."""
        recorder = self._recorder
        if recorder.empty() or recorder.stamp is None:
            return None
        stamp = recorder.stamp
        expected = self.version
        self.version += 1
        self.updated_at = stamp.at
        self.completeness = self.evaluated()
        events = tuple(
            DomainEvent(
                id=new_id(),
                name=name,
                merchant_id=self.merchant_id,
                product_id=self.id,
                version=self.version,
                occurred_at=stamp.at,
                data=data,
            )
            for name, data in recorder.events
        )
        entry = HistoryEntry(
            product_id=self.id,
            version=self.version,
            actor=stamp.actor,
            at=stamp.at,
            changes=tuple(recorder.changes),
            transition=recorder.transition,
            events=tuple(event.name.value for event in events),
            reason=recorder.reason,
            restored_from=recorder.restored_from,
        )
        self._recorder = _Recorder()
        return PendingChange(expected, entry, events)

    # ----------------------------------------------------------------- internals

    def _start(self, stamp: Stamp) -> _Recorder:
        self._recorder.stamp = stamp
        return self._recorder

    def _require_not_inactive(self) -> None:
        if self.status is Status.INACTIVE:
            raise ProductInactive(self.id)

    def _candidate(self, **changed: Any) -> Product:
        """A copy with `changed` fields, under this product's rules: a change is judged on
        it, so a refused change leaves this product as it was."""
        candidate = replace(self, **changed)
        candidate._type = self._type
        candidate.bind_requirements(self._channel_needs)
        return candidate

    def _change_images(
        self, images: list[ImageRef], stamp: Stamp, variants: list[Variant] | None = None
    ) -> None:
        changes = [FieldChange("/images", to_json(self.images), to_json(images))]
        if variants is not None:
            changes += variant_changes(self.variants, variants)
            self.variants = variants
        self.images = images
        recorder = self._start(stamp)
        recorder.changes.extend(changes)
        self._record_update(sorted({change.field for change in changes}))

    def _change_variants(
        self,
        variants: list[Variant],
        stamp: Stamp,
        judged: Judged | None = None,
        overrides: dict[str, ChannelOverride] | None = None,
    ) -> None:
        """Replace the variants (and the channel overrides, when a variant's go with it) as
        one version; `judged` is the variant added or revised. A change that changes nothing
        records nothing."""
        after = self.channel_overrides if overrides is None else overrides
        changes = diff(
            to_json(self.channel_overrides),
            to_json(after),
            "/channel_overrides",
            whole=_is_channel_overlay,
        )
        changes += variant_changes(self.variants, variants)
        if not changes:
            return
        candidate = self._candidate(variants=variants, channel_overrides=after)
        if judged is not None:
            candidate.check_rules([judged], whole=False)
        candidate.require_complete_where_listed(than=self.completeness)
        self.variants, self.channel_overrides = variants, after
        recorder = self._start(stamp)
        recorder.changes.extend(changes)
        self._record_update(sorted({change.field for change in changes}))

    def _record_update(self, changed_fields: list[str]) -> None:
        """ProductUpdated, naming the channels whose listings must resync and the variants
        whose own record changed. A READY product left incomplete falls back to DRAFT first,
        withdrawing its listings: those need no resync, so the channels are read after the
        fallback."""
        events = self._recorder.events
        position = len(events)
        self._fall_back_if_incomplete()
        channels = sorted(c for c, lst in self.listings.items() if lst.state in FOLLOWING_STATES)
        data = {
            "changed_fields": changed_fields,
            "channels": channels,
            "variants": changed_variant_ids(changed_fields),
        }
        events.insert(position, (EventName.PRODUCT_UPDATED, data))

    def require_complete_where_listed(self, than: Completeness) -> None:
        """A published (ACTIVE) product stays complete, and a listing that is live or on its
        way (PENDING, PUBLISHED) complete on its channel: the change that would break either
        is refused, not published half-done. Broken means missing what `than` (the version
        changed) did not: a product a type or channel change left incomplete can still be
        edited, and the refusal names only what the edit itself would take away."""
        completeness = self.evaluated()
        if self.status is Status.ACTIVE:
            lost = _newly_missing(completeness.ready, than.ready)
            if lost:
                raise ProductIncomplete(lost, action="stay published")
        for channel in sorted(self.listings):
            if self.listings[channel].state in FOLLOWING_STATES:
                lost = _newly_missing(completeness.missing_on(channel), than.missing_on(channel))
                if lost:
                    action = f"stay listed on {channel}"
                    raise ProductIncomplete(lost, action=action, channel=channel)

    def _fall_back_if_incomplete(self) -> None:
        missing = self.evaluated().ready
        if missing and self.status is Status.READY:
            self._move(Status.DRAFT, "incomplete: missing " + ", ".join(missing))
            stamp = self._recorder.stamp
            assert stamp is not None
            self._withdraw_listings(stamp)

    def _set_listing(
        self,
        channel: str,
        listing: Listing,
        stamp: Stamp,
        event: EventName,
        data: dict[str, Any],
    ) -> None:
        before = self.listings.get(channel)
        self.listings = {**self.listings, channel: listing}
        recorder = self._start(stamp)
        old = listing_json(before) if before else {}
        recorder.changes.extend(diff(old, listing_json(listing), f"/listings/{channel}"))
        recorder.events.append((event, {"channel": channel, **data}))

    def _withdraw(self, channel: str, listing: Listing, stamp: Stamp) -> None:
        withdrawing = structs.replace(
            listing,
            state=ListingState.UNPUBLISHING,
            requested_version=self.version + 1,
            updated_at=stamp.at,
            message=None,
        )
        self._set_listing(channel, withdrawing, stamp, EventName.UNPUBLICATION_REQUESTED, {})

    def _withdraw_listings(self, stamp: Stamp) -> None:
        """Leaving READY/ACTIVE for DRAFT or INACTIVE withdraws every listing that follows."""
        if self.status in (Status.DRAFT, Status.INACTIVE):
            for channel in sorted(self.listings):
                self.request_unpublication(channel, stamp)

    def _derive_status(self, channel: str) -> None:
        """ACTIVE means on a channel: PUBLISHED, or being withdrawn after having been."""
        on_a_channel = any(
            listing.state is ListingState.PUBLISHED
            or (listing.state is ListingState.UNPUBLISHING and listing.external_id is not None)
            for listing in self.listings.values()
        )
        if self.status is Status.READY and on_a_channel:
            self._move(Status.ACTIVE, f"published on {channel}")
        elif self.status is Status.ACTIVE and not on_a_channel:
            self._move(Status.READY, f"no longer published anywhere (last: {channel})")

    def _move(self, target: Status, reason: str | None) -> None:
        previous = self.status
        self.status = target
        recorder = self._recorder
        recorder.transition = StatusTransition(previous.value, target.value, reason)
        if target is Status.INACTIVE:
            name = EventName.PRODUCT_DEACTIVATED
        elif previous is Status.INACTIVE:
            name = EventName.PRODUCT_REACTIVATED
        else:
            name = EventName.PRODUCT_STATUS_CHANGED
        recorder.events.append(
            (name, {"from_status": previous.value, "to_status": target.value, "reason": reason})
        )


def _newly_missing(now: tuple[str, ...], before: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(pointer for pointer in now if pointer not in before)


def _is_channel_overlay(pointer: str) -> bool:
    """A channel's attributes, and a variant's on a channel, are merge patches over what lies
    beneath: a null there removes a value on that channel, so it differs from absent."""
    parts = pointer.split("/")
    if len(parts) < 4 or parts[1] != "channel_overrides" or parts[-1] != "attributes":
        return False
    return len(parts) == 4 or (len(parts) == 6 and parts[3] == "variants")


def listing_json(listing: Listing) -> dict[str, JSON]:
    """The parts of a listing that history records (not its timestamps)."""
    return {
        "state": listing.state,
        "external_id": listing.external_id,
        "external_url": listing.external_url,
        "message": listing.message,
    }


def _named(role: dict[str, str]) -> tuple[str, ...]:
    return tuple(f.name for f in fields(Product) if f.metadata == role)


EDITABLE_FIELDS = _named(CONTENT)
REGISTERED_FIELDS = _named(IDENTITY) + EDITABLE_FIELDS + _named(REGISTERED)


def _require_fields(given: dict[str, Any], allowed: tuple[str, ...], what: str) -> None:
    """A programming error, not bad input: parsers have already named the request's fields."""
    unknown = set(given) - set(allowed)
    if unknown:
        raise TypeError(f"not a product field {what}: {', '.join(sorted(unknown))}")
