"""The API function's settings (``functions.handlers.api``)."""

import re
from typing import Annotated, Literal

from pydantic import Field, field_validator

from functions.settings import FunctionSettings


class ApiSettings(FunctionSettings):
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
    media_table: Annotated[str, Field(min_length=3)]
    media_bucket: Annotated[str, Field(min_length=3, description="The private uploads bucket.")]
    # The organisation indexes GET /releases reads: the v2 ones, or while the template's
    # OrgIndexMigration is at its first steps, those they replace.
    org_index: Literal["by_org_v2", "by_org"] = "by_org_v2"
    org_status_index: Literal["by_org_status_v2", "by_org_status"] = "by_org_status_v2"


# An origin as browsers send it: scheme, host and an optional port; no path, no trailing slash.
_ORIGIN = re.compile(
    r"^https?://[A-Za-z0-9.-]+(?::[0-9]{1,5})?$|^https?://\[[0-9A-Fa-f:.]+\](?::[0-9]{1,5})?$"
)


class CorsSettings(FunctionSettings):
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
