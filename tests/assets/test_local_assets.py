from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

from catalog.adapters.embedded.local_assets import AssetUnavailable, LocalAssetStore
from tests.clocks import NOON, ManualSecondsClock

from .images import encoded

KEY = "acme/01JDPRODUCT/01JDIMAGE.png"
BASE_URL = "http://127.0.0.1:8000"
DAY = 24 * 3600


def signed(url: str) -> tuple[str, int, str]:
    """URL -> (key, expires, signature), as the serving route reads them."""
    parts = urlsplit(url)
    query = parse_qs(parts.query)
    key = parts.path.removeprefix("/assets/")
    return key, int(query["expires"][0]), query["signature"][0]


@pytest.fixture
def clock() -> ManualSecondsClock:
    return ManualSecondsClock(NOON)


@pytest.fixture
def store(tmp_path: Path, clock: ManualSecondsClock) -> LocalAssetStore:
    return LocalAssetStore(tmp_path / "assets", BASE_URL + "/", b"k" * 32, clock=clock)


def test_put_then_url_then_open_returns_the_bytes_and_type(store: LocalAssetStore) -> None:
    data = encoded("PNG")
    store.put(KEY, data, "image/png")

    url = store.url_for(KEY)
    path, content_type = store.open(*signed(url))

    assert url.startswith(f"{BASE_URL}/assets/{KEY}?expires=")
    assert path.read_bytes() == data
    assert content_type == "image/png"


@pytest.mark.parametrize(
    ("extension", "content_type"),
    [("jpg", "image/jpeg"), ("webp", "image/webp"), ("gif", "image/gif")],
)
def test_content_type_follows_the_extension(
    store: LocalAssetStore, extension: str, content_type: str
) -> None:
    key = f"acme/p1/i1.{extension}"
    store.put(key, b"bytes", content_type)

    assert store.open(*signed(store.url_for(key)))[1] == content_type


def test_put_refuses_a_type_the_extension_would_not_serve(store: LocalAssetStore) -> None:
    with pytest.raises(ValueError):
        store.put(KEY, b"<svg/>", "image/svg+xml")


def test_put_replaces_atomically_and_leaves_no_temporary_file(
    store: LocalAssetStore, tmp_path: Path
) -> None:
    store.put(KEY, b"first", "image/png")
    store.put(KEY, b"second", "image/png")

    folder = tmp_path / "assets" / "acme" / "01JDPRODUCT"
    assert sorted(p.name for p in folder.iterdir()) == ["01JDIMAGE.png"]
    assert (folder / "01JDIMAGE.png").read_bytes() == b"second"


