"""Files for the media tests, generated with Pillow and pypdf (no binary fixture is committed)."""

from __future__ import annotations

import io

from PIL import Image


def jpeg_with_gps(width: int = 1200, height: int = 900, *, orientation: int = 6) -> bytes:
    """A JPEG whose EXIF carries a GPS position, a camera, a comment and an orientation."""
    image = Image.new("RGB", (width, height), (200, 30, 30))
    image.paste((30, 30, 200), (0, 0, width // 2, height // 4))  # a blue block: top left, as shot
    exif = Image.Exif()
    exif[0x0112] = orientation
    exif[0x010F] = "Acme Cameras"  # Make
    exif[0x0110] = "Snapper 3000"  # Model
    gps = exif.get_ifd(0x8825)
    gps[1] = "N"
    gps[2] = (52.0, 31.0, 12.0)
    gps[3] = "E"
    gps[4] = (13.0, 24.0, 36.0)
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=90, exif=exif.tobytes(), comment=b"shot at home")
    return buffer.getvalue()


def png(width: int = 1000, height: int = 600, mode: str = "RGB") -> bytes:
    buffer = io.BytesIO()
    Image.new(mode, (width, height), 128).save(buffer, "PNG")
    return buffer.getvalue()


def png_bomb() -> bytes:
    """A PNG of a few kilobytes that decodes to 48 megapixels (8000 x 6000, one colour)."""
    buffer = io.BytesIO()
    Image.new("1", (8000, 6000), 0).save(buffer, "PNG", optimize=True)
    return buffer.getvalue()


def noisy_image(width: int, height: int, fmt: str) -> bytes:
    """A photo-like image (noise compresses like a photograph), as JPEG or PNG."""
    import os

    base = Image.frombytes("RGB", (width // 8, height // 8), os.urandom((width // 8) * (height // 8) * 3))
    image = base.resize((width, height), Image.Resampling.BILINEAR)
    buffer = io.BytesIO()
    image.save(buffer, fmt, **({"quality": 90} if fmt == "JPEG" else {"compress_level": 1}))
    return buffer.getvalue()


HTML_PAGE = b"<!DOCTYPE html><html><body><script>alert(document.cookie)</script></body></html>"
SVG_WITH_SCRIPT = (
    b'<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10">'
    b"<script>alert(1)</script><rect width='10' height='10'/></svg>"
)


def pdf(*, javascript: str | None = None, encrypt: bool = False, attachment: bool = False) -> bytes:
    from pypdf import PdfWriter

    writer = PdfWriter()
    writer.add_blank_page(width=595, height=842)
    writer.add_metadata({"/Author": "Jane Doe", "/Title": "Fact sheet"})
    if javascript:
        from pypdf.actions import JavaScript

        writer.add_open_action(JavaScript(javascript))
    if attachment:
        writer.add_attachment("payload.exe", b"MZ not really")
    if encrypt:
        writer.encrypt("secret")
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()
