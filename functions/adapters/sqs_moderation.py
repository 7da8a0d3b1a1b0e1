"""Moderation queue: claim-check messages (``ModerationMessage``); the release stays in S3.

Intake and the outbox sweep ``send``; the moderators' console consumes through the same class:

- ``receive`` takes up to 10 messages at once and holds them: a heartbeat thread extends their
  visibility (``ChangeMessageVisibilityBatch``) until they are deleted or handed back, so a
  console that dies lets them return within one hold;
- ``delete`` removes what was decided (or dropped); ``release`` stops holding what could not be
  processed, which returns when its hold ends (a counted receive: a real failure);
- ``hand_back`` (skip, quit) re-sends a fresh copy of each claim check, with its attributes, and
  only then deletes the held one. SQS counts receives per message and moves a message to the
  dead-letter queue after ``maxReceiveCount`` of them; a fresh copy starts at zero, so skipping
  or quitting never counts against a release. The copy carries how often the claim check was
  received before (``deliveries``) and when it was first queued (``queued_at``). A crash between
  the send and the delete leaves two copies: the consumer tolerates duplicates (decisions are
  conditional, decided and stale messages are dropped);
- ``counts`` reads the queue's approximate counts (``GetQueueAttributes``).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable, Iterator, Sequence
from datetime import UTC, datetime
from typing import Any

from functions.domain.messages import ModerationMessage
from functions.domain.ports import Delivery, QueueCounts

log = logging.getLogger(__name__)

BATCH = 10  # SQS's limit for one receive and one batch call
DELIVERIES = "deliveries"  # receives of earlier copies by a console that did not decide
QUEUED_AT = "queued_at"  # when the first copy was sent (ISO 8601, UTC)
_COUNTS = (
    "ApproximateNumberOfMessages",
    "ApproximateNumberOfMessagesNotVisible",
    "ApproximateNumberOfMessagesDelayed",
)


def _chunks(items: Sequence[Delivery]) -> Iterator[Sequence[Delivery]]:
    for start in range(0, len(items), BATCH):
        yield items[start : start + BATCH]


def _string(attributes: dict[str, Any], name: str) -> str | None:
    value = (attributes.get(name) or {}).get("StringValue")
    return str(value) if value is not None else None


def _attribute(value: dict[str, Any]) -> dict[str, Any]:
    """A message attribute as it can be sent again (receive adds empty list fields)."""
    return {k: v for k, v in value.items() if k in ("DataType", "StringValue", "BinaryValue")}


def _delivery(message: dict[str, Any]) -> Delivery:
    attributes = message.get("MessageAttributes") or {}
    system = message.get("Attributes") or {}
    try:
        claim: ModerationMessage | None = ModerationMessage.model_validate_json(message["Body"])
    except ValueError:
        claim = None
    sent = system.get("SentTimestamp")
    sent_at = datetime.fromtimestamp(int(sent) / 1000, UTC) if sent else None
    queued = _string(attributes, QUEUED_AT)
    try:
        queued_at = datetime.fromisoformat(queued) if queued else sent_at
    except ValueError:
        queued_at = sent_at
    try:
        earlier = max(0, int(_string(attributes, DELIVERIES) or 0))
    except ValueError:
        earlier = 0
    return Delivery(
        message_id=str(message["MessageId"]),
        receipt=str(message["ReceiptHandle"]),
        claim=claim,
        body=str(message["Body"]),
        attributes={name: _attribute(value) for name, value in attributes.items()},
        receive_count=int(system.get("ApproximateReceiveCount", 1)),
        earlier_deliveries=earlier,
        sent_at=sent_at,
        queued_at=queued_at,
    )


class SqsModerationQueue:
    def __init__(self, client: Any, queue_url: str) -> None:
        self._sqs = client
        self._url = queue_url
        self._held: dict[str, Delivery] = {}  # receipt -> delivery, extended by the heartbeat
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._beat: threading.Thread | None = None
        self._hold = 0

    # -- intake ---------------------------------------------------------------------------------

    def send(self, message: ModerationMessage, *, org_id: str, category: str) -> None:
        self._sqs.send_message(
            QueueUrl=self._url,
            MessageBody=message.body(),
            MessageAttributes={
                "category": {"DataType": "String", "StringValue": category},
                "org_id": {"DataType": "String", "StringValue": org_id},
            },
        )

    # -- the console --------------------------------------------------------------------------------

    def receive(self, *, max_messages: int, wait_seconds: int, hold_seconds: int) -> list[Delivery]:
        """Up to ``max_messages`` (1-10) messages, held for ``hold_seconds`` and kept held by the
        heartbeat until ``delete`` or ``hand_back``."""
        response = self._sqs.receive_message(
            QueueUrl=self._url,
            MaxNumberOfMessages=max(1, min(BATCH, max_messages)),
            WaitTimeSeconds=wait_seconds,
            VisibilityTimeout=hold_seconds,
            AttributeNames=["SentTimestamp", "ApproximateReceiveCount"],
            MessageAttributeNames=["All"],
        )
        deliveries = [_delivery(message) for message in response.get("Messages", [])]
        with self._lock:
            self._held.update((d.receipt, d) for d in deliveries)
        self._start_heartbeat(hold_seconds)
        return deliveries

    def delete(self, deliveries: Sequence[Delivery]) -> None:
        """Delete what was decided or dropped (each message once)."""
        self._let_go(deliveries)
        for chunk in _chunks(deliveries):
            response = self._sqs.delete_message_batch(
                QueueUrl=self._url,
                Entries=[{"Id": str(i), "ReceiptHandle": d.receipt} for i, d in enumerate(chunk)],
            )
            for failed in response.get("Failed", []):
                # An expired receipt (held too long): the message returns and is dropped as decided.
                log.warning("a moderation message was not deleted: %s", failed.get("Message"))

    def release(self, deliveries: Sequence[Delivery]) -> None:
        """Stop holding these: they return when their hold ends, and that receive counts."""
        self._let_go(deliveries)

    def hand_back(self, deliveries: Sequence[Delivery], *, seen: bool = True) -> None:
        """Put these back on the queue now, as fresh copies that no receive has counted yet.
        ``seen``: this receive counts in the copy's ``deliveries`` (a moderator had it)."""
        for chunk in _chunks(deliveries):
            response = self._sqs.send_message_batch(
                QueueUrl=self._url,
                Entries=[
                    {"Id": str(i), "MessageBody": d.body, "MessageAttributes": _carried(d, seen)}
                    for i, d in enumerate(chunk)
                ],
            )
            sent = {int(entry["Id"]) for entry in response.get("Successful", [])}
            copied = [d for i, d in enumerate(chunk) if i in sent]
            if len(copied) < len(chunk):
                # Not copied: kept held until the hold ends, then it returns by itself (counted).
                log.warning("%d moderation message(s) not re-sent", len(chunk) - len(copied))
            if copied:
                self.delete(copied)
        self._let_go(deliveries)

    def held(self) -> list[Delivery]:
        with self._lock:
            return list(self._held.values())

    def close(self) -> None:
        """Stop the heartbeat (what is still held returns when its hold ends)."""
        self._stop.set()
        beat = self._beat
        if beat is not None:
            beat.join(5)

    def counts(self) -> QueueCounts:
        attributes = self._sqs.get_queue_attributes(QueueUrl=self._url, AttributeNames=list(_COUNTS))[
            "Attributes"
        ]
        waiting, in_flight, delayed = (int(attributes.get(name, 0)) for name in _COUNTS)
        return QueueCounts(waiting=waiting, in_flight=in_flight, delayed=delayed)

    # -- the heartbeat ------------------------------------------------------------------------------

    def _let_go(self, deliveries: Iterable[Delivery]) -> None:
        with self._lock:
            for delivery in deliveries:
                self._held.pop(delivery.receipt, None)

    def _start_heartbeat(self, hold_seconds: int) -> None:
        with self._lock:
            self._hold = hold_seconds
            if self._held and (self._beat is None or not self._beat.is_alive()) and not self._stop.is_set():
                self._beat = threading.Thread(target=self._heartbeat, name="moderation-hold", daemon=True)
                self._beat.start()

    def _heartbeat(self) -> None:
        """Extend every held message's visibility every third of the hold; ends when none is held."""
        while not self._stop.wait(max(1.0, self._hold / 3)):
            held = self.held()
            if not held:
                with self._lock:
                    if not self._held:
                        self._beat = None
                        return
                continue
            try:
                self.extend(held, self._hold)
            except Exception:  # the next beat tries again; a lost item simply returns to the queue
                log.warning("could not extend the hold on moderation messages", exc_info=True)

    def extend(self, deliveries: Sequence[Delivery], seconds: int) -> None:
        """Keep these invisible to others for ``seconds`` more."""
        for chunk in _chunks(deliveries):
            self._sqs.change_message_visibility_batch(
                QueueUrl=self._url,
                Entries=[
                    {"Id": str(i), "ReceiptHandle": d.receipt, "VisibilityTimeout": seconds}
                    for i, d in enumerate(chunk)
                ],
            )


def _carried(delivery: Delivery, seen: bool) -> dict[str, Any]:
    """The attributes of a fresh copy: the original ones, how often a console held the claim
    check without deciding (this receive too if ``seen``), and when it was first queued."""
    attributes = {
        name: value for name, value in delivery.attributes.items() if name not in (DELIVERIES, QUEUED_AT)
    }
    deliveries = delivery.deliveries if seen else delivery.deliveries - 1
    attributes[DELIVERIES] = {"DataType": "Number", "StringValue": str(max(0, deliveries))}
    if delivery.queued_at is not None:
        attributes[QUEUED_AT] = {"DataType": "String", "StringValue": delivery.queued_at.isoformat()}
    return attributes
