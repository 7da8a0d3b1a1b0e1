"""Judge an uploaded file by its bytes, never by its declared type or name.

``verify(data, declared_type=..., declared_bytes=...)`` answers ``Accepted`` (what the file
really is, and the re-encoded renditions that may ever be published) or ``Refused`` (a
``Reason`` code and a sentence). In order:

1. size: empty, over the type's limit, or not the declared size (the upload policy says so
   too, but an emulated S3 does not enforce it, and a policy is no proof);
2. type, from the leading bytes (JPEG, PNG, WebP, PDF): markup (SVG, HTML, XML, script) is
   refused whatever it is declared as, another allowed type than the declared one is a mismatch;
3. polyglots: an image carrying markup or a PDF header anywhere, a PDF with markup at its start;
4. images are decoded with Pillow: more than 40 megapixels is refused from the header, before a
   pixel is decoded (a decompression bomb); ``verify()`` then a full ``load()`` refuse truncated or
   corrupt files; the orientation is applied, the colour profile converted to sRGB, every piece of
   metadata (EXIF, GPS, XMP, comments, ICC) left behind, and renditions 320/800/1600 px wide
   (never upscaled) written as WebP (JPEG when taller than WebP allows);
5. PDFs are parsed with pypdf: encrypted files, JavaScript (``/JavaScript``, ``/JS``), launch
   actions, embedded files and rich media are refused, from the object graph and from the raw
   bytes; the pages are then written to a new document without the catalogue's actions, names,
   forms or metadata.

Pure: no AWS, no clock. Pillow and pypdf are imported on first use (only the verification
function needs them).
"""

from __future__ import annotations

import hashlib
import io
import re
import warnings
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from functions.domain.media import (
    MAX_BYTES,
    MAX_PIXELS,
    REASON_MESSAGES,
    RENDITION_WIDTHS,
    Reason,
    is_image,
)

if TYPE_CHECKING:
    from PIL.Image import Image

WEBP_MAX_SIDE = 16383
MAX_PDF_OBJECTS = 200_000  # a walk of the object graph stops (and refuses) beyond this

_MARKUP_START = re.compile(rb"^(?:\xef\xbb\xbf)?\s*<", re.DOTALL)
_MARKUP_INSIDE = re.compile(rb"<(?:svg|html|script|body|iframe|\?php|!doctype|\?xml)\b", re.IGNORECASE)
_POLYGLOT_MARKERS = re.compile(rb"<(?:svg|html|script|body|iframe|\?php|!doctype)\b|%PDF-", re.IGNORECASE)
_PDF_ACTIVE = re.compile(rb"/(?:JavaScript|JS|Launch|EmbeddedFiles?|RichMedia|XFA)(?![A-Za-z0-9_.-])")
_PDF_ACTIVE_NAMES = frozenset(
    {"/JavaScript", "/JS", "/Launch", "/EmbeddedFiles", "/EmbeddedFile", "/RichMedia"}
)


@dataclass(frozen=True)
class RenditionFile:
    name: str
    body: bytes
    content_type: str
    width: int | None = None
    height: int | None = None


@dataclass(frozen=True)
class Accepted:
    content_type: str
    sha256: str
    width: int | None = None
    height: int | None = None
    pages: int | None = None
    renditions: list[RenditionFile] = field(default_factory=list)


@dataclass(frozen=True)
class Refused:
    reason: Reason
    detail: str


Verdict = Accepted | Refused


class _Refusal(Exception):
    def __init__(self, reason: Reason, detail: str | None = None) -> None:
        super().__init__(detail or REASON_MESSAGES[reason])
        self.reason = reason
        self.detail = detail or REASON_MESSAGES[reason]


def sniff(head: bytes) -> str | None:
    """The allowed type the leading bytes show, or None."""
    if head.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if len(head) >= 12 and head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp"
    if head.startswith(b"%PDF-"):
        return "application/pdf"
    return None


def looks_like_markup(head: bytes) -> bool:
    return bool(_MARKUP_START.match(head) or _MARKUP_INSIDE.search(head))


def verify(data: bytes, *, declared_type: str, declared_bytes: int) -> Verdict:
    try:
        return _verify(data, declared_type=declared_type, declared_bytes=declared_bytes)
    except _Refusal as refusal:
        return Refused(refusal.reason, refusal.detail)


