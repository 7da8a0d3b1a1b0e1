"""The intake service (functions/domain/intake.py) against the in-memory fakes of its ports."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from pydantic import TypeAdapter

from functions.domain import intake
from functions.domain import prescreen as prescreen_module
from functions.domain.errors import (
    IdempotencyConflict,
    ReleaseNotFound,
    StateConflict,
    ValidationFailed,
)
from functions.domain.intake import IntakeService
from functions.domain.models import AnyRelease, ReleaseSubmission
from functions.domain.outbox import sweep
from functions.domain.prescreen import content_digest
from functions.domain.records import Caller, OutboxTarget, ReleaseRecord, is_release_id, payload_hash
from functions.domain.sanitise import plain_words
from functions.domain.states import TRANSITIONS
from tests.fakes import Clock, MemoryPublishQueue, MemoryQueue, MemoryStates, MemoryStore
from tests.helpers import BODY_TEXT, personnel_release

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
ACME = Caller(org_id="org-acme", org_name="Acme Corporation", key_id="key-1")
OTHER = Caller(org_id="org-other", org_name="Other Org", key_id="key-2")
SUBMISSION = TypeAdapter(ReleaseSubmission)


def submission(**overrides: Any) -> AnyRelease:
    return SUBMISSION.validate_python(personnel_release(**overrides))


@dataclass
class World:
    store: MemoryStore
    states: MemoryStates
    queue: MemoryQueue
    clock: Clock
    service: IntakeService

    def sweep(self, *, now: datetime, grace: timedelta) -> list[Any]:
        """The outbox sweep, sending through this world's moderation queue."""
        return sweep(self.states, moderation=self.queue, publish=MemoryPublishQueue(), now=now, grace=grace)

    def submit(self, release_id: str = "rel-1", caller: Caller = ACME, **overrides: Any) -> ReleaseRecord:
        return self.service.submit(caller, submission(**overrides), release_id=release_id)

    def decide(self, release_id: str, to_status: str, *, from_status: str = "pending_review") -> None:
        """A moderator's (or the publisher's) conditional write, as the other functions do it:
        the action leading from ``from_status`` to ``to_status``."""
        current = self.states.get(release_id)
        assert current is not None
        assert current.status == from_status
        action = next(a for a, t in TRANSITIONS.items() if t.target == to_status and from_status in t.sources)
        self.states.transition(
            release_id,
            action,
            org_id=current.org_id,
            expected_version=current.version,
            actor="moderator:test",
            now=self.clock(),
        )


@pytest.fixture
def world() -> World:
    store, states, queue, clock = MemoryStore(), MemoryStates(), MemoryQueue(), Clock(NOW)
    return World(
        store, states, queue, clock, IntakeService(store=store, states=states, queue=queue, clock=clock)
    )


def field_errors(caught: pytest.ExceptionInfo[ValidationFailed]) -> list[tuple[str, str]]:
    return [(e.field, e.code) for e in caught.value.errors]


# -- submit ----------------------------------------------------------------------------------


def test_submit_stores_version_one_and_queues_it(world: World) -> None:
    # Given a Markdown release
    body = "## Appointment\n\n" + BODY_TEXT + ' <script>alert("x")</script>'
    # When Acme submits it
    record = world.submit(body=body, body_format="markdown")
    # Then the state item is pending review at version 1, with nothing left in the outbox
    stored = world.states.get("rel-1")
    assert stored is not None
    assert (stored.status, stored.version, stored.org_id) == ("pending_review", 1, "org-acme")
    assert stored.outbox is None
    assert record.outbox is None
    assert stored.created_at == stored.updated_at == NOW
    # And the version document holds the sanitised body as HTML, remembering what was sent
    document = world.store.get_document(stored.object_key)
    assert document["release_id"] == "rel-1"
    assert document["version"] == 1
    assert document["org_id"] == "org-acme"
    assert document["submitted_by"] == "org:org-acme/key:key-1"
    assert document["submitted_format"] == "markdown"
    assert document["content"]["body_format"] == "html"
    assert document["content"]["body"].startswith("<h2>Appointment</h2>\n<p>Acme Corporation today announced")
    assert "<script" not in document["content"]["body"]
    assert document["content"]["headline"] == "Acme names Jane Doe chief financial officer"
    assert document["content_digest"] == stored.content_digest
    # And exactly one claim-check message went to moderation
    assert world.queue.messages == [
        {"release_id": "rel-1", "version": 1, "org_id": "org-acme", "category": "personnel"}
    ]


