"""Publish queue: ``PublishMessage`` for the publisher, and its dead-letter queue, where the
publisher puts a message that can never succeed."""

from __future__ import annotations

from typing import Any

from functions.domain.messages import PublishMessage

MAX_DELAY_SECONDS = 900  # SQS's limit for DelaySeconds
_ATTRIBUTE_MAX = 1024  # a failure's detail is cut to this many characters


class SqsPublishQueue:
    def __init__(self, client: Any, queue_url: str) -> None:
        self._sqs = client
        self._url = queue_url

    def send(self, message: PublishMessage, *, delay_seconds: int = 0) -> None:
        """Send one message; ``delay_seconds`` (0-900) keeps it invisible that long."""
        if not 0 <= delay_seconds <= MAX_DELAY_SECONDS:
            raise ValueError(f"delay_seconds must be 0-{MAX_DELAY_SECONDS}, not {delay_seconds}")
        request: dict[str, Any] = {
            "QueueUrl": self._url,
            "MessageBody": message.body(),
            "MessageAttributes": {"action": {"DataType": "String", "StringValue": message.action.value}},
        }
        if delay_seconds:
            request["DelaySeconds"] = delay_seconds
        self._sqs.send_message(**request)


# Message attributes of a dead letter the publisher put there itself (``press-intake dlq list``
# shows them as its reason).
FAILURE = "failure"
FAILURE_DETAIL = "failure_detail"
RELEASE_ID = "release_id"


class SqsDeadLetters:
    """The publish dead-letter queue, written directly for failures that retries cannot fix."""

    def __init__(self, client: Any, queue_url: str) -> None:
        self._sqs = client
        self._url = queue_url

    def send(self, message: PublishMessage, *, failure: str, detail: str) -> None:
        attributes = {
            FAILURE: {"DataType": "String", "StringValue": failure},
            FAILURE_DETAIL: {"DataType": "String", "StringValue": detail[:_ATTRIBUTE_MAX] or "-"},
            RELEASE_ID: {"DataType": "String", "StringValue": message.release_id},
        }
        self._sqs.send_message(QueueUrl=self._url, MessageBody=message.body(), MessageAttributes=attributes)