def _verify(data: bytes, *, declared_type: str, declared_bytes: int) -> Verdict:
    size = len(data)
    if size == 0:
        raise _Refusal(Reason.EMPTY)
    limit = MAX_BYTES.get(declared_type)
    if limit is None:
        raise _Refusal(Reason.UNSUPPORTED_TYPE, f"{declared_type} is not an allowed type.")
    if size > limit:
        raise _Refusal(Reason.TOO_LARGE, f"The file is {size:,} bytes; {declared_type} allows {limit:,}.")
    if size != declared_bytes:
        raise _Refusal(
            Reason.SIZE_MISMATCH, f"The file is {size:,} bytes, not the {declared_bytes:,} declared."
        )
    head = data[:1024]
    detected = sniff(head)
    if detected is None:
        if looks_like_markup(head):
            raise _Refusal(Reason.MARKUP)
        raise _Refusal(Reason.UNSUPPORTED_TYPE)
    if detected != declared_type:
        raise _Refusal(Reason.TYPE_MISMATCH, f"The file is {detected}, not the {declared_type} declared.")
    digest = hashlib.sha256(data).hexdigest()
    if is_image(detected):
        if _POLYGLOT_MARKERS.search(data):
            raise _Refusal(Reason.POLYGLOT)
        return _image(data, detected, digest)
    if _MARKUP_INSIDE.search(head):
        raise _Refusal(Reason.POLYGLOT)
    return _pdf(data, digest)


# ---------------------------------------------------------------------------------------------
# Images
# ---------------------------------------------------------------------------------------------

_PIL_FORMATS = {"image/jpeg": "JPEG", "image/png": "PNG", "image/webp": "WEBP"}


def _open(data: bytes, content_type: str) -> Image:
    from PIL import Image as PILImage

    PILImage.MAX_IMAGE_PIXELS = MAX_PIXELS
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", PILImage.DecompressionBombWarning)
            image = PILImage.open(io.BytesIO(data), formats=[_PIL_FORMATS[content_type]])
    except (PILImage.DecompressionBombError, PILImage.DecompressionBombWarning):
        raise _Refusal(Reason.TOO_MANY_PIXELS) from None
    except (OSError, SyntaxError, ValueError):
        raise _Refusal(Reason.UNDECODABLE) from None
    width, height = image.size
    if width * height > MAX_PIXELS:
        raise _Refusal(
            Reason.TOO_MANY_PIXELS,
            f"The image is {width} x {height} ({width * height / 1e6:.1f} megapixels).",
        )
    if width < 1 or height < 1:
        raise _Refusal(Reason.UNDECODABLE)
    return image


def _image(data: bytes, content_type: str, digest: str) -> Accepted:
    from PIL import Image as PILImage
    from PIL import ImageFile

    ImageFile.LOAD_TRUNCATED_IMAGES = False
    first = _open(data, content_type)
    try:
        first.verify()  # structure and checksums (PNG CRCs), without decoding pixels
    except Exception:
        raise _Refusal(Reason.UNDECODABLE) from None
    image = _open(data, content_type)  # verify() leaves the image unusable: open it again
    if getattr(image, "n_frames", 1) > 1:
        image.seek(0)  # an animated image: its first frame only
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", PILImage.DecompressionBombWarning)
            image.load()
    except (OSError, SyntaxError, ValueError, PILImage.DecompressionBombWarning):
        raise _Refusal(Reason.UNDECODABLE) from None
    upright = _upright(image)
    srgb = _to_srgb(upright)
    width, height = srgb.size
    renditions = list(_renditions(srgb))
    return Accepted(
        content_type=content_type, sha256=digest, width=width, height=height, renditions=renditions
    )


def _upright(image: Image) -> Image:
    """The orientation its EXIF names, applied (and the tag gone with the rest of the metadata)."""
    from PIL import ImageOps

    orientation = image.getexif().get(0x0112, 1)
    if orientation in (None, 1):
        return image
    turned = ImageOps.exif_transpose(image)
    return turned if turned is not None else image


def _to_srgb(image: Image) -> Image:
    """RGB (or RGBA when it has transparency) in sRGB; an embedded profile is converted from."""
    from PIL import ImageCms

    alpha = image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info)
    mode = "RGBA" if alpha else "RGB"
    icc = image.info.get("icc_profile")
    if icc:
        try:
            source = ImageCms.ImageCmsProfile(io.BytesIO(icc))
            if image.mode not in ("RGB", "RGBA", "CMYK", "L"):
                image = image.convert(mode)
            converted = ImageCms.profileToProfile(
                image, source, ImageCms.createProfile("sRGB"), outputMode="RGBA" if alpha else "RGB"
            )
            if converted is not None:
                image = converted
        except (ImageCms.PyCMSError, OSError, ValueError):
            pass  # an unreadable profile: the pixels as they are, read as sRGB
    if image.mode != mode:
        image = image.convert(mode)
    return image