def test_submit_records_prescreen_flags(world: World) -> None:
    record = world.submit(
        headline="AMAZING NEWS: ACME NAMES A NEW CFO",
        contact={"name": "Press", "email": "press@acme.example"},
    )
    assert [f.code for f in record.prescreen] == ["all_caps_headline", "hype_words", "missing_phone"]
    document = world.store.get_document(record.object_key)
    assert [f["code"] for f in document["prescreen"]] == ["all_caps_headline", "hype_words", "missing_phone"]


def test_queue_failure_is_not_a_submit_failure_and_the_sweep_sends_it_once(world: World) -> None:
    # Given the moderation queue fails once
    world.queue.fail_next = 1
    # When Acme submits
    record = world.submit()
    # Then the release is stored, pending review, and still marked for moderation
    assert record.status == "pending_review"
    assert record.outbox == OutboxTarget.MODERATION
    stored = world.states.get("rel-1")
    assert stored is not None
    assert stored.outbox == OutboxTarget.MODERATION
    assert world.queue.messages == []
    grace = timedelta(minutes=2)
    # And a sweep within the grace period leaves it alone (the request may still be running)
    assert world.sweep(now=NOW + timedelta(minutes=1), grace=grace) == []
    assert world.queue.messages == []
    # When the sweep runs after the grace period
    sent = world.sweep(now=NOW + timedelta(minutes=3), grace=grace)
    # Then it sends the message once and clears the mark
    assert [(e.release_id, e.version) for e in sent] == [("rel-1", 1)]
    assert world.queue.messages == [
        {"release_id": "rel-1", "version": 1, "org_id": "org-acme", "category": "personnel"}
    ]
    stored = world.states.get("rel-1")
    assert stored is not None
    assert stored.outbox is None
    # And a later sweep sends nothing more
    assert world.sweep(now=NOW + timedelta(hours=1), grace=grace) == []
    assert len(world.queue.messages) == 1


def test_sweep_failure_keeps_the_mark_for_the_next_sweep(world: World) -> None:
    # Given a release whose message was not sent, and a queue that fails once more
    world.queue.fail_next = 1
    world.submit()
    world.queue.fail_next = 1
    later = NOW + timedelta(minutes=10)
    # When the sweep fails
    with pytest.raises(ConnectionError):
        world.sweep(now=later, grace=timedelta(minutes=2))
    # Then the next sweep still sends it
    sent = world.sweep(now=later, grace=timedelta(minutes=2))
    assert [e.release_id for e in sent] == ["rel-1"]
    assert len(world.queue.messages) == 1


@pytest.mark.parametrize(
    ("release_at", "code"),
    [
        pytest.param(NOW - timedelta(minutes=6), "in_past", id="past-beyond-grace"),
        pytest.param(NOW - timedelta(days=1), "in_past", id="yesterday"),
        pytest.param(NOW + timedelta(days=367), "too_far", id="over-a-year-ahead"),
    ],
)
def test_release_at_out_of_range_is_refused(world: World, release_at: datetime, code: str) -> None:
    # When a release is submitted with a release time out of range
    with pytest.raises(ValidationFailed) as caught:
        world.submit(release_at=release_at.isoformat())
    # Then release_at is named, and nothing is stored or queued
    assert field_errors(caught) == [("release_at", code)]
    assert world.states.items == {}
    assert world.store.objects == {}
    assert world.queue.messages == []


@pytest.mark.parametrize(
    "release_at",
    [
        pytest.param(NOW - timedelta(minutes=4), id="just-now-within-grace"),
        pytest.param(NOW + timedelta(hours=1), id="soon"),
        pytest.param(NOW + timedelta(days=365), id="a-year-ahead"),
    ],
)
def test_release_at_in_range_is_accepted(world: World, release_at: datetime) -> None:
    record = world.submit(release_at=release_at.isoformat())
    assert record.release_at == release_at


