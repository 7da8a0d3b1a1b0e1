"""Event sources of the local stack: what Lambda's pollers and EventBridge do in AWS.

- ``SqsPoller``: long-polls a queue and calls the function with real SQS event batches (batch
  size and batching window from the template), deleting only the records that succeeded
  (``ReportBatchItemFailures``); failures go back after the visibility timeout and, after
  ``maxReceiveCount``, to the dead-letter queue - SQS itself does that part.
- ``DynamoStreamPoller``: reads a DynamoDB table's stream (``Type: DynamoDB`` events) from its
  ``StartingPosition`` and calls the function with stream batches as Lambda does, in order: a
  batch is retried until it succeeds; with ``ReportBatchItemFailures`` from the first record the
  function reports failed (the records before it are done); with ``BisectBatchOnFunctionError`` a
  batch whose invocation raised is split in two and each half retried on its own; once
  ``MaximumRetryAttempts`` retries failed, the batch is described to the ``OnFailure``
  destination (an SQS queue) and skipped. ``position`` is the last sequence number done.
- ``ScheduleTimer``: calls a function on its ``rate(...)`` (``Schedule``/``ScheduleV2`` events).
- ``OneTimeScheduler``: fires due one-time EventBridge Scheduler schedules (moto stores them but
  never fires them), delivering their input to their target queue, then honours
  ``ActionAfterCompletion``.
"""

from __future__ import annotations

import base64
import hashlib
import json
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


@dataclass
class StreamSource:
    """One ``Type: DynamoDB`` event of a function, as the template declares it."""

    function: str
    stream_arn: str
    starting_position: str = "TRIM_HORIZON"
    batch_size: int = 100
    window_seconds: float = 0.0
    bisect: bool = False
    report_failures: bool = False
    max_retries: int = -1  # -1: for ever (on AWS, until the record leaves the stream after 24 h)
    on_failure_url: str | None = None  # an SQS queue

    @property
    def table(self) -> str:
        return self.stream_arn.split(":table/", 1)[-1].split("/", 1)[0]


def _lambda_attribute(value: Any) -> Any:
    """A DynamoDB attribute value as Lambda's event carries it (binary as base64 text)."""
    if isinstance(value, dict):
        converted: dict[str, Any] = {}
        for kind, inner in value.items():
            if kind == "B" and isinstance(inner, bytes | bytearray):
                converted[kind] = base64.b64encode(inner).decode("ascii")
            elif kind == "BS":
                converted[kind] = [
                    base64.b64encode(b).decode("ascii") if isinstance(b, bytes) else b for b in inner
                ]
            elif kind == "M":
                converted[kind] = {k: _lambda_attribute(v) for k, v in inner.items()}
            elif kind == "L":
                converted[kind] = [_lambda_attribute(v) for v in inner]
            else:
                converted[kind] = inner
        return converted
    return value


class _Failed:
    """How an invocation failed: ``raised`` (the whole batch) or from index ``first``."""

    def __init__(self, *, raised: bool, first: int = 0) -> None:
        self.raised = raised
        self.first = first


def streams_client() -> Any:
    """A DynamoDB Streams client for the emulation: botocore would otherwise send stream calls to
    an account-based endpoint (``{account}.streams-ddb...``), which moto does not answer."""
    import boto3
    from botocore.config import Config

    return boto3.client("dynamodbstreams", config=Config(account_id_endpoint_mode="disabled"))


