"""The day archive in bounded pages: what a day's calendar entry says and which page holds what.

A day's releases are kept oldest first in catalog pages of at most ``DAY_PAGE`` entries
(``days/{YYYY-MM-DD}/{n}``, n from 1), so a publication reads and rewrites the one page it lands
on (the last, as releases are published in time order), however busy the day or the site. The
front document's calendar says, for each day, its count and its pages: each page's count, its
catalog's seq, its oldest entry's publication time (``first``: where an entry of a given time
is, without reading the others) and its last change. The objects rendered from a day's pages
are keyed on ``base`` plus the sum of its pages' seqs (a day migrated from the old shape starts
at the seq its old pages were marked with).

The old shape: one catalog for the whole day (``days/{YYYY-MM-DD}``, newest first) and, in the
calendar, only ``{"count", "seq", "lastmod"}``. Such a day is split into pages when it is next
touched, and a few of the others at every refresh (``MIGRATE_PER_REFRESH``), newest first.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from typing import Any

from functions.domain.publish.model import CatalogEntry, chronological

DAY_PAGE = 100  # entries per page of a day (its catalog page, its archive page, its sitemap)
MIGRATE_PER_REFRESH = 10  # days of the old shape split into pages by each refresh, besides those it touches


def day_catalog(day: date, number: int) -> str:
    """The catalog of page ``number`` of ``day``."""
    return f"days/{day.isoformat()}/{number}"


def legacy_day_catalog(day: date) -> str:
    """The old shape's catalog of the whole day, newest first."""
    return f"days/{day.isoformat()}"


def oldest_first(entries: Iterable[CatalogEntry]) -> list[CatalogEntry]:
    """Oldest first; entries of the same instant by release id (a total order)."""
    return sorted(entries, key=chronological)


def placed(entries: list[CatalogEntry], entry: CatalogEntry) -> list[CatalogEntry]:
    """``entries`` (oldest first) with ``entry`` in its place, replacing the release's own."""
    kept = [e for e in entries if e.release_id != entry.release_id]
    kept.insert(bisect.bisect(kept, chronological(entry), key=chronological), entry)
    return kept


@dataclass(frozen=True)
class Page:
    """A page as the calendar knows it."""

    count: int
    seq: int
    first: str | None  # the oldest entry's publication time (ISO), None for an empty page
    lastmod: str

    def to_json(self) -> dict[str, Any]:
        return {"count": self.count, "seq": self.seq, "first": self.first, "lastmod": self.lastmod}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Page:
        first = data.get("first")
        return cls(int(data["count"]), int(data["seq"]), str(first) if first else None, str(data["lastmod"]))


@dataclass
class Day:
    """A day of the archive as the calendar has it (``legacy``: not yet split into pages)."""

    day: date
    base: int = 0
    pages: list[Page] = field(default_factory=list)
    legacy: Mapping[str, Any] | None = None

    @classmethod
    def from_calendar(cls, day: date, value: Mapping[str, Any] | None) -> Day:
        if not value:
            return cls(day)
        if "pages" not in value:
            return cls(day, legacy=value)
        return cls(day, int(value.get("base", 0)), [Page.from_json(p) for p in value["pages"]])

    def to_calendar(self) -> dict[str, Any]:
        return {
            "count": self.count,
            "base": self.base,
            "pages": [page.to_json() for page in self.pages],
        }

    @property
    def count(self) -> int:
        if self.legacy is not None:
            return int(self.legacy.get("count") or 0)
        return sum(page.count for page in self.pages)

    @property
    def page_count(self) -> int:
        """Its archive pages (a day of the old shape: one per ``DAY_PAGE`` entries, at least one)."""
        if self.legacy is not None:
            return max(1, -(-self.count // DAY_PAGE))
        return len(self.pages)

    @property
    def lastmod(self) -> str | None:
        if self.legacy is not None:
            return str(self.legacy.get("lastmod") or "") or None
        return max((page.lastmod for page in self.pages), default=None)

    def holding(self, published_at: datetime) -> list[int]:
        """The pages an entry published at ``published_at`` can be on (one, or two when it is at a
        page's boundary); for an entry not in the day, the last is where it goes."""
        filled = [(n, datetime.fromisoformat(p.first)) for n, p in enumerate(self.pages, 1) if p.first]
        if not filled:
            return [len(self.pages) or 1]
        found = []
        for index, (number, first) in enumerate(filled):
            following = filled[index + 1][1] if index + 1 < len(filled) else None
            if (first <= published_at or index == 0) and (following is None or published_at <= following):
                found.append(number)
        return found or [filled[-1][0]]

    def with_page(self, number: int, entries: list[CatalogEntry], seq: int, now: str) -> Day:
        """The day with page ``number`` (one more than there are: a new page) as ``entries`` at ``seq``."""
        page = Page(len(entries), seq, entries[0].published_at.isoformat() if entries else None, now)
        pages = list(self.pages)
        if number > len(pages):
            pages.append(page)
        else:
            pages[number - 1] = page
        return replace(self, pages=pages)

    @property
    def key(self) -> int:
        """What the objects rendered from the day's pages are keyed on: its base and the sum of its
        pages' seqs, which grows with any change of any page (a page links to the next: a new
        page changes the one before it)."""
        return self.base + sum(page.seq for page in self.pages)
