"""The one table from state changes to events, and what an event carries."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from functions.domain.events import (
    MAILED,
    ON_ENTERING,
    EventType,
    events_for,
    media_event,
    ping_event,
    release_event,
)
from functions.domain.records import ReleaseRecord
from functions.domain.states import PUBLIC, TRANSITIONS, Action, Status

T0 = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


def _record(status: Status = Status.PENDING_REVIEW, version: int = 1, **changes: object) -> ReleaseRecord:
    record = ReleaseRecord(
        release_id="6f6b1f6e-0000-4000-8000-000000000001",
        org_id="acme",
        org_name="Acme",
        status=status,
        version=version,
        category="personnel",
        headline="Acme names Jane Doe chief financial officer",
        language="en",
        created_at=T0,
        updated_at=T0,
        object_key="orgs/acme/releases/x/v0001.json",
        payload_hash="h",
        content_digest="d",
    )
    return replace(record, **changes)  # type: ignore[arg-type]


def test_every_status_says_what_entering_it_means() -> None:
    # A status added to the state machine must be given its event (or None) here
    assert set(ON_ENTERING) == set(Status)


# What each transition of the state machine announces, written from the diagram.
EXPECTED = {
    Action.REVISE: EventType.RELEASE_ACCEPTED,
    Action.APPROVE: EventType.RELEASE_APPROVED,
    Action.REJECT: EventType.RELEASE_REJECTED,
    Action.REQUEST_CHANGES: EventType.RELEASE_CHANGES_REQUESTED,
    Action.SCHEDULE: EventType.RELEASE_SCHEDULED,
    Action.PUBLISH: EventType.RELEASE_PUBLISHED,
    Action.WITHDRAW: EventType.RELEASE_WITHDRAWN,
    Action.KILL: EventType.RELEASE_KILLED,
    # a published release's correction: the same steps, its publication announced as a correction
    Action.CORRECT: EventType.RELEASE_ACCEPTED,
    Action.APPROVE_CORRECTION: EventType.RELEASE_APPROVED,
    Action.REJECT_CORRECTION: EventType.RELEASE_REJECTED,
    Action.REQUEST_CORRECTION_CHANGES: EventType.RELEASE_CHANGES_REQUESTED,
    Action.PUBLISH_CORRECTION: EventType.RELEASE_CORRECTED,
}


@pytest.mark.parametrize(
    ("action", "source"),
    [(action, source) for action, t in TRANSITIONS.items() for source in sorted(t.sources)],
    ids=str,
)
def test_each_transition_of_the_state_machine_announces_its_event(action: Action, source: Status) -> None:
    transition = TRANSITIONS[action]
    published = T0 if source in PUBLIC else None  # a release in a correction state was published
    before = _record(source, 1, published_at=published)
    after = _record(
        transition.target,
        2 if transition.bumps_version else 1,
        published_at=published or (T0 if transition.target is Status.PUBLISHED else None),
        updated_at=T0 + timedelta(minutes=1),
    )
    assert events_for(before, after) == (EXPECTED[action],)


def test_a_new_release_is_accepted_and_a_deleted_one_announces_nothing() -> None:
    assert events_for(None, _record()) == (EventType.RELEASE_ACCEPTED,)
    assert events_for(_record(), None) == ()


def test_a_change_that_moves_neither_status_nor_version_is_no_event() -> None:
    # e.g. the outbox mark cleared after the moderation message was sent
    before = _record(outbox=None)
    assert events_for(before, replace(before, updated_at=T0 + timedelta(seconds=1))) == ()


def test_publishing_again_after_an_earlier_publication_is_a_correction() -> None:
    # Given a release that was published (version 1), then corrected (version 2 approved)
    first = _record(Status.PUBLISHED, 1, published_at=T0)
    approved_correction = _record(Status.APPROVED, 2, published_at=T0)
    # When version 2 goes live: whether from approved or straight from published
    republished = _record(Status.PUBLISHED, 2, published_at=T0 + timedelta(hours=1))
    assert events_for(approved_correction, republished) == (EventType.RELEASE_CORRECTED,)
    assert events_for(first, republished) == (EventType.RELEASE_CORRECTED,)
    # and a first publication stays a publication
    assert events_for(_record(Status.APPROVED), _record(Status.PUBLISHED, published_at=T0)) == (
        EventType.RELEASE_PUBLISHED,
    )


def test_the_payload_carries_the_decision_without_the_moderator() -> None:
    decision = {
        "action": "reject",
        "reason_codes": ["promotional_tone"],
        "note": "Cite a source.",
        "decided_at": T0.isoformat(),
        "version": 1,
        "moderator": "moderator:alice",
    }
    record = _record(Status.REJECTED, decision=decision, updated_at=T0 + timedelta(minutes=3))
    event = release_event(EventType.RELEASE_REJECTED, record)
    body = json.loads(event.body())
    assert body == {
        "type": "release.rejected",
        "timestamp": "2026-12-01T09:03:00Z",
        "data": {
            "release_id": record.release_id,
            "version": 1,
            "status": "rejected",
            "decision": {"action": "reject", "reason_codes": ["promotional_tone"], "note": "Cite a source."},
            "public_url": None,
        },
    }
    assert "alice" not in event.body()


def test_a_decision_about_an_earlier_version_is_not_this_versions() -> None:
    old = {"action": "request_changes", "reason_codes": [], "note": "x", "decided_at": "t", "version": 1}
    event = release_event(EventType.RELEASE_ACCEPTED, _record(Status.PENDING_REVIEW, 2, decision=old))
    assert event.data["decision"] is None


def test_the_same_change_always_has_the_same_webhook_id_and_another_change_another() -> None:
    record = _record(Status.APPROVED)
    first = release_event(EventType.RELEASE_APPROVED, record)
    assert first.id == release_event(EventType.RELEASE_APPROVED, replace(record)).id
    assert first.id.startswith("msg_")
    later = replace(record, updated_at=T0 + timedelta(seconds=1))
    assert release_event(EventType.RELEASE_APPROVED, later).id != first.id
    assert release_event(EventType.RELEASE_PUBLISHED, record).id != first.id


def test_media_events_are_subscribable_and_built_for_the_media_issue() -> None:
    assert {"media.ready", "media.rejected"} <= {e.value for e in EventType}
    ready = media_event("m1", ready=True, at=T0)
    rejected = media_event("m1", ready=False, at=T0, reason="not_an_image")
    assert (ready.type, ready.data["status"]) == ("media.ready", "ready")
    assert (rejected.type, rejected.data["reason"]) == ("media.rejected", "not_an_image")
    assert ready.id != rejected.id


def test_only_the_four_decisions_that_matter_to_a_contact_are_mailed() -> None:
    assert {e.value for e in MAILED} == {
        "release.changes_requested",
        "release.rejected",
        "release.published",
        "release.killed",
    }


def test_a_test_event_is_its_own_type_with_a_fresh_id_each_time() -> None:
    one, two = ping_event("wh_1", at=T0, nonce="a"), ping_event("wh_1", at=T0, nonce="b")
    assert one.type == "webhook.test"
    assert one.type not in {e.value for e in EventType}  # nothing to subscribe to
    assert one.id != two.id


def test_a_refused_correction_is_announced_as_rejected_not_as_corrected() -> None:
    # Given a published release (version 1) with a correction (version 2) under review
    review = _record(Status.CORRECTION_REVIEW, 2, published_at=T0)
    # When the moderator refuses it, version 1 stays public
    refused = _record(Status.PUBLISHED, 2, published_at=T0, updated_at=T0 + timedelta(minutes=5))
    # Then the submitter hears "rejected" (and is mailed, with the reasons), never "corrected"
    assert events_for(review, refused) == (EventType.RELEASE_REJECTED,)
    assert EventType.RELEASE_REJECTED in MAILED
