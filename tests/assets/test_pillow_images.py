from __future__ import annotations

import io

import pytest
from PIL import Image

from catalog.adapters.pillow_images import MAX_PIXELS, PillowImageInspector
from catalog.domain.errors import ImageRejected, ImageTooLarge
from catalog.service.ports import ImageInfo

from .images import encoded, png_header_only

inspector = PillowImageInspector()


@pytest.mark.parametrize(
    ("fmt", "content_type", "extension"),
    [
        ("PNG", "image/png", "png"),
        ("JPEG", "image/jpeg", "jpg"),
        ("WEBP", "image/webp", "webp"),
        ("GIF", "image/gif", "gif"),
    ],
)
def test_accepted_types_report_type_extension_and_dimensions(
    fmt: str, content_type: str, extension: str
) -> None:
    info = inspector.inspect(encoded(fmt, (12, 7)))

    assert info == ImageInfo(content_type=content_type, extension=extension, width=12, height=7)


def test_animated_gif_reports_canvas_size() -> None:
    frames = [Image.new("P", (9, 5), color) for color in (1, 2, 3)]
    buffer = io.BytesIO()
    frames[0].save(buffer, "GIF", save_all=True, append_images=frames[1:])

    assert inspector.inspect(buffer.getvalue()).width == 9


def test_jpeg_rotated_by_exif_reports_displayed_dimensions() -> None:
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90 degrees clockwise on display
    data = encoded("JPEG", (40, 20), exif=exif.tobytes())

    info = inspector.inspect(data)

    assert (info.width, info.height) == (20, 40)


def test_type_comes_from_bytes_not_from_what_the_file_claims() -> None:
    # A PNG whose bytes would be stored as "photo.jpg" by a naive uploader is still a PNG.
    assert inspector.inspect(encoded("PNG")).content_type == "image/png"


@pytest.mark.parametrize(
    "data",
    [
        pytest.param(
            b'<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10">'
            b"<script>alert(1)</script></svg>",
            id="svg",
        ),
        pytest.param(
            b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"/>', id="xml-svg"
        ),
        pytest.param(b"just some text, not an image\n", id="text"),
        pytest.param(b"<html><body>hi</body></html>", id="html"),
        pytest.param(b"", id="empty"),
        pytest.param(b"\x89PNG\r\n\x1a\n", id="png-signature-only"),
        pytest.param(encoded("BMP"), id="bmp"),
        pytest.param(encoded("TIFF"), id="tiff"),
    ],
)
def test_rejects_anything_but_png_jpeg_webp_gif(data: bytes) -> None:
    with pytest.raises(ImageRejected):
        inspector.inspect(data)


@pytest.mark.parametrize("fmt", ["PNG", "JPEG", "WEBP", "GIF"])
def test_rejects_truncated_files(fmt: str) -> None:
    data = encoded(fmt, (64, 48))

    for cut in (len(data) // 2, len(data) - 2):
        with pytest.raises(ImageRejected):
            inspector.inspect(data[:cut])


def test_rejects_png_with_corrupt_chunk() -> None:
    data = bytearray(encoded("PNG", (64, 48)))
    data[45] ^= 0xFF  # inside the first IDAT: its CRC no longer matches

    with pytest.raises(ImageRejected, match="damaged"):
        inspector.inspect(bytes(data))


@pytest.mark.parametrize(
    ("width", "height"),
    [
        (30_000, 30_000),  # far beyond what Pillow itself refuses
        (8_000, 8_000),  # 64 MP: Pillow would open it, the catalog's limit does not
        (1, MAX_PIXELS + 1),
    ],
)
def test_rejects_decompression_bombs_from_the_header(width: int, height: int) -> None:
    with pytest.raises(ImageTooLarge, match="pixels"):
        inspector.inspect(png_header_only(width, height))


def test_pixel_limit_is_configurable_and_inclusive() -> None:
    data = encoded("PNG", (10, 10))

    assert PillowImageInspector(max_pixels=100).inspect(data).width == 10
    with pytest.raises(ImageRejected, match="99 pixels"):
        PillowImageInspector(max_pixels=99).inspect(data)
