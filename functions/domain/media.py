"""Media: images and documents attached to releases, verified before anyone sees them.

The contract (README, "Media"): ``POST /media`` declares a file (name, type, size) and gets a
presigned upload into the private uploads bucket under the organisation's prefix; the upload
triggers verification (``functions/handlers/media_verify.py``), which reads the actual bytes and
either makes the media ``ready`` with re-encoded renditions or ``rejected`` with a reason code. A
release's ``media`` list names ``ready`` media of the same organisation.

This module is pure: the limits, the statuses and which status allows what, the record, the
request model, the reasons, and the rules a release's list must follow. The bytes are judged by
``functions.domain.verification``; the service is ``functions.domain.media_service``.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Literal, NamedTuple

MiB = 1024 * 1024
IMAGE_TYPES = ("image/jpeg", "image/png", "image/webp")
DOCUMENT_TYPES = ("application/pdf",)
ContentType = Literal["image/jpeg", "image/png", "image/webp", "application/pdf"]
MAX_BYTES: dict[str, int] = {
    "image/jpeg": 10 * MiB,
    "image/png": 10 * MiB,
    "image/webp": 10 * MiB,
    "application/pdf": 20 * MiB,
}
MAX_PIXELS = 40_000_000  # 40 megapixels
RENDITION_WIDTHS = (320, 800, 1600)
UPLOAD_EXPIRY_SECONDS = 15 * 60
MAX_MEDIA_PER_RELEASE = 10
ALT_MAX = 300
SMALL_IMAGE_WIDTH = 600  # narrower: a prescreen flag for moderators
LARGE_PDF_BYTES = 10 * MiB  # larger: a prescreen flag for moderators
# What is kept about an upload nobody finished (or a rejected one) before the table forgets it;
# the uploads bucket's lifecycle rule deletes the bytes after a day too.
UNFINISHED_TTL_SECONDS = 24 * 3600
REJECTED_TTL_SECONDS = 7 * 24 * 3600
# How long one verification may hold a media record before another delivery may take it over.
VERIFY_LEASE_SECONDS = 120


class MediaStatus(StrEnum):
    AWAITING_UPLOAD = "awaiting_upload"
    VERIFYING = "verifying"
    READY = "ready"
    REJECTED = "rejected"


class Role(StrEnum):
    FEATURED = "featured"
    GALLERY = "gallery"
    DOCUMENT = "document"


class Reason(StrEnum):
    """Why verification refused a file: a code clients can act on (README, "Media")."""

    TOO_LARGE = "too_large"  # over the type's byte limit, whatever the upload policy said
    SIZE_MISMATCH = "size_mismatch"  # not the declared number of bytes
    EMPTY = "empty"
    TYPE_MISMATCH = "type_mismatch"  # the bytes are another allowed type than the declared one
    UNSUPPORTED_TYPE = "unsupported_type"  # the bytes are no allowed type at all
    MARKUP = "markup"  # SVG, HTML, XML or script, whatever it was declared as
    POLYGLOT = "polyglot"  # a valid file that also carries markup or another format
    TOO_MANY_PIXELS = "too_many_pixels"  # over 40 megapixels (a decompression bomb, or just too big)
    UNDECODABLE = "undecodable"  # truncated or corrupt
    ENCRYPTED = "encrypted"  # an encrypted PDF
    ACTIVE_CONTENT = "active_content"  # a PDF with JavaScript, launch actions or embedded files
    WRONG_OWNER = "wrong_owner"  # uploaded under another organisation's prefix than the record's


REASON_MESSAGES: dict[Reason, str] = {
    Reason.TOO_LARGE: "The file is larger than its type allows (10 MiB for images, 20 MiB for PDFs).",
    Reason.SIZE_MISMATCH: "The file is not the size that was declared.",
    Reason.EMPTY: "The file is empty.",
    Reason.TYPE_MISMATCH: "The file's content is not of the declared type.",
    Reason.UNSUPPORTED_TYPE: "The file is not a JPEG, PNG, WebP image or a PDF.",
    Reason.MARKUP: "The file is markup (SVG, HTML, XML or script), which is never accepted.",
    Reason.POLYGLOT: "The file is valid but also carries markup or another format.",
    Reason.TOO_MANY_PIXELS: "The image has more than 40 megapixels.",
    Reason.UNDECODABLE: "The file is truncated or corrupt.",
    Reason.ENCRYPTED: "The PDF is encrypted.",
    Reason.ACTIVE_CONTENT: "The PDF carries JavaScript, launch actions or embedded files.",
    Reason.WRONG_OWNER: "The file was uploaded under another organisation's prefix.",
}


def is_image(content_type: str) -> bool:
    return content_type in IMAGE_TYPES


def new_media_id() -> str:
    return str(uuid.uuid4())


def is_media_id(value: str) -> bool:
    try:
        return str(uuid.UUID(value)) == value.lower()
    except ValueError:
        return False


def upload_key(org_id: str, media_id: str) -> str:
    """Where the original goes in the uploads bucket: under its organisation's prefix."""
    return f"uploads/{org_id}/{media_id}"


def parse_upload_key(key: str) -> tuple[str, str] | None:
    """(organisation, media id) of an upload key; None for anything else."""
    parts = key.split("/")
    if len(parts) != 3 or parts[0] != "uploads" or not parts[1] or not is_media_id(parts[2]):
        return None
    return parts[1], parts[2].lower()


def rendition_key(org_id: str, media_id: str, name: str) -> str:
    """Where a verified rendition is kept (private) until a publication copies it to the site."""
    return f"renditions/{org_id}/{media_id}/{name}"


# ---------------------------------------------------------------------------------------------
# Which status allows what: the one gate for media
# ---------------------------------------------------------------------------------------------

# A verification may take a media awaiting its upload, or one another verification holds under a
# lease that ran out (the adapter's claim condition says the same); a verdict is final.
VERIFIABLE = frozenset({MediaStatus.AWAITING_UPLOAD, MediaStatus.VERIFYING})
FINAL = frozenset({MediaStatus.READY, MediaStatus.REJECTED})
# Only a verified media may be attached to a release.
ATTACHABLE = frozenset({MediaStatus.READY})


class Rendition(NamedTuple):
    """One re-encoded rendition, kept privately (``key`` in the uploads bucket)."""

    name: str  # e.g. "w800.webp", "document.pdf"
    key: str
    content_type: str
    bytes: int
    width: int | None = None
    height: int | None = None


@dataclass
class MediaRecord:
    media_id: str
    org_id: str
    status: MediaStatus
    filename: str
    content_type: str
    bytes: int
    created_at: datetime
    updated_at: datetime
    upload_key: str
    width: int | None = None
    height: int | None = None
    pages: int | None = None
    sha256: str | None = None
    renditions: list[Rendition] = field(default_factory=list)
    reason: Reason | None = None
    reason_detail: str | None = None  # the sentence of this file's refusal (e.g. the sizes found)
    used_by: frozenset[str] = frozenset()  # releases whose versions name it (never deleted then)


def limit_problem(content_type: str, size: int) -> str | None:
    """Why a declared size is over its type's limit, or None."""
    limit = MAX_BYTES[content_type]
    if size > limit:
        return (
            f"{content_type} files may be at most {limit // MiB} MiB ({limit:,} bytes); this one is {size:,}."
        )
    return None
