"""What the API answers with: the submitter's views of a release, built from its state record.

These models are the responses' contract (the resolver validates every answer against them and
the OpenAPI document shows them); what a submitter sends is ``functions/domain/models.py``.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Literal

from pydantic import BaseModel, Field

from functions.domain.models import Category
from functions.domain.records import ReleaseRecord
from functions.domain.states import has_pending_correction

if TYPE_CHECKING:
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


class PendingCorrection(BaseModel):
    """A correction on its way: version ``version`` awaits the moderators (or the publisher);
    until it is published, readers see ``public_version``."""

    version: int
    note: str


class PublishedCorrection(BaseModel):
    """A correction readers see: the version it made public, its note, when it went out."""

    version: int
    note: str
    published_at: datetime


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
    public_version: Annotated[
        int | None, Field(description="The version readers see on the site (none before publication).")
    ] = None
    pending_correction: Annotated[
        PendingCorrection | None,
        Field(description="A correction of the published release not yet public (its version and note)."),
    ] = None
    corrections: Annotated[
        list[PublishedCorrection], Field(description="The published corrections, oldest first.")
    ] = []
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
        public_version=record.public_version,
        pending_correction=(
            PendingCorrection(version=record.version, note=record.correction_note or "")
            if has_pending_correction(record.status)
            else None
        ),
        corrections=[
            PublishedCorrection(version=c.version, note=c.note, published_at=c.published_at)
            for c in record.corrections
        ],
        links=ReleaseLinks(self=f"{api_root}/releases/{record.release_id}", public=record.public_url),
    )


def preview_of(body_html: str, flags: Iterable[Flag]) -> ReleasePreview:
    return ReleasePreview(html=body_html, prescreen_flags=_flag_views(flags))


def _flag_views(flags: Iterable[Flag]) -> list[PrescreenFlag]:
    return [PrescreenFlag(code=f.code, message=f.message) for f in flags]


def view_etag(view: ReleaseView) -> str:
    """The status view's entity tag: ``"<version>-<digest>"``, the digest of the whole view, so it
    changes whenever the view does (a decision, a status change, a publication...). Its version
    part is what ``If-Match`` may also name alone (``"2"``)."""
    digest = hashlib.sha256(view.model_dump_json().encode()).hexdigest()[:16]
    return f'"{view.version}-{digest}"'
