"""The Product aggregate: creation, revision, images, and what each change records."""

from __future__ import annotations

import pytest

from catalog.domain import editable
from catalog.domain.errors import ImageNotFound, InvalidField, ProductInactive, ProductIncomplete
from catalog.domain.events import EventName
from catalog.domain.history import FieldChange
from catalog.domain.lifecycle import Status
from catalog.domain.limits import MAX_IMAGES
from catalog.domain.product import EDITABLE_FIELDS, REGISTERED_FIELDS, Product
from catalog.domain.values import ChannelOverride, Money
from tests.domain.builders import draft, image, new_id, stamp, with_status


def revise(product: Product, minutes: int = 5, **fields: object) -> None:
    current = {
        "product_type": product.product_type,
        "name": product.name,
        "description": product.description,
        "price": product.price,
        "attributes": product.attributes,
        "channel_overrides": product.channel_overrides,
    }
    current.update(fields)
    product.revise(stamp=stamp(minutes), **current)


def test_register_starts_a_draft_at_version_one_with_created_event_and_history():
    product = Product.register(
        id="P9",
        merchant_id="acme",
        sku="S-9",
        name="Mug",
        description=None,
        price=None,
        attributes={"material": "clay"},
        channel_overrides={},
        stamp=stamp(),
    )
    change = product.pull_change(new_id)

    assert change is not None
    assert (product.status, product.version, change.expected_version) == (Status.DRAFT, 1, 0)
    assert [e.name for e in change.events] == [EventName.PRODUCT_CREATED]
    assert change.events[0].data == {"sku": "S-9", "name": "Mug", "status": "DRAFT"}
    assert list(change.history.changes) == [
        FieldChange("/attributes", None, {"material": "clay"}),
        FieldChange("/name", None, "Mug"),
    ]
    assert change.history.transition is not None
    assert change.history.transition.to_status == "DRAFT"


def test_a_registration_chooses_identity_and_content_and_nothing_else():
    content = (
        "product_type",
        "name",
        "description",
        "price",
        "attributes",
        "options",
        "channel_overrides",
    )
    assert content == EDITABLE_FIELDS
    # Variants are chosen at registration too, then changed only by the variant commands.
    assert ("id", "merchant_id", "sku", *content, "variants") == REGISTERED_FIELDS
    assert tuple(draft().editable_document()) == content
    # The request's side (domain/editable.py) parses exactly the product's content fields.
    assert editable.EditableFields.__struct_fields__ == EDITABLE_FIELDS

    product = Product.register(id="P9", merchant_id="acme", sku="S-9", name="Mug", stamp=stamp())

    assert (product.description, product.price, product.attributes) == (None, None, {})
    assert (product.images, product.listings, product.channel_overrides) == ([], {}, {})
    assert (product.options, product.variants) == ((), [])
    with pytest.raises(TypeError, match="status"):
        Product.register(
            id="P9", merchant_id="acme", sku="S-9", name="Mug", status=Status.ACTIVE, stamp=stamp()
        )


def test_a_revision_changes_content_fields_only():
    product = draft()

    with pytest.raises(TypeError, match="sku"):
        product.revise(sku="OTHER", stamp=stamp(5))
    product.revise(name="Renamed", stamp=stamp(5))

    assert (product.sku, product.name, product.description) == ("TS-1", "Renamed", "Light and fast")


def test_revision_records_old_and_new_values_per_field():
    product = draft()

    revise(product, attributes={"color": "blue", "size": 42}, price=Money(100, "USD"))
    change = product.pull_change(new_id)

    assert change is not None
    assert set(change.history.changes) == {
        FieldChange("/attributes/color", "red", "blue"),
        FieldChange("/attributes/size", None, 42),
        FieldChange("/price/amount", 12999, 100),
    }
    assert change.events[0].name is EventName.PRODUCT_UPDATED
    assert change.events[0].data["changed_fields"] == [
        "/attributes/color",
        "/attributes/size",
        "/price/amount",
    ]


def test_revision_that_changes_nothing_writes_no_version():
    product = draft()
    revise(product)
    assert product.pull_change(new_id) is None


def test_ready_product_edited_into_incompleteness_falls_back_to_draft_in_the_same_version():
    product = with_status("READY")
    version = product.version

    revise(product, description=None)
    change = product.pull_change(new_id)

    assert product.status is Status.DRAFT
    assert change is not None and change.history.version == version + 1
    assert change.history.transition is not None
    assert change.history.transition.reason == "incomplete: missing /description"
    assert [e.name for e in change.events] == [
        EventName.PRODUCT_UPDATED,
        EventName.PRODUCT_STATUS_CHANGED,
    ]


def test_active_product_cannot_be_left_incomplete_and_keeps_its_content():
    product = with_status("ACTIVE")

    with pytest.raises(ProductIncomplete):
        revise(product, price=None)

    assert product.price == Money(12999, "USD")
    assert product.pull_change(new_id) is None


def test_inactive_product_refuses_edits_until_reactivated():
    product = with_status("INACTIVE")
    with pytest.raises(ProductInactive):
        revise(product, name="Other")
    with pytest.raises(ProductInactive):
        product.add_image(image("IMG2"), stamp(6))


def test_removing_the_last_image_of_a_ready_product_falls_back_to_draft():
    product = with_status("READY")

    removed = product.remove_image("IMG1", stamp(6))

    assert removed.id == "IMG1"
    assert product.images == []
    assert product.status is Status.DRAFT


def test_removing_an_unknown_image_is_not_found():
    with pytest.raises(ImageNotFound):
        draft().remove_image("NOPE", stamp(2))


def test_image_count_is_limited():
    product = draft()
    for index in range(MAX_IMAGES):
        product.add_image(image(f"I{index}"), stamp(index))
    with pytest.raises(InvalidField) as raised:
        product.add_image(image("ONE-TOO-MANY"), stamp(99))
    assert raised.value.field == "/images"


def test_channel_content_applies_overrides_over_the_products_own():
    product = draft(
        channel_overrides={
            "mercadolibre": ChannelOverride(
                price=Money(11999, "USD"), attributes={"color": None, "warranty": "1y"}
            )
        }
    )

    own = product.content_for(None)
    ml = product.content_for("mercadolibre")
    other = product.content_for("facebook")

    assert own.price == Money(12999, "USD")
    assert ml.price == Money(11999, "USD")
    assert ml.name == "Trail shoe"
    assert ml.attributes == {"warranty": "1y"}
    assert other == own


def test_several_commands_before_a_pull_make_one_version():
    product = draft()
    version = product.version
    product.add_image(image("A"), stamp(1))
    product.add_image(image("B"), stamp(2))
    change = product.pull_change(new_id)
    assert change is not None
    assert product.version == version + 1
    assert change.history.at == stamp(2).at
