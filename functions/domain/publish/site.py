"""The published site's HTML pages and feeds, rendered from releases and catalogue entries.

* Pages are Jinja2 templates (``templates/``) with autoescaping on. The only values marked safe
  are a release's body, which is stored already sanitised (``functions.domain.sanitise``), and
  the JSON-LD, serialised here with every ``<``, ``>`` and ``&`` escaped (so ``</script>`` in a
  headline cannot end its element); headlines, summaries, datelines, details, contacts, links
  and tags are all escaped.
* Every page carries the site's identity (``functions.domain.site.Site``): its name, tagline and
  logo, the stylesheet and favicon (static files, ``static/``, put on the site at deploy by
  ``functions.domain.publish.setup``: no inline style, so the site's Content-Security-Policy
  needs no ``'unsafe-inline'``), Open Graph and Twitter card metadata and schema.org JSON-LD
  (``NewsArticle`` for a release). Times are shown in the site's display zone with their offset;
  every ``<time datetime>`` is a valid HTML date-time.
* Interface text (navigation, headings, labels, notices) is English; on a page in another
  language (a release's own) it is marked ``lang="en"``, and the site's name and tagline with
  the site's language.
* Feeds are made with feedgenerator: RSS 2.0 (``feeds/*.xml``) and Atom 1.0 (``feeds/*.atom``). An
  item's identity is its page URL, the same as the ninjs ``uri``: the RSS ``guid`` (with
  ``isPermaLink="true"``) and the Atom ``id``. A feed's Atom ``id`` is its own URL. RSS dates are
  the entries' ``published_at``, Atom's ``updated`` their latest correction (else publication);
  the feed's ``updated`` / ``lastBuildDate`` is the newest entry's, or the ``updated`` argument
  for an empty feed, so a render depends on its arguments only.
* Feeds render exactly the entries they are given, in the given order (the catalogue keeps them
  newest first and bounded).
"""

from __future__ import annotations

import hashlib
import html
import json
import logging
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from functools import cache
from io import StringIO
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from functions.domain.models import CATEGORIES
from functions.domain.publish.facts import DETAILS_HEADINGS, detail_facts
from functions.domain.publish.model import CatalogEntry, PublishedMedia, PublishedRelease, page_url
from functions.domain.site import (
    INTERFACE_LANGUAGE,
    Site,
    html_datetime,
    human_date,
    human_time,
    month_name,
    utc_datetime,
)

if TYPE_CHECKING:
    from jinja2 import Environment

log = logging.getLogger(__name__)

TEMPLATES = Path(__file__).parent / "templates"
STATIC = Path(__file__).parent / "static"
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


def feed_path(name: str | None, kind: FeedKind) -> str:
    """``feeds/all.xml``, ``feeds/{category}.atom``, ``feeds/orgs/{org}.xml``: where a feed lives."""
    return f"feeds/{name or 'all'}.{'xml' if kind == 'rss' else 'atom'}"


def category_path(category: str) -> str:
    return f"categories/{category}.html"


def org_path(org_id: str) -> str:
    return f"orgs/{org_id}.html"


def month_path(year: int, month: int) -> str:
    return f"archive/{year:04d}-{month:02d}.html"


def day_path(day: date, number: int = 1) -> str:
    """A day's archive page (``archive/2026-03-05.html``; ``archive/2026-03-05-2.html``...)."""
    return f"archive/{day.isoformat()}{'' if number == 1 else f'-{number}'}.html"


@cache
def static_file(name: str) -> bytes:
    return (STATIC / name).read_bytes()


@cache
def asset_path(name: str) -> str:
    """Where a static file is served, with its content's digest in the name (``assets/site.
    3f2a1b9c0d.css``): a changed file gets a new name, so it can be cached for good."""
    stem, _, suffix = name.rpartition(".")
    digest = hashlib.sha256(static_file(name)).hexdigest()[:10]
    return f"assets/{stem}.{digest}.{suffix}"


@dataclass(frozen=True)
class Alternate:
    type: str
    href: str
    title: str


