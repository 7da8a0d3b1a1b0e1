"""The release state machine (DESIGN.md, "Release states").

Every transition is applied as one conditional write on (status, version); this module says
which transitions exist, so that adapters can build the condition and the API can explain a 409.
"""

from __future__ import annotations

from enum import StrEnum
from typing import NamedTuple


class Status(StrEnum):
    PENDING_REVIEW = "pending_review"
    CHANGES_REQUESTED = "changes_requested"
    APPROVED = "approved"
    SCHEDULED = "scheduled"
    PUBLISHED = "published"
    REJECTED = "rejected"
    WITHDRAWN = "withdrawn"
    KILLED = "killed"


class Action(StrEnum):
    SUBMIT = "submit"
    REVISE = "revise"
    APPROVE = "approve"
    REJECT = "reject"
    REQUEST_CHANGES = "request_changes"
    SCHEDULE = "schedule"
    PUBLISH = "publish"
    WITHDRAW = "withdraw"
    KILL = "kill"


class Transition(NamedTuple):
    sources: frozenset[Status]
    target: Status
    bumps_version: bool = False


_BEFORE_PUBLICATION = frozenset(
    {Status.PENDING_REVIEW, Status.CHANGES_REQUESTED, Status.APPROVED, Status.SCHEDULED}
)

TRANSITIONS: dict[Action, Transition] = {
    Action.REVISE: Transition(
        frozenset({Status.PENDING_REVIEW, Status.CHANGES_REQUESTED}), Status.PENDING_REVIEW, True
    ),
    Action.APPROVE: Transition(frozenset({Status.PENDING_REVIEW}), Status.APPROVED),
    Action.REJECT: Transition(frozenset({Status.PENDING_REVIEW}), Status.REJECTED),
    Action.REQUEST_CHANGES: Transition(frozenset({Status.PENDING_REVIEW}), Status.CHANGES_REQUESTED),
    Action.SCHEDULE: Transition(frozenset({Status.APPROVED}), Status.SCHEDULED),
    Action.PUBLISH: Transition(frozenset({Status.APPROVED, Status.SCHEDULED}), Status.PUBLISHED),
    Action.WITHDRAW: Transition(_BEFORE_PUBLICATION, Status.WITHDRAWN),
    Action.KILL: Transition(frozenset({Status.PUBLISHED}), Status.KILLED),
}

TERMINAL = frozenset({Status.REJECTED, Status.WITHDRAWN, Status.KILLED})
INITIAL = Status.PENDING_REVIEW


def transition_for(action: Action) -> Transition:
    return TRANSITIONS[action]


def can(action: Action, status: Status | str) -> bool:
    """Whether ``action`` is allowed from ``status``."""
    return Status(status) in TRANSITIONS[action].sources


def next_status(action: Action, status: Status | str) -> Status:
    """The status after ``action``; raises ``ValueError`` when the action is not allowed."""
    transition = TRANSITIONS[action]
    if Status(status) not in transition.sources:
        raise ValueError(f"cannot {action.value} a release that is {Status(status).value}")
    return transition.target


def refusal(action: Action, status: Status | str) -> str:
    """A submitter-facing sentence explaining why ``action`` is refused in ``status``."""
    allowed = ", ".join(sorted(s.value for s in TRANSITIONS[action].sources))
    return f"The release is {Status(status).value}; it can be {_past(action)} only while it is {allowed}."


def _past(action: Action) -> str:
    return {
        Action.REVISE: "revised",
        Action.WITHDRAW: "withdrawn",
        Action.APPROVE: "approved",
        Action.REJECT: "rejected",
        Action.REQUEST_CHANGES: "sent back for changes",
        Action.SCHEDULE: "scheduled",
        Action.PUBLISH: "published",
        Action.KILL: "killed",
        Action.SUBMIT: "submitted",
    }[action]
