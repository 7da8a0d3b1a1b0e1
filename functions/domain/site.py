"""The site's owner and how the site speaks: its name, tagline, address, logo, language and the
time zone its times are shown in. One value (``Site``) built from the settings of the function
that renders (``functions.settings.site.SiteSettings``) and handed to every renderer: pages, feeds,
sitemaps, ninjs (and later e-mail), so that they all say the same.

Times for readers are shown in the site's display zone with their UTC offset
(``human_time``); machine-readable times (``<time datetime>``, sitemaps, JSON-LD) are written by
``html_datetime``: a valid HTML "global date and time string" (at most three fractional digits).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from functools import cache
from zoneinfo import ZoneInfo

# The interface (headings, labels, notices) is written in English; where a page's language is
# another, those elements are marked ``lang="en"``.
INTERFACE_LANGUAGE = "en"
DEFAULT_NAME = "Newsroom"
DEFAULT_COPYRIGHT_NOTICE = "© {year} {organisation}"
DEFAULT_USAGE_TERMS = (
    "Press release issued by {organisation}: free to use in editorial coverage, with attribution."
)

_MONTHS = (
    "January", "February", "March", "April", "May", "June",
    "July", "August", "September", "October", "November", "December",
)  # fmt: skip


@cache
def zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


@dataclass(frozen=True)
class Site:
    """Who runs the newsroom and how it presents itself (the settings, validated)."""

    url: str  # base URL, ends in "/"
    name: str = DEFAULT_NAME
    tagline: str = ""
    logo_url: str | None = None
    language: str = "en"  # the language of the name, the tagline and the feeds' default
    time_zone: str = "UTC"  # IANA: where times are shown for readers
    copyright_notice: str = DEFAULT_COPYRIGHT_NOTICE  # {organisation}, {year}
    usage_terms: str = DEFAULT_USAGE_TERMS  # {organisation}, {year}

    def __post_init__(self) -> None:
        if not self.url.endswith("/"):
            raise ValueError("the site URL must end with '/'")
        zone(self.time_zone)  # raises for an unknown zone

    @property
    def zone(self) -> ZoneInfo:
        return zone(self.time_zone)

    def local(self, value: datetime) -> datetime:
        """``value`` in the display zone."""
        return value.astimezone(self.zone)

    def day_of(self, value: datetime) -> date:
        """The calendar day ``value`` falls on in the display zone (the archive's day)."""
        return self.local(value).date()

    def notice(self, template: str, *, organisation: str, when: datetime) -> str:
        """A copyright notice or usage terms with ``{organisation}`` and ``{year}`` filled in."""
        return template.replace("{organisation}", organisation or self.name).replace(
            "{year}", str(self.local(when).year)
        )


def human_date(value: date) -> str:
    """``6 June 2026``."""
    return f"{value.day} {_MONTHS[value.month - 1]} {value.year}"


def month_name(year: int, month: int) -> str:
    """``June 2026``."""
    return f"{_MONTHS[month - 1]} {year}"


def utc_offset(value: datetime) -> str:
    """``UTC``, ``UTC+01:00``, ``UTC-05:30``: the offset of an aware datetime, for readers."""
    offset = value.utcoffset() or timedelta(0)
    if not offset:
        return "UTC"
    sign = "-" if offset < timedelta(0) else "+"
    minutes = abs(int(offset.total_seconds())) // 60
    return f"UTC{sign}{minutes // 60:02d}:{minutes % 60:02d}"


def human_time(value: datetime, time_zone: str = "UTC") -> str:
    """``2 March 2026, 15:05 (UTC+01:00)``: in ``time_zone``, with its offset at that moment."""
    local = value.astimezone(zone(time_zone))
    return f"{human_date(local.date())}, {local:%H:%M} ({utc_offset(local)})"


def html_datetime(value: datetime, time_zone: str | None = None) -> str:
    """A valid HTML global date and time string (``2026-03-02T15:05:00+01:00``,
    ``2026-03-02T14:05:00.250Z``): seconds always, milliseconds only when there are any (HTML
    allows at most three fractional digits; ``isoformat`` writes six), ``Z`` for UTC. In
    ``time_zone`` when given, else in the value's own offset."""
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError("a machine-readable time needs a time zone")
    local = value.astimezone(zone(time_zone)) if time_zone else value
    text = local.strftime("%Y-%m-%dT%H:%M:%S")
    if local.microsecond:
        text += f".{local.microsecond // 1000:03d}"
    offset = local.utcoffset() or timedelta(0)
    if not offset:
        return text + "Z"
    sign = "-" if offset < timedelta(0) else "+"
    minutes = abs(int(offset.total_seconds())) // 60
    return f"{text}{sign}{minutes // 60:02d}:{minutes % 60:02d}"


def utc_datetime(value: datetime) -> str:
    """``html_datetime`` in UTC (``...Z``): for sitemaps, feeds' machine dates, JSON-LD."""
    return html_datetime(value.astimezone(UTC))