def _feed_alternates(site: Site, feeds: Sequence[tuple[str | None, str]]) -> list[Alternate]:
    """``<link rel=alternate>`` of feeds: (feed name or None for the site's, its title)."""
    links = []
    for name, title in feeds:
        for kind in ("rss", "atom"):
            links.append(
                Alternate(
                    type=FEED_TYPES[kind],
                    href=site.url + feed_path(name, kind),
                    title=f"{title} ({'RSS' if kind == 'rss' else 'Atom'})",
                )
            )
    return links


def _category_feeds(site: Site, categories: Sequence[str | None]) -> list[tuple[str | None, str]]:
    return [
        (category, f"{site.name}: {CATEGORY_LABELS.get(category, category)}" if category else site.name)
        for category in categories
    ]


# ---------------------------------------------------------------------------------------------
# Helpers
# ---------------------------------------------------------------------------------------------


def _utc(value: datetime) -> datetime:
    return value.astimezone(UTC)


def tel_uri(phone: str) -> str:
    """A ``tel:`` URI for a telephone number as submitted (digits and a leading +)."""
    return "tel:" + _PHONE_CHARS.sub("", phone)


def og_locale(language: str) -> str:
    """Open Graph's ``language_TERRITORY`` (``fr-CA`` -> ``fr_CA``; ``en`` stays ``en``)."""
    parts = language.split("-")
    region = next((p for p in parts[1:] if len(p) == 2 and p.isalpha()), None)
    return f"{parts[0].lower()}_{region.upper()}" if region else parts[0].lower()


def _primary(language: str) -> str:
    return language.split("-", maxsplit=1)[0].lower()


def _lang_attribute(language: str, page_language: str) -> Any:
    """`` lang="…"`` for an element whose language differs from its page's, else nothing."""
    from markupsafe import Markup, escape

    if _primary(language) == _primary(page_language):
        return Markup("")
    return Markup(' lang="%s"') % escape(language)


def _json_ld(data: Mapping[str, Any]) -> Any:
    """JSON-LD for a ``<script type="application/ld+json">``: ``<``, ``>`` and ``&`` escaped as
    JSON escapes, so no text in it can close the element or start a comment."""
    from markupsafe import Markup

    text = json.dumps(data, ensure_ascii=False, indent=1)
    text = text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
    return Markup(text)  # noqa: S704 - serialised JSON with every markup character escaped


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


def _moment(site: Site, value: datetime) -> dict[str, str]:
    """A time as a page shows it: ``iso`` for ``<time datetime>``, ``text`` for readers."""
    return {"iso": html_datetime(value, site.time_zone), "text": human_time(value, site.time_zone)}


def _page(
    site: Site,
    *,
    lang: str,
    title: str,
    description: str,
    canonical: str,
    noindex: bool = False,
    alternates: Sequence[Alternate] = (),
    og_type: str = "website",
    og_extra: Sequence[tuple[str, str]] = (),
    json_ld: Mapping[str, Any] | None = None,
    image: PublishedMedia | None = None,
) -> dict[str, Any]:
    """What every page's ``base.html.j2`` needs: head metadata, the site's identity, navigation.
    ``image`` (a release's lead image) stands for the page where it is shared, instead of the
    site's logo."""
    og = [
        ("og:title", title),
        ("og:description", description),
        ("og:url", canonical),
        ("og:type", og_type),
        ("og:site_name", site.name),
        ("og:locale", og_locale(lang)),
        *og_extra,
    ]
    twitter = [("twitter:card", "summary"), ("twitter:title", title), ("twitter:description", description)]
    if image is not None:
        largest = image.largest
        og.append(("og:image", largest.href))
        og.extend(
            (name, str(value))
            for name, value in (
                ("og:image:type", largest.content_type),
                ("og:image:width", largest.width),
                ("og:image:height", largest.height),
                ("og:image:alt", image.alt),
            )
            if value
        )
        twitter[0] = ("twitter:card", "summary_large_image")
        twitter.append(("twitter:image", largest.href))
        if image.alt:
            twitter.append(("twitter:image:alt", image.alt))
    elif site.logo_url:
        og.append(("og:image", site.logo_url))
        twitter.append(("twitter:image", site.logo_url))
    return {
        "lang": lang,
        "title": title,
        "description": description,
        "canonical": canonical,
        "noindex": noindex,
        "alternates": list(alternates),
        "og": og,
        "twitter": twitter,
        "json_ld": _json_ld(json_ld) if json_ld is not None else None,
        "site": site,
        "ui": _lang_attribute(INTERFACE_LANGUAGE, lang),
        "site_lang": _lang_attribute(site.language, lang),
        "stylesheet": site.url + asset_path("site.css"),
        "favicon_svg": site.url + "favicon.svg",
        "favicon_ico": site.url + "favicon.ico",
        "nav": [
            {"href": site.url + category_path(c), "label": CATEGORY_LABELS.get(c, c)} for c in CATEGORIES
        ],
        "organisations_href": site.url + "organisations.html",
        "archive_href": site.url + "#archive",
    }


