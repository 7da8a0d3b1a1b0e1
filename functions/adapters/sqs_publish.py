"""Publish queue: ``{"release_id", "version", "action": "publish" | "kill"}`` for the publisher."""

from __future__ import annotations

import json
from typing import Any

ACTIONS = ("publish", "kill")


class SqsPublishQueue:
    def __init__(self, client: Any, queue_url: str) -> None:
        self._sqs = client
        self._url = queue_url

    def send(self, *, release_id: str, version: int, action: str, reason: str | None = None) -> None:
        if action not in ACTIONS:
            raise ValueError(f"unknown publish action {action!r}")
        message: dict[str, Any] = {"release_id": release_id, "version": version, "action": action}
        if reason:
            message["reason"] = reason
        self._sqs.send_message(
            QueueUrl=self._url,
            MessageBody=json.dumps(message),
            MessageAttributes={"action": {"DataType": "String", "StringValue": action}},
        )
