"""Tiny images built in memory, for the tests of this package."""

from __future__ import annotations

import io
import struct
import zlib

from PIL import Image


def encoded(fmt: str, size: tuple[int, int] = (12, 7), **options: object) -> bytes:
    image = Image.new("RGB", size, (200, 30, 60))
    # A few distinct pixels, so every encoder emits real image data.
    for x in range(size[0]):
        image.putpixel((x, x % size[1]), (x * 20 % 256, 90, 200))
    buffer = io.BytesIO()
    image.save(buffer, fmt, **options)
    return buffer.getvalue()


def _chunk(kind: bytes, payload: bytes) -> bytes:
    crc = zlib.crc32(kind + payload)
    return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", crc)


def png_header_only(width: int, height: int) -> bytes:
    """A well-formed PNG (valid CRCs, IEND) whose header declares any dimensions, with a few
    bytes of pixel data: what a decompression bomb looks like before it is decoded."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + _chunk(b"IHDR", ihdr)
        + _chunk(b"IDAT", zlib.compress(b"\x00" * 64))
        + _chunk(b"IEND", b"")
    )