def _organisation(site: Site, org_id: str, org_name: str) -> dict[str, Any]:
    """schema.org: the organisation that issued a release (its author and publisher)."""
    organisation: dict[str, Any] = {"@type": "Organization", "name": org_name or site.name}
    if org_id:
        organisation["url"] = site.url + org_path(org_id)
    return organisation


def _image_object(image: PublishedMedia) -> dict[str, Any]:
    """schema.org: an image of a release, as its largest rendition."""
    largest = image.largest
    item: dict[str, Any] = {"@type": "ImageObject", "url": largest.href, "contentUrl": largest.href}
    if largest.width and largest.height:
        item["width"], item["height"] = largest.width, largest.height
    if image.caption or image.alt:
        item["caption"] = image.caption or image.alt
    if image.credit:
        item["creditText"] = image.credit
    return item


def _news_article(release: PublishedRelease, site: Site, description: str) -> dict[str, Any]:
    issuer = _organisation(site, release.org_id, release.org_name)
    article: dict[str, Any] = {
        "@context": "https://schema.org",
        "@type": "NewsArticle",
        "headline": release.headline,
        "description": description,
        "datePublished": utc_datetime(release.published_at),
        "dateModified": utc_datetime(release.updated_at),
        "inLanguage": release.language,
        "author": issuer,
        "publisher": issuer,
        "mainEntityOfPage": {"@type": "WebPage", "@id": release.page_url},
        "url": release.page_url,
        "articleSection": CATEGORY_LABELS.get(release.category, release.category),
        "isPartOf": {"@type": "WebSite", "name": site.name, "url": site.url},
    }
    if release.dateline:
        article["dateline"] = release.dateline
    if release.tags:
        article["keywords"] = release.tags
    featured = release.featured
    images = [*([featured] if featured else []), *release.gallery]  # the lead image first
    if images:
        article["image"] = [_image_object(image) for image in images]
    elif site.logo_url:
        article["image"] = site.logo_url
    if release.corrections:
        article["correction"] = [
            {
                "@type": "CorrectionComment",
                "text": correction.note,
                "datePublished": utc_datetime(correction.published_at),
            }
            for correction in release.corrections
        ]
    return article


