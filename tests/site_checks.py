"""What consumers of the published site parse, as they parse it: shared by the tiers.

* ``valid_time_datetime``: the HTML Standard's grammar for ``<time datetime>`` (a valid month,
  date, yearless date, time, local or global date and time, time-zone offset, week, year or
  duration string), written from the standard, not from our renderer.
* ``crawl``: a crawler over the site's objects (a key -> bytes mapping: the site bucket), from
  ``index.html``, following ``<a href>`` within the site, breadth first: each page's depth in links.
* ``json_ld``: the JSON-LD blocks of a page, parsed.
* ``open_graph``: a page's ``<meta property>`` (Open Graph) and ``<meta name="twitter:...">``.
"""

from __future__ import annotations

import json
import re
from collections import deque
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import urldefrag, urljoin

import lxml.html

# -- the HTML Standard's date and time microsyntaxes (§2.3.5) ---------------------------------------
_YEAR = r"\d{4,}"
_MONTH = r"(0[1-9]|1[0-2])"
_DAY = r"(0[1-9]|[12]\d|3[01])"
_TIME = r"([01]\d|2[0-3]):[0-5]\d(:[0-5]\d(\.\d{1,3})?)?"
_OFFSET = r"(Z|[+-]([01]\d|2[0-3]):?[0-5]\d)"
_FORMS = {
    "month": rf"{_YEAR}-{_MONTH}",
    "date": rf"{_YEAR}-{_MONTH}-{_DAY}",
    "yearless date": rf"(--)?{_MONTH}-{_DAY}",
    "time": _TIME,
    "local date and time": rf"{_YEAR}-{_MONTH}-{_DAY}[T ]{_TIME}",
    "time-zone offset": _OFFSET,
    "global date and time": rf"{_YEAR}-{_MONTH}-{_DAY}[T ]{_TIME}{_OFFSET}",
    "week": rf"{_YEAR}-W(0[1-9]|[1-4]\d|5[0-3])",
    "year": _YEAR,
    "duration": r"P(\d+D)?(T(\d+H)?(\d+M)?(\d+(\.\d{1,3})?S)?)?|(\s*\d+(\.\d{1,3})?\s*[WDHMS])+\s*",
}
_VALID = re.compile("^(" + "|".join(f"(?:{form})" for form in _FORMS.values()) + ")$")
_DAYS_IN = {2: 29, 4: 30, 6: 30, 9: 30, 11: 30}


def valid_time_datetime(value: str) -> bool:
    """Whether ``value`` is a valid ``<time datetime>`` (grammar and calendar: no 31 April)."""
    if not _VALID.match(value):
        return False
    date = re.match(rf"^{_YEAR}-({_MONTH})-({_DAY})", value)
    if date:
        year, month, day = int(value[: value.index("-")]), int(date.group(1)), int(date.group(3))
        limit = _DAYS_IN.get(month, 31)
        if month == 2 and not (year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)):
            limit = 28
        return day <= limit
    return True


def times(page: bytes | str) -> list[str]:
    """Every ``<time datetime>`` value of a page."""
    root = lxml.html.document_fromstring(page)
    return [
        str(element.get("datetime")) for element in root.iter("time") if element.get("datetime") is not None
    ]


# -- crawling ----------------------------------------------------------------------------------------


def crawl(
    site_url: str, fetch: Callable[[str], bytes | None], *, start: str = "index.html"
) -> dict[str, int]:
    """Every page of the site reached from ``start`` and its depth in links (``start`` is 0):
    ``fetch(key)`` returns an object's bytes (None when missing); only HTML pages are followed."""
    depth = {start: 0}
    queue = deque([start])
    while queue:
        key = queue.popleft()
        body = fetch(key)
        if body is None or not key.endswith(".html"):
            continue
        root = lxml.html.document_fromstring(body)
        for anchor in root.iter("a"):
            href = anchor.get("href")
            if not href:
                continue
            url, _ = urldefrag(urljoin(site_url + key, href))
            if not url.startswith(site_url):
                continue
            target = url[len(site_url) :] or "index.html"
            if target not in depth:
                depth[target] = depth[key] + 1
                queue.append(target)
    return depth


# -- metadata ----------------------------------------------------------------------------------------


def json_ld(page: bytes | str) -> list[dict[str, Any]]:
    root = lxml.html.document_fromstring(page)
    return [json.loads(script.text or "") for script in root.xpath("//script[@type='application/ld+json']")]


def open_graph(page: bytes | str) -> Mapping[str, list[str]]:
    """``og:*`` and ``article:*`` (``<meta property>``) and ``twitter:*`` (``<meta name>``) values."""
    root = lxml.html.document_fromstring(page)
    found: dict[str, list[str]] = {}
    for meta in root.xpath("//head/meta[@property] | //head/meta[starts-with(@name, 'twitter:')]"):
        name = str(meta.get("property") or meta.get("name"))
        found.setdefault(name, []).append(str(meta.get("content")))
    return found


# -- sitemaps (sitemaps.org protocol 0.9, Google News sitemaps) ---------------------------------------

