"""Sitemaps (sitemaps.org protocol 0.9) and the Google News sitemap, and ``robots.txt``.

* ``sitemap.xml`` is a sitemap index: ``sitemap-pages.xml`` (the index, category, month and
  organisations' pages, and each organisation's page with its ``lastmod``: its newest
  publication or correction) and one sitemap per page of a day's archive
  (``sitemap-{YYYY-MM-DD}.xml``, ``sitemap-{YYYY-MM-DD}-2.xml``...: at most 100 releases, each
  release's page with its ``lastmod``: its latest correction, else its publication). Every
  sitemap sits at the site's root: the protocol lets a sitemap list only URLs at or below its
  own folder, and the releases are under ``releases/``. A page's file is rewritten when that
  page changes, so a publication rewrites one of them however many there are; the protocol's
  limits (50,000 URLs per file, 50,000 files per index: a day of pages a day for 130 years) are far.
* ``news-sitemap.xml`` lists what was published in the last 48 hours (at most 1,000 articles),
  with the publication's name and language, each article's title and publication date.

Rendered with ElementTree, so every text is escaped as XML requires; dates are W3C datetimes in
UTC (``2026-03-02T14:05:00Z``).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from xml.etree import ElementTree as ET
from xml.sax.saxutils import escape

from functions.domain.publish.model import CatalogEntry
from functions.domain.site import Site, utc_datetime

SITEMAP_NS = "http://www.sitemaps.org/schemas/sitemap/0.9"
PAGES_SITEMAP = "sitemap-pages.xml"
NEWS_NS = "http://www.google.com/schemas/sitemap-news/0.9"
MAX_URLS = 50_000


def day_sitemap_path(day: date, number: int = 1) -> str:
    """The key of the sitemap of a day's page ``number`` (at the root, beside the index), named as
    the page: ``sitemap-2026-03-05.xml``, ``sitemap-2026-03-05-2.xml``..."""
    return f"sitemap-{day.isoformat()}{'' if number == 1 else f'-{number}'}.xml"


def _document(root: ET.Element) -> bytes:
    ET.indent(root, space="  ")
    return bytes(ET.tostring(root, encoding="utf-8", xml_declaration=True)) + b"\n"


def render_urlset(urls: Sequence[tuple[str, datetime | None]]) -> bytes:
    """A sitemap of ``(url, lastmod)`` (no ``lastmod`` when None)."""
    ET.register_namespace("", SITEMAP_NS)
    root = ET.Element(f"{{{SITEMAP_NS}}}urlset")
    for url, lastmod in urls[:MAX_URLS]:
        item = ET.SubElement(root, f"{{{SITEMAP_NS}}}url")
        ET.SubElement(item, f"{{{SITEMAP_NS}}}loc").text = url
        if lastmod is not None:
            ET.SubElement(item, f"{{{SITEMAP_NS}}}lastmod").text = utc_datetime(lastmod)
    return _document(root)


def render_sitemap_index(sitemaps: Sequence[tuple[str, datetime | None]]) -> bytes:
    """A sitemap index of ``(sitemap url, lastmod)``."""
    ET.register_namespace("", SITEMAP_NS)
    root = ET.Element(f"{{{SITEMAP_NS}}}sitemapindex")
    for url, lastmod in sitemaps[:MAX_URLS]:
        item = ET.SubElement(root, f"{{{SITEMAP_NS}}}sitemap")
        ET.SubElement(item, f"{{{SITEMAP_NS}}}loc").text = url
        if lastmod is not None:
            ET.SubElement(item, f"{{{SITEMAP_NS}}}lastmod").text = utc_datetime(lastmod)
    return _document(root)


def news_language(tag: str) -> str:
    """The language of a Google News sitemap: an ISO 639 code, except ``zh-cn`` and ``zh-tw``."""
    parts = tag.lower().split("-")
    if parts[0] == "zh":
        return "zh-tw" if {"tw", "hk", "mo", "hant"} & set(parts[1:]) else "zh-cn"
    return parts[0]


def render_news_sitemap(entries: Sequence[CatalogEntry], *, site: Site) -> bytes:
    """The Google News sitemap of ``entries`` (the last 48 hours' publications). Up to 1,000 of
    them on every publication: written as text (every value escaped for XML), which takes a
    fraction of what building the tree would, laid out as the other sitemaps are."""
    name = escape(site.name)
    lines = [
        "<?xml version='1.0' encoding='utf-8'?>",
        f'<urlset xmlns="{SITEMAP_NS}" xmlns:news="{NEWS_NS}">',
    ]
    for entry in entries:
        lines += [
            "  <url>",
            f"    <loc>{escape(entry.url)}</loc>",
            "    <news:news>",
            "      <news:publication>",
            f"        <news:name>{name}</news:name>",
            f"        <news:language>{escape(news_language(entry.language))}</news:language>",
            "      </news:publication>",
            f"      <news:publication_date>{utc_datetime(entry.published_at)}</news:publication_date>",
            f"      <news:title>{escape(entry.headline)}</news:title>",
            "    </news:news>",
            "  </url>",
        ]
    lines.append("</urlset>")
    return ("\n".join(lines) + "\n").encode("utf-8")


def render_robots(site: Site) -> str:
    """``robots.txt``: everything may be crawled; the sitemap index and the news sitemap."""
    return f"User-agent: *\nAllow: /\nSitemap: {site.url}sitemap.xml\nSitemap: {site.url}news-sitemap.xml\n"
