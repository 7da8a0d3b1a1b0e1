"""The verdict on a file's bytes (functions.domain.verification), with files made in the test."""

from __future__ import annotations

import io

import pytest
from PIL import Image, ImageCms

from functions.domain.media import MAX_PIXELS, Reason
from functions.domain.verification import Accepted, Refused, rendition_widths, sniff, verify
from tests import media_fixtures as files


def _verdict(data: bytes, content_type: str) -> Accepted | Refused:
    return verify(data, declared_type=content_type, declared_bytes=len(data))


def _accepted(data: bytes, content_type: str) -> Accepted:
    verdict = _verdict(data, content_type)
    assert isinstance(verdict, Accepted), verdict
    return verdict


def _reason(data: bytes, content_type: str) -> Reason:
    verdict = _verdict(data, content_type)
    assert isinstance(verdict, Refused), verdict
    return verdict.reason


@pytest.mark.parametrize(
    ("width", "expected"),
    [
        (200, [200]),
        (320, [320]),
        (500, [320, 500]),
        (800, [320, 800]),
        (1200, [320, 800, 1200]),
        (4000, [320, 800, 1600]),
    ],
)
def test_renditions_are_320_800_and_1600_wide_and_never_upscaled(width: int, expected: list[int]) -> None:
    assert rendition_widths(width) == expected


def test_renditions_keep_the_aspect_ratio_and_carry_no_metadata() -> None:
    data = files.jpeg_with_gps(3000, 2000, orientation=1)

    verdict = _accepted(data, "image/jpeg")

    assert (verdict.width, verdict.height) == (3000, 2000)
    assert [(r.width, r.height, r.content_type) for r in verdict.renditions] == [
        (320, 213, "image/webp"),
        (800, 533, "image/webp"),
        (1600, 1067, "image/webp"),
    ]
    for rendition in verdict.renditions:
        image = Image.open(io.BytesIO(rendition.body))
        assert image.size == (rendition.width, rendition.height)
        assert not image.getexif()
        assert not {"exif", "xmp", "icc_profile", "comment"} & set(image.info)


def test_the_orientation_is_applied() -> None:
    verdict = _accepted(files.jpeg_with_gps(1200, 900, orientation=6), "image/jpeg")

    assert (verdict.width, verdict.height) == (900, 1200)


def test_an_embedded_colour_profile_is_applied_and_not_carried() -> None:
    # Given a PNG carrying an ICC profile (LittleCMS builds sRGB; a profile it can read either way)
    image = Image.new("RGB", (400, 300), (200, 10, 10))
    profile = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB"))
    buffer = io.BytesIO()
    image.save(buffer, "PNG", icc_profile=profile.tobytes())

    verdict = _accepted(buffer.getvalue(), "image/png")

    rendition = Image.open(io.BytesIO(verdict.renditions[0].body))
    assert "icc_profile" not in rendition.info  # sRGB, implied
    red, green, blue = rendition.convert("RGB").getpixel((10, 10))[:3]
    assert red > 180
    assert max(green, blue) < 40


def test_transparency_is_kept() -> None:
    data = files.png(400, 300, mode="RGBA")

    rendition = Image.open(io.BytesIO(_accepted(data, "image/png").renditions[0].body))

    assert rendition.mode == "RGBA"


def test_a_decompression_bomb_is_refused_from_its_header() -> None:
    bomb = files.png_bomb()
    assert len(bomb) < 100_000  # a few kilobytes that would decode to 48 megapixels

    assert _reason(bomb, "image/png") is Reason.TOO_MANY_PIXELS


