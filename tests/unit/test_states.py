"""The release state machine (docs/architecture.md, "Release states"), checked over every
(action, status), and the code that production runs through it."""

from __future__ import annotations

import itertools
from typing import Any

import pytest

from functions.domain.states import (
    INITIAL,
    TERMINAL,
    TRANSITIONS,
    Action,
    Status,
    action_for,
    awaits_decision,
    can,
    has_pending_correction,
    next_status,
    put_refusal,
    refusal,
    transition_for,
)

S = Status
BEFORE_PUBLICATION = {S.PENDING_REVIEW, S.CHANGES_REQUESTED, S.APPROVED, S.SCHEDULED}
CORRECTING = {S.CORRECTION_REVIEW, S.CORRECTION_CHANGES_REQUESTED, S.CORRECTION_APPROVED}

# Written from the diagram (docs/architecture.md), independently of the module: action -> (from, to).
EXPECTED: dict[Action, tuple[set[Status], Status]] = {
    Action.REVISE: ({S.PENDING_REVIEW, S.CHANGES_REQUESTED}, S.PENDING_REVIEW),
    Action.APPROVE: ({S.PENDING_REVIEW}, S.APPROVED),
    Action.REJECT: ({S.PENDING_REVIEW}, S.REJECTED),
    Action.REQUEST_CHANGES: ({S.PENDING_REVIEW}, S.CHANGES_REQUESTED),
    Action.SCHEDULE: ({S.APPROVED}, S.SCHEDULED),
    Action.PUBLISH: ({S.APPROVED, S.SCHEDULED}, S.PUBLISHED),
    Action.WITHDRAW: (BEFORE_PUBLICATION, S.WITHDRAWN),
    Action.KILL: ({S.PUBLISHED} | CORRECTING, S.KILLED),
    # corrections: version n stays public while version n+1 is reviewed
    Action.CORRECT: ({S.PUBLISHED, S.CORRECTION_REVIEW, S.CORRECTION_CHANGES_REQUESTED}, S.CORRECTION_REVIEW),
    Action.APPROVE_CORRECTION: ({S.CORRECTION_REVIEW}, S.CORRECTION_APPROVED),
    Action.REJECT_CORRECTION: ({S.CORRECTION_REVIEW}, S.PUBLISHED),
    Action.REQUEST_CORRECTION_CHANGES: ({S.CORRECTION_REVIEW}, S.CORRECTION_CHANGES_REQUESTED),
    Action.PUBLISH_CORRECTION: ({S.CORRECTION_APPROVED}, S.PUBLISHED),
}

PAIRS = [
    pytest.param(action, status, status in EXPECTED[action][0], id=f"{action.value}-from-{status.value}")
    for action, status in itertools.product(EXPECTED, Status)
]


def test_every_transition_is_accounted_for() -> None:
    # Submit creates a release (in the initial status); every other action is a transition.
    assert set(TRANSITIONS) == set(EXPECTED)
    assert set(Action) - set(TRANSITIONS) == {Action.SUBMIT}
    assert INITIAL is S.PENDING_REVIEW


@pytest.mark.parametrize(("action", "status", "allowed"), PAIRS)
def test_can(action: Action, status: Status, allowed: bool) -> None:
    assert can(action, status) is allowed
    assert can(action, status.value) is allowed  # as stored: a plain string


@pytest.mark.parametrize(("action", "status", "allowed"), PAIRS)
def test_next_status(action: Action, status: Status, allowed: bool) -> None:
    if allowed:
        assert next_status(action, status) is EXPECTED[action][1]
    else:
        with pytest.raises(ValueError, match=f"cannot {action.value} a release that is {status.value}"):
            next_status(action, status)


@pytest.mark.parametrize(("action", "status", "allowed"), [p for p in PAIRS if not p.values[2]])
def test_refusal_names_the_current_status_and_the_allowed_ones(
    action: Action, status: Status, allowed: bool
) -> None:
    # Given an action refused in a status
    sentence = refusal(action, status)
    # Then the submitter reads which status the release is in, and when it would be allowed
    assert sentence.startswith(f"The release is {status.value};")
    for source in EXPECTED[action][0]:
        assert source.value in sentence


