"""ImageInspector on Pillow: what an upload really is, read from its bytes.

The type comes from the bytes alone, never from the client's declared type or file name, so
a renamed SVG or HTML page cannot end up served as an image. Pixels are not decoded: the
header gives type and size, `verify()` checks PNG chunk CRCs, and a cheap byte-level check
per format catches uploads that were cut short.
"""

from __future__ import annotations

import io

from catalog.domain.errors import ImageRejected, ImageTooLarge
from catalog.service.ports import ImageInfo

# Big enough for any product photo (a 50 MP camera is 8660 x 5773), small enough that a tiny
# file declaring huge dimensions (a decompression bomb) cannot make a consumer allocate GBs.
MAX_PIXELS = 50_000_000

# Pillow format name -> (content type, extension). MPO is how Pillow names a JPEG carrying
# extra pictures (many phone cameras): still a plain JPEG to every browser.
_ACCEPTED = {
    "PNG": ("image/png", "png"),
    "JPEG": ("image/jpeg", "jpg"),
    "MPO": ("image/jpeg", "jpg"),
    "WEBP": ("image/webp", "webp"),
    "GIF": ("image/gif", "gif"),
}
_PLUGINS = ("PNG", "JPEG", "WEBP", "GIF")  # no other Pillow parser ever sees the bytes

_PNG_IEND = b"\x00\x00\x00\x00IEND\xaeB`\x82"
_JPEG_SOS = b"\xff\xda"
_JPEG_EOI = b"\xff\xd9"
_GIF_TRAILER = b";"
_EXIF_ORIENTATION = 0x0112
_ROTATED_ORIENTATIONS = {5, 6, 7, 8}  # EXIF orientations that swap width and height


class PillowImageInspector:
    def __init__(self, max_pixels: int = MAX_PIXELS) -> None:
        self._max_pixels = max_pixels

    def inspect(self, data: bytes) -> ImageInfo:
        # Imported here: Pillow and its plugins cost cold-start time on every Lambda
        # invocation that never sees an upload.
        from PIL import Image

        if not data:
            raise ImageRejected("the image is empty")
        try:
            image = Image.open(io.BytesIO(data), formats=_PLUGINS)
        except Image.DecompressionBombError as error:
            raise self._too_large() from error
        except Exception as error:
            # Pillow reports bad input with many exception types (OSError, SyntaxError,
            # ValueError, struct.error, ...); to the uploader they all mean the same thing.
            raise ImageRejected(
                "the file is not a PNG, JPEG, WebP or GIF image, or its header is damaged"
            ) from error
        with image:
            accepted = _ACCEPTED.get(image.format or "")
            if accepted is None:
                raise ImageRejected(f"{image.format} images are not accepted")
            content_type, extension = accepted
            width, height = image.size
            if width <= 0 or height <= 0:
                raise ImageRejected("the image has no pixels")
            if width * height > self._max_pixels:
                raise self._too_large()
            exif = image.info.get("exif")
            try:
                image.verify()
            except Exception as error:
                raise ImageRejected(f"the {extension.upper()} data is damaged") from error
        if not _looks_complete(content_type, data):
            raise ImageRejected(f"the {extension.upper()} data is truncated")
        if isinstance(exif, bytes) and _is_rotated(exif):
            # Browsers and channels honour the EXIF orientation: report what they display.
            width, height = height, width
        return ImageInfo(content_type=content_type, extension=extension, width=width, height=height)

    def _too_large(self) -> ImageTooLarge:
        return ImageTooLarge(f"the image has more than {self._max_pixels} pixels")


def _looks_complete(content_type: str, data: bytes) -> bool:
    """Byte-level checks that the end of the file is there; no pixel is decoded.

    WebP needs none: Pillow's open already parses the whole RIFF container.
    """
    if content_type == "image/png":
        return _PNG_IEND in data
    if content_type == "image/jpeg":
        # Entropy-coded data cannot contain these markers (0xFF is stuffed), so the image
        # ends with an EOI after its last start-of-scan.
        return data.rfind(_JPEG_EOI) > data.rfind(_JPEG_SOS) >= 0
    if content_type == "image/gif":
        return data.endswith(_GIF_TRAILER)
    return True


def _is_rotated(exif_bytes: bytes) -> bool:
    from PIL import Image

    try:
        exif = Image.Exif()
        exif.load(exif_bytes)
        return exif.get(_EXIF_ORIENTATION) in _ROTATED_ORIENTATIONS
    except Exception:
        # A broken EXIF block does not make the picture unusable; ignore the hint.
        return False
