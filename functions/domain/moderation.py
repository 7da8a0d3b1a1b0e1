"""Moderation decisions: exactly one per release version, recorded with a conditional write.

A moderator (the ``press-intake moderate`` console) takes a claim-check message
(``functions.domain.messages.ModerationMessage``) from the moderation queue and decides. The
decision is applied only if the release still awaits a decision at that version; otherwise the
message is stale (a newer version exists), the release was decided by someone else, or its
submitter withdrew it.
An approval marks the state item's outbox "publish" in the same write, so that a release whose
publish message could not be sent is still published (the outbox sweep sends it).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from itertools import chain

from functions.domain.messages import PublishMessage
from functions.domain.ports import ConditionFailed, PublishQueue, StateRepository, TransitionChanges
from functions.domain.records import OutboxTarget, ReleaseRecord
from functions.domain.states import Action, action_for, already, awaits_decision

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
    """A moderator's decision; each is the state machine's action of the same name."""

    APPROVE = Action.APPROVE.value
    REJECT = Action.REJECT.value
    REQUEST_CHANGES = Action.REQUEST_CHANGES.value


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


def _form_problems(decision: Decision) -> Iterator[str]:
    unknown = [code for code in decision.reason_codes if code not in REASON_CODES]
    if unknown:
        yield f"unknown reason code(s): {', '.join(unknown)}; use {', '.join(REASON_CODES)}"
    if len(set(decision.reason_codes)) != len(decision.reason_codes):
        yield "a reason code is given twice"
    if decision.note is not None and len(decision.note) > NOTE_MAX:
        yield f"the note is longer than {NOTE_MAX} characters"
    if not decision.moderator.strip():
        yield "the moderator's identity is required"


def _rule_problems(decision: Decision) -> Iterator[str]:
    noted = bool((decision.note or "").strip())
    if decision.action is DecisionAction.REJECT and not decision.reason_codes:
        yield "a rejection needs at least one reason code"
    if decision.action is DecisionAction.REQUEST_CHANGES and not noted:
        yield "requesting changes needs a note telling the submitter what to change"
    if "other" in decision.reason_codes and not noted:
        yield "reason 'other' needs a note"


def validate(decision: Decision) -> None:
    """Raise ``InvalidDecision`` with the first rule the decision breaks."""
    problem = next(chain(_form_problems(decision), _rule_problems(decision)), None)
    if problem is not None:
        raise InvalidDecision(problem)


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
    if already(Action.WITHDRAW, record.status):
        return Result(Outcome.WITHDRAWN, release_id, version, record, "withdrawn by its submitter")
    if not awaits_decision(record.status) or version != record.version:
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
        now = self._clock()
        approved = decision.action is DecisionAction.APPROVE
        changes: TransitionChanges = {"decision": decision.as_item(decided_at=now, version=version)}
        if approved:  # in the same write: the publish message is sent even if this process dies
            changes["outbox"] = OutboxTarget.PUBLISH
        try:
            updated = self._states.transition(
                release_id,
                # the decision on the release, or on its correction (approve -> approve_correction)
                action_for(Action(decision.action.value), record.status),
                org_id=record.org_id,
                expected_version=version,
                actor=f"moderator:{decision.moderator}",
                now=now,
                current=record,  # moderators may not read the whole item back (ModeratorPolicy)
                **changes,
            )
        except ConditionFailed:
            latest = self._states.get(release_id)
            again = triage(latest, release_id, version)
            return again or Result(Outcome.ALREADY_DECIDED, release_id, version, latest, "decided meanwhile")
        if not approved:
            return Result(Outcome.DECIDED, release_id, version, updated)
        try:
            self._publish.send(PublishMessage(release_id=release_id, version=version))
        except Exception as error:
            log.warning("publish message deferred to the outbox sweep", exc_info=True)
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
