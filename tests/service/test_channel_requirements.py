"""Channel requirement use cases on the in-memory adapters: who may declare them, who may read
them, and what a PUT writes (DESIGN.md section 9)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from catalog.adapters.memory.store import MemoryStore
from catalog.adapters.ulid_ids import UlidIds
from catalog.domain.errors import AccessDenied, InvalidField, PreconditionFailed, VersionConflict
from catalog.service import channel_requirements as use_cases
from catalog.service.channel_requirements import GetChannelRequirements, PutChannelRequirements
from catalog.service.context import CatalogContext
from catalog.service.cursors import CursorCodec
from catalog.service.ports import RequirementsChange
from catalog.service.principals import Principal
from tests.clocks import SteppingClock
from tests.principals import ALICE, OPERATOR, adapter

T0 = datetime(2026, 12, 2, 12, 0, tzinfo=UTC)
NEEDS = ["/description", "/price", "/images", "/attributes/brand"]


@pytest.fixture
def store() -> MemoryStore:
    return MemoryStore()


@pytest.fixture
def ctx(store: MemoryStore) -> CatalogContext:
    return CatalogContext(
        store=store,
        assets=None,  # type: ignore[arg-type]  # requirements touch no asset
        images=None,  # type: ignore[arg-type]
        clock=SteppingClock(T0 + timedelta(seconds=1)),
        ids=UlidIds(),
        cursors=CursorCodec(b"test-cursor-secret-0123456789abcdef"),
    )


def put(
    ctx: CatalogContext,
    principal: Principal,
    channel: str = "mercadolibre",
    required: list[Any] | None = None,
    if_match: int | None = None,
) -> Any:
    body = {"required": NEEDS if required is None else required}
    command = PutChannelRequirements.from_json(channel, body, if_match)
    return use_cases.put_channel_requirements(ctx, principal, command)


def get(ctx: CatalogContext, principal: Principal, channel: str = "mercadolibre") -> Any:
    return use_cases.get_channel_requirements(ctx, principal, GetChannelRequirements(channel))


@pytest.mark.parametrize(
    "principal",
    [
        OPERATOR,
        adapter("mercadolibre"),
        adapter("mercadolibre", ()),
        adapter("mercadolibre", ("*",)),
    ],
    ids=["platform", "channel", "channel-without-merchants", "channel-of-all-merchants"],
)
def test_the_platform_and_the_channel_itself_may_declare_them(
    ctx: CatalogContext, principal: Principal
) -> None:
    declared = put(ctx, principal)

    assert (declared.channel, declared.required, declared.version) == (
        "mercadolibre",
        tuple(NEEDS),
        1,
    )
    assert declared.updated_at is not None
    assert get(ctx, ALICE) == declared


@pytest.mark.parametrize(
    "principal",
    [ALICE, adapter("amazon"), Principal("both", "acme", frozenset({"merchant", "channel:meta"}))],
    ids=["merchant", "other-channel", "merchant-of-another-channel"],
)
def test_merchants_and_other_channels_may_not(
    ctx: CatalogContext, store: MemoryStore, principal: Principal
) -> None:
    with pytest.raises(AccessDenied):
        put(ctx, principal)

    assert store.channel_requirements().version == 0


@pytest.mark.parametrize(
    "principal", [ALICE, OPERATOR, adapter("amazon"), adapter("x", ())], ids=str
)
def test_anyone_authenticated_reads_them_and_an_undeclared_channel_needs_nothing(
    ctx: CatalogContext, principal: Principal
) -> None:
    put(ctx, OPERATOR)

    assert get(ctx, principal).required == tuple(NEEDS)
    undeclared = get(ctx, principal, "amazon")
    assert (undeclared.channel, undeclared.required, undeclared.version) == ("amazon", (), 0)
    assert undeclared.updated_at is None


def test_the_same_list_again_writes_nothing_and_keeps_the_version(
    ctx: CatalogContext, store: MemoryStore
) -> None:
    first = put(ctx, OPERATOR)
    again = put(ctx, adapter("mercadolibre"), required=[*NEEDS, "/price"])  # a repeat is one

    assert again == first
    assert store.channel_requirements().version == 1
    reordered = put(ctx, OPERATOR, required=list(reversed(NEEDS)))
    assert (reordered.version, reordered.required) == (2, tuple(reversed(NEEDS)))
    emptied = put(ctx, OPERATOR, required=[])
    assert (emptied.version, emptied.required) == (3, ())
    assert get(ctx, ALICE) == emptied


def test_channels_are_versioned_apart_in_one_stored_set(
    ctx: CatalogContext, store: MemoryStore
) -> None:
    put(ctx, OPERATOR, "mercadolibre")
    put(ctx, OPERATOR, "mercadolibre", required=["/images"])
    amazon = put(ctx, adapter("amazon"), "amazon", required=["/attributes/gtin"])

    assert amazon.version == 1
    stored = store.channel_requirements()
    assert stored.version == 3
    assert stored.needs() == {"amazon": ("/attributes/gtin",), "mercadolibre": ("/images",)}


def test_if_match_names_the_channels_version(ctx: CatalogContext) -> None:
    with pytest.raises(PreconditionFailed) as stale:
        put(ctx, OPERATOR, if_match=1)
    assert stale.value.current_version == 0
    assert put(ctx, OPERATOR, if_match=0).version == 1  # "only if none declared yet"
    put(ctx, OPERATOR, "amazon")  # moves the set, not mercadolibre

    assert put(ctx, OPERATOR, required=["/images"], if_match=1).version == 2
    with pytest.raises(PreconditionFailed):
        put(ctx, OPERATOR, required=["/price"], if_match=1)


def test_a_write_of_another_channel_in_between_is_applied_again_over_it(
    ctx: CatalogContext, store: MemoryStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    commit = store.commit_requirements
    raced: list[str] = []

    def race_once(change: RequirementsChange) -> None:
        if not raced:
            raced.append(change.channel)
            put(ctx, OPERATOR, "amazon", required=["/price"])  # lands first
        commit(change)

    monkeypatch.setattr(store, "commit_requirements", race_once)
    put(ctx, OPERATOR)

    assert store.channel_requirements().needs() == {
        "amazon": ("/price",),
        "mercadolibre": tuple(NEEDS),
    }


def test_a_store_that_keeps_moving_is_a_conflict(
    ctx: CatalogContext, store: MemoryStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    def moved(change: RequirementsChange) -> None:
        raise VersionConflict(change.channel, change.expected_version)

    monkeypatch.setattr(store, "commit_requirements", moved)
    with pytest.raises(VersionConflict):
        put(ctx, OPERATOR)


def test_a_bad_list_names_every_bad_pointer(ctx: CatalogContext) -> None:
    with pytest.raises(InvalidField) as raised:
        put(ctx, OPERATOR, required=["/description", "/colour", 3, "/attributes/"])

    assert [e.field for e in raised.value.fields] == ["/required/1", "/required/2", "/required/3"]
    with pytest.raises(InvalidField):
        PutChannelRequirements.from_json("NOT A SLUG", {"required": []})
