"""The queue messages, one model each: what the senders write and the consumers read.

- moderation queue: ``{"release_id", "version"}``, a claim check (the release stays in the
  releases bucket); the organisation and category travel as message attributes. Sent by intake
  and by the outbox sweep, read by the moderators' console (``press-intake moderate``).
- publish queue: ``{"release_id", "version", "action": "publish" | "kill"}`` (+ ``reason`` for a
  kill). Sent by moderation (approve), the outbox sweep, the publisher itself (an early delivery
  re-armed, delayed), the one-time schedules (their input) and ``press-intake moderate kill``;
  read by the publisher function.
- events queue: ``WebhookJob`` (one event for one webhook) or ``MailJob`` (one e-mail for one
  recipient), told apart by ``kind``. Sent by the events function (from the releases table's
  stream), the API (``POST /webhooks/{id}/test``) and the delivery function itself (a retry,
  delayed; the notice that a webhook was disabled); read by the delivery function.

Unknown fields are ignored, so that a newer sender never strands a message at an older consumer.
Each model is built on first use (``defer_build``): a function builds only those it sends or reads.
"""

from datetime import datetime
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field


class _Message(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore", defer_build=True)

    release_id: Annotated[str, Field(min_length=1, max_length=100, description="The release's id.")]
    # Not bounded: a version the release is not at (older, or none it ever had) is a stale
    # message, which its consumer drops; it is not a malformed one.
    version: Annotated[int, Field(description="The release version the message is about.")]

    def body(self) -> str:
        """The message body as sent (JSON, without the fields that are not set)."""
        return self.model_dump_json(exclude_none=True)


class ModerationMessage(_Message):
    """A release version waiting for a moderator's decision."""


class PublishAction(StrEnum):
    PUBLISH = "publish"
    KILL = "kill"


class PublishMessage(_Message):
    """Publish a release version (at its release time), or take a published release down."""

    action: Annotated[PublishAction, Field(description="What the publisher does.")] = PublishAction.PUBLISH
    reason: Annotated[
        str | None, Field(max_length=100, description="A kill's reason code (moderation's REASON_CODES).")
    ] = None


# ---------------------------------------------------------------------------------------------
# The events queue: one job per delivery (a webhook, or one e-mail recipient)
# ---------------------------------------------------------------------------------------------


class JobKind(StrEnum):
    WEBHOOK = "webhook"
    MAIL = "mail"


class _Job(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore", defer_build=True)

    event_id: Annotated[str, Field(min_length=1, max_length=100, description="The webhook-id.")]
    event_type: Annotated[str, Field(min_length=1, max_length=100)]
    org_id: Annotated[str, Field(min_length=1, max_length=100)]

    def body(self) -> str:
        return self.model_dump_json(exclude_none=True)


class WebhookJob(_Job):
    """Deliver one event to one webhook: ``payload`` is the exact body, signed on each attempt.

    ``attempt`` counts from 1; a failed attempt is sent again as attempt + 1 with ``not_before``
    set by the backoff schedule, until ``first_attempt_at`` is 24 hours old."""

    kind: Literal[JobKind.WEBHOOK] = JobKind.WEBHOOK
    webhook_id: Annotated[str, Field(min_length=1, max_length=100)]
    payload: Annotated[str, Field(min_length=2, max_length=64 * 1024)]
    attempt: Annotated[int, Field(ge=1, le=1000)] = 1
    first_attempt_at: datetime | None = None
    not_before: datetime | None = None
    # Whom to tell if this webhook is disabled while delivering it (the release's contact).
    notify: tuple[str, ...] = ()

    def retry(self, *, not_before: datetime, first_attempt_at: datetime) -> "WebhookJob":
        return self.model_copy(
            update={
                "attempt": self.attempt + 1,
                "not_before": not_before,
                "first_attempt_at": first_attempt_at,
            }
        )


class DecisionNotice(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore", defer_build=True)

    action: str
    reason_codes: tuple[str, ...] = ()
    note: str | None = None


class ReleaseNotice(BaseModel):
    """What an e-mail about a release says (rendered by the delivery function)."""

    model_config = ConfigDict(frozen=True, extra="ignore", defer_build=True)

    topic: Literal["release"] = "release"
    release_id: str
    version: int
    headline: str
    org_name: str = ""
    status: str
    decision: DecisionNotice | None = None
    public_url: str | None = None


class WebhookDisabledNotice(BaseModel):
    """What the e-mail telling an organisation its webhook was disabled says."""

    model_config = ConfigDict(frozen=True, extra="ignore", defer_build=True)

    topic: Literal["webhook_disabled"] = "webhook_disabled"
    webhook_id: str
    url: str
    failing_since: datetime
    reason: str


class MailJob(_Job):
    """Send one e-mail to one recipient (the job id is what makes a redelivery send nothing)."""

    kind: Literal[JobKind.MAIL] = JobKind.MAIL
    recipient: Annotated[str, Field(min_length=3, max_length=320)]
    notice: Annotated[ReleaseNotice | WebhookDisabledNotice, Field(discriminator="topic")]

    @property
    def job_id(self) -> str:
        return f"{self.event_id}:{self.recipient.lower()}"


DeliveryJob = Annotated[WebhookJob | MailJob, Field(discriminator="kind")]
