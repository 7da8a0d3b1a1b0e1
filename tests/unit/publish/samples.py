"""Sample published releases for the site renderers, made the way the system makes them.

A submission goes through the real contract (``ReleaseSubmission``), the real ``prepare`` (the
body is sanitised to HTML) and the real ``version_document``, then through JSON, exactly as the
version is stored in the releases bucket. So the renderers are tested on what they will read.
"""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime, timedelta
from typing import Any

from pydantic import TypeAdapter

from functions.domain.intake import prepare, version_document
from functions.domain.models import ReleaseSubmission
from functions.domain.publish.model import CatalogEntry, PublishedRelease
from functions.domain.records import Caller, ReleaseRecord
from functions.domain.site import Site

SITE = "https://news.example.org/"
IDENTITY = Site(url=SITE)
ORG_ID = "org-acme"
ORG_NAME = "Acme Corporation"
RELEASE_ID = "5d1f9a3e-8c2b-4f6a-9e0d-1b2c3d4e5f60"
FIRST_CREATED = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)
SUBMITTED = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)
PUBLISHED = datetime(2026, 3, 2, 14, 5, tzinfo=UTC)

_COMMON: dict[str, Any] = {
    "subheadline": "A second line that says a little more",
    "summary": "Acme said on Monday that it had reached a milestone. More detail follows in the body.",
    "dateline": "ST PETERSBURG, Florida",
    "language": "en",
    "contact": {"name": "Press Office", "email": "press@acme.example", "phone": "+1 (555) 010-0100"},
    "boilerplate": "About Acme: Acme makes everything.\n\nAcme is listed in New York.",
    "links": [{"url": "https://acme.example/investors", "title": "Investor relations"}],
    "tags": ["milestone", "florida"],
}

_BY_CATEGORY: dict[str, dict[str, Any]] = {
    "business": {
        "headline": "Acme reports record first-quarter revenue",
        "body_format": "markdown",
        "body": (
            "Acme Corporation reported **record revenue** of $12m for the quarter.\n\n"
            "- Revenue up 20%\n- Margin steady\n\n"
            "Details are on the [investor site](https://acme.example/q1)."
        ),
        "details": {
            "tickers": [{"symbol": "ACME", "exchange": "NYSE"}, {"symbol": "ACM", "exchange": "LSE"}]
        },
    },
    "sports": {
        "headline": "Acme Rovers beat Example United in the cup final",
        "body": "Acme Rovers won the cup on Saturday.\n\nThe crowd of 20,000 saw three goals.",
        "details": {
            "sport": "football",
            "teams": ["Acme Rovers", "Example United"],
            "result": "3-1",
            "event_date": "2026-02-28",
        },
    },
    "personnel": {
        "headline": "Acme names Jane Doe chief financial officer",
        "body": "Acme Corporation today announced that Jane Doe will join as chief financial officer.",
        "details": {
            "person": "Jane Doe",
            "role": "Chief Financial Officer",
            "previous_role": "Vice President, Finance",
            "effective_date": "2027-01-01",
        },
    },
    "community": {
        "headline": "Acme volunteers clean up the Old Town park",
        "body": "Forty volunteers from Acme spent Saturday cleaning the park.",
        "details": {"group": "Acme Volunteers", "area": "Old Town"},
    },
    "event": {
        "headline": "Acme opens its doors for a summer open day",
        "body": "Visitors can tour the factory and meet the team.",
        "details": {
            "starts_at": "2026-06-06T18:00:00+01:00",
            "ends_at": "2026-06-06T21:30:00+01:00",
            "venue": "Acme Hall, 1 Main Street",
            "timezone": "Europe/London",
        },
    },
}

CATEGORY_ORDER = ("business", "sports", "personnel", "community", "event")


def submission(category: str = "personnel", **overrides: Any) -> dict[str, Any]:
    """A valid submission of ``category``, as a client would send it."""
    release = {"category": category, **copy.deepcopy(_COMMON), **copy.deepcopy(_BY_CATEGORY[category])}
    release.update(copy.deepcopy(overrides))
    return {key: value for key, value in release.items() if value is not None}


def document(
    category: str = "personnel",
    *,
    release_id: str = RELEASE_ID,
    version: int = 1,
    submitted_at: datetime = SUBMITTED,
    **overrides: Any,
) -> dict[str, Any]:
    """The stored version document (``version_document``), after a JSON round trip."""
    validated = TypeAdapter(ReleaseSubmission).validate_python(submission(category, **overrides))
    prepared = prepare(validated, now=submitted_at)
    record = ReleaseRecord(
        release_id=release_id,
        org_id=ORG_ID,
        org_name=ORG_NAME,
        status="pending_review",
        version=version,
        category=validated.category,
        headline=validated.headline,
        language=validated.language,
        created_at=FIRST_CREATED,
        updated_at=submitted_at,
        object_key="",
        payload_hash=prepared.payload_hash,
        content_digest=prepared.content_digest,
        release_at=validated.release_at,
    )
    caller = Caller(org_id=ORG_ID, org_name=ORG_NAME, key_id="key-1")
    stored: dict[str, Any] = json.loads(
        json.dumps(version_document(record, prepared, validated.body_format, caller))
    )
    return stored


def published(
    category: str = "personnel",
    *,
    published_at: datetime = PUBLISHED,
    canceled: bool = False,
    release_id: str = RELEASE_ID,
    version: int = 1,
    site_url: str = SITE,
    **overrides: Any,
) -> PublishedRelease:
    return PublishedRelease.from_document(
        document(category, release_id=release_id, version=version, **overrides),
        first_created=FIRST_CREATED,
        published_at=published_at,
        site_url=site_url,
        canceled=canceled,
    )


def entry(
    number: int,
    *,
    category: str = "business",
    published_at: datetime | None = None,
    headline: str | None = None,
    dateline: str | None = "LONDON",
    opening: str | None = None,
    language: str = "en",
    body_html: str = "",
) -> CatalogEntry:
    """Catalogue entry number ``number``: later numbers are published later (one hour apart)."""
    release_id = f"00000000-0000-4000-8000-{number:012d}"
    return CatalogEntry(
        release_id=release_id,
        headline=headline or f"Release number {number} makes the news",
        dateline=dateline,
        opening=f"Opening sentence of release {number}." if opening is None else opening,
        category=category,
        language=language,
        published_at=published_at or PUBLISHED + timedelta(hours=number),
        url=f"{SITE}releases/{release_id}.html",
        org_name=ORG_NAME,
        body_html=body_html,
    )
