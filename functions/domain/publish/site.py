"""The published site's HTML pages and feeds, rendered from releases and catalogue entries.

* Pages are Jinja2 templates (``templates/``) with autoescaping on. The only value marked safe is
  a release's body, which is stored already sanitised (``functions.domain.sanitise``); headlines,
  summaries, datelines, details, contacts, links and tags are all escaped.
* Feeds are made with feedgenerator: RSS 2.0 (``feeds/*.xml``) and Atom 1.0 (``feeds/*.atom``). An
  item's identity is its page URL, the same as the ninjs ``uri``: the RSS ``guid`` (with
  ``isPermaLink="true"``) and the Atom ``id``. A feed's Atom ``id`` is its own URL. Dates are the
  entries' ``published_at``; the feed's ``updated`` / ``lastBuildDate`` is the newest entry's,
  or the ``updated`` argument for an empty feed, so a render depends on its arguments only.
* Feeds render exactly the entries they are given, in the given order (the catalogue keeps them
  newest first and bounded).
"""

from __future__ import annotations

import html
import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache
from io import StringIO
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from functions.domain.models import CATEGORIES
from functions.domain.publish.facts import DETAILS_HEADINGS, detail_facts, human_time
from functions.domain.publish.model import CatalogEntry, PublishedMedia, PublishedRelease, page_url

if TYPE_CHECKING:
    from jinja2 import Environment

log = logging.getLogger(__name__)

TEMPLATES = Path(__file__).parent / "templates"
CATEGORY_LABELS = {
    "business": "Business",
    "sports": "Sports",
    "personnel": "Personnel",
    "community": "Community",
    "event": "Events",
}
FeedKind = Literal["rss", "atom"]
FEED_TYPES: dict[FeedKind, str] = {"rss": "application/rss+xml", "atom": "application/atom+xml"}
_BLANK_LINES = re.compile(r"\n\s*\n")
_PHONE_CHARS = re.compile(r"[^0-9+]")
_WEB_URL = re.compile(r"^https?://", re.IGNORECASE)


# ---------------------------------------------------------------------------------------------
# Paths and links
# ---------------------------------------------------------------------------------------------


def feed_path(category: str | None, kind: FeedKind) -> str:
    """``feeds/all.xml``, ``feeds/{category}.atom`` ...: where a feed lives under the site URL."""
    return f"feeds/{category or 'all'}.{'xml' if kind == 'rss' else 'atom'}"


@dataclass(frozen=True)
class Alternate:
    type: str
    href: str
    title: str


def _feed_alternates(site_url: str, categories: Sequence[str | None], site_title: str) -> list[Alternate]:
    links = []
    for category in categories:
        name = f"{site_title}: {CATEGORY_LABELS.get(category, category)}" if category else site_title
        for kind in ("rss", "atom"):
            links.append(
                Alternate(
                    type=FEED_TYPES[kind],
                    href=site_url + feed_path(category, kind),
                    title=f"{name} ({'RSS' if kind == 'rss' else 'Atom'})",
                )
            )
    return links


# ---------------------------------------------------------------------------------------------
# Helpers
# ---------------------------------------------------------------------------------------------


def _utc(value: datetime) -> datetime:
    return value.astimezone(UTC)


def tel_uri(phone: str) -> str:
    """A ``tel:`` URI for a telephone number as submitted (digits and a leading +)."""
    return "tel:" + _PHONE_CHARS.sub("", phone)


# ---------------------------------------------------------------------------------------------
# Templates
# ---------------------------------------------------------------------------------------------


@cache
def _environment() -> Environment:
    from jinja2 import Environment, FileSystemLoader, StrictUndefined

    return Environment(
        loader=FileSystemLoader(str(TEMPLATES)),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )


def _render(template: str, **context: Any) -> str:
    return _environment().get_template(template).render(**context)


def _safe_html(fragment: str) -> Any:
    """Mark stored, already sanitised body HTML as safe: the one place anything is."""
    from markupsafe import Markup

    return Markup(fragment)  # noqa: S704 - sanitised by functions.domain.sanitise before storage


def _paragraphs(text: str | None) -> list[str]:
    if not text:
        return []
    return [" ".join(part.split()) for part in _BLANK_LINES.split(text.replace("\r\n", "\n")) if part.strip()]