class DynamoStreamPoller(_Worker):
    def __init__(
        self,
        streams: Any,
        sqs: Any,
        source: StreamSource,
        invoke: Invoke,
        *,
        region: str,
        poll_interval: float = 0.2,
        longest_retry_wait: float = 5.0,
    ) -> None:
        self.name = f"stream:{source.table}->{source.function}"
        super().__init__()
        self._streams = streams
        self._sqs = sqs
        self._source = source
        self._invoke = invoke
        self._region = region
        self._poll = poll_interval
        self._longest_wait = longest_retry_wait
        self._iterators: dict[str, str] = {}
        self.position: str | None = None  # the last sequence number done (None: none yet)
        self.batches = 0
        self.failures_sent = 0
        if source.starting_position == "LATEST":
            self._start_latest()

    @property
    def source(self) -> StreamSource:
        return self._source

    def _shards(self) -> list[str]:
        description = self._streams.describe_stream(StreamArn=self._source.stream_arn)["StreamDescription"]
        return [str(shard["ShardId"]) for shard in description.get("Shards") or []]

    def _start_latest(self) -> None:
        for shard in self._shards():
            iterator = self._streams.get_shard_iterator(
                StreamArn=self._source.stream_arn, ShardId=shard, ShardIteratorType="LATEST"
            )["ShardIterator"]
            self._iterators[shard] = iterator

    def _iterator(self, shard: str) -> str:
        if shard not in self._iterators:
            kind = "LATEST" if self._source.starting_position == "LATEST" else "TRIM_HORIZON"
            self._iterators[shard] = self._streams.get_shard_iterator(
                StreamArn=self._source.stream_arn, ShardId=shard, ShardIteratorType=kind
            )["ShardIterator"]
        return self._iterators[shard]

    def _read(self, shard: str, limit: int) -> list[dict[str, Any]]:
        response = self._streams.get_records(ShardIterator=self._iterator(shard), Limit=limit)
        if response.get("NextShardIterator"):
            self._iterators[shard] = response["NextShardIterator"]
        records: list[dict[str, Any]] = response.get("Records") or []
        return records

    def run_once(self) -> None:
        source = self._source
        for shard in self._shards():
            records = self._read(shard, source.batch_size)
            deadline = time.monotonic() + source.window_seconds
            while (
                records
                and len(records) < source.batch_size
                and time.monotonic() < deadline
                and not self._stop.is_set()
            ):
                more = self._read(shard, source.batch_size - len(records))
                if not more:
                    self._stop.wait(min(0.1, max(0.0, deadline - time.monotonic())))
                records.extend(more)
            if records and self._process(records, attempts=0):
                self.position = str(records[-1]["dynamodb"]["SequenceNumber"])
            if self._stop.is_set():
                return
        self._stop.wait(self._poll)

    def _process(self, batch: list[dict[str, Any]], *, attempts: int) -> bool:
        """Run ``batch`` to its end (success, or given up on); False if stopped half-way."""
        while batch:
            failed = self._deliver(batch)
            if failed is None:
                return True
            attempts += 1
            if 0 <= self._source.max_retries < attempts:
                self._give_up(batch, attempts)
                return True
            if failed.raised and self._source.bisect and len(batch) > 1:
                half = len(batch) // 2
                return self._process(batch[:half], attempts=attempts) and self._process(
                    batch[half:], attempts=attempts
                )
            batch = batch[failed.first :]
            if self._stop.wait(min(self._longest_wait, 0.25 * 2 ** (attempts - 1))):
                return False
        return True

    def _deliver(self, batch: list[dict[str, Any]]) -> _Failed | None:
        """Invoke the function with ``batch``: None when it succeeded, else how it failed."""
        started = time.perf_counter()
        failed: _Failed | None = None
        try:
            result = self._invoke({"Records": [self._record(r) for r in batch]})
        except Exception:
            log.exception("%s: the function failed on %d records", self.name, len(batch))
            failed = _Failed(raised=True)
        else:
            failed = self._reported(batch, result)
        self.batches += 1
        log.info(
            "batch %s -> %s: %d records, %s (%.0f ms)",
            self._source.table,
            self._source.function,
            len(batch),
            "ok" if failed is None else ("raised" if failed.raised else f"failed from #{failed.first}"),
            (time.perf_counter() - started) * 1000,
        )
        return failed

    def _reported(self, batch: list[dict[str, Any]], result: Any) -> _Failed | None:
        if not (self._source.report_failures and isinstance(result, dict)):
            return None
        named = [str(f.get("itemIdentifier") or "") for f in result.get("batchItemFailures") or []]
        if not named:
            return None
        sequences = [str(r["dynamodb"]["SequenceNumber"]) for r in batch]
        found = [sequences.index(n) for n in named if n in sequences]
        if len(found) != len(named):  # an empty or unknown identifier: Lambda fails the whole batch
            return _Failed(raised=False, first=0)
        return _Failed(raised=False, first=min(found))

    def _record(self, record: dict[str, Any]) -> dict[str, Any]:
        change = dict(record.get("dynamodb") or {})
        created = change.get("ApproximateCreationDateTime")
        if isinstance(created, datetime):
            change["ApproximateCreationDateTime"] = int(created.timestamp())
        for image in ("Keys", "NewImage", "OldImage"):
            if image in change:
                change[image] = {k: _lambda_attribute(v) for k, v in change[image].items()}
        return {
            "eventID": record.get("eventID"),
            "eventName": record.get("eventName"),
            "eventVersion": record.get("eventVersion", "1.1"),
            "eventSource": "aws:dynamodb",
            "awsRegion": self._region,
            "dynamodb": change,
            "eventSourceARN": self._source.stream_arn,
        }

    def _give_up(self, batch: list[dict[str, Any]], attempts: int) -> None:
        """Lambda's on-failure record of a batch that failed every retry; the batch is skipped."""
        first, last = batch[0]["dynamodb"], batch[-1]["dynamodb"]
        log.error("%s: %d records failed %d times; skipped", self.name, len(batch), attempts)
        if self._source.on_failure_url is None:
            return
        now = datetime.now(UTC).isoformat().replace("+00:00", "Z")
        document = {
            "requestContext": {
                "requestId": str(uuid.uuid4()),
                "functionArn": f"arn:aws:lambda:{self._region}:123456789012:function:{self._source.function}",
                "condition": "RetryAttemptsExhausted",
                "approximateInvokeCount": attempts,
            },
            "responseContext": {
                "statusCode": 200,
                "executedVersion": "$LATEST",
                "functionError": "Unhandled",
            },
            "version": "1.0",
            "timestamp": now,
            "DDBStreamBatchInfo": {
                "shardId": "local",
                "startSequenceNumber": str(first["SequenceNumber"]),
                "endSequenceNumber": str(last["SequenceNumber"]),
                "batchSize": len(batch),
                "streamArn": self._source.stream_arn,
            },
        }
        self._sqs.send_message(QueueUrl=self._source.on_failure_url, MessageBody=json.dumps(document))
        self.failures_sent += 1


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
