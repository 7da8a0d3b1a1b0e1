"""Event sources of the local stack: what Lambda's pollers and EventBridge do in AWS.

- ``SqsPoller``: long-polls a queue and calls the function with real SQS event batches (batch
  size and batching window from the template), deleting only the records that succeeded
  (``ReportBatchItemFailures``); failures go back after the visibility timeout and, after
  ``maxReceiveCount``, to the dead-letter queue - SQS itself does that part.
- ``ScheduleTimer``: calls a function on its ``rate(...)`` (``Schedule``/``ScheduleV2`` events).
- ``OneTimeScheduler``: fires due one-time EventBridge Scheduler schedules (moto stores them but
  never fires them), delivering their input to their target queue, then honours
  ``ActionAfterCompletion``.
"""

from __future__ import annotations

import hashlib
import logging
import re
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

log = logging.getLogger("press_intake.local")

Invoke = Callable[[dict[str, Any]], Any]

_RATE = re.compile(r"^rate\(\s*(\d+)\s+(second|minute|hour|day)s?\s*\)$")
_UNIT_SECONDS = {"second": 1, "minute": 60, "hour": 3600, "day": 86400}
_AT = re.compile(r"^at\((\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})\)$")


def rate_seconds(expression: str) -> float | None:
    """Seconds between runs for ``rate(N unit)``; ``None`` for anything else (cron)."""
    match = _RATE.match(expression.strip())
    if not match:
        return None
    return int(match.group(1)) * _UNIT_SECONDS[match.group(2)]


class _Worker:
    """A named background thread with a stop event."""

    name = "worker"

    def __init__(self) -> None:
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run_safely, name=self.name, daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()

    def join(self, timeout: float = 5.0) -> None:
        self._thread.join(timeout)

    @property
    def alive(self) -> bool:
        return self._thread.is_alive()

    def _run_safely(self) -> None:
        while not self._stop.is_set():
            try:
                self.run_once()
            except Exception:
                if self._stop.is_set():
                    return
                log.exception("%s failed; retrying", self.name)
                self._stop.wait(1.0)

    def run_once(self) -> None:
        raise NotImplementedError


@dataclass
class SqsSource:
    """One ``Type: SQS`` event of a function, as the template declares it."""

    function: str
    queue_url: str
    queue_arn: str
    batch_size: int = 10
    window_seconds: float = 0.0
    report_failures: bool = False
    enabled: bool = True


