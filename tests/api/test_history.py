"""GET .../history: every version, newest first, with who, what and the transition."""

from __future__ import annotations

from tests.api.support import Api, assert_problem, complete_body, png


def test_history_lists_versions_newest_first_with_actor_changes_and_transitions(
    acme: Api, platform: Api
) -> None:
    created = acme.create_ok(complete_body(attributes={"color": "red"}))
    acme.patch(created["id"], {"attributes": {"color": "blue"}, "price": {"amount": 100}})
    acme.upload(created["id"], png())
    platform.set_status(created["id"], "READY", reason="reviewed")

    response = acme.history(created["id"])
    assert response.status_code == 200
    page = response.json()
    assert page["next_cursor"] is None
    entries = page["items"]
    assert [e["version"] for e in entries] == [4, 3, 2, 1]

    ready, image, patch, creation = entries
    assert ready["actor"] == "ops-admin"  # the platform principal's subject
    assert ready["transition"] == {"from": "DRAFT", "to": "READY", "reason": "reviewed"}
    assert ready["events"] == ["ProductStatusChanged"]

    assert image["actor"] == "acme-user"
    assert [c["field"] for c in image["changes"]] == ["/images"]

    assert patch["transition"] is None
    assert {"field": "/attributes/color", "old": "red", "new": "blue"} in patch["changes"]
    assert {"field": "/price/amount", "old": 12999, "new": 100} in patch["changes"]

    assert creation["transition"] == {"from": None, "to": "DRAFT", "reason": "created"}
    assert creation["events"] == ["ProductCreated"]
    assert all(e["at"].endswith("Z") for e in entries)
    assert entries[0]["at"] > entries[-1]["at"]


def test_history_pages(acme: Api) -> None:
    created = acme.create_ok()
    for i in range(6):
        acme.patch(created["id"], {"name": f"Name {i}"})
    versions: list[int] = []
    cursor = None
    pages = 0
    while True:
        params: dict[str, object] = {"limit": 3}
        if cursor:
            params["cursor"] = cursor
        page = acme.history(created["id"], **params).json()
        versions.extend(e["version"] for e in page["items"])
        pages += 1
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert versions == [7, 6, 5, 4, 3, 2, 1]
    assert pages == 3


def test_history_cursor_belongs_to_its_product(acme: Api) -> None:
    first = acme.create_ok(complete_body("A-1"))
    second = acme.create_ok(complete_body("A-2"))
    for product in (first, second):
        acme.patch(product["id"], {"name": "Renamed"})
    cursor = acme.history(first["id"], limit=1).json()["next_cursor"]
    assert cursor
    assert_problem(acme.history(second["id"], limit=1, cursor=cursor), 400)


def test_history_of_unknown_product_is_404(acme: Api) -> None:
    assert_problem(acme.history("01JD0000000000000000000000"), 404)


def test_history_limit_is_validated(acme: Api) -> None:
    created = acme.create_ok()
    assert_problem(acme.history(created["id"], limit=0), 422)
    assert_problem(acme.history(created["id"], limit=101), 422)
