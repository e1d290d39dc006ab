"""Channel orchestration over HTTP: publication requests, adapter outcomes, the deactivation
cascade and the channel filter."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from catalog.domain.events import EventName
from tests.api.conftest import Principals
from tests.api.support import Api, ChannelsApi, assert_problem, complete_body, png


@pytest.fixture
def merchant(acme: Api) -> ChannelsApi:
    return ChannelsApi(acme)


@pytest.fixture
def adapter_for(client, principals: Principals) -> Callable[[str], ChannelsApi]:
    def build(channel: str) -> ChannelsApi:
        return ChannelsApi(Api(client, principals.channel(channel), "acme"))

    return build


@pytest.fixture
def ready(acme: Api) -> dict[str, Any]:
    product = acme.create_ok(complete_body())
    assert acme.upload(product["id"], png()).status_code == 201
    response = acme.set_status(product["id"], "READY")
    assert response.status_code == 200, response.text
    return response.json()


def published_on(merchant, adapter_for, product_id: str, channel: str) -> dict[str, Any]:
    requested = merchant.publish(product_id, channel)
    assert requested.status_code == 202, requested.text
    reported = adapter_for(channel).report(
        product_id,
        channel,
        state="PUBLISHED",
        product_version=requested.json()["version"],
        external_id=f"{channel.upper()}-1",
        external_url=f"https://{channel}.test/item/1",
    )
    assert reported.status_code == 200, reported.text
    return reported.json()


def names(events: Callable[[], list[Any]]) -> list[tuple[str, Any]]:
    return [(e.name.value, e.data.get("channel")) for e in events()]


def test_publish_request_is_202_pending_with_one_event(merchant, ready, events):
    response = merchant.publish(ready["id"], "mercadolibre")

    assert response.status_code == 202
    view = response.json()
    assert view["listings"]["mercadolibre"]["state"] == "PENDING"
    assert view["version"] == ready["version"] + 1
    assert response.headers["etag"] == f'"{view["version"]}"'
    assert names(events)[-1] == ("ProductPublicationRequested", "mercadolibre")


def test_repeating_a_publish_request_changes_nothing(merchant, ready, events):
    first = merchant.publish(ready["id"], "mercadolibre").json()
    count = len(events())

    again = merchant.publish(ready["id"], "mercadolibre")

    assert again.status_code == 202
    assert again.json()["version"] == first["version"]
    assert len(events()) == count


def test_draft_and_inactive_products_cannot_be_published(acme, merchant):
    draft = acme.create_ok()
    problem = assert_problem(merchant.publish(draft["id"], "mercadolibre"), 409)
    assert problem["current_status"] == "DRAFT"

    acme.delete(draft["id"])
    problem = assert_problem(merchant.publish(draft["id"], "mercadolibre"), 409)
    assert problem["current_status"] == "INACTIVE"


def test_an_invalid_channel_slug_is_422(merchant, ready):
    problem = assert_problem(merchant.publish(ready["id"], "Mercado_Libre"), 422)
    assert problem["errors"][0]["field"] == "/channel"


def test_first_publication_makes_the_product_active(merchant, adapter_for, ready, events, acme):
    view = published_on(merchant, adapter_for, ready["id"], "mercadolibre")

    assert view["status"] == "ACTIVE"
    listing = view["listings"]["mercadolibre"]
    assert (listing["state"], listing["external_id"], listing["external_url"]) == (
        "PUBLISHED",
        "MERCADOLIBRE-1",
        "https://mercadolibre.test/item/1",
    )
    assert names(events)[-2:] == [
        ("ProductPublished", "mercadolibre"),
        ("ProductStatusChanged", None),
    ]
    latest = acme.history(ready["id"]).json()["items"][0]
    assert latest["actor"] == "mercadolibre-adapter"
    assert latest["transition"]["to"] == "ACTIVE"


def test_only_the_channels_own_adapter_may_report(merchant, adapter_for, ready, acme, platform):
    version = merchant.publish(ready["id"], "mercadolibre").json()["version"]
    outcome = {"state": "PUBLISHED", "product_version": version, "external_id": "X"}

    for reporter in (ChannelsApi(acme), ChannelsApi(platform), adapter_for("facebook")):
        assert_problem(reporter.report(ready["id"], "mercadolibre", **outcome), 403)

    assert adapter_for("mercadolibre").report(ready["id"], "mercadolibre", **outcome).is_success


def test_adapters_read_any_merchants_products_other_merchants_do_not(adapter_for, ready, globex):
    assert globex.as_merchant("acme").get(ready["id"]).status_code == 404
    assert adapter_for("mercadolibre").api.get(ready["id"]).status_code == 200


def test_a_repeated_outcome_writes_nothing(merchant, adapter_for, ready, events):
    view = published_on(merchant, adapter_for, ready["id"], "mercadolibre")
    count = len(events())

    again = adapter_for("mercadolibre").report(
        ready["id"],
        "mercadolibre",
        state="PUBLISHED",
        product_version=view["version"] - 1,
        external_id="MERCADOLIBRE-1",
        external_url="https://mercadolibre.test/item/1",
    )

    assert again.status_code == 200
    assert again.json()["version"] == view["version"]
    assert len(events()) == count


def test_an_outcome_for_a_superseded_request_is_ignored(merchant, adapter_for, ready, events):
    requested = merchant.publish(ready["id"], "mercadolibre").json()
    withdrawn = merchant.unpublish(ready["id"], "mercadolibre").json()
    count = len(events())

    late = adapter_for("mercadolibre").report(
        ready["id"],
        "mercadolibre",
        state="PUBLISHED",
        product_version=requested["version"],
        external_id="MLA1",
    )

    assert late.status_code == 200
    assert late.headers["outcome-ignored"] == "stale"
    assert late.json()["version"] == withdrawn["version"]
    assert late.json()["listings"]["mercadolibre"]["state"] == "UNPUBLISHING"
    assert len(events()) == count


@pytest.mark.parametrize(
    ("outcome", "field"),
    [
        ({"state": "PUBLISHED", "product_version": 3}, "/external_id"),
        ({"state": "FAILED", "product_version": 3}, "/message"),
        ({"state": "GONE", "product_version": 3}, "/state"),
        ({"state": "UNPUBLISHED"}, "/product_version"),
        ({"state": "UNPUBLISHED", "product_version": 0}, "/product_version"),
        (
            {
                "state": "PUBLISHED",
                "product_version": 3,
                "external_id": "X",
                "external_url": "ftp://x",
            },
            "/external_url",
        ),
    ],
)
def test_malformed_outcomes_are_422_naming_the_field(merchant, adapter_for, ready, outcome, field):
    merchant.publish(ready["id"], "mercadolibre")
    problem = assert_problem(
        adapter_for("mercadolibre").report(ready["id"], "mercadolibre", **outcome), 422
    )
    assert field in [error["field"] for error in problem["errors"]]


def test_an_outcome_without_a_request_is_409(adapter_for, ready):
    response = adapter_for("mercadolibre").report(
        ready["id"], "mercadolibre", state="UNPUBLISHED", product_version=ready["version"]
    )
    problem = assert_problem(response, 409)
    assert problem["current_state"] is None


def test_failure_is_recorded_with_its_message(merchant, adapter_for, ready, events):
    version = merchant.publish(ready["id"], "mercadolibre").json()["version"]
    response = adapter_for("mercadolibre").report(
        ready["id"],
        "mercadolibre",
        state="FAILED",
        product_version=version,
        message="missing category_id",
    )

    listing = response.json()["listings"]["mercadolibre"]
    assert (listing["state"], listing["message"]) == ("FAILED", "missing category_id")
    assert response.json()["status"] == "READY"
    assert names(events)[-1] == ("ProductPublicationFailed", "mercadolibre")


def test_deactivation_cascades_to_every_live_listing(merchant, adapter_for, ready, acme, events):
    published_on(merchant, adapter_for, ready["id"], "mercadolibre")
    merchant.publish(ready["id"], "facebook")

    view = acme.delete(ready["id"]).json()

    assert view["status"] == "INACTIVE"
    assert {c: lst["state"] for c, lst in view["listings"].items()} == {
        "mercadolibre": "UNPUBLISHING",
        "facebook": "UNPUBLISHING",
    }
    assert names(events)[-3:] == [
        ("ProductDeactivated", None),
        ("ProductUnpublicationRequested", "facebook"),
        ("ProductUnpublicationRequested", "mercadolibre"),
    ]
    confirmed = adapter_for("mercadolibre").report(
        ready["id"], "mercadolibre", state="UNPUBLISHED", product_version=view["version"]
    )
    assert confirmed.json()["listings"]["mercadolibre"]["state"] == "UNPUBLISHED"
    assert confirmed.json()["status"] == "INACTIVE"


def test_withdrawing_the_last_listing_makes_an_active_product_ready(
    merchant, adapter_for, ready, events
):
    published_on(merchant, adapter_for, ready["id"], "mercadolibre")
    withdrawn = merchant.unpublish(ready["id"], "mercadolibre")
    assert withdrawn.status_code == 202
    assert withdrawn.json()["status"] == "ACTIVE"  # still on the channel until confirmed

    confirmed = adapter_for("mercadolibre").report(
        ready["id"],
        "mercadolibre",
        state="UNPUBLISHED",
        product_version=withdrawn.json()["version"],
    )

    assert confirmed.json()["status"] == "READY"
    assert names(events)[-2:] == [
        ("ProductUnpublished", "mercadolibre"),
        ("ProductStatusChanged", None),
    ]


def test_an_update_of_an_active_product_names_the_channels_to_resync(
    merchant, adapter_for, ready, acme, events
):
    published_on(merchant, adapter_for, ready["id"], "mercadolibre")
    merchant.publish(ready["id"], "facebook")

    patched = acme.patch(
        ready["id"],
        {
            "price": {"amount": 15000},
            "channel_overrides": {"mercadolibre": {"price": {"amount": 14000, "currency": "USD"}}},
        },
    )

    assert patched.status_code == 200
    updated = events()[-1]
    assert updated.name is EventName.PRODUCT_UPDATED
    assert updated.data["channels"] == ["facebook", "mercadolibre"]
    effective = adapter_for("mercadolibre").api.get(ready["id"], channel="mercadolibre").json()
    assert effective["price"] == {"amount": 14000, "currency": "USD"}
    assert adapter_for("facebook").api.get(ready["id"], channel="facebook").json()["price"] == {
        "amount": 15000,
        "currency": "USD",
    }


def test_the_channel_filter_lists_live_listings_page_by_page(acme, merchant, adapter_for):
    ids = []
    for index in range(5):
        product = acme.create_ok(complete_body(sku=f"CH-{index}"))
        acme.upload(product["id"], png())
        acme.set_status(product["id"], "READY")
        ids.append(product["id"])
    merchant.publish(ids[0], "mercadolibre")  # PENDING
    published_on(merchant, adapter_for, ids[1], "mercadolibre")  # PUBLISHED
    published_on(merchant, adapter_for, ids[2], "mercadolibre")
    merchant.unpublish(ids[2], "mercadolibre")  # UNPUBLISHING: still live
    failed = merchant.publish(ids[3], "mercadolibre").json()["version"]
    adapter_for("mercadolibre").report(
        ids[3], "mercadolibre", state="FAILED", product_version=failed, message="no"
    )  # FAILED: not live
    merchant.publish(ids[4], "facebook")  # another channel

    first = acme.list(channel="mercadolibre", limit=2).json()
    second = acme.list(channel="mercadolibre", limit=2, cursor=first["next_cursor"]).json()

    assert [p["id"] for p in first["items"] + second["items"]] == ids[:3]
    assert second["next_cursor"] is None
    assert_problem(acme.list(channel="facebook", limit=2, cursor=first["next_cursor"]), 400)
