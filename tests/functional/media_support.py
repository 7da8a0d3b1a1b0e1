"""What the media tests share: the verification queue fed to its function, declaring and
uploading a file through the API and its presigned POST."""

from __future__ import annotations

from typing import Any

import boto3
import requests

from infra.bootstrap import LocalStack
from infra.lambdas import LocalFunctions
from infra.local.sources import SqsPoller, SqsSource
from tests.helpers import ApiClient


class Verifier:
    """The verification queue fed to MediaVerifyFunction as the local stack's poller does."""

    def __init__(self, stack: LocalStack, functions: LocalFunctions) -> None:
        self.sqs = boto3.client("sqs")
        self.queue_url = stack.ref("MediaVerificationQueue")
        source = SqsSource(
            function="MediaVerifyFunction",
            queue_url=self.queue_url,
            queue_arn=stack.attribute("MediaVerificationQueue", "Arn"),
            batch_size=1,
            report_failures=True,
        )
        self.poller = SqsPoller(
            self.sqs,
            source,
            lambda event: functions.invoke("MediaVerifyFunction", event),
            region="us-east-1",
            wait_seconds=0,
        )

    def drain(self) -> None:
        for _ in range(20):
            attributes = self.sqs.get_queue_attributes(
                QueueUrl=self.queue_url, AttributeNames=["ApproximateNumberOfMessages"]
            )["Attributes"]
            if attributes["ApproximateNumberOfMessages"] == "0":
                return
            self.poller.run_once()


def declare(
    client: ApiClient, data: bytes, content_type: str, *, filename: str = "file", size: int | None = None
) -> dict[str, Any]:
    response = client.post(
        "/media",
        {"filename": filename, "content_type": content_type, "bytes": len(data) if size is None else size},
    )
    assert response.status == 201, response.body
    return dict(response.json())


def upload(created: dict[str, Any], data: bytes, *, content_type: str | None = None) -> None:
    """A multipart/form-data POST to the presigned URL, as a browser's form sends it."""
    fields = dict(created["upload"]["fields"])
    if content_type is not None:
        fields["Content-Type"] = content_type
    answer = requests.post(created["upload"]["url"], data=fields, files={"file": ("f", data)}, timeout=10)
    assert answer.status_code in (200, 201, 204), answer.text


def uploaded(
    client: ApiClient, verifier: Verifier, data: bytes, content_type: str, **kwargs: Any
) -> dict[str, Any]:
    created = declare(client, data, content_type)
    upload(created, data, **kwargs)
    verifier.drain()
    response = client.get(f"/media/{created['id']}")
    assert response.status == 200, response.body
    return dict(response.json())
