"""Moderation decisions (functions/domain/moderation.py) with in-memory fakes."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from functions.domain.intake import IntakeService
from functions.domain.models import ReleaseSubmission
from functions.domain.moderation import (
    REASON_CODES,
    Decision,
    DecisionAction,
    InvalidDecision,
    ModerationService,
    Outcome,
    parse_reasons,
)
from functions.domain.outbox import sweep
from functions.domain.records import Caller, OutboxTarget
from tests.fakes import Clock, MemoryPublishQueue, MemoryQueue, MemoryStates, MemoryStore
from tests.helpers import personnel_release

NOW = datetime(2026, 11, 28, 9, 0, tzinfo=UTC)
ACME = Caller(org_id="org-acme", org_name="Acme")


def _release() -> object:
    from pydantic import TypeAdapter

    return TypeAdapter(ReleaseSubmission).validate_python(personnel_release())


@pytest.fixture
def desk() -> tuple[MemoryStates, MemoryPublishQueue, ModerationService, IntakeService]:
    states, publish, clock = MemoryStates(), MemoryPublishQueue(), Clock(NOW)
    intake = IntakeService(store=MemoryStore(), states=states, queue=MemoryQueue(), clock=clock)
    intake.submit(ACME, _release(), release_id="rel-1")  # type: ignore[arg-type]
    return states, publish, ModerationService(states=states, publish=publish, clock=clock), intake


def approve(moderator: str = "alice") -> Decision:
    return Decision(DecisionAction.APPROVE, moderator=moderator)


@pytest.mark.parametrize(
    ("action", "reasons", "note", "message"),
    [
        (DecisionAction.REJECT, (), None, "at least one reason code"),
        (DecisionAction.REJECT, ("boring",), None, "unknown reason code"),
        (DecisionAction.REJECT, ("duplicate", "duplicate"), None, "twice"),
        (DecisionAction.REJECT, ("other",), None, "reason 'other' needs a note"),
        (DecisionAction.REQUEST_CHANGES, (), None, "needs a note"),
        (DecisionAction.REQUEST_CHANGES, (), "   ", "needs a note"),
        (DecisionAction.APPROVE, (), "x" * 2001, "longer than"),
    ],
)
def test_invalid_decisions_are_refused(
    action: DecisionAction, reasons: tuple[str, ...], note: str | None, message: str
) -> None:
    with pytest.raises(InvalidDecision, match=message):
        Decision(action, moderator="alice", reason_codes=reasons, note=note)


def test_a_decision_needs_a_moderator() -> None:
    with pytest.raises(InvalidDecision, match="identity"):
        Decision(DecisionAction.APPROVE, moderator=" ")


def test_documented_reason_codes() -> None:
    assert set(REASON_CODES) == {
        "promotional_tone", "not_newsworthy", "missing_contact", "duplicate", "unverifiable",
        "formatting", "inappropriate", "wrong_category", "other",
    }  # fmt: skip
    assert parse_reasons(["a,b", " c ", ""]) == ("a", "b", "c")


def test_approve_records_the_decision_and_queues_publication(desk: tuple) -> None:  # type: ignore[type-arg]
    states, publish, service, _ = desk
    result = service.decide("rel-1", 1, approve())
    assert result.outcome is Outcome.DECIDED
    record = states.get("rel-1")
    assert record is not None
    assert record.status == "approved"
    assert record.outbox is None  # sent, mark cleared
    assert record.decision is not None
    assert (record.decision["action"], record.decision["moderator"], record.decision["version"]) == (
        "approve",
        "alice",
        1,
    )
    assert publish.messages == [{"release_id": "rel-1", "version": 1, "action": "publish"}]


@pytest.mark.parametrize(
    ("decision", "status"),
    [
        (Decision(DecisionAction.REJECT, moderator="a", reason_codes=("duplicate",)), "rejected"),
        (Decision(DecisionAction.REQUEST_CHANGES, moderator="a", note="Add a quote."), "changes_requested"),
    ],
)
def test_reject_and_request_changes_publish_nothing(desk: tuple, decision: Decision, status: str) -> None:  # type: ignore[type-arg]
    states, publish, service, _ = desk
    assert service.decide("rel-1", 1, decision).outcome is Outcome.DECIDED
    record = states.get("rel-1")
    assert record is not None
    assert record.status == status
    assert publish.messages == []


def test_the_second_decision_on_the_same_version_is_refused(desk: tuple) -> None:  # type: ignore[type-arg]
    states, publish, service, _ = desk
    assert service.decide("rel-1", 1, approve("alice")).outcome is Outcome.DECIDED
    late = service.decide(
        "rel-1", 1, Decision(DecisionAction.REJECT, moderator="bob", reason_codes=("other",), note="x")
    )
    assert late.outcome is Outcome.ALREADY_DECIDED
    record = states.get("rel-1")
    assert record is not None
    assert record.decision is not None
    assert record.decision["moderator"] == "alice"
    assert len(publish.messages) == 1


def test_a_conditional_write_lost_to_another_moderator_is_reported(desk: tuple) -> None:  # type: ignore[type-arg]
    states, publish, service, _ = desk
    # Given bob's decision lands between alice's read and her write
    original_get = states.get
    calls = {"n": 0}

    def get_then_race(release_id: str):  # type: ignore[no-untyped-def]
        record = original_get(release_id)
        calls["n"] += 1
        if calls["n"] == 1:
            states.items[release_id] = replace(states.items[release_id], status="rejected")
        return record

    states.get = get_then_race  # type: ignore[method-assign]
    result = service.decide("rel-1", 1, approve())
    assert result.outcome is Outcome.ALREADY_DECIDED
    assert publish.messages == []


def test_stale_withdrawn_and_unknown_items_are_not_decided(desk: tuple) -> None:  # type: ignore[type-arg]
    _states, _, service, intake = desk
    intake.revise(ACME, "rel-1", _release(), expected_version=None)  # type: ignore[arg-type]
    assert service.decide("rel-1", 1, approve()).outcome is Outcome.STALE
    intake.withdraw(ACME, "rel-1")
    assert service.decide("rel-1", 2, approve()).outcome is Outcome.WITHDRAWN
    assert service.decide("nope", 1, approve()).outcome is Outcome.UNKNOWN


def test_publish_failure_after_approval_is_left_to_the_outbox(desk: tuple) -> None:  # type: ignore[type-arg]
    states, publish, service, _ = desk
    publish.fail_next = 1
    result = service.decide("rel-1", 1, approve())
    assert result.outcome is Outcome.PUBLISH_DEFERRED
    assert not result.done_with_message  # the moderation message stays until it is safe
    record = states.get("rel-1")
    assert record is not None
    assert (record.status, record.outbox) == ("approved", OutboxTarget.PUBLISH)
    sent = sweep(
        states,
        moderation=MemoryQueue(),
        publish=publish,
        now=NOW + timedelta(minutes=5),
        grace=timedelta(minutes=1),
    )
    assert [(e.release_id, e.target) for e in sent] == [("rel-1", OutboxTarget.PUBLISH)]
    assert publish.messages == [{"release_id": "rel-1", "version": 1, "action": "publish"}]
