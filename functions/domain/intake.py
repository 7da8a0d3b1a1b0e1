"""The intake service: submit, revise, withdraw, read and list releases.

Order of writes for a submission (the commit point is the state item):

1. the version's canonical JSON goes to the releases bucket (conditional create);
2. the state item goes to the table, carrying an *outbox* mark "send to moderation";
3. the claim-check message goes to the moderation queue, then the outbox mark is cleared.

A failure in 1 or 2 surfaces as an error (nothing is promised; a retry with the same
``Idempotency-Key`` lands on the same release id). A failure in 3 is not an error: the release
is durably stored and the outbox sweep (``functions.domain.outbox.sweep``) sends whatever is
still marked.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, NamedTuple

from functions.domain.errors import (
    FieldError,
    IdempotencyConflict,
    ReleaseNotFound,
    StateConflict,
    ValidationFailed,
)
from functions.domain.messages import ModerationMessage
from functions.domain.models import BODY_MAX_SANITISED, AnyRelease
from functions.domain.ports import (
    ConditionFailed,
    ModerationQueue,
    RecordExists,
    ReleaseStore,
    StateRepository,
    VersionExists,
)
from functions.domain.prescreen import Flag, PrescreenInput, content_digest, prescreen
from functions.domain.records import (
    MAX_CORRECTIONS,
    Caller,
    OutboxTarget,
    ReleaseRecord,
    new_release_id,
    payload_hash,
    schedule_name,
)
from functions.domain.sanitise import plain_words, sanitise_body
from functions.domain.states import (
    INITIAL,
    Action,
    action_for,
    already,
    can,
    next_status,
    put_refusal,
    refusal,
)

if TYPE_CHECKING:
    from functions.domain.media_service import Attachment, MediaService

log = logging.getLogger(__name__)

DOCUMENT_SCHEMA = "press-intake/release-version@1"
RELEASE_AT_GRACE = timedelta(minutes=5)
RELEASE_AT_HORIZON = timedelta(days=366)
_Flags = list[Flag]  # spelt here: inside IntakeService, ``list`` is its method


class Prepared(NamedTuple):
    """A validated submission turned into what is stored."""

    content: dict[str, Any]
    body_html: str
    body_text: str  # plain_words(body_html), shared by the digest and the prescreen rules
    payload_hash: str  # "" when not asked for (see prepare)
    content_digest: str


def prepare(
    submission: AnyRelease, *, now: datetime, check_release_at: bool = True, hash_payload: bool = True
) -> Prepared:
    """Sanitise and check the rules that need a clock or the sanitised body (``release_at``
    is not checked for a correction, which keeps the published release's own).

    ``hash_payload``: whether to hash the submission as sent (``payload_hash``). Only a retry
    reads the hash, to tell itself from another release sent under the same id; a release given
    a new id of its own (no Idempotency-Key) or a preview has no such retry, and is not hashed."""
    errors: list[FieldError] = []
    body_html = sanitise_body(submission.body, submission.body_format)
    if len(body_html) > BODY_MAX_SANITISED:
        errors.append(
            FieldError(
                "body",
                f"The sanitised body is {len(body_html):,} characters; the limit is {BODY_MAX_SANITISED:,}.",
                "too_long",
            )
        )
    elif not body_html:
        errors.append(FieldError("body", "The body has no text once sanitised.", "empty"))
    if submission.release_at is not None and check_release_at:
        if submission.release_at < now - RELEASE_AT_GRACE:
            errors.append(FieldError("release_at", "release_at is in the past.", "in_past"))
        elif submission.release_at > now + RELEASE_AT_HORIZON:
            errors.append(FieldError("release_at", "release_at is more than one year ahead.", "too_far"))
    if errors:
        raise ValidationFailed(errors)
    raw = submission.model_dump(mode="json")
    # The correction note is about the version, not part of the release: the document keeps it apart.
    content = {key: value for key, value in raw.items() if key != "correction_note"}
    content.update(body=body_html, body_format="html")
    body_text = plain_words(body_html)
    return Prepared(
        content=content,
        body_html=body_html,
        body_text=body_text,
        payload_hash=payload_hash(raw) if hash_payload else "",
        content_digest=content_digest(submission.headline, body_html, body_text=body_text),
    )


def flags_for(submission: AnyRelease, prepared: Prepared, duplicate_of: str | None) -> list[Flag]:
    return prescreen(
        PrescreenInput(
            headline=submission.headline,
            subheadline=submission.subheadline,
            summary=submission.summary,
            body_html=prepared.body_html,
            phone=submission.contact.phone,
            link_count=len(submission.links),
            duplicate_of=duplicate_of,
            body_text=prepared.body_text,
        )
    )


def version_document(
    record: ReleaseRecord,
    prepared: Prepared,
    submitted_format: str,
    caller: Caller,
    attachments: Sequence[Attachment] = (),
) -> dict[str, Any]:
    """The canonical JSON of one version, as stored in the releases bucket. A correction carries
    ``correction``: its note and the version it corrects (the public one when it was made);
    ``attachments`` are what its ``media`` list named when it was stored (type, size, dimensions,
    private renditions), for the moderators and the publisher."""
    document: dict[str, Any] = {
        "schema": DOCUMENT_SCHEMA,
        "release_id": record.release_id,
        "version": record.version,
        "org_id": record.org_id,
        "org_name": record.org_name,
        "submitted_at": record.updated_at.isoformat(),
        "submitted_by": caller.actor,
        "submitted_format": submitted_format,
        "content": prepared.content,
        "content_digest": prepared.content_digest,
        "prescreen": [{"code": f.code, "message": f.message} for f in record.prescreen],
    }
    if record.correction_note is not None:
        document["correction"] = {"note": record.correction_note, "corrects_version": record.public_version}
    if attachments:
        document["attachments"] = [a.as_document() for a in attachments]
    return document


def version_record(
    caller: Caller,
    submission: AnyRelease,
    prepared: Prepared,
    *,
    release_id: str,
    now: datetime,
    flags: list[Flag],
    previous: ReleaseRecord | None = None,
) -> ReleaseRecord:
    """The state item of a new version: version 1 of a submission (``previous`` is None), or the
    version after ``previous`` for a revision or a correction, which keeps what the release
    already had (its organisation, creation time, last decision, what is public). Either awaits
    review, marked for the moderation queue; ``object_key`` is filled in once the version is
    stored."""
    fresh = ReleaseRecord(
        release_id=release_id,
        org_id=caller.org_id,
        org_name=caller.org_name,
        status=INITIAL,
        version=1,
        category=submission.category,
        headline=submission.headline,
        language=submission.language,
        created_at=now,
        updated_at=now,
        release_at=submission.release_at,
        object_key="",
        payload_hash=prepared.payload_hash,
        content_digest=prepared.content_digest,
        prescreen=flags,
        outbox=OutboxTarget.MODERATION,
        outbox_at=now,
    )
    if previous is None:
        return fresh
    return replace(
        fresh,
        org_id=previous.org_id,
        org_name=previous.org_name,
        status=next_status(action_for(Action.REVISE, previous.status), previous.status),
        version=previous.version + 1,
        created_at=previous.created_at,
        published_at=previous.published_at,
        decision=previous.decision,
        public_url=previous.public_url,
        public_version=previous.public_version,
        corrections=list(previous.corrections),
        correction_note=submission.correction_note,
    )


class NewVersion(NamedTuple):
    """A version ready to store: its state item and its document."""

    record: ReleaseRecord
    document: dict[str, Any]


class IntakeService:
    def __init__(
        self,
        *,
        store: ReleaseStore,
        states: StateRepository,
        queue: ModerationQueue,
        clock: Callable[[], datetime],
        cancel_schedule: Callable[[str], None] | None = None,
        media: Callable[[], MediaService] | None = None,
    ) -> None:
        self._store = store
        self._states = states
        self._queue = queue
        self._clock = clock
        self._cancel_schedule = cancel_schedule  # withdrawing a scheduled release
        # A release's attachments (its ``media`` list): the service is asked for only when a
        # release names one, so a submission without attachments never builds it.
        self._media = media

    # -- commands -----------------------------------------------------------------------------

    def submit(self, caller: Caller, submission: AnyRelease, *, release_id: str | None) -> ReleaseRecord:
        """Store and queue a new release under ``release_id`` (one the client's Idempotency-Key
        names: a retry of the same release returns it, another release under it is refused), or,
        when None, under a new id of its own, which no retry names."""
        if submission.correction_note is not None:
            raise ValidationFailed([_NOTE_ONLY_FOR_CORRECTIONS])
        new = self._new_version(
            caller,
            submission,
            release_id=new_release_id() if release_id is None else release_id,
            hash_payload=release_id is not None,
        )
        record = new.record
        try:
            record.object_key = self._put(new)
        except VersionExists as exists:
            # A retry of an attempt that stored the object and then failed: same key, same payload.
            if exists.payload_hash != record.payload_hash:
                raise _key_reused() from None
            record.object_key = exists.key
        try:
            self._states.create(record, actor=caller.actor)
        except RecordExists as exists:
            current = exists.existing
            if current.org_id != caller.org_id or current.payload_hash != record.payload_hash:
                raise _key_reused() from None
            record = current
        self._enqueue(record)
        return record

    def revise(
        self, caller: Caller, release_id: str, submission: AnyRelease, *, expected_version: int | None
    ) -> ReleaseRecord:
        """A PUT: a revision before publication (``revise``), or a correction of a published
        release (``correct``: version n stays public while version n+1 is reviewed)."""
        current = self._owned(caller, release_id)
        action = action_for(Action.REVISE, current.status)
        if not can(action, current.status):
            raise StateConflict(put_refusal(current.status), status=current.status, version=current.version)
        if expected_version is not None and expected_version != current.version:
            raise StateConflict(
                f"The release is at version {current.version}, not {expected_version}; "
                "fetch it again before revising.",
                status=current.status,
                version=current.version,
            )
        if action is Action.CORRECT:
            submission = _as_correction(submission, current)
        elif submission.correction_note is not None:
            raise ValidationFailed([_NOTE_ONLY_FOR_CORRECTIONS])
        new = self._new_version(
            caller, submission, release_id=release_id, previous=current, hash_payload=True
        )
        revised = new.record
        try:
            revised.object_key = self._put(new)
        except VersionExists:
            # Another revision of the same version won the race for the object.
            raise StateConflict(
                "The release was revised meanwhile; fetch it again before revising.",
                status=current.status,
                version=revised.version,
            ) from None
        try:
            self._states.revise(
                revised, expected_version=current.version, actor=caller.actor, action=action, current=current
            )
        except ConditionFailed:
            raise self._conflict_now(release_id, Action.REVISE) from None
        self._enqueue(revised)
        return revised

    def withdraw(self, caller: Caller, release_id: str) -> ReleaseRecord:
        current = self._owned(caller, release_id)
        if already(Action.WITHDRAW, current.status):
            return current  # withdrawing twice is harmless: DELETE is idempotent
        if not can(Action.WITHDRAW, current.status):
            raise _refused(Action.WITHDRAW, current)
        try:
            withdrawn = self._states.transition(
                release_id,
                Action.WITHDRAW,
                org_id=current.org_id,
                expected_version=current.version,
                actor=caller.actor,
                now=self._clock(),
                current=current,
            )
        except ConditionFailed:
            raise self._conflict_now(release_id, Action.WITHDRAW) from None
        if already(Action.SCHEDULE, current.status) and self._cancel_schedule is not None:
            try:
                self._cancel_schedule(schedule_name(release_id, current.version))
            except Exception:
                # Harmless if it fires anyway: the publisher skips withdrawn releases.
                log.warning("schedule of withdrawn release %s not deleted", release_id, exc_info=True)
        return withdrawn

    # -- queries ------------------------------------------------------------------------------

    def get(self, caller: Caller, release_id: str) -> ReleaseRecord:
        return self._owned(caller, release_id)

    def list(
        self, caller: Caller, *, status: str | None, limit: int, cursor: dict[str, Any] | None
    ) -> tuple[list[ReleaseRecord], dict[str, Any] | None]:
        return self._states.list_for_org(caller.org_id, status=status, limit=limit, cursor=cursor)

    def preview(
        self, caller: Caller, submission: AnyRelease, *, revises: str | None = None
    ) -> tuple[Prepared, Sequence[Flag]]:
        """What ``submit`` (or ``revise`` of release ``revises``) would store and flag, computed by
        the same code; nothing is written.

        Raises ``ValidationFailed`` exactly where a submission would. The duplicate check reads
        the organisation's earlier releases, as a submission does (a revision is no duplicate of
        the release it revises).
        """
        prepared, flags = self._checked(
            caller, submission, release_id=revises, now=self._clock(), hash_payload=False
        )
        attachments = self._attachments(caller, submission, release_id=None)
        return prepared, [*flags, *_media_flags(attachments)]

    # -- helpers ------------------------------------------------------------------------------

    def _new_version(
        self,
        caller: Caller,
        submission: AnyRelease,
        *,
        release_id: str,
        previous: ReleaseRecord | None = None,
        hash_payload: bool,
    ) -> NewVersion:
        """The one path from a submission to a stored version, for a submission and a revision."""
        now = self._clock()
        correcting = previous is not None and action_for(Action.REVISE, previous.status) is Action.CORRECT
        prepared, flags = self._checked(
            caller,
            submission,
            release_id=release_id,
            now=now,
            check_release_at=not correcting,
            hash_payload=hash_payload,
        )
        attachments = self._attachments(caller, submission, release_id=release_id)
        flags = [*flags, *_media_flags(attachments)]
        record = version_record(
            caller, submission, prepared, release_id=release_id, now=now, flags=flags, previous=previous
        )
        document = version_document(record, prepared, submission.body_format, caller, attachments)
        return NewVersion(record, document)

    def _attachments(
        self, caller: Caller, submission: AnyRelease, *, release_id: str | None
    ) -> Sequence[Attachment]:
        """The release's ``media``, checked (a preview: ``release_id`` None) or attached to it."""
        if not submission.media:
            return []
        if self._media is None:
            raise ValidationFailed(
                [FieldError("media", "Attachments are not available here.", "unavailable")]
            )
        media = self._media()
        if release_id is None:
            return media.check(caller, submission.media)
        return media.attach(caller, submission.media, release_id=release_id)

    def _checked(
        self,
        caller: Caller,
        submission: AnyRelease,
        *,
        release_id: str | None,
        now: datetime,
        check_release_at: bool = True,
        hash_payload: bool,
    ) -> tuple[Prepared, _Flags]:
        """Validated, sanitised and prescreened, as every new version and every preview is; the
        release's own earlier versions (``release_id``) are no duplicate of it."""
        prepared = prepare(submission, now=now, check_release_at=check_release_at, hash_payload=hash_payload)
        earlier = self._states.find_digest(caller.org_id, prepared.content_digest)
        return prepared, flags_for(submission, prepared, earlier if earlier != release_id else None)

    def _put(self, new: NewVersion) -> str:
        record = new.record
        return self._store.put_version(
            org_id=record.org_id,
            release_id=record.release_id,
            version=record.version,
            document=new.document,
            payload_hash=record.payload_hash,
        )

    def _enqueue(self, record: ReleaseRecord) -> None:
        if record.outbox is not OutboxTarget.MODERATION:
            return
        try:
            self._queue.send(
                ModerationMessage(release_id=record.release_id, version=record.version),
                org_id=record.org_id,
                category=record.category,
            )
            self._states.clear_outbox(record.release_id, record.version)
            record.outbox = None
            record.outbox_at = None
        except Exception:
            # Stored and committed: the outbox sweep sends it. The client still gets 202.
            log.warning("moderation enqueue deferred to the outbox sweep", exc_info=True)

    def _owned(self, caller: Caller, release_id: str) -> ReleaseRecord:
        record = self._states.get(release_id)
        if record is None or record.org_id != caller.org_id:
            raise ReleaseNotFound(release_id)
        return record

    def _conflict_now(self, release_id: str, request: Action) -> StateConflict:
        latest = self._states.get(release_id)
        if latest is None:
            return StateConflict("The release changed meanwhile.")
        if can(action_for(request, latest.status), latest.status):
            detail = f"The release changed meanwhile (now version {latest.version}); fetch it again."
            return StateConflict(detail, status=latest.status, version=latest.version)
        if request is Action.REVISE:
            return StateConflict(put_refusal(latest.status), status=latest.status, version=latest.version)
        return _refused(request, latest)


