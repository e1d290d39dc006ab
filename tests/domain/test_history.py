"""What history records of a change: never a null that stays null."""

from __future__ import annotations

from catalog.domain.history import FieldChange, diff
from catalog.domain.product import Product
from catalog.domain.values import ChannelOverride
from tests.domain.builders import draft, new_id, stamp, with_status


def revise(product: Product, **fields: object) -> None:
    current: dict[str, object] = {
        "name": product.name,
        "description": product.description,
        "price": product.price,
        "attributes": product.attributes,
        "channel_overrides": product.channel_overrides,
    }
    current.update(fields)
    product.revise(stamp=stamp(5), **current)  # type: ignore[arg-type]


def test_a_member_null_on_one_side_and_absent_on_the_other_is_no_change() -> None:
    assert diff({"a": None}, {}) == []
    assert diff({}, {"a": None, "b": {"c": None}}, "/x") == [FieldChange("/x/b", None, {"c": None})]
    assert diff({"a": 1}, {}) == [FieldChange("/a", 1, None)]
    assert diff({}, {"a": 0}) == [FieldChange("/a", None, 0)]


def test_an_attribute_set_to_null_that_did_not_exist_makes_no_version() -> None:
    product = draft(description=None)

    revise(product, description=None, attributes={"color": "red", "weight": None})

    assert product.pull_change(new_id) is None
    assert product.attributes == {"color": "red"}
    assert product.version == 1


def test_removing_a_null_attribute_makes_no_version_and_keeps_the_document() -> None:
    product = draft(attributes={"color": "red", "weight": None})

    revise(product, attributes={"color": "red"})

    assert product.pull_change(new_id) is None
    assert product.attributes == {"color": "red", "weight": None}


def test_a_change_beside_a_null_to_null_records_only_itself() -> None:
    product = draft(description=None, attributes={"color": "red", "weight": None})

    revise(product, name="Runner", attributes={"color": "red"})
    change = product.pull_change(new_id)

    assert change is not None
    assert change.history.changes == (FieldChange("/name", "Trail shoe", "Runner"),)
    assert change.events[0].data["changed_fields"] == ["/name"]


def test_a_null_in_channel_attributes_hides_a_value_so_its_coming_and_going_is_recorded() -> None:
    product = draft(channel_overrides={"ml": ChannelOverride(attributes={"size": "M"})})

    revise(product, channel_overrides={"ml": ChannelOverride(attributes={"color": None})})
    hidden = product.pull_change(new_id)
    revise(product, channel_overrides={"ml": ChannelOverride(attributes={})})
    shown = product.pull_change(new_id)

    assert hidden is not None and shown is not None
    at = "/channel_overrides/ml/attributes"
    assert hidden.history.changes == (FieldChange(at, {"size": "M"}, {"color": None}),)
    assert shown.history.changes == (FieldChange(at, {"color": None}, {}),)
    assert product.content_for("ml").attributes == {"color": "red"}


def test_a_new_listing_records_its_state_and_no_empty_fields() -> None:
    product = with_status("READY")

    product.request_publication("ml", stamp(10))
    change = product.pull_change(new_id)

    assert change is not None
    assert change.history.changes == (FieldChange("/listings/ml/state", None, "PENDING"),)