def _contact(content: dict[str, Any]) -> dict[str, str] | None:
    contact = content.get("contact") or {}
    if not contact.get("email"):
        return None
    phone = str(contact.get("phone") or "")
    return {
        "name": str(contact.get("name") or ""),
        "email": str(contact["email"]),
        "phone": phone,
        "tel": tel_uri(phone) if phone else "",
    }


def _links(content: dict[str, Any]) -> list[dict[str, str]]:
    links = []
    for link in content.get("links") or []:
        url = str(link.get("url") or "")
        if _WEB_URL.match(url):  # the contract allows http(s) only; never render anything else
            links.append({"url": url, "title": str(link.get("title") or url)})
    return links


# The page's column is 42rem wide (base.html.j2): a browser picks the rendition for that width.
IMAGE_SIZES = "(min-width: 44rem) 42rem, 100vw"
GALLERY_SIZES = "(min-width: 44rem) 20rem, 100vw"


def _image_view(image: PublishedMedia, *, sizes: str, lazy: bool) -> dict[str, Any]:
    largest = image.largest
    return {
        "src": largest.href,
        "srcset": ", ".join(f"{r.href} {r.width}w" for r in image.renditions if r.width),
        "sizes": sizes,
        "width": largest.width,
        "height": largest.height,
        "alt": image.alt or "",
        "caption": image.caption,
        "credit": image.credit,
        "loading": "lazy" if lazy else "eager",
    }


def human_size(size: int) -> str:
    """1,234,567 bytes as "1.2 MB" (decimal units, as download sizes are usually given)."""
    for unit, scale in (("MB", 1_000_000), ("kB", 1_000)):
        if size >= scale:
            return f"{size / scale:.1f} {unit}"
    return f"{size} bytes"


def _document_view(document: PublishedMedia, number: int) -> dict[str, Any]:
    pdf = document.largest
    return {
        "href": pdf.href,
        "title": document.caption or f"Document {number}",
        "size": human_size(pdf.bytes),
        "pages": document.pages,
        "credit": document.credit,
    }


def render_page(release: PublishedRelease, *, site_url: str, site_title: str = "Newsroom") -> str:
    """The HTML page of a published release (``releases/{id}.html``)."""
    category = release.category
    featured = release.featured
    lead = release.lead_image
    return _render(
        "release.html.j2",
        lang=release.language,
        title=f"{release.headline} · {site_title}",
        description=release.summary or release.opening,
        noindex=False,
        canonical=release.page_url,
        alternates=[
            Alternate("application/json", release.json_url, "IPTC ninjs"),
            *_feed_alternates(site_url, [None, category], site_title),
        ],
        site_url=site_url,
        site_title=site_title,
        headline=release.headline,
        subheadline=release.subheadline,
        dateline=release.dateline,
        published_iso=_utc(release.published_at).isoformat(),
        published_text=human_time(release.published_at),
        org_name=release.org_name,
        category_label=CATEGORY_LABELS.get(category, category),
        category_href=f"{site_url}#{category}",
        category_feed=site_url + feed_path(category, "rss"),
        json_url=release.json_url,
        summary=release.summary,
        body=_safe_html(release.body_html),
        details=detail_facts(release),
        details_heading=DETAILS_HEADINGS.get(category, "Details"),
        boilerplate=_paragraphs(release.boilerplate),
        contact=_contact(release.content),
        links=_links(release.content),
        tags=release.tags,
        featured=_image_view(featured, sizes=IMAGE_SIZES, lazy=False) if featured else None,
        gallery=[_image_view(image, sizes=GALLERY_SIZES, lazy=True) for image in release.gallery],
        documents=[_document_view(d, n) for n, d in enumerate(release.documents, start=1)],
        og_image={"src": lead.largest.href, "alt": lead.alt} if lead else None,
    )


def render_killed_page(
    release_id: str,
    headline: str,
    *,
    site_url: str,
    killed_at: datetime,
    site_title: str = "Newsroom",
    language: str = "en",
) -> str:
    """What ``releases/{id}.html`` becomes once a release is withdrawn: a notice, kept out of
    search indexes, without the release's text."""
    return _render(
        "killed.html.j2",
        lang=language,
        title=f"Withdrawn: {headline} · {site_title}",
        description="This release has been withdrawn.",
        noindex=True,
        canonical=page_url(site_url, release_id),
        alternates=[],
        site_url=site_url,
        site_title=site_title,
        headline=headline,
        killed_iso=_utc(killed_at).isoformat(),
        killed_text=human_time(killed_at),
    )