_NOTE_ONLY_FOR_CORRECTIONS = FieldError(
    "correction_note",
    "correction_note is only for correcting a published release (PUT); leave it out here.",
    "not_a_correction",
)


def _as_correction(submission: AnyRelease, current: ReleaseRecord) -> AnyRelease:
    """The submission as a correction of ``current``: it needs a note, keeps the category and the
    release time (a published release's time does not move; it is carried over when left out),
    and a release takes at most ``MAX_CORRECTIONS``."""
    errors: list[FieldError] = []
    if not (submission.correction_note or "").strip():
        errors.append(
            FieldError(
                "correction_note",
                "A published release is corrected with a correction_note saying what changed; "
                "readers see it with the corrected release.",
                "missing",
            )
        )
    if submission.category != current.category:
        errors.append(
            FieldError(
                "category",
                f"A correction keeps the release's category ({current.category}).",
                "immutable",
            )
        )
    if submission.release_at is not None and submission.release_at != current.release_at:
        errors.append(
            FieldError(
                "release_at",
                "A correction keeps the release's release_at (leave it out, or send it unchanged).",
                "immutable",
            )
        )
    if errors:
        raise ValidationFailed(errors, detail="The correction is not valid.")
    if len(current.corrections) >= MAX_CORRECTIONS:
        raise StateConflict(
            f"The release was already corrected {len(current.corrections)} times, the most a release "
            "takes; ask the newsroom to withdraw it and submit a new release.",
            status=current.status,
            version=current.version,
        )
    return submission.model_copy(update={"release_at": current.release_at})


def _media_flags(attachments: Sequence[Attachment]) -> list[Flag]:
    if not attachments:
        return []
    from functions.domain.media_service import attachment_flags

    return attachment_flags(attachments)


def _refused(action: Action, record: ReleaseRecord) -> StateConflict:
    return StateConflict(refusal(action, record.status), status=record.status, version=record.version)


def _key_reused() -> IdempotencyConflict:
    return IdempotencyConflict("This Idempotency-Key was already used with a different release.")
