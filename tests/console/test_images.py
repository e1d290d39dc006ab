"""The editor's images: an upload with its progress bar and preview (console.js), removal,
refusals shown next to the file input, the plain form without JavaScript, where a double
submit still adds one image, and each image's alt text changed in place."""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from pathlib import Path

from PIL import Image
from playwright.sync_api import Browser, Page, Route, expect

from catalog.entrypoints.console.pages.images import INLINE_IMAGE_BYTES
from tests.console.conftest import VIEWPORT, LiveServer, sign_in
from tests.console.test_editor import stored
from tests.console.test_products import create


def small_png(path: Path, color: str = "teal") -> Path:
    Image.new("RGB", (40, 30), color).save(path, format="PNG")
    return path


def wait_for_route(page: Page, held: list[Route]) -> Route:
    """The held upload request, once Playwright has handed it over (each round trip to the
    browser lets the route handler run)."""
    for _ in range(500):
        if held:
            return held[0]
        page.evaluate("0")
    raise AssertionError("the upload request never reached the route")


def upload(page: Page, file: Path, alt: str = "") -> None:
    # Exact: each image shown has inputs of its own ("Alt text of image 1").
    page.get_by_label("Image", exact=True).set_input_files(file)
    page.get_by_label("Alt text", exact=True).fill(alt)
    page.get_by_role("button", name="Upload image").click()


def test_upload_with_progress_remove_refuse_and_mark_ready(
    signed_in: Page, tmp_path: Path, shoot: Callable[[Page, str], Path]
) -> None:
    page = signed_in
    create(page, "TOTE-1", "Canvas tote")
    page.get_by_label("Description").fill("Heavy canvas, long handles.")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("status")).to_have_text("Saved.")
    images = page.locator("#images")
    expect(images.get_by_text("No images yet")).to_be_visible()

    # The upload is held on its way to the server: the page shows the chosen file and the bar.
    held: list[Route] = []

    def hold(route: Route) -> None:
        held.append(route)

    page.route(re.compile(r"/images$"), hold)
    upload(page, small_png(tmp_path / "tote.png"), alt="A canvas tote, front")
    expect(images.locator("progress")).to_be_visible()
    expect(images.locator(".upload-preview")).to_have_attribute("src", re.compile(r"^blob:"))
    expect(page.get_by_role("button", name="Upload image")).to_be_disabled()
    route = wait_for_route(page, held)
    assert route.request.headers.get("accept") == "application/json"
    route.continue_()
    page.unroute(re.compile(r"/images$"), hold)

    expect(page.get_by_role("status")).to_have_text("Image added.")
    shown = images.get_by_role("img", name="A canvas tote, front")
    expect(shown).to_have_js_property("naturalWidth", 40)  # served, and allowed by the CSP
    expect(images.locator(".upload-progress")).to_be_hidden()
    shoot(page, "images")
    page.set_viewport_size({"width": 390, "height": 844})  # a phone: nothing wider than it
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    page.set_viewport_size(VIEWPORT)  # type: ignore[arg-type]

    images.get_by_role("button", name="Remove image 1").click()
    expect(page.get_by_role("status")).to_have_text("Image removed.")
    expect(images.get_by_role("img")).to_have_count(0)

    # A file that is not an image: refused next to the input, the page stays as it was.
    notes = tmp_path / "notes.png"
    notes.write_text("not an image at all")
    upload(page, notes)
    file_input = page.get_by_label("Image", exact=True)
    expect(page.locator("#e-image")).to_have_text(
        "The file is not a PNG, JPEG, WebP or GIF image, or its header is damaged."
    )
    expect(file_input).to_have_attribute("aria-invalid", "true")
    expect(file_input).to_have_attribute("aria-describedby", "e-image")
    expect(images.locator("progress")).to_be_hidden()

    # Too large is known before sending a byte.
    big = tmp_path / "big.png"
    big.write_bytes(b"\0" * (10 * 1024 * 1024 + 1))
    upload(page, big)
    expect(page.locator("#e-image")).to_have_text("Images are limited to 10 MiB.")

    upload(page, small_png(tmp_path / "back.png", "navy"), alt="The back")
    expect(page.get_by_role("status")).to_have_text("Image added.")
    expect(images.get_by_role("img", name="The back")).to_be_visible()
    expect(page.get_by_label("Image", exact=True)).not_to_have_attribute("aria-invalid", "true")
    page.get_by_role("button", name="Mark ready").click()
    expect(page.get_by_role("status")).to_have_text("Marked ready.")
    expect(page.locator(".meta .badge")).to_have_text("READY")


def noise_png(path: Path, side: int = 1300) -> Path:
    """A PNG over the console's inline limit (4 MiB): noise does not compress."""
    Image.frombytes("RGB", (side, side), os.urandom(side * side * 3)).save(path, format="PNG")
    assert path.stat().st_size > INLINE_IMAGE_BYTES
    return path


