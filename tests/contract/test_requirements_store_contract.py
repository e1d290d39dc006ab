"""The channel requirements part of the ProductStore contract: every backend keeps every
channel's requirements as one set read at once, writes it conditioned on the set's version,
and refuses a set too large to keep (DESIGN.md section 9)."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from datetime import timedelta

import pytest

from catalog.adapters.requirements_documents import requirements_to_document
from catalog.domain.channel_requirements import (
    MAX_REQUIREMENTS_BYTES,
    ChannelRequirements,
    RequirementsSet,
    RequirementsTooLarge,
)
from catalog.domain.completeness import MAX_POINTER_LENGTH, MAX_REQUIREMENTS
from catalog.domain.errors import VersionConflict
from catalog.service.ports import RequirementsChange

from .conftest import T0, CatalogStore
from .test_product_store_contract import race

NEEDS = ("/description", "/price", "/images", "/attributes/brand", "/attributes/marca «ñ» 👟")


def declared(
    stored: RequirementsSet, channel: str, required: tuple[str, ...] = NEEDS, minutes: int = 0
) -> RequirementsChange:
    """The write declaring `required` for `channel` over `stored`, as the service builds it."""
    revised = stored.of(channel).revised(required, T0 + timedelta(minutes=minutes))
    return RequirementsChange(channel, stored.with_channel(revised), stored.version)


def committed(store: CatalogStore, change: RequirementsChange) -> RequirementsSet:
    store.commit_requirements(change)
    return change.requirements


def test_nothing_stored_reads_as_an_empty_set_at_version_0(store: CatalogStore) -> None:
    empty = store.channel_requirements()

    assert (empty.version, dict(empty.channels)) == (0, {})
    assert empty.of("mercadolibre") == ChannelRequirements("mercadolibre", (), 0, None)


def test_every_channel_reads_back_in_one_set(store: CatalogStore) -> None:
    first = committed(store, declared(RequirementsSet(), "mercadolibre"))
    second = committed(store, declared(first, "amazon", ("/attributes/gtin",), minutes=1))
    third = committed(store, declared(second, "mercadolibre", ("/images",), minutes=2))

    stored = store.channel_requirements()

    assert stored == third
    assert requirements_to_document(stored) == requirements_to_document(third)
    assert stored.version == 3
    assert stored.of("amazon") == ChannelRequirements(
        "amazon", ("/attributes/gtin",), 1, T0 + timedelta(minutes=1)
    )
    assert stored.of("mercadolibre") == ChannelRequirements(
        "mercadolibre", ("/images",), 2, T0 + timedelta(minutes=2)
    )
    assert stored.needs() == {"amazon": ("/attributes/gtin",), "mercadolibre": ("/images",)}


def test_an_emptied_list_is_kept_with_its_version(store: CatalogStore) -> None:
    first = committed(store, declared(RequirementsSet(), "mercadolibre"))
    committed(store, declared(first, "mercadolibre", ()))

    assert store.channel_requirements().of("mercadolibre").version == 2
    assert store.channel_requirements().needs() == {"mercadolibre": ()}


def test_a_stale_set_version_is_a_conflict_and_writes_nothing(store: CatalogStore) -> None:
    first = committed(store, declared(RequirementsSet(), "mercadolibre"))
    winner = committed(store, declared(first, "amazon", ("/price",)))

    for stale in (
        declared(first, "meta", ("/images",)),  # another channel: still the set's version
        declared(RequirementsSet(), "mercadolibre"),  # as if nothing were stored
    ):
        with pytest.raises(VersionConflict):
            store.commit_requirements(stale)

    assert store.channel_requirements() == winner


def test_racing_writes_of_one_version_let_exactly_one_through(store: CatalogStore) -> None:
    base = committed(store, declared(RequirementsSet(), "mercadolibre"))
    changes = [declared(base, f"channel-{n}", (f"/attributes/a{n}",)) for n in range(6)]

    outcomes = race(store.commit_requirements, changes)  # type: ignore[arg-type]

    assert outcomes.count(None) == 1
    assert all(isinstance(o, VersionConflict) for o in outcomes if o is not None)
    assert store.channel_requirements() == changes[outcomes.index(None)].requirements


def test_racing_first_writes_let_exactly_one_through(store: CatalogStore) -> None:
    changes = [declared(RequirementsSet(), f"channel-{n}") for n in range(6)]

    outcomes = race(store.commit_requirements, changes)  # type: ignore[arg-type]

    assert outcomes.count(None) == 1
    assert all(isinstance(o, VersionConflict) for o in outcomes if o is not None)
    assert store.channel_requirements().version == 1


def test_a_set_past_the_size_limit_is_refused_and_writes_nothing(store: CatalogStore) -> None:
    # Channels that each declare the most a channel may: 100 pointers of 300 characters.
    longest = tuple(
        f"/attributes/{n:03d}" + "x" * (MAX_POINTER_LENGTH - 15) for n in range(MAX_REQUIREMENTS)
    )
    assert len(longest[0]) == MAX_POINTER_LENGTH
    stored = RequirementsSet()
    fitted = 0
    with pytest.raises(RequirementsTooLarge) as raised:
        for n in range(20):
            stored = committed(store, declared(stored, f"channel-{n:02d}", longest))
            fitted += 1

    assert raised.value.channel == f"channel-{fitted:02d}"
    assert raised.value.size > raised.value.limit == MAX_REQUIREMENTS_BYTES
    assert fitted == 4  # docs/dynamodb.md: 4 channels of 100 longest pointers fit
    assert store.channel_requirements() == stored


def test_requirements_survive_closing_and_reopening(
    reopen: Callable[[], AbstractContextManager[CatalogStore]],
) -> None:
    with reopen() as store:
        first = committed(store, declared(RequirementsSet(), "mercadolibre"))
        second = committed(store, declared(first, "amazon", ("/price",)))

    with reopen() as store:
        assert store.channel_requirements() == second
        with pytest.raises(VersionConflict):
            store.commit_requirements(declared(first, "meta"))
