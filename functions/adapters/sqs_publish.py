"""Publish queue: ``{"release_id", "version", "action": "publish" | "kill"}`` for the publisher,
and its dead-letter queue, where the publisher puts a message that can never succeed."""

from __future__ import annotations

import json
from typing import Any

ACTIONS = ("publish", "kill")
MAX_DELAY_SECONDS = 900  # SQS's limit for DelaySeconds
_ATTRIBUTE_MAX = 1024  # a failure's detail is cut to this many characters


class SqsPublishQueue:
    def __init__(self, client: Any, queue_url: str) -> None:
        self._sqs = client
        self._url = queue_url

    def send(
        self,
        *,
        release_id: str,
        version: int,
        action: str,
        reason: str | None = None,
        delay_seconds: int = 0,
    ) -> None:
        """Send one message; ``delay_seconds`` (0-900) keeps it invisible that long."""
        if action not in ACTIONS:
            raise ValueError(f"unknown publish action {action!r}")
        if not 0 <= delay_seconds <= MAX_DELAY_SECONDS:
            raise ValueError(f"delay_seconds must be 0-{MAX_DELAY_SECONDS}, not {delay_seconds}")
        message: dict[str, Any] = {"release_id": release_id, "version": version, "action": action}
        if reason:
            message["reason"] = reason
        request: dict[str, Any] = {
            "QueueUrl": self._url,
            "MessageBody": json.dumps(message),
            "MessageAttributes": {"action": {"DataType": "String", "StringValue": action}},
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

    def send(self, body: str, *, failure: str, detail: str, release_id: str | None = None) -> None:
        attributes = {
            FAILURE: {"DataType": "String", "StringValue": failure},
            FAILURE_DETAIL: {"DataType": "String", "StringValue": detail[:_ATTRIBUTE_MAX] or "-"},
        }
        if release_id:
            attributes[RELEASE_ID] = {"DataType": "String", "StringValue": release_id}
        self._sqs.send_message(QueueUrl=self._url, MessageBody=body, MessageAttributes=attributes)