def test_an_image_too_large_to_post_goes_straight_to_storage_with_a_ticket(
    signed_in: Page, server: LiveServer, merchant_id: str, tmp_path: Path
) -> None:
    page = signed_in
    editor = create(page, "RUG-1", "Woven rug")
    images = page.locator("#images")
    sent: list[str] = []
    page.on("request", lambda request: sent.append(f"{request.method} {request.url}"))

    # Not an image, of an image's type: the ticket is given, storage takes the bytes, and the
    # confirmation refuses them next to the input.
    fake = tmp_path / "fake.png"
    fake.write_bytes(os.urandom(INLINE_IMAGE_BYTES + 1))
    upload(page, fake)
    expect(page.locator("#e-image")).to_have_text(
        "The file is not a PNG, JPEG, WebP or GIF image, or its header is damaged."
    )
    expect(images.get_by_role("img")).to_have_count(0)

    sent.clear()
    upload(page, noise_png(tmp_path / "rug.png"), alt="A woven rug, from above")
    expect(page.get_by_role("status")).to_have_text("Image added.")
    expect(images.get_by_role("img", name="A woven rug, from above")).to_be_visible()
    posted = [line for line in sent if line.startswith("POST ")]
    # A ticket, the file to storage (not to the console), the confirmation.
    assert [line.rsplit("/", 1)[-1] for line in posted[:1]] == ["image-uploads"]
    assert not any(line.endswith("/images") for line in posted)
    assert "/image-uploads/" in posted[2]
    [image] = stored(server, merchant_id, editor)["images"]
    assert image["alt"] == "A woven rug, from above"


def test_without_javascript_the_form_uploads_once_and_shows_refusals(
    browser: Browser, server: LiveServer, merchant_id: str, tmp_path: Path
) -> None:
    context = browser.new_context(viewport=VIEWPORT, java_script_enabled=False)  # type: ignore[arg-type]
    try:
        page = context.new_page()
        sign_in(page, server, merchant_id)
        editor = create(page, "MAT-1", "Yoga mat")
        images = page.locator("#images")

        text_file = tmp_path / "mat.gif"
        text_file.write_text("GIF? no")
        upload(page, text_file, alt="kept after the refusal")
        expect(page.locator("#e-image")).to_contain_text("not a PNG, JPEG, WebP or GIF image")
        expect(page.get_by_label("Image", exact=True)).to_have_attribute("aria-invalid", "true")
        expect(page.get_by_label("Alt text", exact=True)).to_have_value("kept after the refusal")

        # The same rendered form sent twice (a double click, a resent POST) adds one image.
        png = small_png(tmp_path / "mat.png").read_bytes()
        fields = {
            name: page.locator(f'#images input[name="{name}"]').input_value()
            for name in ("csrf_token", "idempotency_key")
        }
        for _ in range(2):
            answer = page.request.post(
                editor + "/images",
                multipart={
                    **fields,
                    "alt": "Rolled mat",
                    "file": {"name": "mat.png", "mimeType": "image/png", "buffer": png},
                },
            )
            assert answer.ok and "Image added." in answer.text()
        page.goto(editor)
        expect(images.get_by_role("img", name="Rolled mat")).to_have_count(1)

        upload(page, tmp_path / "mat.png", alt="Unrolled")
        expect(page.get_by_role("status")).to_have_text("Image added.")
        expect(images.get_by_role("img")).to_have_count(2)
    finally:
        context.close()


def test_an_images_alt_text_is_changed_in_place_and_a_too_long_one_refused_next_to_it(
    signed_in: Page, tmp_path: Path, shoot: Callable[[Page, str], Path]
) -> None:
    page = signed_in
    editor = create(page, "CAP-9", "Wool cap")
    upload(page, small_png(tmp_path / "front.png"), alt="A cap")
    expect(page.get_by_role("status")).to_have_text("Image added.")
    upload(page, small_png(tmp_path / "side.png", "navy"))
    expect(page.get_by_role("status")).to_have_text("Image added.")
    shown = page.locator("#images").get_by_role("img")
    first, second = (
        page.get_by_label("Alt text of image 1"),
        page.get_by_label("Alt text of image 2"),
    )
    expect(first).to_have_value("A cap")
    expect(second).to_have_value("")

    first.fill("A grey wool cap, front")
    page.get_by_role("button", name="Save alt text of image 1").click()
    expect(page.get_by_role("status")).to_have_text("Alt text saved.")
    expect(shown.first).to_have_attribute("alt", "A grey wool cap, front")
    expect(first).to_have_value("A grey wool cap, front")
    second.fill("The cap from the side")
    page.get_by_role("button", name="Save alt text of image 2").click()
    expect(page.get_by_role("status")).to_have_text("Alt text saved.")
    expect(shown.nth(1)).to_have_attribute("alt", "The cap from the side")

    # The input stops at the limit; a browser that let more through is refused by the server.
    expect(second).to_have_attribute("maxlength", "500")
    second.evaluate("input => input.removeAttribute('maxlength')")
    second.fill("x" * 501)
    page.get_by_role("button", name="Save alt text of image 2").click()
    expect(second).to_have_attribute("aria-invalid", "true")
    expect(second).to_have_accessible_description("Alt text must be at most 500 characters")
    expect(first).not_to_have_attribute("aria-invalid", "true")
    expect(shown.nth(1)).to_have_attribute("alt", "The cap from the side")
    shoot(page, "images-alt-refused")

    # Someone else changed the product meanwhile: nothing is saved, the typed text is kept.
    page.goto(editor)
    other = page.context.new_page()
    other.goto(editor)
    other.get_by_label("Name").fill("Wool cap (other tab)")
    other.get_by_role("button", name="Save", exact=True).click()
    expect(other.get_by_role("status")).to_have_text("Saved.")
    first.fill("Typed over a stale version")
    page.get_by_role("button", name="Save alt text of image 1").click()
    expect(page.get_by_role("alert")).to_contain_text("Someone else changed this product")
    expect(first).to_have_value("Typed over a stale version")
    expect(shown.first).to_have_attribute("alt", "A grey wool cap, front")
