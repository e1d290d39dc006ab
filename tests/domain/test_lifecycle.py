"""Every requested transition between every pair of statuses, table-driven."""

from __future__ import annotations

import itertools

import pytest

from catalog.domain.errors import InvalidTransition, ProductIncomplete
from catalog.domain.events import EventName
from catalog.domain.lifecycle import Status, Trigger, is_allowed
from tests.domain.builders import draft, new_id, stamp, with_status

S = Status
ALLOWED_REQUESTS = {
    (S.DRAFT, S.READY): EventName.PRODUCT_STATUS_CHANGED,
    (S.READY, S.DRAFT): EventName.PRODUCT_STATUS_CHANGED,
    (S.DRAFT, S.INACTIVE): EventName.PRODUCT_DEACTIVATED,
    (S.READY, S.INACTIVE): EventName.PRODUCT_DEACTIVATED,
    (S.ACTIVE, S.INACTIVE): EventName.PRODUCT_DEACTIVATED,
    (S.INACTIVE, S.DRAFT): EventName.PRODUCT_REACTIVATED,
}
DIFFERENT_PAIRS = [(a, b) for a, b in itertools.product(Status, Status) if a is not b]
FORBIDDEN_REQUESTS = [pair for pair in DIFFERENT_PAIRS if pair not in ALLOWED_REQUESTS]


@pytest.mark.parametrize(("current", "target"), list(ALLOWED_REQUESTS))
def test_allowed_transition_moves_records_history_and_one_event(current, target):
    product = with_status(current)
    version = product.version

    product.transition(target, stamp(5, actor="bob"), reason="because")
    change = product.pull_change(new_id)

    assert product.status is target
    assert change is not None
    assert change.expected_version == version
    assert change.history.version == version + 1
    assert change.history.actor == "bob"
    transition = change.history.transition
    assert transition is not None
    assert (transition.from_status, transition.to_status, transition.reason) == (
        current.value,
        target.value,
        "because",
    )
    assert [event.name for event in change.events] == [ALLOWED_REQUESTS[(current, target)]]
    assert change.events[0].data == {
        "from_status": current.value,
        "to_status": target.value,
        "reason": "because",
    }


@pytest.mark.parametrize(("current", "target"), FORBIDDEN_REQUESTS)
def test_forbidden_transition_is_refused_naming_the_current_status(current, target):
    product = with_status(current)
    version = product.version

    with pytest.raises(InvalidTransition) as raised:
        product.transition(target, stamp(5))

    assert raised.value.current == current.value
    assert product.status is current
    assert product.pull_change(new_id) is None
    assert product.version == version


@pytest.mark.parametrize("status", list(Status))
def test_requesting_the_current_status_changes_nothing(status):
    product = with_status(status)
    version = product.version

    product.transition(status, stamp(5))

    assert product.pull_change(new_id) is None
    assert product.version == version


def test_active_is_only_entered_and_left_by_the_system():
    assert not is_allowed(S.READY, S.ACTIVE, Trigger.REQUEST)
    assert is_allowed(S.READY, S.ACTIVE, Trigger.SYSTEM)
    assert is_allowed(S.ACTIVE, S.READY, Trigger.SYSTEM)
    assert not is_allowed(S.ACTIVE, S.DRAFT, Trigger.SYSTEM)


def test_ready_requires_every_missing_field_to_be_named():
    product = draft(description=None, price=None)

    with pytest.raises(ProductIncomplete) as raised:
        product.transition(S.READY, stamp(1))

    assert raised.value.missing == ["/description", "/price", "/images"]
    assert product.status is S.DRAFT