def _entry_view(entry: CatalogEntry) -> dict[str, Any]:
    return {
        "url": entry.url,
        "headline": entry.headline,
        "dateline": entry.dateline,
        "opening": entry.opening,
        "language": entry.language,
        "org_name": entry.org_name,
        "published_iso": _utc(entry.published_at).isoformat(),
        "published_text": human_time(entry.published_at),
    }


def render_index(
    latest: Sequence[CatalogEntry],
    by_category: dict[str, list[CatalogEntry]],
    *,
    site_url: str,
    generated_at: datetime,
    site_title: str = "Newsroom",
    language: str = "en",
) -> str:
    """The newsroom (``index.html``): the latest releases, then one section per category, in the
    fixed order of ``CATEGORIES``. Entries are shown in the order given (newest first)."""
    sections = [
        {
            "category": category,
            "label": CATEGORY_LABELS.get(category, category),
            "entries": [_entry_view(entry) for entry in by_category.get(category, [])],
            "empty_text": f"No {category} releases yet.",
            "rss": site_url + feed_path(category, "rss"),
            "atom": site_url + feed_path(category, "atom"),
        }
        for category in CATEGORIES
    ]
    newest = latest[0].opening if latest else ""
    return _render(
        "index.html.j2",
        lang=language,
        title=site_title,
        description=f"Press releases published on {site_title}." + (f" Latest: {newest}" if newest else ""),
        noindex=False,
        canonical=site_url,
        alternates=_feed_alternates(site_url, [None, *CATEGORIES], site_title),
        site_url=site_url,
        site_title=site_title,
        latest=[_entry_view(entry) for entry in latest],
        all_feeds={"rss": site_url + feed_path(None, "rss"), "atom": site_url + feed_path(None, "atom")},
        sections=sections,
        generated_iso=_utc(generated_at).isoformat(),
        generated_text=human_time(generated_at),
    )


# ---------------------------------------------------------------------------------------------
# Feeds
# ---------------------------------------------------------------------------------------------


class UnrenderableEntry(ValueError):
    """A feed item that could not be written (raised instead of skipping it, when ``strict``)."""


_CONTENT_NS = "http://purl.org/rss/1.0/modules/content/"
_DC_NS = "http://purl.org/dc/elements/1.1/"
_MEDIA_NS = "http://search.yahoo.com/mrss/"  # Media RSS (media:content)


def feed_text(text: str) -> str:
    """Plain text for a feed field that readers render as HTML (RSS ``description``, Atom
    ``summary type="html"``): escaped once for HTML here, once more for XML by the writer, so
    a reader shows ``<img src=x>`` typed by a submitter as those characters, never an image."""
    return html.escape(text, quote=False)


def _channel_language(entries: Sequence[CatalogEntry], default: str) -> str:
    languages = {entry.language for entry in entries}
    return languages.pop() if len(languages) == 1 else default


