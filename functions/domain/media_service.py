"""The media service: declare an upload, read and delete media, verify uploads, check a release's
attachments.

Verification is safe under at-least-once delivery and concurrency: a delivery first *claims* the
media record (one conditional write: ``awaiting_upload``, or ``verifying`` under an expired
lease), then stores its verdict conditionally on still holding the claim. A second delivery of
the same upload finds the record claimed (it is retried later) or final (nothing to do but
announce the verdict again); a verification that lost its claim removes the renditions it wrote.

A stored verdict is announced to the organisation's webhooks as ``media.ready`` or
``media.rejected`` (``functions.domain.events.media_event``), under an id derived from the media
and the verdict's time: if queueing the announcement fails, the notification fails and its
redelivery, finding the verdict stored, announces it again under the same id (receivers
de-duplicate on ``webhook-id``), so a verdict is never left unannounced.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from functions.domain.errors import FieldError, MediaNotFound, StateConflict, ValidationFailed
from functions.domain.media import (
    ATTACHABLE,
    FINAL,
    LARGE_PDF_BYTES,
    MAX_BYTES,
    REASON_MESSAGES,
    REJECTED_TTL_SECONDS,
    SMALL_IMAGE_WIDTH,
    UNFINISHED_TTL_SECONDS,
    UPLOAD_EXPIRY_SECONDS,
    VERIFIABLE,
    VERIFY_LEASE_SECONDS,
    MediaRecord,
    MediaStatus,
    Reason,
    Rendition,
    Role,
    is_image,
    new_media_id,
    parse_upload_key,
    rendition_key,
    upload_key,
)
from functions.domain.ports import ConditionFailed, MediaEvents, MediaObjects, MediaRepository
from functions.domain.prescreen import Flag
from functions.domain.records import Caller

if TYPE_CHECKING:
    from functions.domain.models import MediaRef, MediaUpload

log = logging.getLogger(__name__)


class VerifyOutcome(StrEnum):
    READY = "ready"
    REJECTED = "rejected"
    ALREADY_FINAL = "already_final"  # a redelivery: the verdict is already stored
    IGNORED = "ignored"  # not an upload of a known media (a stray key, a deleted media)


class VerificationBusy(Exception):
    """Another delivery holds the media's claim: try this one again later."""


@dataclass(frozen=True)
class PresignedUpload:
    url: str
    fields: dict[str, str]
    expires_at: datetime


@dataclass(frozen=True)
class Attachment:
    """One attachment of a release version, as moderators and the publisher need it."""

    ref: MediaRef
    media: MediaRecord

    def as_document(self) -> dict[str, Any]:
        media = self.media
        return {
            **self.ref.model_dump(mode="json"),
            "content_type": media.content_type,
            "bytes": media.bytes,
            "width": media.width,
            "height": media.height,
            "pages": media.pages,
            "sha256": media.sha256,
            "renditions": [
                {
                    "name": r.name,
                    "key": r.key,
                    "content_type": r.content_type,
                    "bytes": r.bytes,
                    "width": r.width,
                    "height": r.height,
                }
                for r in media.renditions
            ],
        }


def attachment_flags(attachments: Sequence[Attachment]) -> list[Flag]:
    """Hints for moderators about the attachments (never a rejection)."""
    flags: list[Flag] = []
    small = [
        a for a in attachments if is_image(a.media.content_type) and (a.media.width or 0) < SMALL_IMAGE_WIDTH
    ]
    if small:
        flags.append(
            Flag(
                "small_image",
                f"{len(small)} image(s) under {SMALL_IMAGE_WIDTH} px wide: blurry on a large screen.",
            )
        )
    large = [
        a
        for a in attachments
        if a.media.content_type == "application/pdf" and a.media.bytes > LARGE_PDF_BYTES
    ]
    if large:
        flags.append(Flag("large_pdf", f"{len(large)} PDF(s) over {LARGE_PDF_BYTES // (1024 * 1024)} MiB."))
    return flags


