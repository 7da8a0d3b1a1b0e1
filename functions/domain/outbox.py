"""The outbox sweep: the reconciling half of "nothing is lost between the table and a queue".

A state item is written with an ``outbox`` mark naming the queue its next message goes to
("moderation" after a submission or revision, "publish" after an approval, "kill" after a kill:
a kill message to the publish queue) in the same write
as the change itself; the mark is cleared only after the send succeeded. Whatever still
carries a mark after a grace period (a crash, a timeout, a failed send) is sent again here.
Consumers are idempotent, so a message sent twice is harmless; one never sent would strand a
release.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from functions.domain.messages import ModerationMessage, PublishAction, PublishMessage
from functions.domain.ports import ModerationQueue, PublishQueue, StateRepository
from functions.domain.records import OutboxEntry, OutboxTarget


def sweep(
    states: StateRepository,
    *,
    moderation: ModerationQueue,
    publish: PublishQueue,
    now: datetime,
    grace: timedelta,
    limit: int = 100,
) -> list[OutboxEntry]:
    """Send every message still marked for longer than ``grace``; return what was sent.

    A send that fails stops the sweep there (it raises): what is still marked is sent by the
    next sweep."""
    sent: list[OutboxEntry] = []
    for target in OutboxTarget:
        for entry in states.pending_outbox(target, older_than=now - grace, limit=limit):
            if target is OutboxTarget.MODERATION:
                moderation.send(
                    ModerationMessage(release_id=entry.release_id, version=entry.version),
                    org_id=entry.org_id,
                    category=entry.category,
                )
            else:
                action = PublishAction.KILL if target is OutboxTarget.KILL else PublishAction.PUBLISH
                publish.send(
                    PublishMessage(release_id=entry.release_id, version=entry.version, action=action)
                )
            states.clear_outbox(entry.release_id, entry.version)
            sent.append(entry)
    return sent