class SqsPoller(_Worker):
    def __init__(
        self, sqs: Any, source: SqsSource, invoke: Invoke, *, region: str, wait_seconds: int = 1
    ) -> None:
        self.name = f"sqs:{source.queue_arn.rsplit(':', 1)[-1]}->{source.function}"
        super().__init__()
        self._sqs = sqs
        self._source = source
        self._invoke = invoke
        self._region = region
        self._wait = wait_seconds
        self.batches = 0

    def _receive(self, limit: int, wait: int) -> list[dict[str, Any]]:
        response = self._sqs.receive_message(
            QueueUrl=self._source.queue_url,
            MaxNumberOfMessages=max(1, min(10, limit)),
            WaitTimeSeconds=wait,
            AttributeNames=["All"],
            MessageAttributeNames=["All"],
        )
        messages: list[dict[str, Any]] = response.get("Messages", [])
        return messages

    def run_once(self) -> None:
        source = self._source
        messages = self._receive(source.batch_size, self._wait)
        if not messages:
            return
        deadline = time.monotonic() + source.window_seconds
        while len(messages) < source.batch_size and time.monotonic() < deadline and not self._stop.is_set():
            more = self._receive(source.batch_size - len(messages), 0)
            if not more:
                self._stop.wait(min(0.2, max(0.0, deadline - time.monotonic())))
            messages.extend(more)
        self.deliver(messages)

    def deliver(self, messages: list[dict[str, Any]]) -> None:
        source = self._source
        started = time.perf_counter()
        failed = self._failed(messages)
        done = [m for m in messages if m["MessageId"] not in failed]
        for start in range(0, len(done), 10):
            chunk = done[start : start + 10]
            self._sqs.delete_message_batch(
                QueueUrl=source.queue_url,
                Entries=[{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(chunk)],
            )
        self.batches += 1
        log.info(
            "batch %s -> %s: %d records, %d failed (%.0f ms)",
            source.queue_arn.rsplit(":", 1)[-1],
            source.function,
            len(messages),
            len(failed),
            (time.perf_counter() - started) * 1000,
        )

    def _failed(self, messages: list[dict[str, Any]]) -> set[str]:
        """Invoke the function with the batch; the ids of the messages that failed (all of them
        when the function raised, else those its partial batch response names, if it may)."""
        try:
            result = self._invoke({"Records": [self._record(m) for m in messages]})
        except Exception:
            log.exception("%s: the function failed; the whole batch returns to the queue", self.name)
            return {m["MessageId"] for m in messages}
        if not (self._source.report_failures and isinstance(result, dict)):
            return set()
        return {str(f.get("itemIdentifier")) for f in result.get("batchItemFailures") or []}

    def _record(self, message: dict[str, Any]) -> dict[str, Any]:
        body = message.get("Body", "")
        attributes = {
            name: {
                "stringValue": value.get("StringValue"),
                "binaryValue": value.get("BinaryValue"),
                "stringListValues": [],
                "binaryListValues": [],
                "dataType": value.get("DataType", "String"),
            }
            for name, value in (message.get("MessageAttributes") or {}).items()
        }
        return {
            "messageId": message["MessageId"],
            "receiptHandle": message["ReceiptHandle"],
            "body": body,
            "attributes": dict(message.get("Attributes") or {}),
            "messageAttributes": attributes,
            "md5OfBody": message.get("MD5OfBody")
            or hashlib.md5(body.encode(), usedforsecurity=False).hexdigest(),
            "eventSource": "aws:sqs",
            "eventSourceARN": self._source.queue_arn,
            "awsRegion": self._region,
        }


class ScheduleTimer(_Worker):
    """Calls a function every ``interval`` seconds with an EventBridge scheduled event."""

    def __init__(self, function: str, interval: float, invoke: Invoke, *, region: str, rule_arn: str) -> None:
        self.name = f"schedule:{function}"
        super().__init__()
        self._function = function
        self._interval = interval
        self._invoke = invoke
        self._region = region
        self._rule_arn = rule_arn
        self.runs = 0

    def run_once(self) -> None:
        if self._stop.wait(self._interval):
            return
        event = {
            "version": "0",
            "id": str(uuid.uuid4()),
            "detail-type": "Scheduled Event",
            "source": "aws.events",
            "account": "123456789012",
            "time": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "region": self._region,
            "resources": [self._rule_arn],
            "detail": {},
        }
        started = time.perf_counter()
        try:
            result = self._invoke(event)
        except Exception:
            log.exception("scheduled run of %s failed", self._function)
            return
        finally:
            self.runs += 1
        log.debug(
            "scheduled %s: %s (%.0f ms)", self._function, result, (time.perf_counter() - started) * 1000
        )


class OneTimeScheduler(_Worker):
    """Fires due ``at(...)`` schedules of EventBridge Scheduler into their SQS targets."""

    name = "scheduler"

    def __init__(
        self,
        scheduler: Any,
        sqs: Any,
        *,
        interval: float = 1.0,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        super().__init__()
        self.scheduler = scheduler
        self.sqs = sqs
        self.interval = interval
        self.clock = clock
        self.fired: set[tuple[str, str]] = set()

    def run_once(self) -> None:
        self.fire_due()
        self._stop.wait(self.interval)

    def fire_due(self) -> int:
        fired = 0
        groups = [g["Name"] for g in self.scheduler.list_schedule_groups().get("ScheduleGroups", [])]
        for group in groups or ["default"]:
            for summary in self.scheduler.list_schedules(GroupName=group).get("Schedules", []):
                if summary.get("State") == "DISABLED" or (group, summary["Name"]) in self.fired:
                    continue
                schedule = self.scheduler.get_schedule(GroupName=group, Name=summary["Name"])
                due = _due_at(schedule)
                if due is None or due > self.clock():
                    continue
                self._deliver(schedule)
                fired += 1
                if schedule.get("ActionAfterCompletion") == "DELETE":
                    self.scheduler.delete_schedule(GroupName=group, Name=summary["Name"])
                else:
                    self.fired.add((group, summary["Name"]))
                log.info("schedule %s/%s fired", group, summary["Name"])
        return fired

    def _deliver(self, schedule: dict[str, Any]) -> None:
        target = schedule["Target"]
        arn = str(target["Arn"])
        if not arn.startswith("arn:aws:sqs:"):
            raise ValueError(f"schedule {schedule['Name']}: only SQS targets run locally, not {arn}")
        queue_name = arn.rsplit(":", 1)[-1]
        url = self.sqs.get_queue_url(QueueName=queue_name)["QueueUrl"]
        request: dict[str, Any] = {"QueueUrl": url, "MessageBody": target.get("Input") or "{}"}
        group_id = (target.get("SqsParameters") or {}).get("MessageGroupId")
        if group_id:
            request["MessageGroupId"] = group_id
        self.sqs.send_message(**request)


def _due_at(schedule: dict[str, Any]) -> datetime | None:
    match = _AT.match(str(schedule.get("ScheduleExpression", "")))
    if not match:
        return None
    zone = ZoneInfo(schedule.get("ScheduleExpressionTimezone") or "UTC")
    return datetime.fromisoformat(match.group(1)).replace(tzinfo=zone)