def render_page(release: PublishedRelease, site: Site) -> str:
    """The HTML page of a published release (``releases/{id}.html``)."""
    category = release.category
    description = release.summary or release.opening
    label = CATEGORY_LABELS.get(category, category)
    featured = release.featured
    lead = release.lead_image
    return _render(
        "release.html.j2",
        **_page(
            site,
            lang=release.language,
            title=f"{release.headline} · {site.name}",
            description=description,
            canonical=release.page_url,
            alternates=[
                Alternate("application/json", release.json_url, "IPTC ninjs"),
                *_feed_alternates(site, _category_feeds(site, [None, category])),
            ],
            og_type="article",
            og_extra=[
                ("article:published_time", utc_datetime(release.published_at)),
                ("article:modified_time", utc_datetime(release.updated_at)),
                ("article:section", label),
                *(("article:tag", tag) for tag in release.tags),
            ],
            json_ld=_news_article(release, site, description),
            image=lead,
        ),
        headline=release.headline,
        subheadline=release.subheadline,
        dateline=release.dateline,
        published=_moment(site, release.published_at),
        modified=_moment(site, release.modified_at) if release.modified_at else None,
        corrections=[
            {"note": c.note, "at": _moment(site, c.published_at), "version": c.version}
            for c in reversed(release.corrections)
        ],
        org_name=release.org_name,
        org_href=site.url + org_path(release.org_id) if release.org_id else None,
        category_label=label,
        category_href=site.url + category_path(category),
        category_feed=site.url + feed_path(category, "rss"),
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
    )


def render_killed_page(
    release_id: str,
    headline: str,
    *,
    site: Site,
    killed_at: datetime,
    reason: str | None = None,
    language: str = "en",
    by_newsroom: bool = True,
) -> str:
    """What ``releases/{id}.html`` becomes once a release is withdrawn: a notice saying who
    withdrew it (the newsroom, for a kill: never which moderator; else its organisation), when
    and why (the reason's wording), kept out of search indexes, without the release's text."""
    return _render(
        "killed.html.j2",
        **_page(
            site,
            lang=language,
            title=f"Withdrawn: {headline} · {site.name}",
            description="This release has been withdrawn by the newsroom.",
            canonical=page_url(site.url, release_id),
            noindex=True,
        ),
        headline=headline,
        killed=_moment(site, killed_at),
        reason=reason,
        by_newsroom=by_newsroom,
    )


def _entry_view(entry: CatalogEntry, site: Site) -> dict[str, Any]:
    return {
        "url": entry.url,
        "headline": entry.headline,
        "dateline": entry.dateline,
        "opening": entry.opening,
        "language": entry.language,
        "org_name": entry.org_name,
        "org_href": site.url + org_path(entry.org_id) if entry.org_id else None,
        "published": _moment(site, entry.published_at),
        "corrected": _moment(site, entry.updated_at) if entry.updated_at else None,
    }


def _collection(site: Site, name: str, url: str, description: str) -> dict[str, Any]:
    return {
        "@context": "https://schema.org",
        "@type": "CollectionPage",
        "name": name,
        "description": description,
        "url": url,
        "inLanguage": site.language,
        "isPartOf": {"@type": "WebSite", "name": site.name, "url": site.url},
    }


def render_index(
    latest: Sequence[CatalogEntry],
    by_category: dict[str, list[CatalogEntry]],
    *,
    site: Site,
    generated_at: datetime,
    months: Sequence[tuple[int, int]] = (),
) -> str:
    """The newsroom (``index.html``): the latest releases, then one section per category, in the
    fixed order of ``CATEGORIES``, then the archive's months (newest first). Entries are shown in
    the order given (newest first)."""
    sections = [
        {
            "category": category,
            "label": CATEGORY_LABELS.get(category, category),
            "href": site.url + category_path(category),
            "entries": [_entry_view(entry, site) for entry in by_category.get(category, [])],
            "empty_text": f"No {category} releases yet.",
            "rss": site.url + feed_path(category, "rss"),
            "atom": site.url + feed_path(category, "atom"),
        }
        for category in CATEGORIES
    ]
    newest = latest[0].opening if latest else ""
    description = site.tagline or f"Press releases published on {site.name}."
    website = {
        "@context": "https://schema.org",
        "@type": "WebSite",
        "name": site.name,
        "url": site.url,
        "description": description,
        "inLanguage": site.language,
    }
    return _render(
        "index.html.j2",
        **_page(
            site,
            lang=site.language,
            title=site.name,
            description=description + (f" Latest: {newest}" if newest else ""),
            canonical=site.url,
            alternates=_feed_alternates(site, _category_feeds(site, [None, *CATEGORIES])),
            json_ld=website,
        ),
        latest=[_entry_view(entry, site) for entry in latest],
        all_feeds={"rss": site.url + feed_path(None, "rss"), "atom": site.url + feed_path(None, "atom")},
        sections=sections,
        months=[{"href": site.url + month_path(y, m), "label": month_name(y, m)} for y, m in months],
        generated=_moment(site, generated_at),
    )


