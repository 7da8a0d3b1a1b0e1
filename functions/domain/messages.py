"""The queue messages, one model each: what the senders write and the consumers read.

- moderation queue: ``{"release_id", "version"}``, a claim check (the release stays in the
  releases bucket); the organisation and category travel as message attributes. Sent by intake
  and by the outbox sweep, read by the moderators' console (``press-intake moderate``).
- publish queue: ``{"release_id", "version", "action": "publish" | "kill"}`` (+ ``reason`` for a
  kill). Sent by moderation (approve), the outbox sweep, the publisher itself (an early delivery
  re-armed, delayed), the one-time schedules (their input) and ``press-intake moderate kill``;
  read by the publisher function.

Unknown fields are ignored, so that a newer sender never strands a message at an older consumer.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field


class _Message(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")

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
