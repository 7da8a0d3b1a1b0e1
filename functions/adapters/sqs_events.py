"""Events queue: delivery jobs (``WebhookJob``, ``MailJob``) for the delivery function, and its
dead-letter queue, where a job that will never succeed goes with the reason."""

from __future__ import annotations

from typing import Any

from functions.domain.messages import MailJob, WebhookJob

MAX_DELAY_SECONDS = 900  # SQS's limit for DelaySeconds
_ATTRIBUTE_MAX = 1024
# Message attributes of a dead letter the delivery function put there itself (as the publisher's).
FAILURE = "failure"
FAILURE_DETAIL = "failure_detail"


def _attributes(job: WebhookJob | MailJob) -> dict[str, Any]:
    return {
        "kind": {"DataType": "String", "StringValue": job.kind.value},
        "event_type": {"DataType": "String", "StringValue": job.event_type},
        "org_id": {"DataType": "String", "StringValue": job.org_id},
    }


class SqsEventsQueue:
    def __init__(self, client: Any, queue_url: str, dead_letter_url: str | None = None) -> None:
        self._sqs = client
        self._url = queue_url
        self._dead_letters = dead_letter_url

    def send(self, job: WebhookJob | MailJob, *, delay_seconds: int = 0) -> None:
        if not 0 <= delay_seconds <= MAX_DELAY_SECONDS:
            raise ValueError(f"delay_seconds must be 0-{MAX_DELAY_SECONDS}, not {delay_seconds}")
        request: dict[str, Any] = {
            "QueueUrl": self._url,
            "MessageBody": job.body(),
            "MessageAttributes": _attributes(job),
        }
        if delay_seconds:
            request["DelaySeconds"] = delay_seconds
        self._sqs.send_message(**request)

    def send_all(self, jobs: list[WebhookJob | MailJob]) -> None:
        for start in range(0, len(jobs), 10):
            chunk = jobs[start : start + 10]
            response = self._sqs.send_message_batch(
                QueueUrl=self._url,
                Entries=[
                    {"Id": str(i), "MessageBody": job.body(), "MessageAttributes": _attributes(job)}
                    for i, job in enumerate(chunk)
                ],
            )
            failed = response.get("Failed") or []
            if failed:  # raise: the caller's record fails and is retried (receivers de-duplicate)
                reasons = ", ".join(f"{f.get('Code')}: {f.get('Message')}" for f in failed)
                raise RuntimeError(f"{len(failed)} of {len(chunk)} jobs were not queued ({reasons})")

    def dead_letter(self, job: WebhookJob | MailJob, *, failure: str, detail: str) -> None:
        if self._dead_letters is None:
            raise RuntimeError("this queue was given no dead-letter queue")
        attributes = {
            **_attributes(job),
            FAILURE: {"DataType": "String", "StringValue": failure},
            FAILURE_DETAIL: {"DataType": "String", "StringValue": detail[:_ATTRIBUTE_MAX] or "-"},
        }
        self._sqs.send_message(
            QueueUrl=self._dead_letters, MessageBody=job.body(), MessageAttributes=attributes
        )
