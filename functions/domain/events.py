"""What submitters hear about: the events derived from a release's state changes, in one table.

Every change of a release's state item (old status and version -> new status and version) maps
to zero or more events through ``events_for``: entering a status is the event of that status
(``ON_ENTERING``, one entry per ``Status``, so a status added later must say what it means), a
publication after an earlier one is a correction (``ON_REENTERING``), and a change that moves
neither the status nor the version (an outbox mark cleared, a touch) is no event. Nothing else
decides which event a change is: the events function applies this table to the releases
table's stream, so a new path through the state machine (a correction, a kill, anything added
later) is announced by adding its row here, not by editing the services that make the change.

An event is delivered as ``{type, timestamp, data}`` (``Event.body``) under a stable id (the
Standard Webhooks ``webhook-id``), derived from what changed, so the same change always yields
the same id however often the stream hands it over. ``data`` never names the moderator: a
decision is its action, reason codes and note.

Media verification announces ``media.ready`` and ``media.rejected`` through ``media_event`` and
the same router (``functions.domain.delivery.EventRouter.route``, called by
``functions.domain.media_service.MediaService`` once a verdict is stored).
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, NamedTuple

from functions.domain.records import ReleaseRecord
from functions.domain.states import Status


class EventType(StrEnum):
    """Everything a webhook may subscribe to."""

    RELEASE_ACCEPTED = "release.accepted"  # a version (the first, or a revision) awaits review
    RELEASE_CHANGES_REQUESTED = "release.changes_requested"
    RELEASE_REJECTED = "release.rejected"
    RELEASE_APPROVED = "release.approved"
    RELEASE_SCHEDULED = "release.scheduled"  # approved; public at its release time
    RELEASE_PUBLISHED = "release.published"
    RELEASE_CORRECTED = "release.corrected"  # published again, a newer version, after a correction
    RELEASE_KILLED = "release.killed"
    RELEASE_WITHDRAWN = "release.withdrawn"
    MEDIA_READY = "media.ready"
    MEDIA_REJECTED = "media.rejected"


# Sent by POST /webhooks/{id}/test only; not something to subscribe to.
TEST_EVENT = "webhook.test"

# The event of entering each status; None: entering it is announced by nothing.
ON_ENTERING: Mapping[Status, EventType | None] = {
    Status.PENDING_REVIEW: EventType.RELEASE_ACCEPTED,
    Status.CHANGES_REQUESTED: EventType.RELEASE_CHANGES_REQUESTED,
    Status.REJECTED: EventType.RELEASE_REJECTED,
    Status.APPROVED: EventType.RELEASE_APPROVED,
    Status.SCHEDULED: EventType.RELEASE_SCHEDULED,
    Status.PUBLISHED: EventType.RELEASE_PUBLISHED,
    Status.KILLED: EventType.RELEASE_KILLED,
    Status.WITHDRAWN: EventType.RELEASE_WITHDRAWN,
    # A published release's correction goes through the same steps as a release, under the same
    # names (the payload's status says it is a correction); its publication is RELEASE_CORRECTED.
    Status.CORRECTION_REVIEW: EventType.RELEASE_ACCEPTED,
    Status.CORRECTION_CHANGES_REQUESTED: EventType.RELEASE_CHANGES_REQUESTED,
    Status.CORRECTION_APPROVED: EventType.RELEASE_APPROVED,
}

# Entering these statuses again once the release had been published means something else.
ON_REENTERING: Mapping[Status, EventType] = {
    Status.PUBLISHED: EventType.RELEASE_CORRECTED,
}
# ...except from these statuses: a correction refused leaves the published version as it was.
REFUSED_CORRECTION: Mapping[tuple[Status, Status], EventType] = {
    (Status.CORRECTION_REVIEW, Status.PUBLISHED): EventType.RELEASE_REJECTED,
}

# The events the release's contact (and the organisation's notification address) get an e-mail for.
MAILED: frozenset[EventType] = frozenset(
    {
        EventType.RELEASE_CHANGES_REQUESTED,
        EventType.RELEASE_REJECTED,
        EventType.RELEASE_PUBLISHED,
        EventType.RELEASE_KILLED,
    }
)

_EVENT_NAMESPACE = uuid.UUID("0d6f2f7e-8a52-4d0c-9f59-5b2b1e8c7a41")


def events_for(before: ReleaseRecord | None, after: ReleaseRecord | None) -> tuple[EventType, ...]:
    """The events one change of a release's state item means (``before`` None: it was created;
    ``after`` None: it was deleted, which announces nothing)."""
    if after is None:
        return ()
    if before is not None and (before.status, before.version) == (after.status, after.version):
        return ()
    if before is not None and (refused := REFUSED_CORRECTION.get((before.status, after.status))):
        return (refused,)
    if before is not None and before.published_at is not None and after.status in ON_REENTERING:
        return (ON_REENTERING[after.status],)
    event = ON_ENTERING.get(after.status)
    return (event,) if event is not None else ()


def event_id(*parts: object) -> str:
    """A stable ``webhook-id``: the same parts always give the same id."""
    return "msg_" + uuid.uuid5(_EVENT_NAMESPACE, "\n".join(str(p) for p in parts)).hex


def _utc(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


class Event(NamedTuple):
    """One event as delivered: its id (``webhook-id``), type, time and data."""

    id: str
    type: str
    timestamp: datetime
    data: Mapping[str, Any]

    def payload(self) -> dict[str, Any]:
        return {"type": self.type, "timestamp": _utc(self.timestamp), "data": dict(self.data)}

    def body(self) -> str:
        """The exact bytes a receiver gets (and the signature covers), as text."""
        return json.dumps(self.payload(), separators=(",", ":"), ensure_ascii=False)


def decision_data(record: ReleaseRecord) -> dict[str, Any] | None:
    """The decision about the record's current version, as submitters see it (never who made it)."""
    decision = record.decision
    if not decision or int(decision.get("version", record.version)) != record.version:
        return None
    return {
        "action": str(decision["action"]),
        "reason_codes": [str(code) for code in decision.get("reason_codes") or []],
        "note": decision.get("note"),
    }


def release_event(kind: EventType, record: ReleaseRecord) -> Event:
    """The event ``kind`` about ``record`` as it is after the change."""
    return Event(
        id=event_id(record.release_id, kind.value, record.version, _utc(record.updated_at)),
        type=kind.value,
        timestamp=record.updated_at,
        data={
            "release_id": record.release_id,
            "version": record.version,
            "status": record.status.value,
            "decision": decision_data(record),
            "public_url": record.public_url,
        },
    )


def media_event(media_id: str, *, ready: bool, at: datetime, reason: str | None = None) -> Event:
    """``media.ready`` or ``media.rejected`` (with the reason) for an upload that was verified."""
    kind = EventType.MEDIA_READY if ready else EventType.MEDIA_REJECTED
    return Event(
        id=event_id(media_id, kind.value, _utc(at)),
        type=kind.value,
        timestamp=at,
        data={"media_id": media_id, "status": "ready" if ready else "rejected", "reason": reason},
    )


def ping_event(webhook_id: str, *, at: datetime, nonce: str) -> Event:
    """What ``POST /webhooks/{id}/test`` sends (each request its own id)."""
    return Event(
        id=event_id(webhook_id, TEST_EVENT, nonce),
        type=TEST_EVENT,
        timestamp=at,
        data={"webhook_id": webhook_id},
    )
