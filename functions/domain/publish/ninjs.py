"""A published release as an IPTC ninjs 3.1 news item (``releases/{id}.json``).

The output is ninjs **3.1** (``standard`` says so): camelCase fields such as ``versionCreated``,
``pubStatus``, ``headlines``, ``bodies``. Consumers written for ninjs 1.x read other names
(``versioncreated``, ``pubstatus``, ``headline``, ``body_html``...) and must map them.

Choices, where ninjs leaves them to the provider (every output validates against the official
schema, vendored in ``tests/standards/``):

* ``genres``: the IPTC Genre NewsCode "Press Release" (``http://cv.iptc.org/newscodes/genre/
  Press_Release``): the item is the issuing organisation's own announcement.
* ``copyrightNotice`` and ``usageTerms`` come from the site's settings (``{organisation}`` and
  ``{year}`` filled in); ``copyrightHolder`` is the issuing organisation.

* ``uri`` is the release's page URL. The same identifier is the RSS ``guid`` and the Atom ``id``
  (``functions.domain.publish.site``), so one release has one identity wherever it is seen; it is
  also dereferenceable. The bare release id is given in ``altIds`` (role ``release-id``).
* ``version`` is the version number; ``versionCreated`` when that version was submitted, or, for
  a correction, when the corrected version was published. A correction's notes (newest first)
  are ``descriptions`` with role ``correction``.
* ``subjects``: the category as ``urn:press-intake:category:<name>`` (rel ``category``; our own
  scheme), and alongside it the IPTC Media Topic it belongs to where one fits every release of
  the category (rel ``about``: business -> economy, business and finance; sports -> sport;
  community -> society; personnel and event releases can be about anything, so they get none);
  the sport for sports releases, and the submitter's tags (rel ``keyword``: ninjs 3.1 has no
  ``keywords``).
* ``embargoedUntil`` is set only when the item is rendered before its ``release_at`` (a preview
  or a feed prepared ahead of time). Published at or after ``release_at``, an item is simply not
  embargoed any more and the field is absent.
* ninjs 3.1 has no ``links`` and no ``located`` object: the page is given as a rendition
  (``web``, ``text/html``), the dateline as the string ``located``; the release's related links
  stay in the HTML page (ninjs ``associations`` are news objects, not web pages).
* A release's attachments are its ``associations``: each a ``picture`` (an image) or ``text``
  (a PDF) named by its role (``featured``, ``gallery-2``...), ``uri``
  ``urn:press-intake:media:<id>``, the alt text as a description, the caption as its headline,
  the credit as ``by``, and only the re-encoded renditions on the site (never the upload).
* Typed details: the issuing organisation is ``organisations`` (rel ``issuer``) and
  ``infoSources`` (role ``originator``, with the press contact as ``contactInfo``); tickers are
  organisations carrying ``symbols``; sports teams are organisations (rel ``participant``); the
  person of a personnel release is in ``people`` (which has no role property), the role in a
  ``details`` description with every other typed detail, as the page shows them; an
  event is ``events`` + ``eventDetails.dates`` (start and end in the event's own time zone, with
  that zone's offset then) + its venue in ``places`` (rel ``venue``, the venue as its address
  line); ninjs 3.1 has no time zone property, so the zone's IANA name is a subject (rel
  ``timezone``, ``urn:press-intake:timezone:<name>``).
* A withdrawn release (``canceled``) keeps its identity (uri, dates, headline, source) with
  ``pubStatus`` ``canceled``, a ``version`` after every version it had (the caller gives it: a
  receiver keyed on uri + version must not drop the cancellation as a duplicate) and a notice as
  its only body; its ``versionCreated`` is the later of ``version_created`` and
  ``published_at``, so a caller giving the withdrawal time as either
  (``replace(release, canceled=True, version_created=killed_at)``) makes receivers see the
  cancellation as news about the item.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from functions.domain.publish.facts import detail_facts, event_zone, facts_text
from functions.domain.publish.model import PublishedMedia, PublishedRelease
from functions.domain.sanitise import plain_words
from functions.domain.site import Site

NINJS_NAME = "ninjs"
NINJS_VERSION = "3.1"
NINJS_SCHEMA = "http://www.iptc.org/std/ninjs/ninjs-schema_3.1.json"
CATEGORY_SCHEME = "urn:press-intake:category:"
TIMEZONE_SCHEME = "urn:press-intake:timezone:"
CANCELED_NOTICE = "This release has been withdrawn by the newsroom and must not be used."
PRESS_RELEASE_GENRE = {"name": "Press Release", "uri": "http://cv.iptc.org/newscodes/genre/Press_Release"}
MEDIA_TOPICS = "http://cv.iptc.org/newscodes/mediatopic/"
# The IPTC Media Topic every release of a category is about, where there is one.
CATEGORY_MEDIA_TOPICS: dict[str, tuple[str, str]] = {
    "business": ("04000000", "economy, business and finance"),
    "sports": ("15000000", "sport"),
    "community": ("14000000", "society"),
}


def category_uri(category: str) -> str:
    return CATEGORY_SCHEME + category


def iso(value: datetime) -> str:
    """RFC 3339 date-time in UTC (``+00:00``)."""
    return value.astimezone(UTC).isoformat()


def _event_iso(value: str, zone: str | None) -> str:
    """An event time in RFC 3339: in the event's own zone when it names one (the offset it has
    there then), else as the submitter gave it."""
    found = event_zone(zone)
    moment = datetime.fromisoformat(value)
    return (moment.astimezone(found) if found else moment).isoformat()


def to_ninjs(release: PublishedRelease, site: Site, *, reason: str | None = None) -> dict[str, Any]:
    """The ninjs 3.1 document of ``release`` (a JSON-ready dict); ``reason`` is a withdrawal's
    (for receivers' staff: ``edNote``)."""
    item: dict[str, Any] = {
        "uri": release.page_url,
        "standard": {"name": NINJS_NAME, "version": NINJS_VERSION, "schema": NINJS_SCHEMA},
        "type": "text",
        "representationType": "partial" if release.canceled else "full",
        "version": str(release.version),
        "firstCreated": iso(release.first_created),
        "versionCreated": iso(
            max(release.version_created, release.published_at)
            if release.canceled
            else (release.modified_at or release.version_created)
        ),
        "pubStatus": "canceled" if release.canceled else "usable",
        "language": release.language,
        "headlines": _headlines(release),
        "altIds": [{"role": "release-id", "value": release.release_id}],
        "infoSources": [_info_source(release)],
        "renditions": [
            {"name": "web", "href": release.page_url, "contentType": "text/html", "title": release.headline},
            {"name": "ninjs", "href": release.json_url, "contentType": "application/json"},
        ],
    }
    if release.canceled:
        item["bodies"] = [{"role": "main", "contentType": "text/plain", "value": CANCELED_NOTICE}]
        if reason:
            item["edNote"] = f"Withdrawn by the newsroom: {reason}"
        return item

    item["genres"] = [dict(PRESS_RELEASE_GENRE)]
    item["copyrightNotice"] = site.notice(
        site.copyright_notice, organisation=release.org_name, when=release.published_at
    )
    item["usageTerms"] = site.notice(
        site.usage_terms, organisation=release.org_name, when=release.published_at
    )
    release_at = release.release_at
    if release_at is not None and release_at > release.published_at:
        item["embargoedUntil"] = iso(release_at)
    if release.org_name:
        item["copyrightHolder"] = release.org_name
    if release.dateline:
        item["located"] = release.dateline
    descriptions = _descriptions(release)
    if descriptions:
        item["descriptions"] = descriptions
    item["bodies"] = _bodies(release)
    item.update(_entities(release))
    if release.attachments:
        item["associations"] = [
            _association(media, n) for n, media in enumerate(release.attachments, start=1)
        ]
    return item


def _association(media: PublishedMedia, number: int) -> dict[str, Any]:
    """An attachment as an associated news object: a picture or a PDF, with its renditions
    (only the re-encoded ones: the original is never published)."""
    association: dict[str, Any] = {
        "name": media.role if media.role == "featured" else f"{media.role}-{number}",
        "uri": f"urn:press-intake:media:{media.media_id}",
        "rel": media.role,
        "type": "picture" if media.is_image else "text",
        "renditions": [
            {
                "name": rendition.name.rsplit(".", 1)[0],
                "href": rendition.href,
                "contentType": rendition.content_type,
                "sizeInBytes": rendition.bytes,
                **({"width": rendition.width} if rendition.width else {}),
                **({"height": rendition.height} if rendition.height else {}),
            }
            for rendition in media.renditions
        ],
    }
    if media.alt:
        association["descriptions"] = [{"role": "alt", "contentType": "text/plain", "value": media.alt}]
    if media.caption:
        association["headlines"] = [{"role": "main", "contentType": "text/plain", "value": media.caption}]
    if media.credit:
        association["by"] = media.credit
    return association


def _headlines(release: PublishedRelease) -> list[dict[str, Any]]:
    headlines = [{"role": "main", "contentType": "text/plain", "value": release.headline}]
    if release.subheadline and not release.canceled:
        headlines.append({"role": "sub", "contentType": "text/plain", "value": release.subheadline})
    return headlines


def _descriptions(release: PublishedRelease) -> list[dict[str, Any]]:
    descriptions = [
        {"role": "correction", "contentType": "text/plain", "value": correction.note}
        for correction in reversed(release.corrections)
    ]
    if release.summary:
        descriptions.append({"role": "summary", "contentType": "text/plain", "value": release.summary})
    details = facts_text(detail_facts(release))
    if details:
        descriptions.append({"role": "details", "contentType": "text/plain", "value": details})
    return descriptions


def _bodies(release: PublishedRelease) -> list[dict[str, Any]]:
    text = plain_words(release.body_html)
    bodies: list[dict[str, Any]] = [
        {
            "role": "main",
            "contentType": "text/html",
            "charCount": len(text),
            "wordCount": len(text.split()),
            "value": release.body_html,
        }
    ]
    if release.boilerplate:
        bodies.append({"role": "boilerplate", "contentType": "text/plain", "value": release.boilerplate})
    return bodies


def _info_source(release: PublishedRelease) -> dict[str, Any]:
    source: dict[str, Any] = {"role": "originator"}
    if release.org_name:
        source["name"] = release.org_name
    if release.canceled:
        return source
    contact = release.content.get("contact") or {}
    named = {"name": contact["name"]} if contact.get("name") else {}
    contact_info: list[dict[str, Any]] = [
        {"type": kind, "role": "press", **named, "value": contact[kind]}
        for kind in ("email", "phone")
        if contact.get(kind)
    ]
    if contact_info:
        source["contactInfo"] = contact_info
    return source


# -- who and what a release is about, per category ----------------------------------------------

Entities = dict[str, list[dict[str, Any]]]


def _business_entities(release: PublishedRelease, details: dict[str, Any]) -> Entities:
    return {
        "organisations": [
            {
                "name": f"{ticker['exchange']}:{ticker['symbol']}",
                "rel": "subject",
                "symbols": [{"exchange": ticker["exchange"], "symbol": ticker["symbol"]}],
            }
            for ticker in details.get("tickers") or []
        ]
    }


def _sports_entities(release: PublishedRelease, details: dict[str, Any]) -> Entities:
    return {
        "subjects": [{"name": details["sport"], "rel": "sport"}] if details.get("sport") else [],
        "organisations": [{"name": team, "rel": "participant"} for team in details.get("teams") or []],
    }


def _personnel_entities(release: PublishedRelease, details: dict[str, Any]) -> Entities:
    return {"people": [{"name": details["person"], "rel": "subject"}] if details.get("person") else []}


def _community_entities(release: PublishedRelease, details: dict[str, Any]) -> Entities:
    return {
        "organisations": [{"name": details["group"], "rel": "subject"}] if details.get("group") else [],
        "places": [{"name": details["area"], "rel": "subject"}] if details.get("area") else [],
    }


def _event_entities(release: PublishedRelease, details: dict[str, Any]) -> Entities:
    zone = details.get("timezone")
    venue = details.get("venue")
    return {
        "events": [{"name": release.headline, "rel": "subject"}],
        "places": (
            [
                {
                    "name": venue,
                    "rel": "venue",
                    "contactInfo": [{"type": "address", "role": "venue", "address": {"lines": [venue]}}],
                }
            ]
            if venue
            else []
        ),
        "subjects": (
            [{"name": str(zone), "rel": "timezone", "uri": f"{TIMEZONE_SCHEME}{zone}"}]
            if event_zone(zone)
            else []
        ),
    }


# Who and what each category's details name (an unknown category names nothing more).
_ENTITIES: dict[str, Callable[[PublishedRelease, dict[str, Any]], Entities]] = {
    "business": _business_entities,
    "sports": _sports_entities,
    "personnel": _personnel_entities,
    "community": _community_entities,
    "event": _event_entities,
}


def _entities(release: PublishedRelease) -> dict[str, Any]:
    """subjects, organisations, people, places, events and eventDetails (non-empty ones only)."""
    details = release.details
    topic = CATEGORY_MEDIA_TOPICS.get(release.category)
    found: Entities = {
        "subjects": [
            {"name": release.category, "uri": category_uri(release.category), "rel": "category"},
            *([{"name": topic[1], "uri": MEDIA_TOPICS + topic[0], "rel": "about"}] if topic else []),
        ],
        "organisations": [{"name": release.org_name, "rel": "issuer"}] if release.org_name else [],
        "people": [],
        "places": [],
        "events": [],
    }
    specific = _ENTITIES.get(release.category)
    for key, values in (specific(release, details) if specific else {}).items():
        found[key].extend(values)
    found["subjects"].extend({"name": tag, "rel": "keyword"} for tag in release.tags)
    entities: dict[str, Any] = {key: values for key, values in found.items() if values}
    if (event_details := _event_details(release, details)) is not None:
        entities["eventDetails"] = event_details
    return entities


def _event_details(release: PublishedRelease, details: dict[str, Any]) -> dict[str, Any] | None:
    """When an event happens, and who organises it (events with both times only)."""
    if release.category != "event" or not (details.get("starts_at") and details.get("ends_at")):
        return None
    zone = details.get("timezone")
    event_details: dict[str, Any] = {
        "dates": {
            "startDate": _event_iso(details["starts_at"], zone),
            "endDate": _event_iso(details["ends_at"], zone),
        }
    }
    if release.org_name:
        event_details["organiser"] = {"name": release.org_name}
    return event_details
