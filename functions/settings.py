"""Runtime settings: a pydantic model per function, validated once at cold start.

Only the function modules (``functions/handlers/``) call ``from_env``, on first use; everything
else receives plain values.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Self

from pydantic import BaseModel, ConfigDict, Field


class _Settings(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> Self:
        """Build from environment variables named like the fields, upper-cased."""
        values = {name: env[name.upper()] for name in cls.model_fields if name.upper() in env}
        return cls.model_validate(values)


class ApiSettings(_Settings):
    releases_bucket: Annotated[str, Field(min_length=3)]
    releases_table: Annotated[str, Field(min_length=3)]
    idempotency_table: Annotated[str, Field(min_length=3)]
    moderation_queue_url: Annotated[str, Field(min_length=8)]
    idempotency_ttl_seconds: Annotated[int, Field(ge=60, le=7 * 24 * 3600)] = 24 * 3600
    schedule_group: str | None = None
    webhooks_table: Annotated[str, Field(min_length=3)]
    webhook_secrets_key: Annotated[str, Field(min_length=1, description="KMS key sealing signing secrets.")]
    events_queue_url: Annotated[str, Field(min_length=8, description="Where webhook tests are queued.")]
    # The local stack's setting (never the template's): webhooks on http://127.0.0.1 and loopback.
    webhooks_allow_loopback: bool = False


class OutboxSweepSettings(_Settings):
    releases_table: Annotated[str, Field(min_length=3)]
    moderation_queue_url: Annotated[str, Field(min_length=8)]
    publish_queue_url: Annotated[str, Field(min_length=8)]
    outbox_grace_seconds: Annotated[int, Field(ge=0, le=3600)] = 60
    outbox_batch: Annotated[int, Field(ge=1, le=1000)] = 200


class AuthorizerSettings(_Settings):
    keys_table: Annotated[str, Field(min_length=3)]


class PublisherSettings(_Settings):
    releases_bucket: Annotated[str, Field(min_length=3)]
    releases_table: Annotated[str, Field(min_length=3)]
    site_bucket: Annotated[str, Field(min_length=3)]
    site_url: Annotated[str, Field(pattern=r"^https?://.+/$", description="Public base URL, ending in /.")]
    schedule_group: Annotated[str, Field(min_length=1)]
    scheduler_role_arn: Annotated[str, Field(min_length=20)]
    publish_queue_arn: Annotated[str, Field(min_length=20)]
    publish_queue_url: Annotated[
        str, Field(min_length=8, description="Where an early delivery re-arms itself, delayed.")
    ]
    publish_dead_letter_queue_url: Annotated[
        str, Field(min_length=8, description="Where a release that cannot be rendered goes, with why.")
    ]
    # At most 100: a catalog holds this many entries with their bodies (see s3_catalog).
    feed_size: Annotated[int, Field(ge=1, le=100)] = 50


class EventsSettings(_Settings):
    """The events function: the releases table's stream -> delivery jobs."""

    releases_bucket: Annotated[str, Field(min_length=3, description="Where a release's contact is read.")]
    webhooks_table: Annotated[str, Field(min_length=3)]
    events_queue_url: Annotated[str, Field(min_length=8)]
    mail_from: Annotated[str, Field(description="The sender address; empty: no e-mail at all.")] = ""


class DeliverySettings(_Settings):
    """The delivery function: the events queue -> webhooks and e-mail."""

    webhooks_table: Annotated[str, Field(min_length=3)]
    events_queue_url: Annotated[str, Field(min_length=8)]
    events_dead_letter_queue_url: Annotated[str, Field(min_length=8)]
    webhook_secrets_key: Annotated[str, Field(min_length=1)]
    mail_from: str = ""
    mail_configuration_set: str = ""
    site_name: Annotated[str, Field(min_length=1, max_length=80)] = "Newsroom"
    webhooks_allow_loopback: bool = False
    webhook_timeout_seconds: Annotated[float, Field(gt=0, le=30)] = 5.0
