r"""The release state machine: the one place that says which actions a status allows.

```
pending_review --approve--> approved --(release time reached)--> published --kill--> killed
      |   ^                    \--(release time in future)--> scheduled --> published
      |   '--revise (version+1)-- changes_requested <--request_changes-- pending_review
      '--reject--> rejected
any state before published --withdraw (by the submitting organisation)--> withdrawn
```

Every transition is applied as one conditional write on (status, version): the repositories
take the action and derive the statuses it may start from and the one it leads to from
``TRANSITIONS``; the services ask ``can`` (is the action allowed now?) and ``already`` (did it
already happen? a repeated request then changes nothing), and the API explains a 409 with
``refusal``. No other module compares a status with a status of its own.
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


def already(action: Action, status: Status | str) -> bool:
    """Whether ``status`` is where ``action`` leads: the action already happened (withdrawing a
    withdrawn release, publishing a published one) and doing it again changes nothing."""
    return Status(status) is TRANSITIONS[action].target


# The moderators' decisions: each is allowed exactly while a release awaits review.
DECISIONS = (Action.APPROVE, Action.REJECT, Action.REQUEST_CHANGES)


def awaits_decision(status: Status | str) -> bool:
    """Whether a moderator may decide a release in ``status`` (any of ``DECISIONS``)."""
    return any(can(action, status) for action in DECISIONS)


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
