"""The site's settings (``functions.domain.site.Site``), and the settings of the functions that
render for readers: the publisher, the site refresh and the site files at deploy."""

from typing import Annotated

from pydantic import AfterValidator, Field

from functions.domain.site import DEFAULT_COPYRIGHT_NOTICE, DEFAULT_NAME, DEFAULT_USAGE_TERMS, Site
from functions.settings import FunctionSettings


def _language(value: str) -> str:
    # Imported when a language is checked: the site refresh and the site files never load the
    # submission models otherwise.
    from functions.domain.models import bcp47_tag

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


class SiteSettings(FunctionSettings):
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


class SiteFilesSettings(SiteSettings):
    """The ``SiteFiles`` custom resource: the site's static files and empty pages at deploy."""

    site_bucket: Annotated[str, Field(min_length=3)]
    releases_bucket: Annotated[str, Field(min_length=3)]
    feed_size: Annotated[int, Field(ge=1, le=100)] = 50
