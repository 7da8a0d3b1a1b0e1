"""Runtime settings: a pydantic model per function, validated once at cold start.

Only the function modules (``functions/handlers/``) call ``from_env``, on first use; everything
else receives plain values.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Annotated, Self

from pydantic import BaseModel, ConfigDict, Field, field_validator


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
    media_table: Annotated[str, Field(min_length=3)]
    media_bucket: Annotated[str, Field(min_length=3, description="The private uploads bucket.")]


# An origin as browsers send it: scheme, host and an optional port; no path, no trailing slash.
_ORIGIN = re.compile(
    r"^https?://[A-Za-z0-9.-]+(?::[0-9]{1,5})?$|^https?://\[[0-9A-Fa-f:.]+\](?::[0-9]{1,5})?$"
)


class CorsSettings(_Settings):
    """Which browser origins may read the API's answers (the web desk's): ``DESK_ORIGINS``,
    comma-separated, e.g. ``https://news.example.org,https://desk.example.org``."""

    desk_origins: tuple[str, ...] = ()

    @field_validator("desk_origins", mode="before")
    @classmethod
    def _split(cls, value: object) -> object:
        if isinstance(value, str):
            return tuple(part.strip().rstrip("/") for part in value.split(",") if part.strip())
        return value

    @field_validator("desk_origins")
    @classmethod
    def _origins(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for origin in value:
            if not _ORIGIN.match(origin):
                raise ValueError(f"{origin!r} is not an origin such as https://news.example.org")
        return value


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
    media_bucket: Annotated[
        str | None, Field(min_length=3, description="Where the attachments' renditions are copied from.")
    ] = None


class MediaVerifySettings(_Settings):
    media_table: Annotated[str, Field(min_length=3)]
    media_bucket: Annotated[str, Field(min_length=3, description="The private uploads bucket.")]


class DeskFilesSettings(_Settings):
    # Where the DeskFilesLayer puts the desk's files (Lambda unpacks layers under /opt).
    desk_files_dir: Annotated[str, Field(min_length=1)] = "/opt/desk"