def _feed(
    entries: Sequence[CatalogEntry],
    *,
    kind: FeedKind,
    site_url: str,
    title: str,
    feed_path: str,
    description: str,
    updated: datetime,
    language: str,
    strict: bool,
) -> bytes:
    import feedgenerator
    from feedgenerator.django.utils.xmlutils import SimplerXMLGenerator

    newest = max((entry.published_at for entry in entries), default=updated)
    base = feedgenerator.Rss201rev2Feed if kind == "rss" else feedgenerator.Atom1Feed
    item_tag = "item" if kind == "rss" else "entry"

    class Feed(base):  # type: ignore[misc, valid-type]
        def latest_post_date(self) -> datetime:
            return _utc(newest)  # deterministic, also for an empty feed (the library would use now())

        def rss_attributes(self) -> dict[str, str]:
            return {
                **super().rss_attributes(),
                "xmlns:content": _CONTENT_NS,
                "xmlns:dc": _DC_NS,
                "xmlns:media": _MEDIA_NS,
            }

        def item_attributes(self, item: dict[str, Any]) -> dict[str, str]:
            return {"xml:lang": item["language"]} if kind == "atom" else {}

        def add_item_elements(self, handler: Any, item: dict[str, Any]) -> None:
            super().add_item_elements(handler, item)
            if kind == "rss":
                handler.addQuickElement("dc:language", item["language"])
                if item["content"]:
                    handler.addQuickElement("content:encoded", item["content"])
                if item.get("lead_image"):  # Media RSS: the lead image, as the enclosure
                    url, length, mime = item["lead_image"]
                    attributes = {"url": url, "type": mime, "fileSize": str(length), "medium": "image"}
                    handler.addQuickElement("media:content", None, attributes)

        def write_items(self, handler: Any) -> None:
            # Each item is written on its own first: one that cannot be (a character XML cannot
            # carry, a lone surrogate) is skipped and logged instead of failing the whole feed.
            for item in self.items:
                buffer = StringIO()
                writer = SimplerXMLGenerator(buffer, "utf-8", short_empty_elements=True)
                try:
                    writer.startElement(item_tag, self.item_attributes(item))
                    self.add_item_elements(writer, item)
                    writer.endElement(item_tag)
                    fragment = buffer.getvalue()
                    fragment.encode("utf-8")
                except Exception as error:
                    if strict:
                        raise UnrenderableEntry(f"{item['link']}: {error!r}") from error
                    log.error("feed %s: item %s skipped: %r", feed_url, item["link"], error)
                    continue
                handler.ignorableWhitespace(fragment)  # written as is: already serialised XML

    feed_url = site_url + feed_path
    feed = Feed(
        title=title,
        link=site_url,
        description=description,
        subtitle=description,
        feed_url=feed_url,
        feed_guid=feed_url,
        author_name=title,
        language=_channel_language(entries, language),
    )
    for entry in entries:
        feed.add_item(
            title=entry.headline,
            link=entry.url,
            description=feed_text(entry.opening),
            content=entry.body_html or None,
            unique_id=entry.url,
            unique_id_is_permalink=True,
            pubdate=_utc(entry.published_at),
            updateddate=_utc(entry.published_at),
            categories=[entry.category],
            author_name=entry.org_name or None,
            language=entry.language,
            # The lead image (RSS <enclosure>, Atom <link rel="enclosure">)
            enclosures=[
                feedgenerator.Enclosure(entry.enclosure[0], str(entry.enclosure[1]), entry.enclosure[2])
            ]
            if entry.enclosure
            else [],
            lead_image=entry.enclosure,
        )
    return bytes(feed.writeString("utf-8").encode("utf-8"))


def check_feed_item(entry: CatalogEntry, *, site_url: str) -> None:
    """Raise ``UnrenderableEntry`` unless ``entry`` can be an item of the RSS and Atom feeds."""
    kinds: tuple[FeedKind, ...] = ("rss", "atom")
    for kind in kinds:
        _feed(
            [entry],
            kind=kind,
            site_url=site_url,
            title="check",
            feed_path=feed_path(entry.category, kind),
            description="check",
            updated=entry.published_at,
            language=entry.language,
            strict=True,
        )


def render_rss(
    entries: Sequence[CatalogEntry],
    *,
    site_url: str,
    title: str,
    feed_path: str,
    description: str,
    updated: datetime,
    language: str = "en",
) -> bytes:
    """RSS 2.0 of ``entries`` in the given order. ``updated`` is the feed's date when there are no
    entries; otherwise the newest entry's ``published_at`` is. The channel's ``language`` is the
    one its entries share, else ``language`` (the site's); each item carries its own as
    ``dc:language``. An entry that cannot be written is skipped and logged."""
    return _feed(
        entries,
        kind="rss",
        site_url=site_url,
        title=title,
        feed_path=feed_path,
        description=description,
        updated=updated,
        language=language,
        strict=False,
    )


def render_atom(
    entries: Sequence[CatalogEntry],
    *,
    site_url: str,
    title: str,
    feed_path: str,
    description: str,
    updated: datetime,
    language: str = "en",
) -> bytes:
    """Atom 1.0 of ``entries`` in the given order (see ``render_rss``); every entry carries its
    own ``xml:lang``."""
    return _feed(
        entries,
        kind="atom",
        site_url=site_url,
        title=title,
        feed_path=feed_path,
        description=description,
        updated=updated,
        language=language,
        strict=False,
    )
