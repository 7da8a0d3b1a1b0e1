"""What the API answers with: the submitter's views of a release, built from its state record.

These models are the responses' contract (the resolver validates every answer against them and
the OpenAPI document shows them); what a submitter sends is ``functions/domain/models.py``.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import TYPE_CHECKING, Literal

from pydantic import BaseModel

from functions.domain.models import Category
from functions.domain.records import ReleaseRecord

if TYPE_CHECKING:
    from functions.domain.media import MediaRecord
    from functions.domain.prescreen import Flag


class PrescreenFlag(BaseModel):
    """A hint for moderators computed at intake; never a rejection by itself."""

    code: str
    message: str


class DecisionView(BaseModel):
    """The latest moderation decision, as the submitter sees it (never the moderator's name)."""

    action: Literal["approve", "reject", "request_changes", "kill"]
    reason_codes: list[str] = []
    note: str | None = None
    decided_at: datetime
    version: int


class ReleaseLinks(BaseModel):
    self: str
    public: str | None = None


class ReleaseAccepted(BaseModel):
    """Answer to a submission or revision: the release is durably stored and queued for review."""

    id: str
    status: str
    version: int
    links: ReleaseLinks


class ReleaseView(BaseModel):
    """The submitter's status view of one release."""

    id: str
    status: str
    version: int
    category: Category
    headline: str
    language: str
    created_at: datetime
    updated_at: datetime
    release_at: datetime | None = None
    published_at: datetime | None = None
    decision: DecisionView | None = None
    prescreen_flags: list[PrescreenFlag] = []
    public_url: str | None = None
    links: ReleaseLinks


class ReleaseList(BaseModel):
    items: list[ReleaseView]
    next_cursor: str | None = None


class ReleasePreview(BaseModel):
    """What a submission would become (``POST /previews``), computed by the same code and stored
    nowhere."""

    html: str
    prescreen_flags: list[PrescreenFlag] = []


def view_of(record: ReleaseRecord, api_root: str) -> ReleaseView:
    decision = None
    if record.decision:
        # The moderator's identity is recorded for audit, never shown to the submitter.
        decision = DecisionView(
            action=record.decision["action"],
            reason_codes=list(record.decision.get("reason_codes") or []),
            note=record.decision.get("note"),
            decided_at=record.decision["decided_at"],
            version=int(record.decision.get("version", record.version)),
        )
    return ReleaseView(
        id=record.release_id,
        status=record.status,
        version=record.version,
        category=record.category,  # type: ignore[arg-type]
        headline=record.headline,
        language=record.language,
        created_at=record.created_at,
        updated_at=record.updated_at,
        release_at=record.release_at,
        published_at=record.published_at,
        decision=decision,
        prescreen_flags=_flag_views(record.prescreen),
        public_url=record.public_url,
        links=ReleaseLinks(self=f"{api_root}/releases/{record.release_id}", public=record.public_url),
    )


def preview_of(body_html: str, flags: Iterable[Flag]) -> ReleasePreview:
    return ReleasePreview(html=body_html, prescreen_flags=_flag_views(flags))


def _flag_views(flags: Iterable[Flag]) -> list[PrescreenFlag]:
    return [PrescreenFlag(code=f.code, message=f.message) for f in flags]


# ---------------------------------------------------------------------------------------------
# Media
# ---------------------------------------------------------------------------------------------


class RenditionView(BaseModel):
    """A re-encoded rendition (what may be published; the original never is)."""

    name: str
    content_type: str
    bytes: int
    width: int | None = None
    height: int | None = None


class MediaLinks(BaseModel):
    self: str


class MediaView(BaseModel):
    """One of your media and its verification."""

    id: str
    status: Literal["awaiting_upload", "verifying", "ready", "rejected"]
    filename: str
    content_type: str
    bytes: int
    width: int | None = None
    height: int | None = None
    pages: int | None = None
    sha256: str | None = None
    renditions: list[RenditionView] = []
    reason: str | None = None
    reason_detail: str | None = None
    created_at: datetime
    updated_at: datetime
    links: MediaLinks


class UploadForm(BaseModel):
    """An S3 presigned POST: send a `multipart/form-data` POST to `url` with every field of
    `fields`, then the file as the last field, `file`."""

    url: str
    fields: dict[str, str]
    expires_at: datetime


class MediaCreated(MediaView):
    """Answer to `POST /media`: the record, and the form to upload the file with (15 minutes)."""

    upload: UploadForm


def media_view_of(record: MediaRecord, api_root: str) -> MediaView:
    from functions.domain.media import REASON_MESSAGES

    return MediaView(
        id=record.media_id,
        status=record.status.value,
        filename=record.filename,
        content_type=record.content_type,
        bytes=record.bytes,
        width=record.width,
        height=record.height,
        pages=record.pages,
        sha256=record.sha256,
        renditions=[
            RenditionView(
                name=r.name, content_type=r.content_type, bytes=r.bytes, width=r.width, height=r.height
            )
            for r in record.renditions
        ],
        reason=record.reason.value if record.reason else None,
        reason_detail=(record.reason_detail or REASON_MESSAGES[record.reason]) if record.reason else None,
        created_at=record.created_at,
        updated_at=record.updated_at,
        links=MediaLinks(self=f"{api_root}/media/{record.media_id}"),
    )