def test_release_at_compares_instants_not_wall_clocks(world: World) -> None:
    # 09:00 in New York (UTC-4 in June) is 13:00 UTC: an hour after NOW, not three hours before
    record = world.submit(release_at="2026-06-01T09:00:00-04:00")
    assert record.release_at == NOW + timedelta(hours=1)


def test_body_over_limit_after_sanitising_is_refused(world: World) -> None:
    # Given a text body whose HTML is over 50,000 characters
    with pytest.raises(ValidationFailed) as caught:
        world.submit(body="word " * 10_000)
    # Then the body is named
    assert field_errors(caught) == [("body", "too_long")]
    assert world.states.items == {}


def test_body_limit_applies_to_the_sanitised_body(world: World) -> None:
    # Given an HTML body over the limit only because of markup that sanitising removes
    body = "<p>" + BODY_TEXT + "</p>" + "<script>x</script>" * 5_000
    # When it is submitted, Then it is accepted with the markup gone
    record = world.submit(body=body, body_format="html")
    assert world.store.get_document(record.object_key)["content"]["body"] == f"<p>{BODY_TEXT}</p>"


def test_body_with_nothing_left_after_sanitising_is_refused(world: World) -> None:
    with pytest.raises(ValidationFailed) as caught:
        world.submit(body="<script>alert(1)</script>", body_format="html")
    assert field_errors(caught) == [("body", "empty")]


def test_same_content_again_from_the_same_org_is_flagged(world: World) -> None:
    # Given Acme submitted a release
    world.submit("rel-1")
    # When it submits the same words again, with other markup and case
    again = world.submit(
        "rel-2", body=BODY_TEXT.upper().replace("ACME", "**Acme**", 1), body_format="markdown"
    )
    # Then the second one is flagged as a duplicate of the first
    (flag,) = [f for f in again.prescreen if f.code == "duplicate_content"]
    assert "rel-1" in flag.message


def test_same_content_from_another_org_is_not_a_duplicate(world: World) -> None:
    world.submit("rel-1")
    other = world.submit("rel-2", caller=OTHER)
    assert all(f.code != "duplicate_content" for f in other.prescreen)


def test_different_content_is_not_a_duplicate(world: World) -> None:
    world.submit("rel-1")
    other = world.submit("rel-2", body=BODY_TEXT + " Doe will speak at the annual meeting.")
    assert all(f.code != "duplicate_content" for f in other.prescreen)


# -- retries ---------------------------------------------------------------------------------


def test_same_release_id_and_payload_twice_is_one_release(world: World) -> None:
    # Given a submission that succeeded
    first = world.submit("rel-1")
    # When the client retries it (same Idempotency-Key, so same release id) a little later
    world.clock.now = NOW + timedelta(seconds=30)
    second = world.submit("rel-1")
    # Then it gets the same release back, and nothing is stored or sent twice
    assert (second.release_id, second.version, second.created_at) == ("rel-1", 1, first.created_at)
    assert all(f.code != "duplicate_content" for f in second.prescreen)
    assert len(world.states.items) == 1
    assert len(world.store.objects) == 1
    assert len(world.queue.messages) == 1


def test_retry_after_a_failed_send_sends_it(world: World) -> None:
    # Given a submission whose queue send failed
    world.queue.fail_next = 1
    world.submit("rel-1")
    # When the client retries
    record = world.submit("rel-1")
    # Then the message is sent now and the mark cleared
    assert record.outbox is None
    assert len(world.queue.messages) == 1
    assert world.sweep(now=NOW + timedelta(hours=1), grace=timedelta(0)) == []


def test_retry_after_the_object_was_stored_but_not_the_state(world: World) -> None:
    # Given an attempt that stored the version object and then died
    world.service.submit(ACME, submission(), release_id="rel-1")
    world.states.items.clear()
    world.queue.messages.clear()
    # When the client retries
    record = world.submit("rel-1")
    # Then the release is recorded against the stored object and queued
    assert record.object_key in world.store.objects
    assert world.states.get("rel-1") is not None
    assert len(world.queue.messages) == 1