def test_failed_put_keeps_the_previous_object_and_cleans_up(
    store: LocalAssetStore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store.put(KEY, b"first", "image/png")

    def broken_replace(source: str, target: str) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", broken_replace)
    with pytest.raises(OSError, match="disk full"):
        store.put(KEY, b"second", "image/png")

    folder = tmp_path / "assets" / "acme" / "01JDPRODUCT"
    assert sorted(p.name for p in folder.iterdir()) == ["01JDIMAGE.png"]
    assert (folder / "01JDIMAGE.png").read_bytes() == b"first"


def test_url_for_touches_no_file(tmp_path: Path, clock: ManualSecondsClock) -> None:
    root = tmp_path / "does-not-exist"
    store = LocalAssetStore(root, BASE_URL, b"k" * 32, clock=clock)

    url = store.url_for(KEY)

    assert url.startswith(f"{BASE_URL}/assets/{KEY}?")
    assert not root.exists()


def test_url_is_stable_for_the_day_and_valid_at_least_a_day(
    store: LocalAssetStore, clock: ManualSecondsClock
) -> None:
    clock.now = NOON - 12 * 3600  # start of the UTC day
    morning = store.url_for(KEY)
    clock.now = NOON + 12 * 3600 - 1  # last second of the same day
    evening = store.url_for(KEY)
    clock.now = NOON + 12 * 3600  # next day
    tomorrow = store.url_for(KEY)

    assert morning == evening != tomorrow
    expires = signed(evening)[1]
    assert DAY <= expires - clock.now <= 2 * DAY


def test_tampered_signature_is_refused(store: LocalAssetStore) -> None:
    store.put(KEY, b"x", "image/png")
    key, expires, signature = signed(store.url_for(KEY))
    tampered = ("A" if signature[0] != "A" else "B") + signature[1:]

    with pytest.raises(AssetUnavailable):
        store.open(key, expires, tampered)
    with pytest.raises(AssetUnavailable):
        store.open(key, expires + DAY, signature)  # extending the expiry breaks the signature


def test_signature_of_one_key_does_not_open_another(store: LocalAssetStore) -> None:
    other = "acme/01JDPRODUCT/OTHER.png"
    store.put(KEY, b"x", "image/png")
    store.put(other, b"y", "image/png")
    _, expires, signature = signed(store.url_for(KEY))

    with pytest.raises(AssetUnavailable):
        store.open(other, expires, signature)


def test_url_signed_with_another_secret_is_refused(
    store: LocalAssetStore, tmp_path: Path, clock: ManualSecondsClock
) -> None:
    store.put(KEY, b"x", "image/png")
    forger = LocalAssetStore(tmp_path / "assets", BASE_URL, b"z" * 32, clock=clock)

    with pytest.raises(AssetUnavailable):
        store.open(*signed(forger.url_for(KEY)))


def test_expired_url_is_refused(store: LocalAssetStore, clock: ManualSecondsClock) -> None:
    store.put(KEY, b"x", "image/png")
    key, expires, signature = signed(store.url_for(KEY))

    clock.now = expires - 1
    assert store.open(key, expires, signature)[0].read_bytes() == b"x"
    assert store.seconds_left(expires) == 1
    clock.now = expires
    with pytest.raises(AssetUnavailable):
        store.open(key, expires, signature)
    assert store.seconds_left(expires) == 0


def test_signed_url_of_a_missing_object_is_unavailable(store: LocalAssetStore) -> None:
    with pytest.raises(AssetUnavailable):
        store.open(*signed(store.url_for(KEY)))


# All end in ".png", so only the key check stands between them and the disk.
TRAVERSAL_KEYS = [
    "../escaped.png",
    "acme/../../escaped.png",
    "acme/p/../../../escaped.png",
    "acme//p/i.png",
    "acme/./i.png",
    "acme/.hidden.png",
    "acme/p/.png",
    "acme\\..\\escaped.png",
    "acme/p/i\x00.png",
    "acme/%2e%2e/i.png",
    "acme/p/\u0131.png",  # a letter, but not an ASCII one
    "acme/p/i j.png",
    "acme/p/i.png/",
    ".png",
    "a" * 600 + ".png",
]


@pytest.mark.parametrize("key", TRAVERSAL_KEYS)
def test_keys_that_could_escape_the_folder_are_refused(
    store: LocalAssetStore, tmp_path: Path, key: str
) -> None:
    with pytest.raises(ValueError):
        store.put(key, b"x", "image/png")
    with pytest.raises(ValueError):
        store.url_for(key)
    with pytest.raises(ValueError):
        store.delete(key)
    with pytest.raises(AssetUnavailable):
        store.open(key, int(NOON) + DAY, "anything")
    assert sorted(tmp_path.iterdir()) == []


def test_absolute_key_is_refused(store: LocalAssetStore, tmp_path: Path) -> None:
    key = str(tmp_path / "escaped.png")

    with pytest.raises(ValueError):
        store.put(key, b"x", "image/png")
    with pytest.raises(AssetUnavailable):
        store.open(key, int(NOON) + DAY, "anything")
    assert sorted(tmp_path.iterdir()) == []


def test_delete_is_idempotent(store: LocalAssetStore) -> None:
    store.put(KEY, b"x", "image/png")
    url = store.url_for(KEY)

    store.delete(KEY)
    store.delete(KEY)
    store.delete("acme/never/stored.png")

    with pytest.raises(AssetUnavailable):
        store.open(*signed(url))