class MediaService:
    def __init__(
        self,
        *,
        repository: MediaRepository,
        objects: MediaObjects,
        clock: Callable[[], datetime],
        verify: Callable[..., Any] | None = None,
        events: MediaEvents | None = None,
    ) -> None:
        self._repository = repository
        self._objects = objects
        self._clock = clock
        self._verify = verify  # functions.domain.verification.verify (injected: Pillow loads lazily)
        self._events = events  # media.ready / media.rejected (none without it)

    # -- the API ------------------------------------------------------------------------------

    def create(self, caller: Caller, upload: MediaUpload) -> tuple[MediaRecord, PresignedUpload]:
        from functions.domain.media import limit_problem

        problem = limit_problem(upload.content_type, upload.bytes)
        if problem:
            raise ValidationFailed(
                [FieldError("bytes", problem, "too_large")], detail="The file is too large."
            )
        now = self._clock()
        media_id = new_media_id()
        record = MediaRecord(
            media_id=media_id,
            org_id=caller.org_id,
            status=MediaStatus.AWAITING_UPLOAD,
            filename=upload.filename,
            content_type=upload.content_type,
            bytes=upload.bytes,
            created_at=now,
            updated_at=now,
            upload_key=upload_key(caller.org_id, media_id),
        )
        self._repository.create(record, expires_at=now + timedelta(seconds=UNFINISHED_TTL_SECONDS))
        url, fields = self._objects.presign_upload(
            record.upload_key,
            content_type=upload.content_type,
            size=upload.bytes,
            expires_in=UPLOAD_EXPIRY_SECONDS,
        )
        return record, PresignedUpload(url, fields, now + timedelta(seconds=UPLOAD_EXPIRY_SECONDS))

    def get(self, caller: Caller, media_id: str) -> MediaRecord:
        record = self._repository.get(media_id)
        if record is None or record.org_id != caller.org_id:
            raise MediaNotFound(media_id)
        return record

    def delete(self, caller: Caller, media_id: str) -> None:
        record = self.get(caller, media_id)
        if record.used_by:
            raise StateConflict("A release names this media; it cannot be deleted.", status=record.status)
        try:
            self._repository.delete_unused(media_id, org_id=caller.org_id)
        except ConditionFailed:
            latest = self._repository.get(media_id)
            if latest is None:
                return  # deleted meanwhile: DELETE is idempotent
            raise StateConflict(
                "A release names this media; it cannot be deleted.", status=latest.status
            ) from None
        self._objects.delete([record.upload_key, *(r.key for r in record.renditions)])

    # -- a release's attachments --------------------------------------------------------------

    def check(self, caller: Caller, refs: Sequence[MediaRef]) -> list[Attachment]:
        """The attachments of a release, or ``ValidationFailed`` naming each broken entry
        (``media.0.id``, ``media.1.alt``...). Reads only."""
        problems: list[FieldError] = []
        attachments: list[Attachment] = []
        seen: set[str] = set()
        featured = 0
        for index, ref in enumerate(refs):
            path = f"media.{index}"
            if ref.id in seen:
                problems.append(FieldError(f"{path}.id", "This media is attached twice.", "duplicate"))
                continue
            seen.add(ref.id)
            record = self._repository.get(ref.id)
            if record is None or record.org_id != caller.org_id:
                problems.append(FieldError(f"{path}.id", f"No media {ref.id!r} was found.", "unknown_media"))
                continue
            if record.status not in ATTACHABLE:
                message = (
                    f"This media was rejected: {REASON_MESSAGES[record.reason]}"
                    if record.status is MediaStatus.REJECTED and record.reason
                    else f"This media is {record.status.value}, not ready: wait for GET /media/{ref.id}."
                )
                problems.append(FieldError(f"{path}.id", message, "media_not_ready"))
                continue
            image = is_image(record.content_type)
            if image and ref.role is Role.DOCUMENT:
                problems.append(
                    FieldError(
                        f"{path}.role", "An image is featured or gallery, not a document.", "wrong_role"
                    )
                )
            if not image and ref.role is not Role.DOCUMENT:
                problems.append(
                    FieldError(f"{path}.role", "A PDF is a document, not an image.", "wrong_role")
                )
            if ref.role is Role.FEATURED:
                featured += 1
                if featured > 1:
                    problems.append(
                        FieldError(f"{path}.role", "Only one image may be featured.", "duplicate_featured")
                    )
            if image and not ref.alt:
                problems.append(
                    FieldError(f"{path}.alt", "An image needs alt text (1-300 characters).", "missing")
                )
            attachments.append(Attachment(ref, record))
        if problems:
            raise ValidationFailed(problems, detail="The release's media are not valid; see errors.")
        return attachments

    def attach(self, caller: Caller, refs: Sequence[MediaRef], *, release_id: str) -> list[Attachment]:
        """``check``, then record that the release names each media (so none of them can be
        deleted any more); a media deleted meanwhile is the same ``422``."""
        attachments = self.check(caller, refs)
        problems = []
        for index, attachment in enumerate(attachments):
            try:
                self._repository.mark_used(
                    attachment.media.media_id, org_id=caller.org_id, release_id=release_id
                )
            except ConditionFailed:
                problems.append(
                    FieldError(f"media.{index}.id", "This media was deleted meanwhile.", "unknown_media")
                )
        if problems:
            raise ValidationFailed(problems, detail="The release's media are not valid; see errors.")
        return attachments

    # -- verification -------------------------------------------------------------------------

    def verify_upload(self, key: str) -> VerifyOutcome:  # noqa: PLR0911 - one per outcome, in order
        """Verify the object an upload notification names (at least once, maybe concurrently)."""
        parsed = parse_upload_key(key)
        if parsed is None:
            log.warning("upload notification for %r, which is no media upload key; ignored", key)
            return VerifyOutcome.IGNORED
        key_org, media_id = parsed
        record = self._repository.get(media_id)
        if record is None or record.org_id != key_org or record.upload_key != key:
            log.warning("upload %r matches no media record; deleted", key)
            self._objects.delete([key])
            return VerifyOutcome.IGNORED
        if record.status not in VERIFIABLE:
            self._announce(record)  # again: the delivery that stored it may have failed to announce it
            return VerifyOutcome.ALREADY_FINAL
        token = str(uuid.uuid4())
        now = self._clock()
        try:
            record = self._repository.claim(
                media_id, token=token, now=now, lease_until=now + timedelta(seconds=VERIFY_LEASE_SECONDS)
            )
        except ConditionFailed:
            latest = self._repository.get(media_id)
            if latest is None or latest.status in FINAL:
                return VerifyOutcome.ALREADY_FINAL if latest else VerifyOutcome.IGNORED
            raise VerificationBusy(media_id) from None
        head = self._objects.head(key)
        if head is None:
            log.warning("upload %r is gone before its verification", key)
            return VerifyOutcome.IGNORED
        size, stored_type = head
        refusal = self._refusal_before_reading(record, size, stored_type)
        if refusal is not None:
            reason, detail = refusal
            rejected = replace(record, status=MediaStatus.REJECTED, reason=reason, reason_detail=detail)
            return self._finish(rejected, token, [])
        data = self._objects.read(key, max_bytes=MAX_BYTES[record.content_type])
        verdict = self._judge(record, data)
        from functions.domain.verification import Accepted

        if not isinstance(verdict, Accepted):
            log.info("media %s rejected: %s (%s)", media_id, verdict.reason.value, verdict.detail)
            rejected = replace(
                record, status=MediaStatus.REJECTED, reason=verdict.reason, reason_detail=verdict.detail
            )
            return self._finish(rejected, token, [])
        renditions = []
        for file in verdict.renditions:
            rendition = Rendition(
                name=file.name,
                key=rendition_key(record.org_id, media_id, file.name),
                content_type=file.content_type,
                bytes=len(file.body),
                width=file.width,
                height=file.height,
            )
            self._objects.put(rendition.key, file.body, file.content_type)
            renditions.append(rendition)
        ready = replace(
            record,
            status=MediaStatus.READY,
            width=verdict.width,
            height=verdict.height,
            pages=verdict.pages,
            sha256=verdict.sha256,
            renditions=renditions,
            reason=None,
        )
        return self._finish(ready, token, renditions)

    def _refusal_before_reading(
        self, record: MediaRecord, size: int, stored_type: str
    ) -> tuple[Reason, str] | None:
        """What the object's size and type already refuse, before a byte is read: the upload policy
        says the same, but is not enforced everywhere (an emulated S3 ignores it)."""
        declared = record.content_type
        if size > MAX_BYTES[declared]:
            return (
                Reason.TOO_LARGE,
                f"The upload is {size:,} bytes; {declared} allows {MAX_BYTES[declared]:,}.",
            )
        if size != record.bytes:
            return Reason.SIZE_MISMATCH, f"The upload is {size:,} bytes, not the {record.bytes:,} declared."
        stored = stored_type.split(";", 1)[0].strip().lower()
        if stored != declared:
            return Reason.TYPE_MISMATCH, f"The upload was sent as {stored or 'no type'}, not {declared}."
        return None

    def _judge(self, record: MediaRecord, data: bytes) -> Any:
        if self._verify is not None:
            return self._verify(data, declared_type=record.content_type, declared_bytes=record.bytes)
        from functions.domain.verification import verify

        return verify(data, declared_type=record.content_type, declared_bytes=record.bytes)

    def _finish(self, record: MediaRecord, token: str, written: list[Rendition]) -> VerifyOutcome:
        now = self._clock()
        record.updated_at = now
        expires = (
            None if record.status is MediaStatus.READY else now + timedelta(seconds=REJECTED_TTL_SECONDS)
        )
        try:
            self._repository.finish(record, token=token, now=now, expires_at=expires)
        except ConditionFailed:
            # Another delivery took over (our lease ran out) or the media was deleted meanwhile.
            log.warning(
                "media %s: the verification lost its claim; its renditions are removed", record.media_id
            )
            latest = self._repository.get(record.media_id)
            keep = {r.key for r in latest.renditions} if latest else set()
            self._objects.delete([r.key for r in written if r.key not in keep])
            return VerifyOutcome.ALREADY_FINAL if latest is not None else VerifyOutcome.IGNORED
        self._announce(record)
        return VerifyOutcome.READY if record.status is MediaStatus.READY else VerifyOutcome.REJECTED

    def _announce(self, record: MediaRecord) -> None:
        """``media.ready`` or ``media.rejected`` to the organisation's webhooks (a verdict only)."""
        if self._events is None or record.status not in FINAL:
            return
        from functions.domain.events import media_event

        event = media_event(
            record.media_id,
            ready=record.status is MediaStatus.READY,
            at=record.updated_at,
            reason=record.reason.value if record.reason else None,
        )
        self._events.route(record.org_id, event)
