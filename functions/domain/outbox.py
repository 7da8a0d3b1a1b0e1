"""The outbox sweep: the reconciliation half of "a 202 is never lost".

A state item is written with an ``outbox`` mark before its queue message is sent, and the mark is
cleared only after the send succeeded. Whatever still carries a mark after a grace period (a
crash, a timeout, a failed send) is sent again here. Consumers are idempotent, so a message
sent twice is harmless; a message never sent would lose a release.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from functions.domain.ports import ModerationQueue, StateRepository
from functions.domain.records import MODERATION, OutboxEntry


def sweep_outbox(
    states: StateRepository,
    queue: ModerationQueue,
    *,
    now: datetime,
    grace: timedelta,
    limit: int = 100,
) -> list[OutboxEntry]:
    """Send every moderation message still marked for longer than ``grace``; return what was sent."""
    sent: list[OutboxEntry] = []
    for entry in states.pending_outbox(MODERATION, older_than=now - grace, limit=limit):
        queue.send(
            release_id=entry.release_id, version=entry.version, org_id=entry.org_id, category=entry.category
        )
        states.clear_outbox(entry.release_id, entry.version)
        sent.append(entry)
    return sent
