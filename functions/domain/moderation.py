"""Moderation decisions: exactly one per release version, recorded with a conditional write.

A moderator (the ``press-intake moderate`` console) takes a claim-check message
(``functions.domain.messages.ModerationMessage``) from the moderation queue and decides. The
decision is applied only if the release still awaits a decision at that version; otherwise the
message is stale (a newer version exists), the release was decided by someone else, or its
submitter withdrew it.
An approval marks the state item's outbox "publish" in the same write, so that a release whose
publish message could not be sent is still published (the outbox sweep sends it). A kill
(``ModerationService.kill``) is a moderator's decision too: it records who killed the release,
why and the note for the submitter in the same conditional write that makes it ``killed``, marks
the outbox "kill", and sends the publisher the kill message that takes the pages down.

``ModerationDesk`` is a moderator's session over the moderation queue (``ModerationInbox``):
which message to show next, what to drop, skipping without counting against a release, and
handing back what the session holds.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from itertools import chain
from typing import Any

from functions.domain.errors import ReleaseNotFound, StateConflict
from functions.domain.messages import PublishAction, PublishMessage
from functions.domain.ports import (
    ConditionFailed,
    Delivery,
    ModerationInbox,
    PublishQueue,
    ReleaseStore,
    StateRepository,
    TransitionChanges,
)
from functions.domain.records import OutboxTarget, ReleaseRecord
from functions.domain.states import Action, action_for, already, awaits_decision, can

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
    KILL = Action.KILL.value  # of a published release (ModerationService.kill)


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
    if decision.action is DecisionAction.KILL and not decision.reason_codes:
        yield "a kill needs a reason code"
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
    UNREADABLE = "unreadable"  # the message or its release could not be read: left to return


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

    def states(self, release_ids: Sequence[str]) -> dict[str, ReleaseRecord]:
        """The current state of several releases, read at once (for ``triage`` and ``decide``)."""
        return self._states.get_many(release_ids)

    def decide(
        self, release_id: str, version: int, decision: Decision, *, current: ReleaseRecord | None = None
    ) -> Result:
        """Apply ``decision`` to ``version``. ``current``, the record as triage read it, saves
        reading it again: the write is conditional anyway."""
        if decision.action is DecisionAction.KILL:
            raise InvalidDecision("a kill is not a review decision: use kill()")
        record: ReleaseRecord | None
        if current is not None and current.release_id == release_id:
            record, skip = current, triage(current, release_id, version)
        else:
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

    def kill(self, release_id: str, *, moderator: str, reason: str, note: str | None = None) -> Result:
        """Take down a published release: one conditional write makes it ``killed`` with the
        decision (moderator, reason, note) and an outbox mark "kill"; then the kill message goes
        to the publisher, which takes its page, ninjs and feed entries down. If that send fails
        the outbox sweep sends it. Raises ``InvalidDecision`` (no reason, ``other`` without a
        note), ``ReleaseNotFound`` and ``StateConflict`` (not published)."""
        decision = Decision(DecisionAction.KILL, moderator, (reason,), note)
        record = self._states.get(release_id)
        if record is None:
            raise ReleaseNotFound(release_id)
        if already(Action.KILL, record.status):
            return Result(Outcome.ALREADY_DECIDED, release_id, record.version, record, "already killed")
        if not can(Action.KILL, record.status):
            raise StateConflict(
                f"release {release_id} is {record.status}; only published releases can be killed",
                status=record.status,
                version=record.version,
            )
        now = self._clock()
        try:
            updated = self._states.transition(
                release_id,
                Action.KILL,
                org_id=record.org_id,
                expected_version=record.version,
                actor=f"moderator:{moderator}",
                now=now,
                current=record,
                decision=decision.as_item(decided_at=now, version=record.version),
                outbox=OutboxTarget.KILL,
            )
        except ConditionFailed:
            latest = self._states.get(release_id)
            status = latest.status if latest else "gone"
            return Result(Outcome.ALREADY_DECIDED, release_id, record.version, latest, f"now {status}")
        message = PublishMessage(
            release_id=release_id, version=record.version, action=PublishAction.KILL, reason=reason
        )
        try:
            self._publish.send(message)
        except Exception as error:
            log.warning("kill message deferred to the outbox sweep", exc_info=True)
            return Result(
                Outcome.PUBLISH_DEFERRED,
                release_id,
                record.version,
                updated,
                f"publish queue failed: {error}",
            )
        self._states.clear_outbox(release_id, record.version)
        return Result(Outcome.DECIDED, release_id, record.version, updated)


@dataclass
class Item:
    """A release version on a moderator's desk: the message held, the state read once, and (for
    the console) the version's document and the previous version's."""

    delivery: Delivery
    record: ReleaseRecord
    document: dict[str, Any] | None = None
    previous: dict[str, Any] | None = None

    @property
    def release_id(self) -> str:
        return self.record.release_id

    @property
    def version(self) -> int:
        return self.delivery.claim.version if self.delivery.claim else self.record.version

    @property
    def key(self) -> tuple[str, int]:
        return (self.release_id, self.version)

    @property
    def waiting_since(self) -> datetime:
        """When the claim check was first queued (a skip's fresh copy keeps that time)."""
        return self.delivery.queued_at or self.record.updated_at


# A claim check received this often without a decision is pointed out to the moderator.
MANY_DELIVERIES = 3
# Decisions applied at once by ``decide_all`` (each is independent: one state read and write).
PARALLEL_DECISIONS = 10


class ModerationDesk:
    """A moderator's session over the moderation queue.

    - Messages that need no moderator (stale versions, decided or withdrawn releases) are
      reported through ``report`` and deleted; a message that cannot be read (not a claim check,
      its release unreadable) is reported and released: it returns when its hold ends, and SQS
      counts that receive, so only such failures lead to the dead-letter queue.
    - ``skip`` hands the message back as a fresh copy (a skip never counts against a release)
      and remembers it: when it comes back while this session has not shown the others, it is
      handed back once more, so skipped releases come back only after the others.
    - A message received more than once (a console stopped while holding it: nothing handed it
      back) is handed back as a fresh copy before it is shown (``renew_returned``), so crashed
      consoles never add up to a dead letter either.
    - ``close`` hands back everything the session still holds, at once.
    """

    def __init__(
        self,
        *,
        inbox: ModerationInbox,
        service: ModerationService,
        store: ReleaseStore,
        hold: int,
        report: Callable[[Result], None] = lambda _: None,
        renew_returned: bool = True,
    ) -> None:
        self._inbox = inbox
        self._service = service
        self._store = store
        self._hold = hold
        self._report = report
        self._renew_returned = renew_returned
        self._skipped: set[tuple[str, int]] = set()
        self._deferred: set[tuple[str, int]] = set()

    def next_items(self, count: int, *, wait: int, documents: bool = True) -> list[Item]:
        """Up to ``count`` items; fewer when the queue has no more (the first receive long-polls
        ``wait`` seconds, the next ones take only what is there). The states of each received
        batch are read at once: one read per release, which its decision then relies on."""
        items: list[Item] = []
        first = True
        while len(items) < count:
            deliveries = self._inbox.receive(  # only the first receive waits: then take what is there
                max_messages=count - len(items), wait_seconds=wait if first else 0, hold_seconds=self._hold
            )
            first = False
            if not deliveries:
                break
            records = self._states_of(deliveries)
            for delivery in deliveries:
                item = self._admit(delivery, records, documents, taken={i.key for i in items})
                if item is not None:
                    items.append(item)
        return items

    def next_item(self, *, wait: int, documents: bool = True) -> Item | None:
        items = self.next_items(1, wait=wait, documents=documents)
        return items[0] if items else None

    def _states_of(self, deliveries: Sequence[Delivery]) -> dict[str, ReleaseRecord] | Exception:
        ids = [d.claim.release_id for d in deliveries if d.claim is not None]
        try:
            return self._service.states(ids) if ids else {}
        except Exception as error:  # every item of the batch is then unreadable (a real failure)
            log.warning("moderation items' states unreadable", exc_info=True)
            return error

    def _admit(
        self,
        delivery: Delivery,
        records: dict[str, ReleaseRecord] | Exception,
        documents: bool,
        taken: set[tuple[str, int]],
    ) -> Item | None:
        """The item to show, or ``None`` when the message was dropped, handed back (returned or
        skipped) or could not be read (released: it returns and that receive counts)."""
        record = self._screen(delivery, records, taken)
        if record is None or delivery.claim is None:
            return None
        key = (record.release_id, delivery.claim.version)
        if self._renew_returned and delivery.receive_count > 1:
            self._inbox.hand_back([delivery], seen=False)
            return None
        if key in self._skipped:
            if key not in self._deferred:
                self._deferred.add(key)
                self._inbox.hand_back([delivery], seen=False)
                return None
            self._skipped.discard(key)
            self._deferred.clear()  # a new round: each skipped release may be deferred once more
        item = Item(delivery, record)
        if documents:
            try:
                item.document, item.previous = self._documents(record, key[1])
            except Exception as error:
                self._unreadable(delivery, key, error)
                return None
        return item

    def _screen(
        self, delivery: Delivery, records: dict[str, ReleaseRecord] | Exception, taken: set[tuple[str, int]]
    ) -> ReleaseRecord | None:
        """The record of a message a moderator should see; ``None`` once the message was dropped
        (stale, decided, withdrawn, a duplicate) or released (unreadable)."""
        claim = delivery.claim
        if claim is None:  # not ours to drop: after maxReceiveCount SQS dead-letters it
            self._report(Result(Outcome.UNREADABLE, delivery.message_id, 0, None, "not a moderation item"))
            self._inbox.release([delivery])
            return None
        key = (claim.release_id, claim.version)
        if key in taken:  # two copies in one receive (SQS delivers at least once)
            self._drop(delivery, Result(Outcome.ALREADY_DECIDED, *key, None, "a duplicate claim check"))
            return None
        if isinstance(records, Exception):
            self._unreadable(delivery, key, records)
            return None
        record = records.get(claim.release_id)
        skip = triage(record, *key)
        if skip is not None or record is None:
            self._drop(delivery, skip or Result(Outcome.UNKNOWN, *key))
            return None
        return record

    def _unreadable(self, delivery: Delivery, key: tuple[str, int], error: Exception) -> None:
        """A real processing failure: released, so that SQS counts this receive."""
        log.warning("moderation item %s v%s unreadable", *key, exc_info=error)
        self._report(Result(Outcome.UNREADABLE, *key, None, f"{type(error).__name__}: {error}"))
        self._inbox.release([delivery])

    def _documents(self, record: ReleaseRecord, version: int) -> tuple[dict[str, Any], dict[str, Any] | None]:
        document = self._store.get_document(record.object_key)
        previous = None
        if version > 1:
            try:
                key = self._store.version_key(
                    org_id=record.org_id, release_id=record.release_id, version=version - 1
                )
                previous = self._store.get_document(key)
            except Exception:  # the comparison is a help, never a reason not to show a release
                log.warning("previous version of %s unreadable", record.release_id, exc_info=True)
        return document, previous

    def _drop(self, delivery: Delivery, result: Result) -> None:
        self._report(result)
        self._inbox.delete([delivery])

    def decide(self, item: Item, decision: Decision) -> Result:
        """Record the decision; delete the message only once everything it implies is done."""
        return self.decide_all([item], decision)[0]

    def decide_all(self, items: Sequence[Item], decision: Decision) -> list[Result]:
        """Decide every item (in parallel: they are independent), results in the items' order."""

        def one(item: Item) -> Result:
            return self._service.decide(item.release_id, item.version, decision, current=item.record)

        if len(items) == 1:
            results = [one(items[0])]
        else:
            with ThreadPoolExecutor(max_workers=min(PARALLEL_DECISIONS, len(items))) as pool:
                results = list(pool.map(one, items))
        done = [
            item.delivery for item, result in zip(items, results, strict=True) if result.done_with_message
        ]
        kept = [
            item.delivery for item, result in zip(items, results, strict=True) if not result.done_with_message
        ]
        if done:
            self._inbox.delete(done)
        if kept:  # back when the hold ends, then dropped as decided (the outbox sweep publishes)
            self._inbox.release(kept)
        return results

    def skip(self, item: Item) -> None:
        """Back on the queue for someone else, now; this session sees it again after the others."""
        self._skipped.add(item.key)
        self._deferred.discard(item.key)
        self._inbox.hand_back([item.delivery])

    def close(self) -> None:
        """Hand back everything this session holds."""
        held = self._inbox.held()
        if held:
            self._inbox.hand_back(held)


def parse_reasons(values: Sequence[str]) -> tuple[str, ...]:
    """``--reason a --reason b`` or ``--reason a,b`` -> ('a', 'b')."""
    codes: list[str] = []
    for value in values:
        codes.extend(part.strip() for part in value.split(",") if part.strip())
    return tuple(codes)
