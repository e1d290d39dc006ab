"""GET a product (ETag, If-None-Match, channel views) and list products (pages, filters)."""

from __future__ import annotations

import pytest

from tests.api.support import Api, assert_problem, complete_body, error_fields, png, product_body

UNKNOWN_ID = "01JD0000000000000000000000"


def test_get_returns_the_view_with_its_etag(acme: Api) -> None:
    created = acme.create_ok()
    response = acme.get(created["id"])
    assert response.status_code == 200
    assert response.headers["etag"] == '"1"'
    assert response.headers["content-type"] == "application/json"
    assert response.json() == created


def test_unknown_product_is_a_404_problem(acme: Api) -> None:
    problem = assert_problem(acme.get(UNKNOWN_ID), 404)
    assert problem["type"] == "/problems/not-found"
    assert problem["instance"] == acme.product_url(UNKNOWN_ID)


@pytest.mark.parametrize("bad_id", ["not-a-ulid", "01jd0000000000000000000000", "0" * 27, "Z" * 26])
def test_malformed_product_id_is_404(acme: Api, bad_id: str) -> None:
    assert_problem(acme.get(bad_id), 404)


@pytest.mark.parametrize(
    "if_none_match", ['"1"', 'W/"1"', "*", '"7", "1"', '"0",W/"1"', '"1;channel=x", "1"']
)
def test_matching_if_none_match_is_304_without_body(acme: Api, if_none_match: str) -> None:
    created = acme.create_ok()
    response = acme.get(created["id"], headers={"If-None-Match": if_none_match})
    assert response.status_code == 304
    assert response.content == b""
    assert response.headers["etag"] == '"1"'


@pytest.mark.parametrize("if_none_match", ["1", '"2"', '"1;channel=x"'])
def test_non_matching_if_none_match_returns_the_product(acme: Api, if_none_match: str) -> None:
    created = acme.create_ok()
    response = acme.get(created["id"], headers={"If-None-Match": if_none_match})
    assert response.status_code == 200
    assert response.json() == created


def test_stale_if_none_match_returns_the_new_version(acme: Api) -> None:
    created = acme.create_ok()
    acme.patch(created["id"], {"name": "Renamed"})
    response = acme.get(created["id"], headers={"If-None-Match": '"1"'})
    assert response.status_code == 200
    assert response.headers["etag"] == '"2"'
    assert response.json()["name"] == "Renamed"


def test_channel_view_applies_that_channels_overrides(acme: Api) -> None:
    created = acme.create_ok(
        complete_body(
            attributes={"color": "red", "size": 42},
            channel_overrides={
                "mercadolibre": {
                    "name": "Zapatilla trail",
                    "price": {"amount": 11999, "currency": "USD"},
                    "attributes": {"color": None, "garantia": "6 meses"},
                }
            },
        )
    )
    response = acme.get(created["id"], channel="mercadolibre")
    assert response.status_code == 200
    assert response.headers["etag"] == '"1;channel=mercadolibre"'
    view = response.json()
    assert view["name"] == "Zapatilla trail"
    assert view["description"] == created["description"]
    assert view["price"] == {"amount": 11999, "currency": "USD"}
    assert view["attributes"] == {"size": 42, "garantia": "6 meses"}

    plain = acme.get(created["id"], channel="instagram")
    assert plain.headers["etag"] == '"1;channel=instagram"'
    assert plain.json()["name"] == "Trail shoe"
    assert plain.json()["price"] == created["price"]

    # Each representation validates with its own tag only.
    same = acme.get(
        created["id"], channel="mercadolibre", headers={"If-None-Match": '"1;channel=mercadolibre"'}
    )
    assert same.status_code == 304
    other = acme.get(created["id"], channel="mercadolibre", headers={"If-None-Match": '"1"'})
    assert other.status_code == 200


@pytest.mark.parametrize("channel", ["Not A Slug", "x", "ab\n", ""])
def test_bad_channel_parameter_is_422(acme: Api, channel: str) -> None:
    created = acme.create_ok()
    problem = assert_problem(acme.get(created["id"], channel=channel), 422)
    assert problem["errors"][0]["field"] == "channel"
    assert problem["errors"][0]["in"] == "query"


