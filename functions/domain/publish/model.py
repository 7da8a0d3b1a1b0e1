"""What the published site is made of: a published release and the catalogue entries of the index
and the feeds.

The catalogue (the newest entries overall and per category) is a bounded list kept newest first;
``insert`` and ``remove`` are pure, so one publication costs the same however many came before.
An entry holds only text a feed can carry (``CatalogEntry`` refuses anything else), and a stored
entry that cannot be read back is skipped and logged (``parse_entries``), never fatal: one bad
entry must not stop the index and the feeds of everyone else.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from dataclasses import dataclass, fields, replace
from datetime import UTC, datetime
from typing import Any

from functions.domain.characters import code_point, first_forbidden
from functions.domain.records import Correction
from functions.domain.sanitise import html_to_text

log = logging.getLogger(__name__)

OPENING_MAX = 300
ELLIPSIS = "…"

# A sentence ends at ., ! or ? (closing quotes and brackets included) before white space or the
# end of the text, or at a CJK full stop, exclamation or question mark.
_SENTENCE_END = re.compile("[.!?]+[\"'\u201d\u2019\u00bb)\\]]*(?=\\s|$)|[\u3002\uff01\uff1f]")
_INITIALS = re.compile(r"^(?:[^\W\d_]\.)*[^\W\d_]$")  # "J", "U.S", "e.g": initials, not sentences
# Sanitised HTML (nh3's output) is well formed and paragraphs do not nest.
_PARAGRAPH = re.compile(r"<p(?:\s[^>]*)?>(.*?)</p>", re.DOTALL)
_HEADING = re.compile(r"<h[1-6](?:\s[^>]*)?>.*?</h[1-6]>", re.DOTALL)
_ABBREVIATIONS = frozenset(
    {
        "mr", "mrs", "ms", "mx", "dr", "prof", "sr", "jr", "st", "mt", "ft", "rev", "hon", "gen",
        "col", "capt", "lt", "sgt", "gov", "sen", "rep", "pres", "inc", "ltd", "co", "corp", "plc",
        "llc", "llp", "bros", "dept", "est", "no", "nos", "vs", "etc", "approx", "fig", "vol",
        "jan", "feb", "mar", "apr", "jun", "jul", "aug", "sep", "sept", "oct", "nov", "dec",
        "ave", "blvd", "rd", "fla", "calif", "mass", "penn", "wash",
    }
)  # fmt: skip


def _aware(name: str, value: datetime) -> None:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware")


def media_site_key(release_id: str, media_id: str, name: str) -> str:
    """Where a rendition of an attachment is published (copied at publication, removed at a kill)."""
    return f"media/{release_id}/{media_id}/{name}"


def media_site_prefix(release_id: str) -> str:
    return f"media/{release_id}/"


@dataclass(frozen=True)
class PublishedRendition:
    """One published rendition: ``source_key`` in the private uploads bucket, ``site_key`` (and
    ``href``) on the site."""

    name: str
    source_key: str
    site_key: str
    href: str
    content_type: str
    bytes: int
    width: int | None = None
    height: int | None = None


@dataclass(frozen=True)
class PublishedMedia:
    """One attachment of a published release, as its version document recorded it."""

    media_id: str
    role: str  # featured, gallery, document
    content_type: str
    bytes: int
    renditions: tuple[PublishedRendition, ...]
    alt: str | None = None
    caption: str | None = None
    credit: str | None = None
    width: int | None = None
    height: int | None = None
    pages: int | None = None

    @property
    def is_image(self) -> bool:
        return self.content_type.startswith("image/")

    @property
    def largest(self) -> PublishedRendition:
        return max(self.renditions, key=lambda r: r.width or 0)

    @classmethod
    def from_attachment(cls, data: dict[str, Any], *, release_id: str, site_url: str) -> PublishedMedia:
        media_id = str(data["id"])
        renditions = []
        for rendition in data.get("renditions") or []:
            site_key = media_site_key(release_id, media_id, str(rendition["name"]))
            renditions.append(
                PublishedRendition(
                    name=str(rendition["name"]),
                    source_key=str(rendition["key"]),
                    site_key=site_key,
                    href=site_url + site_key,
                    content_type=str(rendition["content_type"]),
                    bytes=int(rendition["bytes"]),
                    width=_optional_int(rendition.get("width")),
                    height=_optional_int(rendition.get("height")),
                )
            )
        if not renditions:
            raise ValueError(f"attachment {media_id} has no rendition")
        return cls(
            media_id=media_id,
            role=str(data["role"]),
            content_type=str(data["content_type"]),
            bytes=int(data["bytes"]),
            renditions=tuple(renditions),
            alt=_optional(data.get("alt")),
            caption=_optional(data.get("caption")),
            credit=_optional(data.get("credit")),
            width=_optional_int(data.get("width")),
            height=_optional_int(data.get("height")),
            pages=_optional_int(data.get("pages")),
        )


def _optional_int(value: Any) -> int | None:
    return None if value is None else int(value)


@dataclass(frozen=True)
class PublishedRelease:
    """One published (or withdrawn) version of a release, as the renderers see it.

    ``content`` is the version document's ``content`` as stored: the validated submission dumped to
    JSON, ``body`` being sanitised HTML. ``first_created`` is when the release was first submitted,
    ``version_created`` when this version was, ``published_at`` when the release first went (or
    goes) on the site. ``corrections`` are the published corrections up to this version, oldest
    first: a corrected version is the last one's, and ``modified_at`` when it went on the site.
    A withdrawn release is rendered with ``canceled=True`` and the time of the withdrawal as its
    ``version_created`` (see ``functions.domain.publish.ninjs``).
    """

    release_id: str
    version: int
    org_id: str
    org_name: str
    content: dict[str, Any]
    first_created: datetime
    version_created: datetime
    published_at: datetime
    page_url: str
    json_url: str
    canceled: bool = False
    corrections: tuple[Correction, ...] = ()
    attachments: tuple[PublishedMedia, ...] = ()

    def __post_init__(self) -> None:
        _aware("first_created", self.first_created)
        _aware("version_created", self.version_created)
        _aware("published_at", self.published_at)
        for correction in self.corrections:
            _aware("a correction's published_at", correction.published_at)

    @property
    def modified_at(self) -> datetime | None:
        """When the corrected text went on the site (None: never corrected)."""
        return self.corrections[-1].published_at if self.corrections else None

    @property
    def updated_at(self) -> datetime:
        """The last time readers saw the release change: its newest correction, else its publication."""
        return self.modified_at or self.published_at

    @classmethod
    def from_document(
        cls,
        document: dict[str, Any],
        *,
        first_created: datetime,
        published_at: datetime,
        site_url: str,
        canceled: bool = False,
        corrections: Iterable[Correction] = (),
    ) -> PublishedRelease:
        """Build from a stored version document (``functions.domain.intake.version_document``)."""
        if not site_url.endswith("/"):
            raise ValueError("site_url must end with '/'")
        release_id = str(document["release_id"])
        return cls(
            release_id=release_id,
            version=int(document["version"]),
            org_id=str(document["org_id"]),
            org_name=str(document.get("org_name") or ""),
            content=dict(document["content"]),
            first_created=first_created,
            version_created=datetime.fromisoformat(document["submitted_at"]),
            published_at=published_at,
            page_url=page_url(site_url, release_id),
            json_url=json_url(site_url, release_id),
            canceled=canceled,
            corrections=tuple(corrections),
            attachments=tuple(
                PublishedMedia.from_attachment(a, release_id=release_id, site_url=site_url)
                for a in document.get("attachments") or []
            ),
        )

    # -- attachments -----------------------------------------------------------------------------

    @property
    def featured(self) -> PublishedMedia | None:
        return next((a for a in self.attachments if a.role == "featured" and a.is_image), None)

    @property
    def gallery(self) -> list[PublishedMedia]:
        return [a for a in self.attachments if a.role == "gallery" and a.is_image]

    @property
    def documents(self) -> list[PublishedMedia]:
        return [a for a in self.attachments if a.role == "document"]

    @property
    def lead_image(self) -> PublishedMedia | None:
        """The image that stands for the release elsewhere (feeds, og:image): the featured one,
        else the first of the gallery."""
        return self.featured or next(iter(self.gallery), None)

    # -- the content fields the renderers use --------------------------------------------------

    @property
    def headline(self) -> str:
        return str(self.content["headline"])

    @property
    def subheadline(self) -> str | None:
        return _optional(self.content.get("subheadline"))

    @property
    def summary(self) -> str | None:
        return _optional(self.content.get("summary"))

    @property
    def dateline(self) -> str | None:
        return _optional(self.content.get("dateline"))

    @property
    def boilerplate(self) -> str | None:
        return _optional(self.content.get("boilerplate"))

    @property
    def category(self) -> str:
        return str(self.content["category"])

    @property
    def language(self) -> str:
        return str(self.content.get("language") or "en")

    @property
    def body_html(self) -> str:
        """The sanitised body HTML, exactly as stored (``body_format`` is always ``html``)."""
        return str(self.content.get("body") or "")

    @property
    def details(self) -> dict[str, Any]:
        return dict(self.content.get("details") or {})

    @property
    def tags(self) -> list[str]:
        return [str(tag) for tag in self.content.get("tags") or []]

    @property
    def release_at(self) -> datetime | None:
        value = self.content.get("release_at")
        return datetime.fromisoformat(value) if value else None

    @property
    def opening(self) -> str:
        return opening_sentence(self.summary, self.body_html)


def _optional(value: Any) -> str | None:
    return str(value) if value else None


def page_url(site_url: str, release_id: str) -> str:
    return f"{site_url}releases/{release_id}.html"


def json_url(site_url: str, release_id: str) -> str:
    return f"{site_url}releases/{release_id}.json"


# ---------------------------------------------------------------------------------------------
# Opening sentence
# ---------------------------------------------------------------------------------------------


def first_sentence(text: str) -> str:
    """The first sentence of ``text`` (all of it when no sentence end is found).

    A full stop after a known abbreviation ("Mr.", "Inc.") or initials ("J.", "U.S.") does not end
    a sentence, nor does one followed by a lower-case letter.
    """
    text = " ".join(text.split())
    for match in _SENTENCE_END.finditer(text):
        if match[0][0] == ".":
            before = text[: match.start()].rsplit(" ", 1)[-1].lstrip("\"'\u201c\u2018\u00ab([").lower()
            if before in _ABBREVIATIONS or _INITIALS.match(before):
                continue
        rest = text[match.end() :].lstrip()
        if rest and rest[0].islower():
            continue
        return text[: match.end()]
    return text


def shorten(text: str, limit: int = OPENING_MAX) -> str:
    """``text`` cut to at most ``limit`` characters on a word boundary, marked with an ellipsis."""
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    cut = text[: limit - len(ELLIPSIS) + 1]
    # On the last space; inside the word when it is one very long word.
    cut = cut[: cut.rindex(" ")] if " " in cut else cut[: limit - len(ELLIPSIS)]
    return cut.rstrip(" ,;:-\u2013\u2014") + ELLIPSIS


def opening_sentence(summary: str | None, body_html: str) -> str:
    """The first sentence of the summary, else of the body's first paragraph, shortened."""
    if summary and summary.strip():
        return shorten(first_sentence(summary))
    # The first paragraph with text (headings are titles, not openings), else the first line.
    for paragraph in _PARAGRAPH.finditer(body_html):
        text = html_to_text(paragraph[1])
        if text.strip():
            return shorten(first_sentence(text))
    lines = [line for line in html_to_text(_HEADING.sub("", body_html)).splitlines() if line.strip()]
    return shorten(first_sentence(lines[0])) if lines else ""