def test_a_release_sent_without_a_key_gets_an_id_of_its_own_and_no_payload_hash(world: World) -> None:
    # Given the same release sent twice without an Idempotency-Key (no release id from the client)
    first = world.service.submit(ACME, submission(), release_id=None)
    second = world.service.submit(ACME, submission(), release_id=None)
    # Then they are two releases, each with a new id, the second flagged as the first's duplicate
    assert first.release_id != second.release_id
    assert all(is_release_id(r.release_id) for r in (first, second))
    assert [f.code for f in second.prescreen if f.code == "duplicate_content"] == ["duplicate_content"]
    # And no payload hash is kept for them, in the state or with the version, as no retry names them
    assert world.states.get(first.release_id).payload_hash == ""  # type: ignore[union-attr]
    assert {hashed for _, hashed in world.store.objects.values()} == {""}


def test_a_keyed_release_keeps_the_hash_of_its_payload(world: World) -> None:
    record = world.submit("rel-1")
    expected = payload_hash(submission().model_dump(mode="json"))
    assert record.payload_hash == expected
    assert [hashed for _, hashed in world.store.objects.values()] == [expected]


def test_same_release_id_with_another_payload_is_a_conflict(world: World) -> None:
    world.submit("rel-1")
    with pytest.raises(IdempotencyConflict):
        world.submit("rel-1", headline="A different headline for the same key")
    stored = world.states.get("rel-1")
    assert stored is not None
    assert stored.headline == "Acme names Jane Doe chief financial officer"
    assert len(world.queue.messages) == 1


# -- revise ----------------------------------------------------------------------------------


def test_revise_bumps_the_version_and_requeues(world: World) -> None:
    # Given a release sent back for changes
    world.submit("rel-1")
    world.decide("rel-1", "changes_requested")
    world.clock.now = NOW + timedelta(hours=2)
    # When Acme revises it
    revised = world.service.revise(
        ACME, "rel-1", submission(headline="Acme appoints Jane Doe as its CFO"), expected_version=1
    )
    # Then it is version 2, back in review, with a new document, and queued again
    assert (revised.status, revised.version) == ("pending_review", 2)
    stored = world.states.get("rel-1")
    assert stored is not None
    assert (stored.status, stored.version, stored.headline) == (
        "pending_review",
        2,
        "Acme appoints Jane Doe as its CFO",
    )
    assert stored.created_at == NOW
    assert stored.updated_at == NOW + timedelta(hours=2)
    assert stored.outbox is None
    document = world.store.get_document(stored.object_key)
    assert document["version"] == 2
    assert document["content"]["headline"] == "Acme appoints Jane Doe as its CFO"
    assert [m["version"] for m in world.queue.messages] == [1, 2]


def test_revise_while_pending_review_is_allowed(world: World) -> None:
    world.submit("rel-1")
    revised = world.service.revise(ACME, "rel-1", submission(summary="A new summary."), expected_version=None)
    assert revised.version == 2
    assert len(world.store.objects) == 2


def test_revising_unchanged_content_is_not_a_duplicate_of_itself(world: World) -> None:
    world.submit("rel-1")
    revised = world.service.revise(ACME, "rel-1", submission(), expected_version=1)
    assert all(f.code != "duplicate_content" for f in revised.prescreen)


@pytest.mark.parametrize(
    ("path", "status"),
    [
        (["approved"], "approved"),
        (["approved", "scheduled"], "scheduled"),
        (["rejected"], "rejected"),
        (["withdrawn"], "withdrawn"),
    ],
)
def test_revise_refused_outside_review(world: World, path: list[str], status: str) -> None:
    # Given a release that has left review
    world.submit("rel-1")
    previous = "pending_review"
    for step in path:
        world.decide("rel-1", step, from_status=previous)
        previous = step
    # When Acme tries to revise it
    with pytest.raises(StateConflict) as caught:
        world.service.revise(ACME, "rel-1", submission(), expected_version=1)
    # Then it is refused, saying why, and nothing changes
    assert caught.value.status == status
    assert f"The release is {status};" in caught.value.detail
    assert world.states.items["rel-1"].version == 1
    assert len(world.store.objects) == 1
    assert len(world.queue.messages) == 1


