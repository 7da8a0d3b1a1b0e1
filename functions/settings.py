"""Runtime settings: a pydantic model per function, validated once at cold start.

Only the function modules (``functions/handlers/``) call ``from_env``, on first use; everything
else receives plain values.
"""

import re
from collections.abc import Mapping
from typing import Annotated, Literal, Self

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator

from functions.domain.site import DEFAULT_COPYRIGHT_NOTICE, DEFAULT_NAME, DEFAULT_USAGE_TERMS, Site


class _Settings(BaseModel):
    # Built on first use (defer_build): each function validates one or two of these, never the rest.
    model_config = ConfigDict(frozen=True, extra="ignore", defer_build=True)

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


def _language(value: str) -> str:
    from functions.domain.models import bcp47_tag  # only where a site is set up: not on the API's path

    return bcp47_tag(value)


def _iana_zone(value: str) -> str:
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError) as error:
        raise ValueError(f"{value!r} is not an IANA time zone such as Europe/London or UTC") from error
    return value


def _placeholders(value: str) -> str:
    """A notice may name ``{organisation}`` and ``{year}``, no other placeholder."""
    import re

    unknown = sorted(set(re.findall(r"\{([^{}]*)\}", value)) - {"organisation", "year"})
    if unknown:
        named = ", ".join("{" + name + "}" for name in unknown)
        raise ValueError(f"unknown placeholder(s) {named}: use {{organisation}} and {{year}}")
    return value


_ONE_LINE = r"^[^\x00-\x1f\x7f]*$"


class SiteSettings(_Settings):
    """The site's owner and presentation (``functions.domain.site.Site``): every function that
    renders for readers (the publisher, the site files at deploy; e-mail later) reads these."""

    site_url: Annotated[str, Field(pattern=r"^https?://.+/$", description="Public base URL, ending in /.")]
    site_name: Annotated[str, Field(min_length=1, max_length=80, pattern=_ONE_LINE)] = DEFAULT_NAME
    site_tagline: Annotated[str, Field(max_length=200, pattern=_ONE_LINE)] = ""
    site_logo_url: Annotated[str, Field(max_length=2048, pattern=r"^$|^https?://[^\s]+$")] = ""
    site_language: Annotated[str, Field(max_length=35), AfterValidator(_language)] = "en"
    site_time_zone: Annotated[str, Field(max_length=64), AfterValidator(_iana_zone)] = "UTC"
    site_copyright_notice: Annotated[
        str, Field(max_length=300, pattern=_ONE_LINE), AfterValidator(_placeholders)
    ] = DEFAULT_COPYRIGHT_NOTICE
    site_usage_terms: Annotated[
        str, Field(max_length=1000, pattern=_ONE_LINE), AfterValidator(_placeholders)
    ] = DEFAULT_USAGE_TERMS

    def site(self) -> Site:
        return Site(
            url=self.site_url,
            name=self.site_name.strip(),
            tagline=self.site_tagline.strip(),
            logo_url=self.site_logo_url or None,
            language=self.site_language,
            time_zone=self.site_time_zone,
            copyright_notice=self.site_copyright_notice,
            usage_terms=self.site_usage_terms,
        )


class PublisherSettings(SiteSettings):
    releases_bucket: Annotated[str, Field(min_length=3)]
    releases_table: Annotated[str, Field(min_length=3)]
    site_bucket: Annotated[str, Field(min_length=3)]
    schedule_group: Annotated[str, Field(min_length=1)]
    scheduler_role_arn: Annotated[str, Field(min_length=20)]
    publish_queue_arn: Annotated[str, Field(min_length=20)]
    publish_queue_url: Annotated[
        str, Field(min_length=8, description="Where an early delivery re-arms itself, delayed.")
    ]
    publish_dead_letter_queue_url: Annotated[
        str, Field(min_length=8, description="Where a release that cannot be rendered goes, with why.")
    ]
    site_refresh_queue_url: Annotated[
        str, Field(min_length=8, description="Where a batch asks for the shared objects' rewrite (FIFO).")
    ]
    # At most 100: a catalog holds this many entries with their bodies (see s3_catalog).
    feed_size: Annotated[int, Field(ge=1, le=100)] = 50
    media_bucket: Annotated[
        str | None, Field(min_length=3, description="Where the attachments' renditions are copied from.")
    ] = None


class SiteRefreshSettings(SiteSettings):
    """The site-refresh function: the only writer of the site's shared objects."""

    releases_bucket: Annotated[str, Field(min_length=3, description="Where the catalogs are.")]
    releases_table: Annotated[str, Field(min_length=3, description="The releases' state, read.")]
    site_bucket: Annotated[str, Field(min_length=3)]
    feed_size: Annotated[int, Field(ge=1, le=100)] = 50
    catalog_cache_chars: Annotated[
        int, Field(ge=0, description="Catalogs remembered between invocations, characters of JSON.")
    ] = 24_000_000


class MediaVerifySettings(_Settings):
    media_table: Annotated[str, Field(min_length=3)]
    media_bucket: Annotated[str, Field(min_length=3, description="The private uploads bucket.")]
    # media.ready / media.rejected to the organisation's webhooks; without both, none are sent.
    webhooks_table: Annotated[str | None, Field(min_length=3)] = None
    events_queue_url: Annotated[str | None, Field(min_length=8, description="Where delivery jobs go.")] = None


class DeskFilesSettings(_Settings):
    # Where the DeskFilesLayer puts the desk's files (Lambda unpacks layers under /opt).
    desk_files_dir: Annotated[str, Field(min_length=1)] = "/opt/desk"


class SiteFilesSettings(SiteSettings):
    """The ``SiteFiles`` custom resource: the site's static files and empty pages at deploy."""

    site_bucket: Annotated[str, Field(min_length=3)]
    releases_bucket: Annotated[str, Field(min_length=3)]
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
