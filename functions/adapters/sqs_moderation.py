"""Moderation queue: claim-check messages ``{"release_id", "version"}``; the release stays in S3."""

from __future__ import annotations

import json
from typing import Any


class SqsModerationQueue:
    def __init__(self, client: Any, queue_url: str) -> None:
        self._sqs = client
        self._url = queue_url

    def send(self, *, release_id: str, version: int, org_id: str, category: str) -> None:
        self._sqs.send_message(
            QueueUrl=self._url,
            MessageBody=json.dumps({"release_id": release_id, "version": version}),
            MessageAttributes={
                "category": {"DataType": "String", "StringValue": category},
                "org_id": {"DataType": "String", "StringValue": org_id},
            },
        )