def test_revise_with_a_stale_version_is_refused(world: World) -> None:
    # Given a release already revised to version 2
    world.submit("rel-1")
    world.service.revise(ACME, "rel-1", submission(summary="Second."), expected_version=1)
    # When a client that last saw version 1 revises it
    with pytest.raises(StateConflict) as caught:
        world.service.revise(ACME, "rel-1", submission(summary="Third."), expected_version=1)
    # Then it is told the current version
    assert caught.value.version == 2
    assert "version 2, not 1" in caught.value.detail
    assert world.states.items["rel-1"].version == 2


def test_revise_checks_the_new_content(world: World) -> None:
    world.submit("rel-1")
    with pytest.raises(ValidationFailed) as caught:
        world.service.revise(
            ACME, "rel-1", submission(release_at=(NOW - timedelta(days=1)).isoformat()), expected_version=1
        )
    assert field_errors(caught) == [("release_at", "in_past")]
    assert world.states.items["rel-1"].version == 1


def test_revise_queue_failure_is_swept(world: World) -> None:
    world.submit("rel-1")
    world.queue.fail_next = 1
    revised = world.service.revise(ACME, "rel-1", submission(summary="Second."), expected_version=1)
    assert revised.outbox == OutboxTarget.MODERATION
    sent = world.sweep(now=NOW + timedelta(minutes=5), grace=timedelta(minutes=1))
    assert [(e.release_id, e.version) for e in sent] == [("rel-1", 2)]
    assert [m["version"] for m in world.queue.messages] == [1, 2]


# -- withdraw --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "path",
    [[], ["changes_requested"], ["approved"], ["approved", "scheduled"]],
)
def test_withdraw_before_publication(world: World, path: list[str]) -> None:
    world.submit("rel-1")
    previous = "pending_review"
    for step in path:
        world.decide("rel-1", step, from_status=previous)
        previous = step
    withdrawn = world.service.withdraw(ACME, "rel-1")
    assert withdrawn.status == "withdrawn"
    assert world.states.items["rel-1"].status == "withdrawn"


def test_withdraw_twice_is_fine(world: World) -> None:
    world.submit("rel-1")
    first = world.service.withdraw(ACME, "rel-1")
    second = world.service.withdraw(ACME, "rel-1")
    assert first.status == second.status == "withdrawn"
    assert [h["action"] for h in world.states.history["rel-1"]] == ["submit", "withdraw"]


@pytest.mark.parametrize(
    ("path", "status"),
    [(["approved", "published"], "published"), (["rejected"], "rejected")],
)
def test_withdraw_refused_after_publication_or_rejection(world: World, path: list[str], status: str) -> None:
    world.submit("rel-1")
    previous = "pending_review"
    for step in path:
        world.decide("rel-1", step, from_status=previous)
        previous = step
    with pytest.raises(StateConflict) as caught:
        world.service.withdraw(ACME, "rel-1")
    assert caught.value.status == status
    assert f"The release is {status};" in caught.value.detail
    assert world.states.items["rel-1"].status == status


# -- ownership -------------------------------------------------------------------------------


def test_another_orgs_release_is_not_found(world: World) -> None:
    # Given Acme's release
    world.submit("rel-1")
    # Then another organisation can neither see, revise nor withdraw it
    with pytest.raises(ReleaseNotFound):
        world.service.get(OTHER, "rel-1")
    with pytest.raises(ReleaseNotFound):
        world.service.revise(OTHER, "rel-1", submission(), expected_version=None)
    with pytest.raises(ReleaseNotFound):
        world.service.withdraw(OTHER, "rel-1")
    # And it is untouched
    stored = world.states.get("rel-1")
    assert stored is not None
    assert (stored.status, stored.version) == ("pending_review", 1)