# ---------------------------------------------------------------------------------------------
# Catalogue
# ---------------------------------------------------------------------------------------------


class UnfitEntry(ValueError):
    """A catalogue entry that no feed could carry."""


@dataclass(frozen=True)
class CatalogEntry:
    """One line of the newsroom index and one item of the feeds (``body_html``, the sanitised
    body, is the feed item's full content; entries stored before it existed have none)."""

    release_id: str
    headline: str
    dateline: str | None
    opening: str
    category: str
    language: str
    published_at: datetime
    url: str
    org_name: str
    body_html: str = ""
    org_id: str = ""  # entries stored before organisations had pages have none
    updated_at: datetime | None = None  # its latest correction's publication, if corrected
    # The lead image's largest rendition, as feeds carry it: (url, bytes, content type).
    enclosure: tuple[str, int, str] | None = None

    def __post_init__(self) -> None:
        _aware("published_at", self.published_at)
        if self.updated_at is not None:
            _aware("updated_at", self.updated_at)
        for item in fields(self):
            value = getattr(self, item.name)
            if isinstance(value, str) and (char := first_forbidden(value)):
                raise UnfitEntry(f"{item.name} holds {code_point(char)}, which XML cannot carry")

    @property
    def last_modified(self) -> datetime:
        """When the entry's page last changed for readers (sitemaps' lastmod, Atom's updated)."""
        return self.updated_at or self.published_at

    def without_body(self) -> CatalogEntry:
        return replace(self, body_html="")

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "release_id": self.release_id,
            "headline": self.headline,
            "dateline": self.dateline,
            "opening": self.opening,
            "category": self.category,
            "language": self.language,
            "published_at": self.published_at.astimezone(UTC).isoformat(),
            "url": self.url,
            "org_name": self.org_name,
            "body": self.body_html,
            **(
                {"enclosure": dict(zip(("url", "length", "type"), self.enclosure, strict=True))}
                if self.enclosure
                else {}
            ),
        }
        if self.org_id:
            data["org_id"] = self.org_id
        if self.updated_at is not None:
            data["updated_at"] = self.updated_at.astimezone(UTC).isoformat()
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> CatalogEntry:
        return cls(
            release_id=str(data["release_id"]),
            headline=str(data["headline"]),
            dateline=_optional(data.get("dateline")),
            opening=str(data.get("opening") or ""),
            category=str(data["category"]),
            language=str(data.get("language") or "en"),
            published_at=datetime.fromisoformat(data["published_at"]),
            url=str(data["url"]),
            org_name=str(data.get("org_name") or ""),
            body_html=str(data.get("body") or ""),
            org_id=str(data.get("org_id") or ""),
            updated_at=datetime.fromisoformat(data["updated_at"]) if data.get("updated_at") else None,
            enclosure=_enclosure(data.get("enclosure")),
        )


