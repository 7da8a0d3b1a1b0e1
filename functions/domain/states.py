r"""The release state machine: the one place that says which actions a status allows.

```
pending_review --approve--> approved --(release time reached)--> published --kill--> killed
      |   ^                    \--(release time in future)--> scheduled --> published
      |   '--revise (version+1)-- changes_requested <--request_changes-- pending_review
      '--reject--> rejected
any state before published --withdraw (by the submitting organisation)--> withdrawn

corrections (version n stays public while version n+1 is reviewed):
published --correct (version+1)--> correction_review --approve_correction--> correction_approved
    ^   ^                              |   ^       \                               |
    |   '--reject_correction-----------'   |        '--request_correction_changes  |
    |                                      |                    v                  |
    |                                      '--correct-- correction_changes_requested
    '----------------------------publish_correction (version n+1 public)-----------'
published or any correction state --kill--> killed
```

Every transition is applied as one conditional write on (status, version): the repositories
take the action and derive the statuses it may start from and the one it leads to from
``TRANSITIONS``; the services ask ``can`` (is the action allowed now?) and ``already`` (did it
already happen? a repeated request then changes nothing), and the API explains a 409 with
``refusal``. No other module compares a status with a status of its own.

A moderator's decision (approve, reject, request changes) and the publisher's "publish" are one
action each for the people and messages that ask for them; ``action_for`` says which of the
state machine's actions it is for a release in a given status: the correction's when the
release is published with a correction under review (``approve`` -> ``approve_correction``).
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
    # Published (its public version stays on the site) with a newer version, a correction:
    CORRECTION_REVIEW = "correction_review"  # awaiting a moderator
    CORRECTION_CHANGES_REQUESTED = "correction_changes_requested"  # sent back to the submitter
    CORRECTION_APPROVED = "correction_approved"  # approved, awaiting the publisher


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
    CORRECT = "correct"
    APPROVE_CORRECTION = "approve_correction"
    REJECT_CORRECTION = "reject_correction"
    REQUEST_CORRECTION_CHANGES = "request_correction_changes"
    PUBLISH_CORRECTION = "publish_correction"


class Transition(NamedTuple):
    sources: frozenset[Status]
    target: Status
    bumps_version: bool = False


_BEFORE_PUBLICATION = frozenset(
    {Status.PENDING_REVIEW, Status.CHANGES_REQUESTED, Status.APPROVED, Status.SCHEDULED}
)
# Published with a correction on its way: version n is public, version n+1 is not (yet).
PENDING_CORRECTION = frozenset(
    {Status.CORRECTION_REVIEW, Status.CORRECTION_CHANGES_REQUESTED, Status.CORRECTION_APPROVED}
)
# Some version of the release is on the site.
PUBLIC = frozenset({Status.PUBLISHED}) | PENDING_CORRECTION

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
    Action.KILL: Transition(PUBLIC, Status.KILLED),
    Action.CORRECT: Transition(
        frozenset({Status.PUBLISHED, Status.CORRECTION_REVIEW, Status.CORRECTION_CHANGES_REQUESTED}),
        Status.CORRECTION_REVIEW,
        True,
    ),
    Action.APPROVE_CORRECTION: Transition(frozenset({Status.CORRECTION_REVIEW}), Status.CORRECTION_APPROVED),
    Action.REJECT_CORRECTION: Transition(frozenset({Status.CORRECTION_REVIEW}), Status.PUBLISHED),
    Action.REQUEST_CORRECTION_CHANGES: Transition(
        frozenset({Status.CORRECTION_REVIEW}), Status.CORRECTION_CHANGES_REQUESTED
    ),
    Action.PUBLISH_CORRECTION: Transition(frozenset({Status.CORRECTION_APPROVED}), Status.PUBLISHED),
}

TERMINAL = frozenset({Status.REJECTED, Status.WITHDRAWN, Status.KILLED})
INITIAL = Status.PENDING_REVIEW

# What one request (a moderator's decision, a publish message, a submitter's PUT) is, by the
# status of the release it meets: the first of these the status allows.
_FAMILIES: dict[Action, tuple[Action, ...]] = {
    Action.APPROVE: (Action.APPROVE, Action.APPROVE_CORRECTION),
    Action.REJECT: (Action.REJECT, Action.REJECT_CORRECTION),
    Action.REQUEST_CHANGES: (Action.REQUEST_CHANGES, Action.REQUEST_CORRECTION_CHANGES),
    Action.PUBLISH: (Action.PUBLISH, Action.PUBLISH_CORRECTION),
    Action.REVISE: (Action.REVISE, Action.CORRECT),
}


def transition_for(action: Action) -> Transition:
    return TRANSITIONS[action]


def can(action: Action, status: Status | str) -> bool:
    """Whether ``action`` is allowed from ``status``."""
    return Status(status) in TRANSITIONS[action].sources


def already(action: Action, status: Status | str) -> bool:
    """Whether ``status`` is where ``action`` leads: the action already happened (withdrawing a
    withdrawn release, publishing a published one) and doing it again changes nothing."""
    return Status(status) is TRANSITIONS[action].target


def action_for(request: Action, status: Status | str) -> Action:
    """The state machine's action for ``request`` on a release in ``status``: ``approve`` of a
    correction under review is ``approve_correction``, ``publish`` of an approved correction is
    ``publish_correction``, a ``revise`` (PUT) of a published release is ``correct``. When the
    status allows none of them, ``request`` itself (which ``can`` then refuses)."""
    for action in _FAMILIES.get(request, (request,)):
        if can(action, status):
            return action
    return request


# The moderators' decisions: each is allowed exactly while a release (or its correction) awaits review.
DECISIONS = (Action.APPROVE, Action.REJECT, Action.REQUEST_CHANGES)


def awaits_decision(status: Status | str) -> bool:
    """Whether a moderator may decide a release in ``status`` (any of ``DECISIONS``)."""
    return any(can(action_for(action, status), status) for action in DECISIONS)


def has_pending_correction(status: Status | str) -> bool:
    """Whether a release in ``status`` is published with a newer version not yet public."""
    return Status(status) in PENDING_CORRECTION


def is_public(status: Status | str) -> bool:
    """Whether a version of a release in ``status`` is on the site."""
    return Status(status) in PUBLIC


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


def put_refusal(status: Status | str) -> str:
    """Why a PUT (a revision before publication, a correction after) is refused in ``status``."""
    revisable = ", ".join(sorted(s.value for s in TRANSITIONS[Action.REVISE].sources))
    correctable = ", ".join(sorted(s.value for s in TRANSITIONS[Action.CORRECT].sources))
    return (
        f"The release is {Status(status).value}; it can be revised only while it is {revisable}, "
        f"and corrected only while it is {correctable}."
    )


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
        Action.CORRECT: "corrected",
        Action.APPROVE_CORRECTION: "approved as a correction",
        Action.REJECT_CORRECTION: "refused as a correction",
        Action.REQUEST_CORRECTION_CHANGES: "sent back as a correction",
        Action.PUBLISH_CORRECTION: "published as a correction",
    }[action]
