"""A published release as an IPTC ninjs 3.1 news item (``releases/{id}.json``).

Choices, where ninjs leaves them to the provider (every output validates against the official
schema, vendored in ``tests/standards/``):

* ``uri`` is the release's page URL. The same identifier is the RSS ``guid`` and the Atom ``id``
  (``functions.domain.publish.site``), so one release has one identity wherever it is seen; it is
  also dereferenceable. The bare release id is given in ``altIds`` (role ``release-id``).
* ``version`` is the version number; ``versionCreated`` when that version was submitted.
* ``subjects``: the category as ``urn:press-intake:category:<name>`` (rel ``category``; our own
  scheme, as the five categories do not map one-to-one onto IPTC Media Topics), the sport for
  sports releases, and the submitter's tags (rel ``keyword``: ninjs 3.1 has no ``keywords``).
* ``embargoedUntil`` is set only when the item is rendered before its ``release_at`` (a preview
  or a feed prepared ahead of time). Published at or after ``release_at``, an item is simply not
  embargoed any more and the field is absent.
* ninjs 3.1 has no ``links`` and no ``located`` object: the page is given as a rendition
  (``web``, ``text/html``), the dateline as the string ``located``; the release's related links
  stay in the HTML page (ninjs ``associations`` are news objects, not web pages).
* Typed details: the issuing organisation is ``organisations`` (rel ``issuer``) and
  ``infoSources`` (role ``originator``, with the press contact as ``contactInfo``); tickers are
  organisations carrying ``symbols``; sports teams are organisations (rel ``participant``); the
  person of a personnel release is in ``people`` (which has no role property), the role in a
  ``details`` description with every other typed detail, as the page shows them; an
  event is ``events`` + ``eventDetails.dates`` + its venue in ``places``.
* A withdrawn release (``canceled``) keeps its identity (uri, version, dates, headline, source)
  with ``pubStatus`` ``canceled`` and a notice as its only body; its ``versionCreated`` is the
  later of ``version_created`` and ``published_at``, so a caller giving the withdrawal time as
  either (``replace(release, canceled=True, version_created=killed_at)``) makes receivers see the
  cancellation as news about the item.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from functions.domain.publish.facts import detail_facts, facts_text
from functions.domain.publish.model import PublishedMedia, PublishedRelease
from functions.domain.sanitise import plain_words

NINJS_NAME = "ninjs"
NINJS_VERSION = "3.1"
NINJS_SCHEMA = "http://www.iptc.org/std/ninjs/ninjs-schema_3.1.json"
CATEGORY_SCHEME = "urn:press-intake:category:"
CANCELED_NOTICE = "This release has been withdrawn by its publisher and must not be used."


def category_uri(category: str) -> str:
    return CATEGORY_SCHEME + category


def iso(value: datetime) -> str:
    """RFC 3339 date-time in UTC (``+00:00``)."""
    return value.astimezone(UTC).isoformat()


def _event_iso(value: str) -> str:
    """An event time as the submitter gave it (their offset is meaningful), in RFC 3339."""
    return datetime.fromisoformat(value).isoformat()


def to_ninjs(release: PublishedRelease) -> dict[str, Any]:
    """The ninjs 3.1 document of ``release`` (a JSON-ready dict)."""
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
            else release.version_created
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
        return item

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
    descriptions = []
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
    return {
        "events": [{"name": release.headline, "rel": "subject"}],
        "places": [{"name": details["venue"], "rel": "venue"}] if details.get("venue") else [],
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
    found: Entities = {
        "subjects": [{"name": release.category, "uri": category_uri(release.category), "rel": "category"}],
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
    event_details: dict[str, Any] = {
        "dates": {
            "startDate": _event_iso(details["starts_at"]),
            "endDate": _event_iso(details["ends_at"]),
        }
    }
    if release.org_name:
        event_details["organiser"] = {"name": release.org_name}
    return event_details