def _enclosure(value: Any) -> tuple[str, int, str] | None:
    if not isinstance(value, dict):
        return None
    return str(value["url"]), int(value["length"]), str(value["type"])


def parse_entries(data: Iterable[Any], *, limit: int | None = None) -> list[CatalogEntry]:
    """The entries of a stored catalogue that can be read back (the first ``limit`` of them, if
    given); any other is logged and skipped."""
    entries: list[CatalogEntry] = []
    for item in data:
        if limit is not None and len(entries) >= limit:
            break
        try:
            entries.append(CatalogEntry.from_json(item))
        except (KeyError, TypeError, ValueError, AttributeError) as error:
            release_id = item.get("release_id") if isinstance(item, dict) else None
            log.error("catalogue entry of release %s skipped: %r", release_id, error)
    return entries


def entry_for(release: PublishedRelease) -> CatalogEntry:
    return CatalogEntry(
        release_id=release.release_id,
        headline=release.headline,
        dateline=release.dateline,
        opening=release.opening,
        category=release.category,
        language=release.language,
        published_at=release.published_at,
        url=release.page_url,
        org_name=release.org_name,
        body_html=release.body_html,
        org_id=release.org_id,
        updated_at=release.modified_at,
        enclosure=_lead_enclosure(release),
    )


