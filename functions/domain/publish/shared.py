"""The site's shared objects: everything more than one release appears on.

``SharedSite.apply(changes)`` is the one way they change: given what happened to some entries
(published, corrected, removed), it changes the catalogs those entries belong to, each once,
then re-renders the shared objects that depend on them, each once. So a publication rewrites a
bounded set of objects whatever the site's size, and a caller with several changes at once (a
batch) pays for each shared object once.

What there is (catalogs are private, in the releases bucket; pages are on the site):

============================  ==========================================  =============================
catalog                       holds                                       renders
============================  ==========================================  =============================
``all``                       the site's ``feed_size`` newest, bodies     ``feeds/all.{xml,atom}``
``{category}``                the category's ``feed_size`` newest         ``feeds/{category}.*``,
                                                                          ``categories/{category}.html``
``orgs/{org}``                the organisation's ``feed_size`` newest     ``feeds/orgs/{org}.*``,
                                                                          ``orgs/{org}.html``
``days/{YYYY-MM-DD}/{n}``     page n of that day (display zone): at most  ``archive/{day}[-n].html``,
                              ``DAY_PAGE`` entries, oldest first,         ``sitemap-{day}[-n].xml``
                              without bodies (``archive.py``); the last   ``news-sitemap.xml`` (the
                              48 hours' are read from the newest pages    last 48 hours, at most
                                                                          1,000)
``organisations`` (document)  every organisation's name                   ``organisations.html``
``front`` (document)          the calendar: each day's count and pages;   ``index.html``,
                              the newest entries of the site and of each  ``archive/{YYYY-MM}.html``,
                              category; each organisation's newest        ``sitemap.xml``,
                              publication                                 ``sitemap-pages.xml``
============================  ==========================================  =============================

Every release is reachable from ``index.html`` within three links: index -> its month's page
-> its day's page -> the release (and the newest from the index itself, their category's and
their organisation's page).

Consistency: one writer applies changes, one batch at a time, in order (the site-refresh
function, on a FIFO queue with one message group; ``SiteRefresh`` is how the publisher hands it
a batch's changes). Catalogs change by conditional writes and count their changes (``seq``), a
guard that fails loudly if a second writer ever raced; each shared object is rendered from one
catalog only and marked with its ``seq`` (``SiteWriter.put_if_newer``: the single writer writes
it without reading it first; any other writer only replaces an older rendering). Everything
is rendered after every change, also when the catalogs did not change (a redelivery): an object
a crash left unrendered is written then (by any other writer, one already up to date is
skipped). The objects of a day are keyed on its pages' seqs (``archive.Day.key``), the news
sitemap (rendered from the day pages at every change, which changes the front document too) on
the front document's.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from enum import StrEnum
from typing import Any, Protocol

from functions.domain.models import CATEGORIES
from functions.domain.ports import Catalogs, SiteWriter
from functions.domain.publish.archive import (
    DAY_PAGE,
    MIGRATE_PER_REFRESH,
    Day,
    day_catalog,
    legacy_day_catalog,
    oldest_first,
    placed,
)
from functions.domain.publish.model import CatalogEntry, insert, newest_first, parse_entries, remove
from functions.domain.site import Site, utc_datetime
from functions.domain.states import Status

log = logging.getLogger(__name__)

ALL = "all"
FRONT = "front"
ORGANISATIONS = "organisations"
INDEX_LATEST = 20
INDEX_PER_CATEGORY = 10
# The front document keeps more than the index shows, so that a kill still leaves it full.
FRONT_LATEST = 2 * INDEX_LATEST
FRONT_PER_CATEGORY = 2 * INDEX_PER_CATEGORY
NEWS_WINDOW = timedelta(hours=48)  # a Google News sitemap lists what was published in the last 48 h
NEWS_MAX = 1000  # and at most 1,000 articles
HTML = "text/html; charset=utf-8"
RSS = "application/rss+xml; charset=utf-8"
ATOM = "application/atom+xml; charset=utf-8"
XML = "application/xml; charset=utf-8"

Entries = list[CatalogEntry]


class ChangeKind(StrEnum):
    PUBLISHED = "published"  # first published: added everywhere it belongs
    CORRECTED = "corrected"  # a newer version of a published release: replaced where it is
    REMOVED = "removed"  # killed: removed from everywhere


@dataclass(frozen=True)
class EntryChange:
    """What happened to one release's entry: ``entry`` as it is now (published, corrected) or as
    it was (removed; its category, organisation and publication time say where it is)."""

    kind: ChangeKind
    entry: CatalogEntry

    @classmethod
    def published(cls, entry: CatalogEntry) -> EntryChange:
        return cls(ChangeKind.PUBLISHED, entry)

    @classmethod
    def corrected(cls, entry: CatalogEntry) -> EntryChange:
        return cls(ChangeKind.CORRECTED, entry)

    @classmethod
    def removed(cls, entry: CatalogEntry) -> EntryChange:
        return cls(ChangeKind.REMOVED, entry)

    def to_json(self) -> dict[str, Any]:
        """As a site-refresh request carries it (a removed entry needs no body)."""
        entry = self.entry.without_body() if self.kind is ChangeKind.REMOVED else self.entry
        return {"kind": self.kind.value, "entry": entry.to_json()}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> EntryChange:
        return cls(ChangeKind(data["kind"]), CatalogEntry.from_json(data["entry"]))


class SiteRefresh(Protocol):
    """Where the shared objects' changes go: ``SharedSite`` itself (applied at once), or the
    site-refresh queue, whose one consumer applies them (``functions.handlers.site_refresh``)."""

    def request(self, changes: Sequence[EntryChange]) -> None: ...


class ApplyNow:
    """The changes applied in this process, at once."""

    def __init__(self, shared: SharedSite) -> None:
        self._shared = shared

    def request(self, changes: Sequence[EntryChange]) -> None:
        if changes:
            self._shared.apply(changes)


def coalesce(requests: Iterable[Sequence[EntryChange]]) -> list[EntryChange]:
    """Several requests' changes as one list, in order; a change equal to the same release's
    previous one (a request sent or delivered twice) is kept once. Applying the list is the same
    as applying the requests one after the other, at the cost of one."""
    merged: list[EntryChange] = []
    last: dict[str, EntryChange] = {}
    for changes in requests:
        for change in changes:
            release_id = change.entry.release_id
            if last.get(release_id) == change:
                continue
            last[release_id] = change
            merged.append(change)
    return merged


def still_current(changes: Sequence[EntryChange], statuses: Mapping[str, str]) -> list[EntryChange]:
    """``changes`` without the publications and corrections of releases killed since (by their
    status now): a request applied late (redriven from a dead-letter queue) never brings a
    release back. A removal always stays; a release whose status is not known stays as asked."""
    killed = Status.KILLED.value
    return [c for c in changes if c.kind is ChangeKind.REMOVED or statuses.get(c.entry.release_id) != killed]


def org_catalog(org_id: str) -> str:
    return f"orgs/{org_id}"


@dataclass
class _DayWork:
    """A day being changed: its calendar entry, the pages read (entries oldest first, seq), the
    pages as they become, and the pages to render."""

    day: Day
    loaded: dict[int, tuple[Entries, int]] = field(default_factory=dict)
    pages: dict[int, Entries] = field(default_factory=dict)
    render: set[int] = field(default_factory=set)
    migrated: bool = False


@dataclass
class Refreshed:
    """What ``apply`` changed: catalogs (name -> new seq) and the site objects written."""

    catalogs: dict[str, int] = field(default_factory=dict)
    written: list[str] = field(default_factory=list)


def _upsert(entries: Entries, entry: CatalogEntry) -> Entries:
    """``entries`` with ``entry`` (replacing the release's own), unbounded, newest first."""
    return insert(entries, entry, limit=len(entries) + 1)


def _apply_bounded(changes: Sequence[EntryChange], limit: int) -> Callable[[Entries], Entries]:
    def change(entries: Entries) -> Entries:
        for item in changes:
            if item.kind is ChangeKind.REMOVED:
                entries = remove(entries, item.entry.release_id)
            else:  # a correction of an entry that fell out of the bound stays out (insert drops it)
                entries = insert(entries, item.entry, limit)
        return entries

    return change


class SharedSite:
    def __init__(
        self,
        *,
        catalogs: Catalogs,
        writer: SiteWriter,
        site: Site,
        clock: Callable[[], datetime],
        feed_size: int = 50,
    ) -> None:
        self._catalogs = catalogs
        self._writer = writer
        self._site = site
        self._clock = clock
        self._feed_size = feed_size

    # -- the one entry point ------------------------------------------------------------------------

    def apply(self, changes: Sequence[EntryChange]) -> Refreshed:
        """Change the catalogs ``changes`` touch, then render what depends on them."""
        done = Refreshed()
        if not changes:
            return done
        now = self._clock()
        lists: dict[str, tuple[Entries, int]] = {}
        by_category = _group(changes, lambda c: [c.entry.category])
        by_org = _group(changes, lambda c: [org_catalog(c.entry.org_id)] if c.entry.org_id else [])
        for name, items in [*by_category.items(), *by_org.items(), (ALL, list(changes))]:
            lists[name] = self._update(name, _apply_bounded(items, self._feed_size), done)
        front, _ = self._catalogs.get_document(FRONT)
        calendar: dict[str, Any] = dict(front.get("days") or {})
        works: dict[date, _DayWork] = {}  # every day read, by day
        days = self._update_days(changes, calendar, works, now, done)
        organisations = self._update_organisations(changes, done)
        news = self._recent(calendar, works, now)
        front, front_key = self._update_front(changes, days, lists, now, done)
        self._render_lists(lists, now, done)
        for _, work in sorted(days.items()):
            self._render_day(work, done)
        if organisations is not None:
            self._put(
                "organisations.html", self._organisations_page(organisations[0]), HTML, organisations[1], done
            )
        months = {(day.year, day.month) for day in days}
        self._render_front(front, front_key, months, now, done, news=news)
        return done

    def ensure(self) -> Refreshed:
        """The shared objects as the catalogs are now, where the site has none yet: on a fresh
        site, the empty newsroom (index, category pages, every feed, the organisations' page,
        the sitemaps), so that nothing the index links to is missing. Changes nothing that exists."""
        done = Refreshed()
        now = self._clock()
        self._render_lists({name: self._catalogs.get(name) for name in (ALL, *CATEGORIES)}, now, done)
        organisations, seq = self._catalogs.get_document(ORGANISATIONS)
        self._put("organisations.html", self._organisations_page(organisations), HTML, seq, done)
        front, front_seq = self._catalogs.get_document(FRONT)
        news = self._recent(dict(front.get("days") or {}), {}, now)
        self._render_front(front, _front_key(front, front_seq), set(), now, done, news=news)
        return done

    # -- catalogs -----------------------------------------------------------------------------------

    def _update(
        self, name: str, change: Callable[[Entries], Entries], done: Refreshed
    ) -> tuple[Entries, int]:
        wrapped, changed = _noting(change)
        entries, seq = self._catalogs.update(name, wrapped)
        if changed():
            done.catalogs[name] = seq
        return entries, seq

    def _update_days(
        self,
        changes: Sequence[EntryChange],
        calendar: dict[str, Any],
        works: dict[date, _DayWork],
        now: datetime,
        done: Refreshed,
    ) -> dict[date, _DayWork]:
        """Each day's pages, each page once: a published entry goes into its day (display zone),
        on the page its time falls on (the last, for a release published now); a corrected or
        removed one is changed where it is, among the days its publication time may fall on in
        any zone (the zone may have changed since). A page that outgrows ``DAY_PAGE`` hands its
        newest entries on to the next. Days of the old shape are split into pages when touched,
        and ``MIGRATE_PER_REFRESH`` of the others besides. The days changed, to render (``works``
        holds every day read)."""
        placed_on: set[date] = set()
        for item in changes:  # in order: a change sees the batch's changes before it
            entry = item.entry.without_body()
            day = self._site.day_of(entry.published_at)
            found = [day]
            if item.kind is not ChangeKind.PUBLISHED:
                nearby = [
                    d
                    for d in (day, day - timedelta(days=1), day + timedelta(days=1))
                    if (d.isoformat() in calendar or d in works)
                    and self._where(self._work(d, calendar, works), entry) is not None
                ]
                found = nearby or ([day] if item.kind is ChangeKind.CORRECTED else [])
            for where in found:
                self._place(self._work(where, calendar, works), EntryChange(item.kind, entry))
                placed_on.add(where)
        legacy = sorted((d for d, value in calendar.items() if "pages" not in (value or {})), reverse=True)
        for key in [d for d in legacy if date.fromisoformat(d) not in placed_on][:MIGRATE_PER_REFRESH]:
            self._work(date.fromisoformat(key), calendar, works)
        stamp = utc_datetime(now)
        changed = {}
        for day, work in works.items():
            if day in placed_on or work.migrated:
                self._write_day(work, stamp, done)
                changed[day] = work
        return changed

    def _work(self, day: date, calendar: Mapping[str, Any], works: dict[date, _DayWork]) -> _DayWork:
        """The day as the calendar has it; a day of the old shape split into pages (oldest first)."""
        if day not in works:
            work = _DayWork(Day.from_calendar(day, calendar.get(day.isoformat())))
            if work.day.legacy is not None:
                entries, seq = self._catalogs.get(legacy_day_catalog(day))
                ordered = oldest_first(entries)
                chunks = [ordered[i : i + DAY_PAGE] for i in range(0, len(ordered), DAY_PAGE)] or [[]]
                work.day = Day(day, base=seq)
                for number, chunk in enumerate(chunks, 1):
                    work.day = work.day.with_page(number, chunk, 0, str(work.day.lastmod or ""))
                    work.pages[number] = chunk
                work.render = set(work.pages)
                work.migrated = True
            works[day] = work
        return works[day]

    def _page(self, work: _DayWork, number: int) -> Entries:
        """Page ``number`` of the day as it is now (read once; a page beyond the last is new)."""
        if number not in work.pages:
            entries: Entries = []
            if number <= len(work.day.pages):
                entries, seq = self._catalogs.get(day_catalog(work.day.day, number))
                work.loaded[number] = (entries, seq)
            work.pages[number] = list(entries)
        return work.pages[number]

    def _where(self, work: _DayWork, entry: CatalogEntry) -> int | None:
        """The page of the day that holds ``entry``'s release, if one does."""
        return next(
            (
                number
                for number in work.day.holding(entry.published_at)
                if any(e.release_id == entry.release_id for e in self._page(work, number))
            ),
            None,
        )

    def _place(self, work: _DayWork, item: EntryChange) -> None:
        numbers = work.day.holding(item.entry.published_at)
        release_id = item.entry.release_id
        where = self._where(work, item.entry)
        if item.kind is ChangeKind.REMOVED:
            if where is not None:
                work.pages[where] = [e for e in work.pages[where] if e.release_id != release_id]
                work.render.add(where)
            return
        target = numbers[-1] if where is None else where
        work.pages[target] = placed(self._page(work, target), item.entry)
        work.render.add(target)

    def _write_day(self, work: _DayWork, stamp: str, done: Refreshed) -> None:
        """Hand each page's overflow on to the next, then write the pages that changed."""
        if not work.pages:
            return
        number, last = min(work.pages), max(len(work.day.pages), *work.pages)
        while number <= last:
            entries = work.pages.get(number)
            if entries is not None and len(entries) > DAY_PAGE:
                work.pages[number] = entries[:DAY_PAGE]
                following = self._page(work, number + 1)
                work.pages[number + 1] = oldest_first([*entries[DAY_PAGE:], *following])
                work.render |= {number, number + 1}
                last = max(last, number + 1)
            number += 1
        before = len(work.day.pages)
        for number in sorted(work.pages):
            entries = work.pages[number]
            loaded = work.loaded.get(number)
            if loaded is not None and loaded[0] == entries:
                continue
            if number > len(work.day.pages) and not entries:
                continue  # a page never written, left empty
            name = day_catalog(work.day.day, number)
            written, seq = self._update(name, _becoming(entries), done)
            fresh = name in done.catalogs or work.migrated or number > len(work.day.pages)
            lastmod = stamp if fresh else work.day.pages[number - 1].lastmod
            work.day = work.day.with_page(number, written, seq, lastmod)
        if len(work.day.pages) > before >= 1:
            work.render.add(before)  # the page before a new one links to it

    def _recent(self, calendar: Mapping[str, Any], works: dict[date, _DayWork], now: datetime) -> Entries:
        """The last 48 hours' publications (at most ``NEWS_MAX``), newest first, from the pages
        of the days the window covers (and the day before: the display zone may have changed),
        each day's read from its last page back to the window's start (a warm function has them
        in memory: no read at all)."""
        since = now - NEWS_WINDOW
        first_day = (self._site.day_of(since) - timedelta(days=1)).isoformat()
        days = sorted({d for d in calendar if d >= first_day} | {d.isoformat() for d in works}, reverse=True)
        found: Entries = []
        for key in days:
            if key < first_day:
                continue
            work = self._work(date.fromisoformat(key), calendar, works)
            for number in range(len(work.day.pages), 0, -1):
                entries = self._page(work, number)
                found += [e for e in entries if since <= e.published_at <= now]
                if entries and entries[0].published_at < since:
                    break  # the pages before hold older ones still
            if len(found) >= NEWS_MAX:
                break  # the days before hold older ones
        return newest_first(found)[:NEWS_MAX]

    def _update_organisations(
        self, changes: Sequence[EntryChange], done: Refreshed
    ) -> tuple[dict[str, Any], int] | None:
        """The directory of organisations, when a published one is new or renamed."""
        named = {
            c.entry.org_id: c.entry.org_name
            for c in changes
            if c.entry.org_id and c.kind is not ChangeKind.REMOVED
        }
        if not named:
            return None

        def change(document: dict[str, Any]) -> dict[str, Any]:
            orgs = dict(document.get("orgs") or {})
            for org, name in named.items():
                orgs[org] = {"name": name}
            return {**document, "orgs": dict(sorted(orgs.items()))}

        document, seq = self._catalogs.update_document(ORGANISATIONS, change)
        return document, seq

    def _update_front(
        self,
        changes: Sequence[EntryChange],
        days: dict[date, _DayWork],
        lists: dict[str, tuple[Entries, int]],
        now: datetime,
        done: Refreshed,
    ) -> tuple[dict[str, Any], int]:
        """The front document: the newest entries of the site and of each category, the last 48
        hours', each day's calendar entry (its count and its pages) and each organisation's
        page's last change: the newest publication (or correction) its
        catalog in ``lists`` holds, the time of this change once it holds none (the organisations
        of a document written before it kept them are taken from the organisations' directory,
        their last change unknown until their next publication)."""
        all_seq = lists[ALL][1]
        org_pages = {
            name.removeprefix("orgs/"): utc_datetime(max((e.last_modified for e in entries), default=now))
            for name, (entries, _) in lists.items()
            if name.startswith("orgs/")
        }
        bare = [EntryChange(c.kind, c.entry.without_body()) for c in changes]

        def change(document: dict[str, Any]) -> dict[str, Any]:
            if "base" not in document:
                document = self._new_front(all_seq)
            base = int(document["base"])
            latest = _apply_bounded(bare, FRONT_LATEST)(parse_entries(document.get("latest") or []))
            categories = dict(document.get("categories") or {})
            for category, items in _group(bare, lambda c: [c.entry.category]).items():
                kept = parse_entries(categories.get(category) or [])
                categories[category] = [e.to_json() for e in _apply_bounded(items, FRONT_PER_CATEGORY)(kept)]
            if "orgs" in document:
                orgs = dict(document["orgs"])
            else:
                listed, _ = self._catalogs.get_document(ORGANISATIONS)
                orgs = dict.fromkeys(listed.get("orgs") or {})
            orgs.update(org_pages)
            known = dict(document.get("days") or {})
            for day, work in days.items():
                if work.day.count:
                    known[day.isoformat()] = work.day.to_calendar()
                else:
                    known.pop(day.isoformat(), None)
            return {
                "base": base,
                "days": dict(sorted(known.items())),
                "latest": [e.to_json() for e in latest],
                "categories": dict(sorted(categories.items())),
                "orgs": dict(sorted(orgs.items())),
            }

        wrapped, changed = _noting_document(change)
        document, seq = self._catalogs.update_document(FRONT, wrapped)
        if changed():
            done.catalogs[FRONT] = seq
        return document, _front_key(document, seq)

    def _new_front(self, all_seq: int) -> dict[str, Any]:
        """The front document of a site that had none: its newest entries from the site's and the
        categories' catalogs (a site published before the front document existed keeps them), and
        the site catalog's seq as its base, so that the index rendered from the site catalog
        before is replaced by the first rendering from this document."""
        latest, _ = self._catalogs.get(ALL, limit=FRONT_LATEST)
        categories = {}
        for category in CATEGORIES:
            entries, seq = self._catalogs.get(category, limit=FRONT_PER_CATEGORY)
            if seq:
                categories[category] = [e.without_body().to_json() for e in entries]
        return {
            "base": max(0, all_seq - 1),
            "latest": [e.without_body().to_json() for e in latest],
            "categories": categories,
        }

    # -- rendering ----------------------------------------------------------------------------------

    def _put(self, key: str, body: str | bytes, content_type: str, seq: int, done: Refreshed) -> None:
        data = body.encode() if isinstance(body, str) else body
        if self._writer.put_if_newer(key, data, content_type, seq=seq):
            done.written.append(key)

    def _render_lists(self, lists: dict[str, tuple[Entries, int]], now: datetime, done: Refreshed) -> None:
        """The feeds and pages of these lists (the site's, categories', organisations')."""
        from functions.domain.publish import site as pages

        for name, (entries, seq) in lists.items():
            if name == ALL:
                self._feeds(
                    ALL,
                    entries,
                    seq,
                    title=self._site.name,
                    description="All press releases, newest first",
                    now=now,
                    done=done,
                )
            elif name.startswith("orgs/"):
                org_id = name.removeprefix("orgs/")
                org_name = entries[0].org_name if entries else org_id
                self._feeds(
                    name,
                    entries,
                    seq,
                    title=f"{self._site.name}: {org_name}",
                    description=f"Press releases of {org_name}, newest first",
                    now=now,
                    done=done,
                )
                page = pages.render_org_page(org_id, org_name, entries, site=self._site, generated_at=now)
                self._put(pages.org_path(org_id), page, HTML, seq, done)
            else:
                label = pages.CATEGORY_LABELS.get(name, name)
                self._feeds(
                    name,
                    entries,
                    seq,
                    title=f"{self._site.name}: {label}",
                    description=f"{label} press releases, newest first",
                    now=now,
                    done=done,
                )
                page = pages.render_category_page(name, entries, site=self._site, generated_at=now)
                self._put(pages.category_path(name), page, HTML, seq, done)

    def _feeds(
        self,
        name: str,
        entries: Entries,
        seq: int,
        *,
        title: str,
        description: str,
        now: datetime,
        done: Refreshed,
    ) -> None:
        from functions.domain.publish.site import render_atom, render_rss

        for suffix, render, content_type in (("xml", render_rss, RSS), ("atom", render_atom, ATOM)):
            path = f"feeds/{name}.{suffix}"
            body = render(
                entries,
                site=self._site,
                title=title,
                feed_path=path,
                description=description,
                updated=now,
            )
            self._put(path, body, content_type, seq, done)

    def _render_day(self, work: _DayWork, done: Refreshed) -> None:
        """The day's archive pages that changed (or where a change landed) and their sitemaps."""
        from functions.domain.publish import site as pages
        from functions.domain.publish.sitemaps import day_sitemap_path, render_urlset

        day, total = work.day.day, len(work.day.pages)
        for number in sorted(n for n in work.render if n <= total):
            entries = self._page(work, number)
            key = work.day.key
            page = pages.render_day_page(day, entries, number=number, pages=total, site=self._site)
            self._put(pages.day_path(day, number), page, HTML, key, done)
            sitemap = render_urlset([(e.url, e.last_modified) for e in entries])
            self._put(day_sitemap_path(day, number), sitemap, XML, key, done)

    def _render_front(
        self,
        front: dict[str, Any],
        key: int,
        months: set[tuple[int, int]],
        now: datetime,
        done: Refreshed,
        *,
        news: Entries,
    ) -> None:
        """What is rendered from the front document: the index, the changed months' pages, the
        sitemaps. A category never used gets its (empty) page and feeds: the index links to them."""
        from functions.domain.publish import site as pages
        from functions.domain.publish.sitemaps import (
            PAGES_SITEMAP,
            day_sitemap_path,
            render_news_sitemap,
            render_sitemap_index,
            render_urlset,
        )

        days = {
            date.fromisoformat(day): Day.from_calendar(date.fromisoformat(day), value)
            for day, value in (front.get("days") or {}).items()
        }
        categories = front.get("categories") or {}
        by_category: dict[str, Entries] = {
            category: parse_entries(categories.get(category) or [], limit=INDEX_PER_CATEGORY)
            for category in CATEGORIES
        }
        unused = [c for c in CATEGORIES if c not in categories]
        if unused and done.catalogs:  # on a site without SiteFiles' empty pages (as in tests)
            self._render_lists({c: self._catalogs.get(c) for c in unused}, now, done)
        latest = parse_entries(front.get("latest") or [], limit=INDEX_LATEST)
        index = pages.render_index(
            latest, by_category, months=_months(days), site=self._site, generated_at=now
        )
        self._put("index.html", index, HTML, key, done)
        for year, month in sorted(months):
            in_month = {
                day: (value.count, value.page_count)
                for day, value in days.items()
                if (day.year, day.month) == (year, month)
            }
            page = pages.render_month_page(year, month, in_month, site=self._site)
            self._put(pages.month_path(year, month), page, HTML, key, done)
        site_urls = [self._site.url, f"{self._site.url}organisations.html"]
        site_urls += [self._site.url + pages.category_path(c) for c in CATEGORIES]
        site_urls += [self._site.url + pages.month_path(y, m) for y, m in _months(days)]
        listed: list[tuple[str, datetime | None]] = [(url, None) for url in site_urls]
        listed += [
            (self._site.url + pages.org_path(org), datetime.fromisoformat(lastmod) if lastmod else None)
            for org, lastmod in (front.get("orgs") or {}).items()
        ]
        self._put(PAGES_SITEMAP, render_urlset(listed), XML, key, done)
        day_maps: list[tuple[str, datetime]] = []
        for day, value in sorted(days.items(), reverse=True):
            if value.legacy is not None:  # one sitemap for the whole day, until it is split
                day_maps.append((self._site.url + day_sitemap_path(day), _when(value.lastmod)))
                continue
            day_maps += [
                (self._site.url + day_sitemap_path(day, number), _when(page.lastmod))
                for number, page in enumerate(value.pages, 1)
            ]
        # The pages' sitemap changed last with the newest of its organisations' pages and days
        # (a day's first release adds its month's page)
        changed = [m for _, m in listed if m is not None] + [m for _, m in day_maps]
        children: list[tuple[str, datetime | None]] = [
            (f"{self._site.url}{PAGES_SITEMAP}", max(changed, default=None))
        ]
        children += day_maps
        self._put("sitemap.xml", render_sitemap_index(children), XML, key, done)
        self._put("news-sitemap.xml", render_news_sitemap(news, site=self._site), XML, key, done)

    def _organisations_page(self, document: dict[str, Any]) -> str:
        from functions.domain.publish.site import render_organisations_page

        orgs = {
            org: str((value or {}).get("name") or org) for org, value in (document.get("orgs") or {}).items()
        }
        return render_organisations_page(orgs, site=self._site)


def _becoming(entries: Entries) -> Callable[[Entries], Entries]:
    """A change that makes a catalog ``entries``, whatever it held."""
    return lambda _: entries


def _when(value: str | None) -> datetime:
    return datetime.fromisoformat(value) if value else datetime.fromtimestamp(0, tz=UTC)


def _front_key(front: dict[str, Any], seq: int) -> int:
    """What the objects rendered from the front document are keyed on: its seq after its base."""
    return int(front.get("base", 0)) + seq


def _noting_document(
    change: Callable[[dict[str, Any]], dict[str, Any]],
) -> tuple[Callable[[dict[str, Any]], dict[str, Any]], Callable[[], bool]]:
    last = {"changed": False}

    def wrapped(document: dict[str, Any]) -> dict[str, Any]:
        result = change(document)
        last["changed"] = result != document
        return result

    return wrapped, lambda: last["changed"]


def _noting(change: Callable[[Entries], Entries]) -> tuple[Callable[[Entries], Entries], Callable[[], bool]]:
    """``change``, and whether its last call changed anything (a catalog writes exactly then; a
    retried update calls it again, and the last call is the one written)."""
    last = {"changed": False}

    def wrapped(entries: Entries) -> Entries:
        result = change(entries)
        last["changed"] = result != entries
        return result

    return wrapped, lambda: last["changed"]


def _group(
    changes: Iterable[EntryChange], names: Callable[[EntryChange], list[str]]
) -> dict[str, list[EntryChange]]:
    grouped: dict[str, list[EntryChange]] = {}
    for change in changes:
        for name in names(change):
            grouped.setdefault(name, []).append(change)
    return grouped


def _months(days: dict[date, Any]) -> list[tuple[int, int]]:
    """The months that have releases, newest first."""
    return sorted({(day.year, day.month) for day in days}, reverse=True)
