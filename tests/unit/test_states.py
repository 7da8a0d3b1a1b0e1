"""The release state machine (DESIGN.md, "Release states"), checked over every (action, status)."""

from __future__ import annotations

import itertools

import pytest

from functions.domain.states import (
    INITIAL,
    TERMINAL,
    TRANSITIONS,
    Action,
    Status,
    can,
    next_status,
    refusal,
    transition_for,
)

S = Status
BEFORE_PUBLICATION = {S.PENDING_REVIEW, S.CHANGES_REQUESTED, S.APPROVED, S.SCHEDULED}

# Written from DESIGN.md's diagram, independently of the module: action -> (from, to).
EXPECTED: dict[Action, tuple[set[Status], Status]] = {
    Action.REVISE: ({S.PENDING_REVIEW, S.CHANGES_REQUESTED}, S.PENDING_REVIEW),
    Action.APPROVE: ({S.PENDING_REVIEW}, S.APPROVED),
    Action.REJECT: ({S.PENDING_REVIEW}, S.REJECTED),
    Action.REQUEST_CHANGES: ({S.PENDING_REVIEW}, S.CHANGES_REQUESTED),
    Action.SCHEDULE: ({S.APPROVED}, S.SCHEDULED),
    Action.PUBLISH: ({S.APPROVED, S.SCHEDULED}, S.PUBLISHED),
    Action.WITHDRAW: (BEFORE_PUBLICATION, S.WITHDRAWN),
    Action.KILL: ({S.PUBLISHED}, S.KILLED),
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


def test_published_can_only_be_killed() -> None:
    assert [action for action in TRANSITIONS if can(action, S.PUBLISHED)] == [Action.KILL]


def test_only_revision_bumps_the_version() -> None:
    assert [a for a in TRANSITIONS if transition_for(a).bumps_version] == [Action.REVISE]


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