def test_refusal_wording() -> None:
    assert refusal(Action.REVISE, "approved") == (
        "The release is approved; it can be revised only while it is changes_requested, pending_review."
    )
    assert refusal(Action.WITHDRAW, S.PUBLISHED) == (
        "The release is published; it can be withdrawn only while it is "
        "approved, changes_requested, pending_review, scheduled."
    )


@pytest.mark.parametrize("status", sorted(TERMINAL))
def test_terminal_states_accept_nothing(status: Status) -> None:
    assert [action for action in TRANSITIONS if can(action, status)] == []


def test_terminal_states_are_rejected_withdrawn_killed() -> None:
    assert {S.REJECTED, S.WITHDRAWN, S.KILLED} == TERMINAL


def test_published_can_only_be_killed_or_corrected() -> None:
    assert {action for action in TRANSITIONS if can(action, S.PUBLISHED)} == {Action.KILL, Action.CORRECT}


def test_only_revisions_and_corrections_bump_the_version() -> None:
    assert {a for a in TRANSITIONS if transition_for(a).bumps_version} == {Action.REVISE, Action.CORRECT}


@pytest.mark.parametrize(
    ("request_", "status", "expected"),
    [
        (Action.APPROVE, S.PENDING_REVIEW, Action.APPROVE),
        (Action.APPROVE, S.CORRECTION_REVIEW, Action.APPROVE_CORRECTION),
        (Action.REJECT, S.CORRECTION_REVIEW, Action.REJECT_CORRECTION),
        (Action.REQUEST_CHANGES, S.CORRECTION_REVIEW, Action.REQUEST_CORRECTION_CHANGES),
        (Action.PUBLISH, S.APPROVED, Action.PUBLISH),
        (Action.PUBLISH, S.SCHEDULED, Action.PUBLISH),
        (Action.PUBLISH, S.CORRECTION_APPROVED, Action.PUBLISH_CORRECTION),
        (Action.REVISE, S.CHANGES_REQUESTED, Action.REVISE),
        (Action.REVISE, S.PUBLISHED, Action.CORRECT),
        (Action.REVISE, S.CORRECTION_CHANGES_REQUESTED, Action.CORRECT),
        # nothing fits: the request itself, which the status refuses
        (Action.REVISE, S.APPROVED, Action.REVISE),
        (Action.APPROVE, S.CORRECTION_APPROVED, Action.APPROVE),
    ],
)
def test_one_request_is_the_action_its_release_awaits(
    request_: Action, status: Status, expected: Action
) -> None:
    assert action_for(request_, status) is expected


def test_moderators_decide_releases_and_corrections_under_review_only() -> None:
    assert {status for status in Status if awaits_decision(status)} == {S.PENDING_REVIEW, S.CORRECTION_REVIEW}


def test_a_pending_correction_is_a_published_release_with_a_newer_version() -> None:
    assert {status for status in Status if has_pending_correction(status)} == CORRECTING


def test_put_refusal_says_when_a_release_can_be_revised_or_corrected() -> None:
    assert put_refusal(S.APPROVED) == (
        "The release is approved; it can be revised only while it is changes_requested, pending_review, "
        "and corrected only while it is correction_changes_requested, correction_review, published."
    )


def test_every_status_is_reachable_from_the_initial_one() -> None:
    reached = {INITIAL}
    frontier = [INITIAL]
    while frontier:
        status = frontier.pop()
        for action in TRANSITIONS:
            if can(action, status) and (target := next_status(action, status)) not in reached:
                reached.add(target)
                frontier.append(target)
    assert reached == set(Status)


def test_unknown_status_is_an_error() -> None:
    with pytest.raises(ValueError, match="'draft' is not a valid Status"):
        can(Action.APPROVE, "draft")


# -- the code production runs decides through the state machine ---------------------------------


PUBLIC_STATUSES = {S.PUBLISHED} | CORRECTING


