"""Moderation decisions: exactly one per release version, recorded with a conditional write.

A moderator (the ``press-intake moderate`` console) takes a claim-check message
``{release_id, version}`` from the moderation queue and decides. The decision is applied only
if the release is still ``pending_review`` at that version; otherwise the message is stale (a
newer version exists), the release was decided by someone else, or its submitter withdrew it.
An approval marks the state item's outbox "publish" in the same write, so that a release whose
publish message could not be sent is still published (the reconciler sends it).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Protocol

from functions.domain.ports import ConditionFailed, StateRepository
from functions.domain.records import PUBLISH, ReleaseRecord
from functions.domain.states import Action, Status, transition_for

log = logging.getLogger(__name__)

REASON_CODES: dict[str, str] = {
    "promotional_tone": "Reads as advertising rather than news.",
    "not_newsworthy": "No news value for our readers.",
    "missing_contact": "No usable press contact.",
    "duplicate": "Already submitted or published.",
    "unverifiable": "Claims that cannot be checked.",
    "formatting": "Layout, length or language needs work.",
    "inappropriate": "Offensive, unlawful or unsafe content.",
    "wrong_category": "Filed under the wrong category.",
    "other": "Explained in the note.",
}
NOTE_MAX = 2000

# What each prescreen flag (functions/domain/prescreen.py) means for the moderator's decision.
FLAG_EXPLANATIONS: dict[str, str] = {
    "all_caps_headline": "shouting headlines are rewritten or sent back (formatting)",
    "hype_words": "superlatives suggest advertising (promotional_tone)",
    "missing_phone": "journalists need a number to call (missing_contact if nothing else works)",
    "weekday_mismatch": "a wrong weekday often means a wrong date: check before approving",
    "many_links": "link-heavy releases are often promotional or spam",
    "short_body": "too little to publish as news? (not_newsworthy)",
    "duplicate_content": "already submitted by this organisation (duplicate)",
}


class DecisionAction(StrEnum):
    APPROVE = "approve"
    REJECT = "reject"
    REQUEST_CHANGES = "request_changes"


class InvalidDecision(ValueError):
    """A decision that breaks the rules (reject without a reason, changes without a note...)."""


@dataclass(frozen=True)
class Decision:
    action: DecisionAction
    moderator: str
    reason_codes: tuple[str, ...] = ()
    note: str | None = None

    def __post_init__(self) -> None:
        validate(self)

    def as_item(self, *, decided_at: datetime, version: int) -> dict[str, object]:
        item: dict[str, object] = {
            "action": self.action.value,
            "reason_codes": list(self.reason_codes),
            "decided_at": decided_at.isoformat(),
            "version": version,
            "moderator": self.moderator,  # audit only; the submitter's view never shows it
        }
        if self.note:
            item["note"] = self.note
        return item


def validate(decision: Decision) -> None:
    unknown = [code for code in decision.reason_codes if code not in REASON_CODES]
    if unknown:
        raise InvalidDecision(f"unknown reason code(s): {', '.join(unknown)}; use {', '.join(REASON_CODES)}")
    if len(set(decision.reason_codes)) != len(decision.reason_codes):
        raise InvalidDecision("a reason code is given twice")
    if decision.note is not None and len(decision.note) > NOTE_MAX:
        raise InvalidDecision(f"the note is longer than {NOTE_MAX} characters")
    if not decision.moderator.strip():
        raise InvalidDecision("the moderator's identity is required")
    if decision.action is DecisionAction.REJECT and not decision.reason_codes:
        raise InvalidDecision("a rejection needs at least one reason code")
    if decision.action is DecisionAction.REQUEST_CHANGES and not (decision.note or "").strip():
        raise InvalidDecision("requesting changes needs a note telling the submitter what to change")
    if "other" in decision.reason_codes and not (decision.note or "").strip():
        raise InvalidDecision("reason 'other' needs a note")


class PublishQueue(Protocol):
    def send(self, *, release_id: str, version: int, action: str, reason: str | None = None) -> None: ...


class Outcome(StrEnum):
    DECIDED = "decided"
    STALE = "stale"  # a newer version exists: this message is dropped
    ALREADY_DECIDED = "already_decided"  # someone else decided (or it moved on)
    WITHDRAWN = "withdrawn"  # the submitter withdrew it meanwhile
    UNKNOWN = "unknown"  # no such release (should not happen)
    PUBLISH_DEFERRED = "publish_deferred"  # approved, but the publish message waits in the outbox


@dataclass
class Result:
    outcome: Outcome
    release_id: str
    version: int
    record: ReleaseRecord | None = None
    detail: str = ""
    extra: dict[str, object] = field(default_factory=dict)

    @property
    def done_with_message(self) -> bool:
        """Whether the moderation message can be deleted now."""
        return self.outcome is not Outcome.PUBLISH_DEFERRED


_TARGET = {
    DecisionAction.APPROVE: Action.APPROVE,
    DecisionAction.REJECT: Action.REJECT,
    DecisionAction.REQUEST_CHANGES: Action.REQUEST_CHANGES,
}


def triage(record: ReleaseRecord | None, release_id: str, version: int) -> Result | None:
    """Why a message should not be shown to a moderator, or ``None`` when it should."""
    if record is None:
        return Result(Outcome.UNKNOWN, release_id, version, None, "no such release")
    if version < record.version:
        return Result(
            Outcome.STALE,
            release_id,
            version,
            record,
            f"version {version} was replaced by version {record.version}",
        )
    if record.status == Status.WITHDRAWN:
        return Result(Outcome.WITHDRAWN, release_id, version, record, "withdrawn by its submitter")
    if record.status != Status.PENDING_REVIEW or version != record.version:
        return Result(Outcome.ALREADY_DECIDED, release_id, version, record, f"already {record.status}")
    return None


class ModerationService:
    def __init__(
        self, *, states: StateRepository, publish: PublishQueue, clock: Callable[[], datetime]
    ) -> None:
        self._states = states
        self._publish = publish
        self._clock = clock

    def triage(self, release_id: str, version: int) -> tuple[ReleaseRecord | None, Result | None]:
        record = self._states.get(release_id)
        return record, triage(record, release_id, version)

    def decide(self, release_id: str, version: int, decision: Decision) -> Result:
        record, skip = self.triage(release_id, version)
        if skip is not None or record is None:  # triage() explains a missing record
            return skip or Result(Outcome.UNKNOWN, release_id, version)
        action = _TARGET[decision.action]
        transition = transition_for(action)
        now = self._clock()
        try:
            updated = self._states.transition(
                release_id,
                org_id=record.org_id,
                expected_version=version,
                from_statuses=sorted(transition.sources),
                to_status=transition.target.value,
                action=action.value,
                actor=f"moderator:{decision.moderator}",
                now=now,
                decision=decision.as_item(decided_at=now, version=version),
                outbox=PUBLISH if decision.action is DecisionAction.APPROVE else None,
                current=record,  # moderators may not read the whole item back (ModeratorPolicy)
            )
        except ConditionFailed:
            latest = self._states.get(release_id)
            again = triage(latest, release_id, version)
            return again or Result(Outcome.ALREADY_DECIDED, release_id, version, latest, "decided meanwhile")
        if decision.action is not DecisionAction.APPROVE:
            return Result(Outcome.DECIDED, release_id, version, updated)
        try:
            self._publish.send(release_id=release_id, version=version, action="publish")
        except Exception as error:
            log.warning("publish message deferred to the reconciler", exc_info=True)
            return Result(
                Outcome.PUBLISH_DEFERRED, release_id, version, updated, f"publish queue failed: {error}"
            )
        self._states.clear_outbox(release_id, version)
        return Result(Outcome.DECIDED, release_id, version, updated)


def parse_reasons(values: Sequence[str]) -> tuple[str, ...]:
    """``--reason a --reason b`` or ``--reason a,b`` -> ('a', 'b')."""
    codes: list[str] = []
    for value in values:
        codes.extend(part.strip() for part in value.split(",") if part.strip())
    return tuple(codes)
