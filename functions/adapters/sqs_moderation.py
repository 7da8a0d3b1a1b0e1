"""Moderation queue: claim-check messages (``ModerationMessage``); the release stays in S3."""

from __future__ import annotations

from typing import Any

from functions.domain.messages import ModerationMessage


class SqsModerationQueue:
    def __init__(self, client: Any, queue_url: str) -> None:
        self._sqs = client
        self._url = queue_url

    def send(self, message: ModerationMessage, *, org_id: str, category: str) -> None:
        self._sqs.send_message(
            QueueUrl=self._url,
            MessageBody=message.body(),
            MessageAttributes={
                "category": {"DataType": "String", "StringValue": category},
                "org_id": {"DataType": "String", "StringValue": org_id},
            },
        )