def rendition_widths(width: int) -> list[int]:
    """320, 800 and 1600 px, never wider than the image; a narrower image has one, its own width."""
    widths = [w for w in RENDITION_WIDTHS if w < width]
    top = min(width, RENDITION_WIDTHS[-1])
    if top not in widths:
        widths.append(top)
    return widths


def _renditions(image: Image) -> Iterator[RenditionFile]:
    from PIL import Image as PILImage

    width, height = image.size
    for target in rendition_widths(width):
        target_height = max(1, round(height * target / width))
        if (target, target_height) == image.size:
            resized = image.copy()
        else:
            resized = image.resize((target, target_height), PILImage.Resampling.LANCZOS, reducing_gap=3.0)
        resized.info.clear()  # no EXIF, XMP, ICC, comments or anything else travels on
        buffer = io.BytesIO()
        if max(resized.size) <= WEBP_MAX_SIDE:
            resized.save(buffer, "WEBP", quality=82, method=4, exif=b"", xmp=b"")
            name, content_type = f"w{target}.webp", "image/webp"
        else:
            if resized.mode != "RGB":
                resized = resized.convert("RGB")
            resized.save(buffer, "JPEG", quality=85, optimize=True, progressive=True, exif=b"")
            name, content_type = f"w{target}.jpg", "image/jpeg"
        yield RenditionFile(name, buffer.getvalue(), content_type, target, target_height)


# ---------------------------------------------------------------------------------------------
# PDFs
# ---------------------------------------------------------------------------------------------


def _pdf(data: bytes, digest: str) -> Accepted:
    from pypdf import PdfReader, PdfWriter
    from pypdf.errors import PdfReadError

    try:
        reader = PdfReader(io.BytesIO(data), strict=False)
        if reader.is_encrypted:
            raise _Refusal(Reason.ENCRYPTED)
        if _PDF_ACTIVE.search(data):
            raise _Refusal(Reason.ACTIVE_CONTENT)
        _refuse_active_objects(reader.trailer)
        pages = len(reader.pages)
        if pages < 1:
            raise _Refusal(Reason.UNDECODABLE, "The PDF has no pages.")
        writer = PdfWriter()
        for page in reader.pages:
            writer.add_page(page)
        buffer = io.BytesIO()
        writer.write(buffer)
    except _Refusal:
        raise
    except (PdfReadError, OSError, ValueError, KeyError, TypeError, AttributeError, RecursionError):
        raise _Refusal(Reason.UNDECODABLE) from None
    body = buffer.getvalue()
    rendition = RenditionFile("document.pdf", body, "application/pdf")
    return Accepted(content_type="application/pdf", sha256=digest, pages=pages, renditions=[rendition])


def _refuse_active_objects(root: Any) -> None:
    """Walk the object graph from the trailer (compressed object streams included): any action
    of type JavaScript or Launch, any ``/JS``, ``/JavaScript`` names tree, embedded file or rich
    media is a refusal."""
    from pypdf.generic import ArrayObject, DictionaryObject, IndirectObject, NameObject

    seen: set[tuple[int, int]] = set()
    stack: list[Any] = [root]
    visited = 0
    while stack:
        node = stack.pop()
        if isinstance(node, IndirectObject):
            ident = (node.idnum, node.generation)
            if ident in seen:
                continue
            seen.add(ident)
            node = node.get_object()
        visited += 1
        if visited > MAX_PDF_OBJECTS:
            raise _Refusal(Reason.UNDECODABLE, "The PDF has too many objects to check.")
        if isinstance(node, DictionaryObject):
            for key, value in node.items():
                if key in _PDF_ACTIVE_NAMES:
                    raise _Refusal(Reason.ACTIVE_CONTENT, f"The PDF carries {key}.")
                if key == "/S" and isinstance(value, NameObject) and value in ("/JavaScript", "/Launch"):
                    raise _Refusal(Reason.ACTIVE_CONTENT, f"The PDF carries a {value[1:]} action.")
                if key != "/Parent":
                    stack.append(value)
        elif isinstance(node, ArrayObject):
            stack.extend(node)