class _Desk:
    """The services over the in-memory fakes, with one release forced into a status (a public
    one as publication leaves it: version 1 public; a correction's with version 2 pending)."""

    def __init__(self, status: Status) -> None:
        from dataclasses import replace
        from datetime import UTC, datetime

        from pydantic import TypeAdapter

        from functions.domain.intake import IntakeService
        from functions.domain.models import ReleaseSubmission
        from functions.domain.moderation import ModerationService
        from functions.domain.publish.service import PublicationService
        from functions.domain.records import Caller
        from functions.domain.site import Site
        from tests.fakes import (
            Clock,
            MemoryCatalogs,
            MemoryPublishQueue,
            MemoryQueue,
            MemorySchedules,
            MemorySite,
            MemoryStates,
            MemoryStore,
        )
        from tests.helpers import personnel_release

        clock = Clock(datetime(2026, 11, 28, 9, 0, tzinfo=UTC))
        self.caller = Caller(org_id="org-acme", org_name="Acme")
        self.states, store = MemoryStates(), MemoryStore()
        self.intake = IntakeService(store=store, states=self.states, queue=MemoryQueue(), clock=clock)
        self.moderation = ModerationService(states=self.states, publish=MemoryPublishQueue(), clock=clock)
        self.publisher = PublicationService(
            states=self.states,
            store=store,
            site=MemorySite(),
            catalogs=MemoryCatalogs(),
            schedules=MemorySchedules(),
            queue=MemoryPublishQueue(),
            clock=clock,
            identity=Site(url="https://news.example.org/"),
        )
        self.submission = TypeAdapter(ReleaseSubmission).validate_python(personnel_release())
        self.correction = TypeAdapter(ReleaseSubmission).validate_python(
            personnel_release(correction_note="Corrects the effective date.")
        )
        record = self.intake.submit(self.caller, self.submission, release_id="rel-1")
        if status in PUBLIC_STATUSES:  # as publication leaves it: version 1 public
            published = replace(
                self.states.items["rel-1"], status=S.PUBLISHED, public_version=1, published_at=clock.now
            )
            self.states.items["rel-1"] = published
            if status is not S.PUBLISHED:  # and a correction on its way: version 2
                record = self.intake.revise(self.caller, "rel-1", self.correction, expected_version=1)
        self.states.items["rel-1"] = replace(self.states.items["rel-1"], status=status)
        self.version = record.version

    def status(self) -> Status:
        record = self.states.get("rel-1")
        assert record is not None
        return record.status


@pytest.mark.parametrize("status", list(Status))
def test_revising_is_allowed_exactly_where_the_state_machine_says(status: Status) -> None:
    from functions.domain.errors import StateConflict

    desk = _Desk(status)
    if can(Action.REVISE, status):
        revised = desk.intake.revise(desk.caller, "rel-1", desk.submission, expected_version=None)
        assert (revised.status, revised.version) == (S.PENDING_REVIEW, 2)
    elif can(Action.CORRECT, status):  # a PUT of a published release corrects it
        corrected = desk.intake.revise(desk.caller, "rel-1", desk.correction, expected_version=None)
        assert (corrected.status, corrected.version) == (S.CORRECTION_REVIEW, desk.version + 1)
        assert corrected.public_version == 1
    else:
        with pytest.raises(StateConflict, match=f"The release is {status.value};"):
            desk.intake.revise(desk.caller, "rel-1", desk.submission, expected_version=None)
        assert desk.status() is status


@pytest.mark.parametrize("status", list(Status))
def test_withdrawing_is_allowed_exactly_where_the_state_machine_says(status: Status) -> None:
    from functions.domain.errors import StateConflict

    desk = _Desk(status)
    if can(Action.WITHDRAW, status) or status is S.WITHDRAWN:
        assert desk.intake.withdraw(desk.caller, "rel-1").status is S.WITHDRAWN
    else:
        with pytest.raises(StateConflict):
            desk.intake.withdraw(desk.caller, "rel-1")
    expected = next_status(Action.WITHDRAW, status) if can(Action.WITHDRAW, status) else status
    assert desk.status() is expected