def test_unknown_release_is_not_found(world: World) -> None:
    with pytest.raises(ReleaseNotFound) as caught:
        world.service.get(ACME, "rel-missing")
    assert caught.value.release_id == "rel-missing"


def test_get_returns_the_owners_release(world: World) -> None:
    world.submit("rel-1")
    record = world.service.get(ACME, "rel-1")
    assert (record.release_id, record.status, record.headline) == (
        "rel-1",
        "pending_review",
        "Acme names Jane Doe chief financial officer",
    )


# -- list ------------------------------------------------------------------------------------


def test_list_is_newest_first_and_paginates(world: World) -> None:
    # Given five of Acme's releases a minute apart, and one of another organisation's
    for i in range(5):
        world.clock.now = NOW + timedelta(minutes=i)
        world.submit(f"rel-{i}", body=f"{BODY_TEXT} Release {i}.")
    world.submit("rel-other", caller=OTHER)
    # When Acme lists them two at a time
    seen: list[str] = []
    cursor: dict[str, Any] | None = None
    pages = 0
    while True:
        items, cursor = world.service.list(ACME, status=None, limit=2, cursor=cursor)
        pages += 1
        seen += [r.release_id for r in items]
        if cursor is None:
            break
    # Then it sees its own releases, newest first, each once
    assert seen == ["rel-4", "rel-3", "rel-2", "rel-1", "rel-0"]
    assert pages == 3


def test_list_filters_by_status(world: World) -> None:
    for i in range(3):
        world.clock.now = NOW + timedelta(minutes=i)
        world.submit(f"rel-{i}", body=f"{BODY_TEXT} Release {i}.")
    world.service.withdraw(ACME, "rel-1")
    items, cursor = world.service.list(ACME, status="withdrawn", limit=10, cursor=None)
    assert [r.release_id for r in items] == ["rel-1"]
    assert cursor is None
    items, _ = world.service.list(ACME, status="pending_review", limit=10, cursor=None)
    assert [r.release_id for r in items] == ["rel-2", "rel-0"]


