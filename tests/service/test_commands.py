"""Commands parse their input once, with the domain's rules, whichever entrypoint builds them:
every bad field at once, each named by a JSON pointer."""

from __future__ import annotations

from typing import Any

import pytest

from catalog.domain.errors import InvalidField
from catalog.domain.lifecycle import Status
from catalog.service.commands import (
    ChangeStatus,
    ConfirmUpload,
    PatchProduct,
    RegisterProduct,
    ReportOutcome,
    RequestUpload,
)

ID = "01JD8X5J9ZK8Q5W6V2C3N4M5P6"


def fields_of(error: InvalidField) -> list[str]:
    return [e.field for e in error.fields]


def test_a_registration_reports_every_bad_field_at_once() -> None:
    body = {
        "sku": "has space",
        "name": "",
        "colour": "red",
        "price": {"amount": -1, "currency": "usd"},
        "attributes": [],
    }
    with pytest.raises(InvalidField) as raised:
        RegisterProduct.from_json("acme", body)
    assert fields_of(raised.value) == [
        "/colour",
        "/sku",
        "/name",
        "/price/amount",
        "/price/currency",
        "/attributes",
    ]


def test_a_registration_keeps_the_digest_of_the_body_as_sent_for_its_idempotency_key() -> None:
    first = RegisterProduct.from_json("acme", {"sku": "S", "name": "A"}, "key-1")
    same = RegisterProduct.from_json("acme", {"name": "A", "sku": "S"}, "key-1")
    other = RegisterProduct.from_json("acme", {"sku": "S", "name": "A", "description": None}, "k")
    assert first.idempotency is not None and other.idempotency is not None
    assert first.idempotency == same.idempotency
    assert first.idempotency.fingerprint != other.idempotency.fingerprint
    assert RegisterProduct.from_json("acme", {"sku": "S", "name": "A"}).idempotency is None


@pytest.mark.parametrize(
    ("patch", "fields"),
    [
        ({"sku": "X", "status": "READY"}, ["/sku", "/status"]),
        (
            {"channel_overrides": {"Bad": None, "ok-one": {"colour": None}}},
            [
                "/channel_overrides/Bad",
                "/channel_overrides/ok-one/colour",
            ],
        ),
        ({"price": {"cents": 1}}, ["/price/cents"]),
        ("name", ["/"]),
    ],
)
def test_a_patch_names_only_members_a_product_has(patch: Any, fields: list[str]) -> None:
    with pytest.raises(InvalidField) as raised:
        PatchProduct.from_json("acme", ID, patch)
    assert fields_of(raised.value) == fields


def test_a_patch_leaves_values_to_the_rules_applied_after_merging() -> None:
    # A price without a currency is fine as a patch: merged over a price it is complete.
    patch = {"price": {"amount": 5}, "name": None}
    assert PatchProduct.from_json("acme", ID, patch).patch == patch


def test_a_status_change_may_not_ask_for_active_and_reports_the_reason_too() -> None:
    with pytest.raises(InvalidField) as raised:
        ChangeStatus.from_json("acme", ID, {"status": "ACTIVE", "reason": 5})
    assert fields_of(raised.value) == ["/status", "/reason"]
    command = ChangeStatus.from_json("acme", ID, {"status": "READY", "reason": "approved"}, 3)
    assert (command.status, command.reason, command.if_match) == (Status.READY, "approved", 3)


def test_an_outcome_is_parsed_into_the_domain_outcome() -> None:
    command = ReportOutcome.from_json(
        "acme", ID, "ml", {"state": "FAILED", "product_version": 2, "message": "no category"}
    )
    assert (command.outcome.product_version, command.outcome.message) == (2, "no category")
    with pytest.raises(InvalidField) as raised:
        ReportOutcome.from_json("acme", ID, "ml", {"state": "PUBLISHED", "product_version": 2})
    assert raised.value.field == "/external_id"


def test_upload_commands_check_type_size_and_alt() -> None:
    with pytest.raises(InvalidField) as raised:
        RequestUpload.from_json("acme", ID, {"content_type": "image/svg+xml", "size": 0})
    assert fields_of(raised.value) == ["/content_type", "/size"]
    with pytest.raises(InvalidField) as raised:
        ConfirmUpload.from_json("acme", ID, ID, {"alt": "x" * 501, "extra": 1})
    assert fields_of(raised.value) == ["/extra", "/alt"]