@pytest.mark.parametrize("status", list(Status))
def test_moderators_decide_exactly_where_the_state_machine_says(status: Status) -> None:
    from functions.domain.moderation import Decision, DecisionAction, Outcome

    desk = _Desk(status)
    result = desk.moderation.decide("rel-1", desk.version, Decision(DecisionAction.APPROVE, moderator="a"))
    if can(Action.APPROVE, status):
        assert (result.outcome, desk.status()) == (Outcome.DECIDED, S.APPROVED)
    elif can(Action.APPROVE_CORRECTION, status):
        assert (result.outcome, desk.status()) == (Outcome.DECIDED, S.CORRECTION_APPROVED)
    else:
        assert result.outcome in (Outcome.ALREADY_DECIDED, Outcome.WITHDRAWN)
        assert desk.status() is status


@pytest.mark.parametrize("status", list(Status))
def test_the_publisher_publishes_and_kills_exactly_where_the_state_machine_says(status: Status) -> None:
    from functions.domain.messages import PublishAction, PublishMessage
    from functions.domain.publish.service import Outcome

    desk = _Desk(status)
    published = desk.publisher.handle(PublishMessage(release_id="rel-1", version=desk.version))
    if can(Action.PUBLISH, status):
        assert (published.outcome, desk.status()) == (Outcome.PUBLISHED, S.PUBLISHED)
    elif can(Action.PUBLISH_CORRECTION, status):
        assert (published.outcome, desk.status()) == (Outcome.CORRECTED, S.PUBLISHED)
    else:
        expected = Outcome.ALREADY_PUBLISHED if status is S.PUBLISHED else Outcome.NOT_PUBLISHABLE
        assert (published.outcome, desk.status()) == (expected, status)

    desk = _Desk(status)
    kill = PublishMessage(release_id="rel-1", version=desk.version, action=PublishAction.KILL)
    killed = desk.publisher.handle(kill)
    if can(Action.KILL, status):
        assert (killed.outcome, desk.status()) == (Outcome.KILLED, S.KILLED)
    else:
        expected = Outcome.ALREADY_KILLED if status is S.KILLED else Outcome.NOT_KILLABLE
        assert (killed.outcome, desk.status()) == (expected, status)


class _RecordingDynamoDB:
    """Stands in for a boto3 DynamoDB client: records each update and answers it as applied."""

    def __init__(self) -> None:
        self.updates: list[dict[str, Any]] = []

    def update_item(self, **request: Any) -> dict[str, Any]:
        self.updates.append(request)
        return {"Attributes": {}}

    def put_item(self, **_: Any) -> dict[str, Any]:
        return {}


def _org_statuses(request: dict[str, Any]) -> set[str]:
    """The ``org_status`` values a transition's condition accepts."""
    values = request["ExpressionAttributeValues"]
    return {values[name]["S"] for name in values if name.startswith(":from")}


@pytest.mark.parametrize("action", [a for a in TRANSITIONS if not TRANSITIONS[a].bumps_version])
def test_the_dynamodb_write_is_conditioned_on_the_state_machines_sources(action: Action) -> None:
    from datetime import UTC, datetime

    from functions.adapters.dynamodb_state import DynamoStateRepository

    client = _RecordingDynamoDB()
    current = _Desk(S.PENDING_REVIEW).states.get("rel-1")
    assert current is not None
    DynamoStateRepository(client, "releases").transition(
        current.release_id,
        action,
        org_id="org-acme",
        expected_version=current.version,
        actor="test",
        now=datetime.now(UTC),
        current=current,
    )
    [request] = client.updates
    assert _org_statuses(request) == {f"org-acme#{source.value}" for source in EXPECTED[action][0]}
    assert request["ExpressionAttributeValues"][":status"] == {"S": EXPECTED[action][1].value}


def test_the_dynamodb_revision_is_conditioned_on_the_state_machines_sources() -> None:
    from dataclasses import replace

    from functions.adapters.dynamodb_state import DynamoStateRepository

    client = _RecordingDynamoDB()
    current = _Desk(S.PENDING_REVIEW).states.get("rel-1")
    assert current is not None
    revised = replace(current, version=2)
    DynamoStateRepository(client, "releases").revise(revised, expected_version=1, actor="test")
    [request] = client.updates
    values = request["ExpressionAttributeValues"]
    assert {values[n]["S"] for n in values if n.startswith(":from")} == {
        s.value for s in EXPECTED[Action.REVISE][0]
    }