def test_forty_megapixels_are_allowed_one_more_row_is_not() -> None:
    width = 8000
    allowed = files.png(width, MAX_PIXELS // width, mode="1")
    over = files.png(width, MAX_PIXELS // width + 1, mode="1")

    assert isinstance(_verdict(allowed, "image/png"), Accepted)
    assert _reason(over, "image/png") is Reason.TOO_MANY_PIXELS


@pytest.mark.parametrize("cut", [0.3, 0.6, 0.95])
def test_truncated_images_are_refused(cut: float) -> None:
    for data, content_type in (
        (files.noisy_image(800, 600, "JPEG"), "image/jpeg"),
        (files.png(800, 600), "image/png"),
    ):
        truncated = data[: int(len(data) * cut)]

        assert _reason(truncated, content_type) is Reason.UNDECODABLE, (content_type, cut)


@pytest.mark.parametrize(
    ("data", "declared", "reason"),
    [
        (files.HTML_PAGE, "image/jpeg", Reason.MARKUP),
        (b"\xef\xbb\xbf  \n" + files.SVG_WITH_SCRIPT, "image/png", Reason.MARKUP),
        (b"GIF89a" + b"\0" * 100, "image/png", Reason.UNSUPPORTED_TYPE),
        (files.png(), "image/webp", Reason.TYPE_MISMATCH),
        (files.pdf(), "image/jpeg", Reason.TYPE_MISMATCH),
        (files.png(100, 100) + b"%PDF-1.7\n", "image/png", Reason.POLYGLOT),
        (files.png(100, 100) + b"<svg onload=alert(1)>", "image/png", Reason.POLYGLOT),
        (b"%PDF-1.4\n<html><script>alert(1)</script>", "application/pdf", Reason.POLYGLOT),
    ],
)
def test_markup_other_types_and_polyglots_are_refused(data: bytes, declared: str, reason: Reason) -> None:
    assert _reason(data, declared) is reason


def test_size_is_checked_against_the_declaration_and_the_limit() -> None:
    data = files.png(10, 10)

    assert (
        verify(data, declared_type="image/png", declared_bytes=len(data) + 1).reason is Reason.SIZE_MISMATCH
    )  # type: ignore[union-attr]
    assert verify(b"", declared_type="image/png", declared_bytes=0).reason is Reason.EMPTY  # type: ignore[union-attr]
    big = data + b"\0" * (10 * 1024 * 1024)
    assert verify(big, declared_type="image/png", declared_bytes=len(big)).reason is Reason.TOO_LARGE  # type: ignore[union-attr]


def test_sniffing_reads_the_bytes_not_the_name() -> None:
    assert sniff(files.png()) == "image/png"
    assert sniff(files.jpeg_with_gps()) == "image/jpeg"
    assert sniff(files.pdf()) == "application/pdf"
    buffer = io.BytesIO()
    Image.new("RGB", (10, 10)).save(buffer, "WEBP")
    assert sniff(buffer.getvalue()) == "image/webp"
    assert sniff(files.HTML_PAGE) is None


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (files.pdf(javascript="app.alert('hi')"), Reason.ACTIVE_CONTENT),
        (files.pdf(attachment=True), Reason.ACTIVE_CONTENT),
        (files.pdf(encrypt=True), Reason.ENCRYPTED),
        (b"%PDF-1.7\nnot really a pdf", Reason.UNDECODABLE),
    ],
)
def test_pdfs_with_javascript_attachments_or_encryption_are_refused(data: bytes, reason: Reason) -> None:
    assert _reason(data, "application/pdf") is reason


def test_javascript_hidden_behind_name_escapes_is_found_in_the_object_graph() -> None:
    # /J#53 is /JS and /J#61vaScript is /JavaScript once parsed: a byte scan misses them
    hidden = (
        files.pdf(javascript="app.alert(1)")
        .replace(b"/JavaScript", b"/J#61vaScript")
        .replace(b"/JS ", b"/J#53 ")
    )
    assert b"/JavaScript" not in hidden

    assert _reason(hidden, "application/pdf") is Reason.ACTIVE_CONTENT


def test_a_clean_pdf_is_rewritten_page_by_page_without_its_metadata() -> None:
    from pypdf import PdfReader

    verdict = _accepted(files.pdf(), "application/pdf")

    assert verdict.pages == 1
    (rendition,) = verdict.renditions
    reader = PdfReader(io.BytesIO(rendition.body))
    assert len(reader.pages) == 1
    assert "/Author" not in (reader.metadata or {})