SITEMAP_NS = "http://www.sitemaps.org/schemas/sitemap/0.9"
NEWS_NS = "http://www.google.com/schemas/sitemap-news/0.9"
# W3C Datetime (https://www.w3.org/TR/NOTE-datetime), the protocol's lastmod format
_W3C = re.compile(
    r"^\d{4}(-(0[1-9]|1[0-2])(-(0[1-9]|[12]\d|3[01])"
    r"(T([01]\d|2[0-3]):[0-5]\d(:[0-5]\d(\.\d+)?)?(Z|[+-]([01]\d|2[0-3]):[0-5]\d))?)?)?$"
)
_CHANGEFREQ = {"always", "hourly", "daily", "weekly", "monthly", "yearly", "never"}


def w3c_datetime(value: str) -> bool:
    return bool(_W3C.match(value))


def sitemap_problems(body: bytes, location: str) -> list[str]:
    """What breaks the sitemap protocol in the sitemap or sitemap index ``body`` served at
    ``location``: its root and namespace, one absolute ``loc`` per entry at or below the sitemap's
    own folder (at most 2,048 characters), W3C ``lastmod``, the protocol's ``changefreq`` and
    ``priority`` values, at most 50,000 entries and 50 MB, UTF-8. Empty when it is valid."""
    import lxml.etree

    problems: list[str] = []
    if len(body) > 50 * 1024 * 1024:
        problems.append("larger than 50 MB")
    try:
        root = lxml.etree.fromstring(body)
    except lxml.etree.XMLSyntaxError as error:
        return [f"not XML: {error}"]
    if root.getroottree().docinfo.encoding.lower() != "utf-8":
        problems.append("not UTF-8")
    kinds = {f"{{{SITEMAP_NS}}}urlset": "url", f"{{{SITEMAP_NS}}}sitemapindex": "sitemap"}
    if root.tag not in kinds:
        return [*problems, f"root {root.tag} is neither urlset nor sitemapindex in {SITEMAP_NS}"]
    child = f"{{{SITEMAP_NS}}}{kinds[root.tag]}"
    entries = [e for e in root if isinstance(e.tag, str)]
    if len(entries) > 50_000:
        problems.append(f"{len(entries)} entries (at most 50,000)")
    folder = location.rsplit("/", 1)[0] + "/"
    for number, entry in enumerate(entries):
        if entry.tag != child:
            problems.append(f"entry {number}: {entry.tag} where {child} belongs")
        else:
            problems.extend(f"entry {number}: {problem}" for problem in _entry_problems(entry, folder))
    return problems


def _entry_problems(entry: Any, folder: str) -> list[str]:
    """What breaks the protocol in one ``url`` or ``sitemap`` entry of a file in ``folder``."""
    locs = entry.findall(f"{{{SITEMAP_NS}}}loc")
    if len(locs) != 1:
        return [f"{len(locs)} loc elements"]
    problems = []
    loc = (locs[0].text or "").strip()
    if not loc.startswith(("http://", "https://")) or len(loc) > 2048:
        problems.append(f"loc {loc!r} is not an absolute URL of at most 2,048 characters")
    if not loc.startswith(folder):
        problems.append(f"{loc} is outside the sitemap's folder {folder}")
    problems += [
        f"lastmod {lastmod.text!r} is not a W3C datetime"
        for lastmod in entry.findall(f"{{{SITEMAP_NS}}}lastmod")
        if not w3c_datetime(lastmod.text or "")
    ]
    problems += [
        f"changefreq {freq.text!r}"
        for freq in entry.findall(f"{{{SITEMAP_NS}}}changefreq")
        if (freq.text or "") not in _CHANGEFREQ
    ]
    problems += [
        f"priority {priority.text!r}"
        for priority in entry.findall(f"{{{SITEMAP_NS}}}priority")
        if not re.fullmatch(r"(0(\.\d+)?|1(\.0+)?)", priority.text or "")
    ]
    return problems


def news_sitemap_problems(body: bytes, location: str) -> list[str]:
    """``sitemap_problems``, and Google's News sitemap rules: at most 1,000 URLs, each with one
    ``news:news`` holding ``news:publication`` (``name``, ``language``), a W3C
    ``news:publication_date`` and a ``news:title``."""
    import lxml.etree

    problems = sitemap_problems(body, location)
    root = lxml.etree.fromstring(body)
    urls = root.findall(f"{{{SITEMAP_NS}}}url")
    if len(urls) > 1000:
        problems.append(f"{len(urls)} URLs (at most 1,000)")
    for number, url in enumerate(urls):
        news = url.findall(f"{{{NEWS_NS}}}news")
        if len(news) != 1:
            problems.append(f"url {number}: {len(news)} news:news elements")
            continue
        item = news[0]
        for path in ("publication/{ns}name", "publication/{ns}language", "publication_date", "title"):
            found = item.find(
                "{ns}".replace("{ns}", f"{{{NEWS_NS}}}") + path.replace("{ns}", f"{{{NEWS_NS}}}")
            )
            if found is None or not (found.text or "").strip():
                problems.append(f"url {number}: news:{path.replace('{ns}', '')} missing")
        date = item.findtext(f"{{{NEWS_NS}}}publication_date") or ""
        if date and not w3c_datetime(date):
            problems.append(f"url {number}: publication_date {date!r} is not a W3C datetime")
    return problems
