"""What the API answers with: the submitter's views of a release, built from its state record.

These models are the responses' contract (the resolver validates every answer against them and
the OpenAPI document shows them); what a submitter sends is ``functions/domain/models.py``.
"""

import hashlib
from collections.abc import Iterable
from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from functions.domain.models import Category
from functions.domain.records import ReleaseRecord
from functions.domain.states import has_pending_correction

if TYPE_CHECKING:
    from functions.domain.media import MediaRecord
    from functions.domain.prescreen import Flag
    from functions.domain.webhooks import DeliveryAttempt, Webhook


class _View(BaseModel):
    """Base of the views. Each is built on first use (``defer_build``), not at import: a request
    builds only the ones its route answers with, which keeps them off the cold start of the others
    (``POST /releases`` needs two of the twenty)."""

    model_config = ConfigDict(defer_build=True)


class PrescreenFlag(_View):
    """A hint for moderators computed at intake; never a rejection by itself."""

    code: str
    message: str


class DecisionView(_View):
    """The latest moderation decision, as the submitter sees it (never the moderator's name)."""

    action: Literal["approve", "reject", "request_changes", "kill"]
    reason_codes: list[str] = []
    note: str | None = None
    decided_at: datetime
    version: int


class PendingCorrection(_View):
    """A correction on its way: version ``version`` awaits the moderators (or the publisher);
    until it is published, readers see ``public_version``."""

    version: int
    note: str


class PublishedCorrection(_View):
    """A correction readers see: the version it made public, its note, when it went out."""

    version: int
    note: str
    published_at: datetime


class ReleaseLinks(_View):
    self: str
    public: str | None = None


class ReleaseAccepted(_View):
    """Answer to a submission or revision: the release is durably stored and queued for review."""

    id: str
    status: str
    version: int
    links: ReleaseLinks


class ReleaseView(_View):
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


class ReleaseList(_View):
    items: list[ReleaseView]
    next_cursor: str | None = None


class ReleasePreview(_View):
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


def preview_of(body_html: str, flags: Iterable["Flag"]) -> ReleasePreview:
    return ReleasePreview(html=body_html, prescreen_flags=_flag_views(flags))


def _flag_views(flags: Iterable["Flag"]) -> list[PrescreenFlag]:
    return [PrescreenFlag(code=f.code, message=f.message) for f in flags]


def view_etag(view: ReleaseView) -> str:
    """The status view's entity tag: ``"<version>-<digest>"``, the digest of the whole view, so it
    changes whenever the view does (a decision, a status change, a publication...). Its version
    part is what ``If-Match`` may also name alone (``"2"``)."""
    digest = hashlib.sha256(view.model_dump_json().encode()).hexdigest()[:16]
    return f'"{view.version}-{digest}"'


# ---------------------------------------------------------------------------------------------
# Webhooks
# ---------------------------------------------------------------------------------------------


class WebhookLinks(_View):
    self: str
    deliveries: str


class WebhookView(_View):
    """A webhook as its organisation sees it (never its secret, which is shown once)."""

    id: str
    url: str
    events: list[str]
    status: Literal["active", "disabled"]
    created_at: datetime
    last_success_at: datetime | None = None
    failing_since: datetime | None = None
    disabled_at: datetime | None = None
    disabled_reason: str | None = None
    secret_rotated_at: datetime | None = None
    previous_secret_expires_at: datetime | None = None
    links: WebhookLinks


class WebhookCreated(WebhookView):
    """A new webhook, with its signing secret: shown this once, never again."""

    secret: str


class WebhookSecret(_View):
    """A rotated secret (shown once); the previous one signs too until ``previous_secret_expires_at``."""

    id: str
    secret: str
    previous_secret_expires_at: datetime


class WebhookList(_View):
    items: list[WebhookView]


class DeliveryView(_View):
    """One delivery attempt: its outcome, the receiver's status code and how long it took."""

    event_id: str
    type: str
    attempt: int
    at: datetime
    outcome: Literal["delivered", "failed", "refused"]
    status_code: int | None = None
    latency_ms: int | None = None
    error: str | None = None


class DeliveryList(_View):
    items: list[DeliveryView]


class WebhookTestQueued(_View):
    """A test event is queued for delivery (its id is the ``webhook-id`` the receiver sees)."""

    id: str
    type: str
    links: WebhookLinks


def webhook_links(hook: "Webhook", api_root: str) -> WebhookLinks:
    own = f"{api_root}/webhooks/{hook.webhook_id}"
    return WebhookLinks(self=own, deliveries=f"{own}/deliveries")


def webhook_view(hook: "Webhook", api_root: str, *, now: datetime) -> WebhookView:
    previous_until = hook.previous_until if hook.previous_until and hook.previous_until > now else None
    return WebhookView(
        id=hook.webhook_id,
        url=hook.url,
        events=list(hook.events),
        status=hook.status.value,
        created_at=hook.created_at,
        last_success_at=hook.last_success_at,
        failing_since=hook.failing_since,
        disabled_at=hook.disabled_at,
        disabled_reason=hook.disabled_reason,
        secret_rotated_at=hook.rotated_at,
        previous_secret_expires_at=previous_until,
        links=webhook_links(hook, api_root),
    )


def delivery_view(attempt: "DeliveryAttempt") -> DeliveryView:
    return DeliveryView(
        event_id=attempt.event_id,
        type=attempt.event_type,
        attempt=attempt.attempt,
        at=attempt.at,
        outcome=attempt.outcome.value,
        status_code=attempt.status_code,
        latency_ms=attempt.latency_ms,
        error=attempt.error,
    )


# ---------------------------------------------------------------------------------------------
# Media
# ---------------------------------------------------------------------------------------------


class RenditionView(_View):
    """A re-encoded rendition (what may be published; the original never is)."""

    name: str
    content_type: str
    bytes: int
    width: int | None = None
    height: int | None = None


class MediaLinks(_View):
    self: str


class MediaView(_View):
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


class UploadForm(_View):
    """An S3 presigned POST: send a `multipart/form-data` POST to `url` with every field of
    `fields`, then the file as the last field, `file`."""

    url: str
    fields: dict[str, str]
    expires_at: datetime


class MediaCreated(MediaView):
    """Answer to `POST /media`: the record, and the form to upload the file with (15 minutes)."""

    upload: UploadForm


def media_view_of(record: "MediaRecord", api_root: str) -> MediaView:
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