def test_image_urls_are_computed_by_the_asset_store(acme: Api) -> None:
    created = acme.create_ok()
    acme.upload(created["id"], png())
    view = acme.get(created["id"]).json()
    [image] = view["images"]
    assert image["url"].startswith("https://cdn.example.test/catalog/acme/")


# ------------------------------------------------------------------ list


def _create_many(api: Api, count: int) -> list[str]:
    return [api.create_ok(product_body(f"SKU-{i:03}"))["id"] for i in range(count)]


def test_list_pages_through_every_product_once(acme: Api) -> None:
    ids = _create_many(acme, 7)
    seen: list[str] = []
    pages = 0
    cursor = None
    while True:
        params = {"limit": 3} | ({"cursor": cursor} if cursor else {})
        response = acme.list(**params)
        assert response.status_code == 200
        page = response.json()
        assert len(page["items"]) <= 3
        seen.extend(item["id"] for item in page["items"])
        pages += 1
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert pages == 3
    assert seen == sorted(ids)  # creation order, nothing twice, nothing missed
    assert sorted(seen) == sorted(ids)


def test_list_items_are_product_views(acme: Api) -> None:
    created = acme.create_ok()
    assert acme.list().json() == {"items": [created], "next_cursor": None}


def test_list_default_page_size_is_20(acme: Api) -> None:
    _create_many(acme, 21)
    page = acme.list().json()
    assert len(page["items"]) == 20
    assert page["next_cursor"] is not None


def test_list_filters_by_status(acme: Api) -> None:
    first, second, third = _create_many(acme, 3)
    acme.delete(second)
    inactive = acme.list(status="INACTIVE").json()["items"]
    drafts = acme.list(status="DRAFT").json()["items"]
    assert [p["id"] for p in inactive] == [second]
    assert [p["id"] for p in drafts] == [first, third]
    assert acme.list(status="READY").json()["items"] == []


def test_list_shows_only_the_merchants_own_products(acme: Api, globex: Api) -> None:
    mine = _create_many(acme, 2)
    globex.create_ok(product_body("G-1"))
    assert [p["id"] for p in acme.list().json()["items"]] == mine


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"limit": 0}, "limit"),
        ({"limit": 101}, "limit"),
        ({"limit": "ten"}, "limit"),
        ({"status": "ARCHIVED"}, "status"),
        ({"channel": "Bad Channel"}, "channel"),
    ],
)
def test_bad_list_parameters_are_422(acme: Api, params: dict[str, object], field: str) -> None:
    problem = assert_problem(acme.list(**params), 422)
    assert error_fields(problem) == [field]


def _first_cursor(api: Api, **params: object) -> str:
    _create_many(api, 3)
    cursor = api.list(limit=1, **params).json()["next_cursor"]
    assert cursor
    return str(cursor)


def test_tampered_cursor_is_400(acme: Api) -> None:
    cursor = _first_cursor(acme)
    flipped = ("A" if cursor[0] != "A" else "B") + cursor[1:]
    for bad in (flipped, cursor + "x", "garbage", cursor.replace(".", "")):
        problem = assert_problem(acme.list(limit=1, cursor=bad), 400)
        assert problem["type"] == "/problems/invalid-cursor"


def test_cursor_replayed_by_another_merchant_is_400(acme: Api, globex: Api) -> None:
    cursor = _first_cursor(acme)
    _create_many(globex, 3)
    assert_problem(globex.list(limit=1, cursor=cursor), 400)


def test_cursor_with_other_filters_is_400(acme: Api) -> None:
    cursor = _first_cursor(acme)
    assert_problem(acme.list(limit=1, cursor=cursor, status="DRAFT"), 400)
    assert acme.list(limit=1, cursor=cursor).status_code == 200
    # A different page size is the same query: the cursor stays valid.
    assert acme.list(limit=2, cursor=cursor).status_code == 200