def render_category_page(
    category: str, entries: Sequence[CatalogEntry], *, site: Site, generated_at: datetime
) -> str:
    """``categories/{category}.html``: the category's newest releases and its feeds."""
    label = CATEGORY_LABELS.get(category, category)
    url = site.url + category_path(category)
    description = f"{label} press releases on {site.name}, newest first."
    return _render(
        "list.html.j2",
        **_page(
            site,
            lang=site.language,
            title=f"{label} · {site.name}",
            description=description,
            canonical=url,
            alternates=_feed_alternates(site, _category_feeds(site, [category])),
            json_ld=_collection(site, label, url, description),
        ),
        heading=label,
        heading_lang=_lang_attribute(INTERFACE_LANGUAGE, site.language),
        entries=[_entry_view(entry, site) for entry in entries],
        empty_text=f"No {category} releases yet.",
        feeds={"rss": site.url + feed_path(category, "rss"), "atom": site.url + feed_path(category, "atom")},
        generated=_moment(site, generated_at),
    )


def render_org_page(
    org_id: str, org_name: str, entries: Sequence[CatalogEntry], *, site: Site, generated_at: datetime
) -> str:
    """``orgs/{org}.html``: an organisation's newest releases and its feeds."""
    name = f"orgs/{org_id}"
    url = site.url + org_path(org_id)
    description = f"Press releases of {org_name} on {site.name}, newest first."
    return _render(
        "list.html.j2",
        **_page(
            site,
            lang=site.language,
            title=f"{org_name} · {site.name}",
            description=description,
            canonical=url,
            alternates=_feed_alternates(site, [(name, f"{site.name}: {org_name}")]),
            json_ld=_collection(site, org_name, url, description),
        ),
        heading=org_name,
        heading_lang=_lang_attribute(site.language, site.language),
        entries=[_entry_view(entry, site) for entry in entries],
        empty_text=f"No releases of {org_name} yet.",
        feeds={"rss": site.url + feed_path(name, "rss"), "atom": site.url + feed_path(name, "atom")},
        generated=_moment(site, generated_at),
    )


def render_organisations_page(orgs: Mapping[str, str], *, site: Site) -> str:
    """``organisations.html``: every organisation with a release, by name."""
    url = site.url + "organisations.html"
    description = f"The organisations publishing press releases on {site.name}."
    ordered = sorted(orgs.items(), key=lambda item: (item[1].casefold(), item[0]))
    return _render(
        "organisations.html.j2",
        **_page(
            site,
            lang=site.language,
            title=f"Organisations · {site.name}",
            description=description,
            canonical=url,
            json_ld=_collection(site, "Organisations", url, description),
        ),
        organisations=[{"href": site.url + org_path(org), "name": name} for org, name in ordered],
    )


def render_month_page(year: int, month: int, days: Mapping[date, tuple[int, int]], *, site: Site) -> str:
    """``archive/{YYYY-MM}.html``: the month's days with releases (``days``: each day's count of
    releases and of pages), newest first, each with its pages."""
    label = month_name(year, month)
    url = site.url + month_path(year, month)
    description = f"Press releases published on {site.name} in {label}."
    listed = []
    for day in sorted(days, reverse=True):
        count, pages = days[day]
        listed.append(
            {
                "label": human_date(day),
                "count": count,
                "pages": [
                    {"href": site.url + day_path(day, number), "number": number}
                    for number in range(1, max(1, pages) + 1)
                ],
            }
        )
    return _render(
        "month.html.j2",
        **_page(
            site,
            lang=site.language,
            title=f"{label} · {site.name}",
            description=description,
            canonical=url,
            json_ld=_collection(site, label, url, description),
        ),
        heading=label,
        days=listed,
    )


