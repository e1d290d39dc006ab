"""The embedded server removes direct uploads never confirmed once their ticket has expired
(LocalAssetStore.remove_expired, the UploadSweeper worker, its wiring in bootstrap). Time is
the store's clock: nothing sleeps."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from catalog.adapters.embedded.local_assets import LocalAssetStore, UploadRefused
from catalog.adapters.embedded.upload_sweeper import UploadSweeper
from catalog.bootstrap import build_container
from catalog.service.uploads import STAGING_PREFIX, UPLOAD_TICKET_SECONDS, staging_key
from catalog.settings import Settings
from tests.clocks import NOON, ManualSecondsClock

from .images import encoded

TTL = UPLOAD_TICKET_SECONDS
IMAGE_KEY = "acme/01JDPRODUCT/01JDIMAGE.png"


def staged(upload_id: str) -> str:
    return staging_key("acme", "01JDPRODUCT", upload_id)


@pytest.fixture
def clock() -> ManualSecondsClock:
    return ManualSecondsClock(NOON)


@pytest.fixture
def store(tmp_path: Path, clock: ManualSecondsClock) -> LocalAssetStore:
    return LocalAssetStore(tmp_path / "assets", "http://127.0.0.1:8000", b"k" * 32, clock=clock)


def upload(store: LocalAssetStore, key: str, data: bytes = b"staged bytes") -> None:
    """What POST /assets does with a ticket issued now."""
    _, fields = store.presign_upload(key, "image/png", 1000, TTL)
    store.store_upload(store.verify_upload(fields), data)


def test_an_upload_never_confirmed_is_removed_once_its_ticket_expired(store, clock):
    upload(store, staged("01JDUPLOADA"))
    clock.now += TTL - 1

    assert store.remove_expired(STAGING_PREFIX, TTL) == 0
    assert store.read(staged("01JDUPLOADA"), 100) == b"staged bytes"

    clock.now += 1
    assert store.remove_expired(STAGING_PREFIX, TTL) == 1
    assert store.read(staged("01JDUPLOADA"), 100) is None


def test_the_sweep_leaves_recent_uploads_and_product_images_alone(store, clock):
    store.put(IMAGE_KEY, encoded("PNG"), "image/png")
    upload(store, staged("01JDUPLOADA"))
    clock.now += TTL
    upload(store, staged("01JDUPLOADB"))  # a ticket issued later, still valid

    assert store.remove_expired(STAGING_PREFIX, TTL) == 1

    assert store.read(staged("01JDUPLOADA"), 100) is None
    assert store.read(staged("01JDUPLOADB"), 100) == b"staged bytes"
    assert store.read(IMAGE_KEY, 10_000) == encoded("PNG")


def test_the_mark_of_a_closed_ticket_outlives_the_ticket_then_goes(store, clock, tmp_path):
    key = staged("01JDUPLOADA")
    _, fields = store.presign_upload(key, "image/png", 1000, TTL)
    store.store_upload(store.verify_upload(fields), b"rejected bytes")
    store.close_upload(key)
    clock.now += TTL - 1

    store.remove_expired(STAGING_PREFIX, TTL)
    with pytest.raises(UploadRefused) as refused:
        store.verify_upload(fields)  # the ticket is still valid: only the mark refuses it
    assert refused.value.status == 403
    assert "already used" in refused.value.reason

    clock.now += 1
    assert store.remove_expired(STAGING_PREFIX, TTL) == 1
    assert not store.upload_closed(key)
    assert [p for p in (tmp_path / "assets").rglob("*") if p.is_file()] == []


def test_the_sweep_skips_writes_in_progress_and_an_empty_folder(store, tmp_path, clock):
    assert store.remove_expired(STAGING_PREFIX, TTL) == 0  # nothing was ever uploaded
    folder = tmp_path / "assets" / STAGING_PREFIX
    folder.mkdir(parents=True)
    in_progress = folder / ".upload.tmp"
    in_progress.write_bytes(b"half")
    os.utime(in_progress, (0, 0))

    assert store.remove_expired(STAGING_PREFIX, TTL) == 0
    assert in_progress.exists()


def test_the_sweeper_sweeps_when_started_and_stops(store, clock):
    upload(store, staged("01JDUPLOADA"))
    clock.now += TTL
    sweeper = UploadSweeper(store, STAGING_PREFIX, TTL, interval_seconds=3600)

    sweeper.start()
    with pytest.raises(RuntimeError):
        sweeper.start()
    sweeper.stop()

    # The first pass runs before the first wait, so it is done once stop() has joined.
    assert store.read(staged("01JDUPLOADA"), 100) is None


def test_the_embedded_container_sweeps_uploads_older_than_a_ticket(tmp_path):
    container = build_container(Settings(data_dir=tmp_path))
    assets = container.local_assets
    assert assets is not None
    upload(assets, staged("01JDUPLOADA"))
    upload(assets, staged("01JDUPLOADB"))
    # Written by the system clock: age the first one past a ticket's lifetime.
    old = tmp_path / "assets" / staged("01JDUPLOADA")
    os.utime(old, (old.stat().st_mtime - TTL, old.stat().st_mtime - TTL))

    container.start()
    container.close()

    assert assets.read(staged("01JDUPLOADA"), 100) is None
    assert assets.read(staged("01JDUPLOADB"), 100) == b"staged bytes"
