"""The outbox sweep: the reconciliation half of "nothing is lost between the table and a queue".

A state item is written with an ``outbox`` mark naming the queue its next message goes to
("moderation" after a submission or revision, "publish" after an approval) in the same write
as the change itself; the mark is cleared only after the send succeeded. Whatever still
carries a mark after a grace period (a crash, a timeout, a failed send) is sent again here.
Consumers are idempotent, so a message sent twice is harmless; one never sent would strand a
release.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime, timedelta

from functions.domain.ports import StateRepository
from functions.domain.records import OutboxEntry

Sender = Callable[[OutboxEntry], None]


def sweep_outbox(
    states: StateRepository,
    senders: Mapping[str, Sender],
    *,
    now: datetime,
    grace: timedelta,
    limit: int = 100,
) -> list[OutboxEntry]:
    """Send every message still marked for longer than ``grace``; return what was sent."""
    sent: list[OutboxEntry] = []
    for target, send in senders.items():
        for entry in states.pending_outbox(target, older_than=now - grace, limit=limit):
            send(entry)
            states.clear_outbox(entry.release_id, entry.version)
            sent.append(entry)
    return sent