def render_day_page(
    day: date, entries: Sequence[CatalogEntry], *, number: int, pages: int, site: Site
) -> str:
    """``archive/{YYYY-MM-DD}.html`` (page ``number`` of the day's ``pages``, ``-{number}.html``
    after the first): the day's releases, oldest first, so a page once full never changes but
    for corrections and kills; a day of several pages links each page to the one before and after."""
    label = human_date(day)
    url = site.url + day_path(day, number)
    description = f"Press releases published on {site.name} on {label}, oldest first."
    paged = f" (page {number})" if pages > 1 or number > 1 else ""
    return _render(
        "day.html.j2",
        **_page(
            site,
            lang=site.language,
            title=f"{label}{paged} · {site.name}",
            description=description,
            canonical=url,
            json_ld=_collection(site, f"{label}{paged}", url, description),
        ),
        heading=f"{label}{paged}",
        number=number,
        previous=site.url + day_path(day, number - 1) if number > 1 else None,
        next=site.url + day_path(day, number + 1) if number < pages else None,
        month={"href": site.url + month_path(day.year, day.month), "label": month_name(day.year, day.month)},
        entries=[_entry_view(entry, site) for entry in entries],
    )


def render_not_found(site: Site) -> str:
    """``404.html``: what a reader sees for a path where nothing is (CloudFront's error page)."""
    return _render(
        "404.html.j2",
        **_page(
            site,
            lang=site.language,
            title=f"Page not found · {site.name}",
            description="There is no page at this address.",
            canonical=site.url + "404.html",
            noindex=True,
        ),
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
    site: Site,
    title: str,
    feed_path: str,
    description: str,
    updated: datetime,
    strict: bool,
) -> bytes:
    import feedgenerator
    from feedgenerator.django.utils.xmlutils import SimplerXMLGenerator

    newest = max((entry.last_modified for entry in entries), default=updated)
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

    feed_url = site.url + feed_path
    feed = Feed(
        title=title,
        link=site.url,
        description=description,
        subtitle=description,
        feed_url=feed_url,
        feed_guid=feed_url,
        author_name=site.name,
        language=_channel_language(entries, site.language),
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
            updateddate=_utc(entry.last_modified),
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


def check_feed_item(entry: CatalogEntry, *, site: Site) -> None:
    """Raise ``UnrenderableEntry`` unless ``entry`` can be an item of the RSS and Atom feeds."""
    kinds: tuple[FeedKind, ...] = ("rss", "atom")
    for kind in kinds:
        _feed(
            [entry],
            kind=kind,
            site=site,
            title="check",
            feed_path=feed_path(entry.category, kind),
            description="check",
            updated=entry.published_at,
            strict=True,
        )


def render_rss(
    entries: Sequence[CatalogEntry],
    *,
    site: Site,
    title: str,
    feed_path: str,
    description: str,
    updated: datetime,
) -> bytes:
    """RSS 2.0 of ``entries`` in the given order. ``updated`` is the feed's date when there are no
    entries; otherwise the newest entry's change is. The channel's ``language`` is the one its
    entries share, else the site's; each item carries its own as ``dc:language``. An entry
    that cannot be written is skipped and logged."""
    return _feed(
        entries,
        kind="rss",
        site=site,
        title=title,
        feed_path=feed_path,
        description=description,
        updated=updated,
        strict=False,
    )


def render_atom(
    entries: Sequence[CatalogEntry],
    *,
    site: Site,
    title: str,
    feed_path: str,
    description: str,
    updated: datetime,
) -> bytes:
    """Atom 1.0 of ``entries`` in the given order (see ``render_rss``); every entry carries its
    own ``xml:lang``, and its ``updated`` is its latest correction (else its publication)."""
    return _feed(
        entries,
        kind="atom",
        site=site,
        title=title,
        feed_path=feed_path,
        description=description,
        updated=updated,
        strict=False,
    )