def _lead_enclosure(release: PublishedRelease) -> tuple[str, int, str] | None:
    lead = release.lead_image
    if lead is None:
        return None
    largest = lead.largest
    return largest.href, largest.bytes, largest.content_type


def chronological(entry: CatalogEntry) -> tuple[datetime, str]:
    """Entries' order in time: by publication, entries of the same instant by release id, so that
    the order is total and the same whatever order the entries were inserted in."""
    return entry.published_at, entry.release_id


def newest_first(entries: Iterable[CatalogEntry]) -> list[CatalogEntry]:
    return sorted(entries, key=chronological, reverse=True)


def insert(entries: Iterable[CatalogEntry], entry: CatalogEntry, limit: int) -> list[CatalogEntry]:
    """``entries`` with ``entry`` in place (replacing any entry of the same release), newest first,
    at most ``limit`` long. Inserting the same entry twice gives the same list."""
    if limit < 0:
        raise ValueError("limit must not be negative")
    kept = [existing for existing in entries if existing.release_id != entry.release_id]
    return newest_first([*kept, entry])[:limit]


def remove(entries: Iterable[CatalogEntry], release_id: str) -> list[CatalogEntry]:
    """``entries`` without the release ``release_id`` (unchanged when it is not there), newest first."""
    return newest_first(entry for entry in entries if entry.release_id != release_id)


def replace_present(entries: Iterable[CatalogEntry], entry: CatalogEntry) -> list[CatalogEntry]:
    """``entries`` with ``entry`` in place of the entry of the same release, if there is one
    (unchanged otherwise), newest first."""
    return newest_first(
        entry if existing.release_id == entry.release_id else existing for existing in entries
    )