def test_submit_reads_the_body_text_once_for_digest_and_prescreen(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a count of the plain-text conversions of the sanitised body
    bodies: list[str] = []

    def counting(fragment: str) -> str:
        if fragment.startswith("<"):  # the body (the headline is converted too, for the digest)
            bodies.append(fragment)
        return plain_words(fragment)

    monkeypatch.setattr(intake, "plain_words", counting)
    monkeypatch.setattr(prescreen_module, "plain_words", counting)
    # When a release is submitted
    record = world.submit(body="## Appointment\n\n" + BODY_TEXT, body_format="markdown")
    # Then the body was converted once, and digest and flags are what they were
    assert len(bodies) == 1
    body_html = world.store.get_document(record.object_key)["content"]["body"]
    assert record.content_digest == content_digest(record.headline, body_html)
    assert record.prescreen == []


# -- corrections (a PUT of a published release) ---------------------------------------------------


def _published(world: World) -> ReleaseRecord:
    """rel-1 as the publisher leaves it: published, version 1 public."""
    world.submit("rel-1")
    world.decide("rel-1", "approved")
    world.decide("rel-1", "published", from_status="approved")
    record = world.states.items["rel-1"]
    record.public_version, record.published_at = 1, NOW
    return record


def test_a_correction_is_version_two_for_review_while_version_one_stays_public(world: World) -> None:
    _published(world)

    corrected = world.service.revise(
        ACME,
        "rel-1",
        submission(
            headline="Acme names Jane Doe chief financial officer (corrected)",
            correction_note="Fixes the date.",
        ),
        expected_version=1,
    )

    assert (corrected.status, corrected.version, corrected.public_version) == ("correction_review", 2, 1)
    assert corrected.correction_note == "Fixes the date."
    # The new version's document says what it corrects, apart from the content readers see
    document = world.store.get_document(corrected.object_key)
    assert document["correction"] == {"note": "Fixes the date.", "corrects_version": 1}
    assert "correction_note" not in document["content"]
    # And it goes to the moderators like any version
    assert world.queue.messages[-1] == {
        "release_id": "rel-1",
        "version": 2,
        "org_id": "org-acme",
        "category": "personnel",
    }


def test_a_correction_needs_a_note_keeps_the_category_and_the_release_time(world: World) -> None:
    record = _published(world)
    record.release_at = NOW - timedelta(days=1)  # long past: a correction does not move it

    with pytest.raises(ValidationFailed) as caught:
        world.service.revise(
            ACME,
            "rel-1",
            SUBMISSION.validate_python(
                {
                    **personnel_release(release_at=(NOW + timedelta(days=1)).isoformat()),
                    "category": "community",
                    "details": {},
                }
            ),
            expected_version=1,
        )

    assert sorted(field_errors(caught)) == [
        ("category", "immutable"),
        ("correction_note", "missing"),
        ("release_at", "immutable"),
    ]
    assert world.states.items["rel-1"].version == 1
    assert len(world.store.objects) == 1


def test_a_correction_without_a_release_time_keeps_the_published_one(world: World) -> None:
    record = _published(world)
    record.release_at = NOW - timedelta(days=1)

    corrected = world.service.revise(
        ACME, "rel-1", submission(correction_note="Fixes a typo."), expected_version=None
    )

    assert corrected.release_at == NOW - timedelta(days=1)  # not "in the past": it is the release's own
    stored = world.store.get_document(corrected.object_key)["content"]["release_at"]
    assert datetime.fromisoformat(stored) == NOW - timedelta(days=1)


def test_a_correction_note_is_refused_before_publication(world: World) -> None:
    with pytest.raises(ValidationFailed) as caught:
        world.submit("rel-1", correction_note="Nothing to correct yet.")
    assert field_errors(caught) == [("correction_note", "not_a_correction")]
    world.submit("rel-1")
    with pytest.raises(ValidationFailed) as caught:
        world.service.revise(ACME, "rel-1", submission(correction_note="Too early."), expected_version=1)
    assert field_errors(caught) == [("correction_note", "not_a_correction")]


def test_a_pending_correction_can_be_replaced_by_another(world: World) -> None:
    _published(world)
    world.service.revise(ACME, "rel-1", submission(correction_note="First try."), expected_version=1)

    again = world.service.revise(ACME, "rel-1", submission(correction_note="Second try."), expected_version=2)

    assert (again.status, again.version, again.public_version, again.correction_note) == (
        "correction_review",
        3,
        1,
        "Second try.",
    )


def test_a_release_takes_a_bounded_number_of_corrections(world: World) -> None:
    from functions.domain.records import MAX_CORRECTIONS, Correction

    record = _published(world)
    record.corrections = [Correction(n + 2, "x", NOW) for n in range(MAX_CORRECTIONS)]

    with pytest.raises(StateConflict, match=f"already corrected {MAX_CORRECTIONS} times"):
        world.service.revise(ACME, "rel-1", submission(correction_note="One more."), expected_version=None)


@pytest.mark.parametrize("status", ["approved", "scheduled", "rejected", "withdrawn"])
def test_a_put_refused_says_when_it_would_be_allowed(world: World, status: str) -> None:
    world.submit("rel-1")
    world.states.items["rel-1"].status = status  # type: ignore[assignment]
    with pytest.raises(StateConflict) as caught:
        world.service.revise(ACME, "rel-1", submission(), expected_version=None)
    assert caught.value.detail.startswith(f"The release is {status}; it can be revised only while")
    assert "corrected only while it is" in caught.value.detail


def test_the_payload_hash_is_the_sha256_of_the_canonical_json_it_always_was() -> None:
    # Retries compare it with the hash stored by an earlier attempt, possibly an older deployment:
    # sorted keys, no spaces, non-ASCII as is, anything else as str
    import hashlib
    import json

    from functions.domain.records import payload_hash

    payload = {"b": [1, {"z": "Zoë", "a": None}], "a": "ASCII", "when": datetime(2026, 12, 1, tzinfo=UTC)}
    canonical = json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
    assert payload_hash(payload) == hashlib.sha256(canonical.encode()).hexdigest()
    assert canonical.startswith('{"a":"ASCII","b":[1,{"a":null,"z":"Zoë"}]')
