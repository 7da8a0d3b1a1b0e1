"""The site's shared objects (functions/domain/publish/shared.py) over in-memory fakes: every
release stays findable within three links of the index, one publication rewrites a bounded set
of objects however big the site is, and corrections and kills reach everywhere a release is
listed. Read as a crawler, a feed reader and a search engine read them."""

from __future__ import annotations

import itertools
import re
from collections import Counter
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import feedparser
import lxml.etree
import lxml.html
import pytest

from functions.domain.models import CATEGORIES
from functions.domain.publish.archive import DAY_PAGE
from functions.domain.publish.model import CatalogEntry
from functions.domain.publish.shared import EntryChange, SharedSite
from functions.domain.site import Site
from tests.fakes import Clock, MemoryCatalogs, MemorySite
from tests.site_checks import crawl, news_sitemap_problems, sitemap_problems, times, valid_time_datetime
from tests.unit.publish.samples import SITE, entry

START = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
ORGS = ("org-acme", "org-rovers", "org-harbour")
SM = "{http://www.sitemaps.org/schemas/sitemap/0.9}"


class Newsroom:
    """The shared site over fakes, with its own clock (a publication happens at its entry's time)."""

    def __init__(self, *, feed_size: int = 5, zone: str = "UTC") -> None:
        self.catalogs, self.site = MemoryCatalogs(), MemorySite()
        self.clock = Clock(START)
        self.identity = Site(url=SITE, name="Harbour News", time_zone=zone)
        self.shared = SharedSite(
            catalogs=self.catalogs,
            writer=self.site,
            site=self.identity,
            clock=self.clock,
            feed_size=feed_size,
        )
        self.published: list[CatalogEntry] = []

    def publish(
        self, number: int, at: datetime, *, category: str | None = None, org: str | None = None
    ) -> CatalogEntry:
        item = replace(
            entry(number, category=category or CATEGORIES[number % len(CATEGORIES)], published_at=at),
            org_id=org or ORGS[number % len(ORGS)],
        )
        item = replace(item, org_name=f"Organisation {item.org_id}")
        self.clock.now = at
        self.shared.apply([EntryChange.published(item)])
        self.published.append(item)
        return item

    def writes_of(self, change: EntryChange, at: datetime) -> list[str]:
        self.clock.now = at
        before = len(self.site.writes)
        self.shared.apply([change])
        return self.site.writes[before:]

    def page(self, key: str) -> lxml.html.HtmlElement:
        body = self.site.body(key)
        assert body is not None, f"{key} is missing"
        return lxml.html.document_fromstring(body)

    def links(self, key: str) -> set[str]:
        return {str(a.get("href")) for a in self.page(key).iter("a")}

    def fetch(self, key: str) -> bytes | None:
        return self.site.body(key)


def _page_key(item: CatalogEntry) -> str:
    return item.url.removeprefix(SITE)


# -- findable ------------------------------------------------------------------------------------


def test_every_release_is_reachable_from_the_index_within_three_links() -> None:
    # Given a site of releases over three months, one day of them busier than a page holds
    newsroom = Newsroom()
    number = 0
    for day in range(0, 90, 9):
        number += 1
        newsroom.publish(number, START + timedelta(days=day))
    busy = START + timedelta(days=40)
    for minute in range(DAY_PAGE + 5):
        number += 1
        newsroom.publish(number, busy + timedelta(minutes=minute))

    # When a crawler starts at index.html and follows the site's links
    depth = crawl(SITE, newsroom.fetch)

    # Then it reaches every release within three links
    assert {_page_key(item) for item in newsroom.published} <= set(depth)
    assert max(depth[_page_key(item)] for item in newsroom.published) <= 3
    # And the busy day is paginated, each page linked from its month
    day = busy.date().isoformat()
    assert f"archive/{day}-2.html" in depth
    month = f"{SITE}archive/{busy:%Y-%m}.html"
    assert {f"{SITE}archive/{day}.html", f"{SITE}archive/{day}-2.html"} <= newsroom.links(
        f"archive/{busy:%Y-%m}.html"
    )
    assert month in newsroom.links("index.html")


def test_category_and_organisation_pages_list_their_newest_with_their_feeds() -> None:
    newsroom = Newsroom()
    items = [
        newsroom.publish(n, START + timedelta(hours=n), category="sports", org="org-rovers")
        for n in range(1, 4)
    ]

    category = newsroom.page("categories/sports.html")
    assert [a.get("href") for a in category.xpath("//article//h3/a")] == [i.url for i in reversed(items)]
    org = newsroom.page("orgs/org-rovers.html")
    assert [a.get("href") for a in org.xpath("//article//h3/a")] == [i.url for i in reversed(items)]
    for kind in ("xml", "atom"):
        feed = feedparser.parse(newsroom.site.body(f"feeds/orgs/org-rovers.{kind}"))
        assert not feed.bozo
        assert feed.feed.title == "Harbour News: Organisation org-rovers"
        assert [e.link for e in feed.entries] == [i.url for i in reversed(items)]
    assert f"{SITE}orgs/org-rovers.html" in newsroom.links("organisations.html")
    # The index links every category's page and the organisations'
    assert {f"{SITE}categories/{c}.html" for c in CATEGORIES} | {
        f"{SITE}organisations.html"
    } <= newsroom.links("index.html")


def test_archive_days_are_the_display_zones() -> None:
    # Given a Berlin newsroom and a release at 23:30 UTC on 1 March (00:30 on 2 March in Berlin)
    newsroom = Newsroom(zone="Europe/Berlin")
    newsroom.publish(1, datetime(2026, 3, 1, 23, 30, tzinfo=UTC))

    # Then it is on 2 March's page, its time shown in Berlin with the offset
    day = newsroom.page("archive/2026-03-02.html")
    assert "2 March 2026, 00:30 (UTC+01:00)" in day.text_content()
    assert newsroom.site.body("archive/2026-03-01.html") is None


# -- bounded -----------------------------------------------------------------------------------------


def test_one_publication_writes_the_same_objects_at_the_10th_and_the_500th_release() -> None:
    # Given a site growing by one release a day, from three organisations in every category
    newsroom = Newsroom()
    writes: dict[int, list[str]] = {}
    for number in range(1, 501):
        at = START + timedelta(days=number)
        item = replace(
            entry(number, category=CATEGORIES[number % 5], published_at=at), org_id=ORGS[number % 3]
        )
        writes[number] = newsroom.writes_of(EntryChange.published(item), at)

    # Then the 500th publication writes what the 10th did: the same kinds of objects, as many
    def kinds(keys: list[str]) -> Counter[str]:
        dated = [re.sub(r"\d{4}-\d{2}(-\d{2})?", "DATE", key) for key in keys]
        return Counter(key.rsplit("/", 1)[0] + "/" if "/" in key else key for key in dated)

    assert len(writes[500]) == len(writes[10])
    assert kinds(writes[500]) == kinds(writes[10])
    assert kinds(writes[10]) == Counter(
        {
            "feeds/": 4,  # the site's and its category's, RSS and Atom
            "feeds/orgs/": 2,  # its organisation's
            "categories/": 1,
            "orgs/": 1,
            "archive/": 2,  # its day's page and its month's
            "sitemap-DATE.xml": 1,  # its day's sitemap
            "sitemap.xml": 1,
            "sitemap-pages.xml": 1,
            "news-sitemap.xml": 1,
            "index.html": 1,
        }
    )
    # and no publication writes more than the first of its kind did
    assert max(len(w) for w in writes.values()) <= len(writes[1]) + 1


def test_a_redelivered_change_writes_nothing() -> None:
    newsroom = Newsroom()
    item = newsroom.publish(1, START)
    assert newsroom.writes_of(EntryChange.published(item), START) == []


def test_pages_a_crash_left_unwritten_are_written_by_the_redelivery() -> None:
    # Given a publication whose catalogs changed but whose pages were never written (a crash)
    newsroom = Newsroom()

    class Failing(MemorySite):
        def put_if_newer(
            self, key: str, body: bytes, content_type: str, *, seq: int, max_age: int = 60
        ) -> bool:
            raise ConnectionError("the site bucket went away")

    broken = SharedSite(
        catalogs=newsroom.catalogs, writer=Failing(), site=newsroom.identity, clock=newsroom.clock
    )
    item = replace(entry(1, published_at=START), org_id="org-acme")
    with pytest.raises(ConnectionError):
        broken.apply([EntryChange.published(item)])

    # When the same change is applied again (its catalogs do not change any more)
    written = newsroom.writes_of(EntryChange.published(item), START)

    # Then every shared object is written
    assert {"index.html", "feeds/all.xml", f"archive/{START.date()}.html", "sitemap.xml"} <= set(written)
    assert item.url in newsroom.links("index.html")


# -- the day archive in pages ----------------------------------------------------------------------


def _busy_day(newsroom: Newsroom, count: int, at: datetime = START) -> list[CatalogEntry]:
    return [newsroom.publish(n, at + timedelta(minutes=n)) for n in range(1, count + 1)]


def _headlines(newsroom: Newsroom, key: str) -> list[str]:
    return [str(a.text_content()) for a in newsroom.page(key).xpath("//article//h2/a | //article//h3/a")]


def test_a_busy_day_is_pages_of_a_hundred_oldest_first_linked_one_to_the_next() -> None:
    # Given a day of 250 releases
    newsroom = Newsroom()
    items = _busy_day(newsroom, 250)
    day = START.date().isoformat()

    # Then its archive is three pages, oldest first, 100, 100 and 50 releases
    pages = [f"archive/{day}.html", f"archive/{day}-2.html", f"archive/{day}-3.html"]
    assert [_headlines(newsroom, key) for key in pages] == [
        [i.headline for i in items[0:100]],
        [i.headline for i in items[100:200]],
        [i.headline for i in items[200:250]],
    ]
    # each titled with its number, linked to the page before and after it
    second = newsroom.page(pages[1])
    assert second.findtext(".//title").startswith("1 March 2026 (page 2)")
    assert second.findtext(".//h1") == "1 March 2026 (page 2)"
    assert {a.get("rel"): a.get("href") for a in second.xpath("//nav[@class='pages']//a")} == {
        "prev": SITE + pages[0],
        "next": SITE + pages[2],
    }
    assert [a.get("rel") for a in newsroom.page(pages[0]).xpath("//nav[@class='pages']//a")] == ["next"]
    assert [a.get("rel") for a in newsroom.page(pages[2]).xpath("//nav[@class='pages']//a")] == ["prev"]
    assert newsroom.site.body(f"archive/{day}-4.html") is None
    # and the month lists the day with its count and every page
    month = newsroom.page(f"archive/{START:%Y-%m}.html")
    assert "250 releases" in month.text_content()
    assert {SITE + key for key in pages} <= newsroom.links(f"archive/{START:%Y-%m}.html")
    # and each page has its own sitemap, each in the sitemap index
    index = newsroom.site.body("sitemap.xml") or b""
    for number, key in enumerate(
        ["sitemap-2026-03-01.xml", "sitemap-2026-03-01-2.xml", "sitemap-2026-03-01-3.xml"]
    ):
        assert f"{SITE}{key}".encode() in index
        urls = _sitemap_urls(newsroom, key)
        assert sitemap_problems(newsroom.site.body(key) or b"", SITE + key) == []
        assert set(urls) == {i.url for i in items[number * 100 : number * 100 + 100]}


class _Counted:
    """Which catalogs the shared site reads (``get``) and changes (``update``)."""

    def __init__(self, catalogs: MemoryCatalogs) -> None:
        self.reads: list[str] = []
        self.updates: list[str] = []
        get, update = catalogs.get, catalogs.update

        def counted_get(name: str, *, limit: int | None = None) -> tuple[list[CatalogEntry], int]:
            self.reads.append(name)
            return get(name, limit=limit)

        def counted_update(name: str, change: Any) -> tuple[list[CatalogEntry], int]:
            self.updates.append(name)
            return update(name, change)

        catalogs.get = counted_get  # type: ignore[method-assign]
        catalogs.update = counted_update  # type: ignore[method-assign]


def test_a_publication_on_a_busy_day_rewrites_only_its_last_page() -> None:
    # Given a day of 250 releases (three pages)
    newsroom = Newsroom()
    _busy_day(newsroom, 250)
    counted = _Counted(newsroom.catalogs)

    # When one more is published that day
    written = newsroom.writes_of(
        EntryChange.published(entry(251, published_at=START + timedelta(minutes=251))),
        START + timedelta(minutes=251),
    )

    # Then of the day's pages only the last is changed and written, with its sitemap (the others
    # are read for the news sitemap, the last 48 hours': from memory, in a warm site refresh)
    day = START.date().isoformat()
    assert {key for key in written if key.startswith(("archive/2026-03-01", "sitemap-2026"))} == {
        f"archive/{day}-3.html",
        f"sitemap-{day}-3.xml",
    }
    assert [name for name in counted.updates if name.startswith("days/")] == [f"days/{day}/3"]
    assert {
        name: len(stored)
        for name, (stored, _) in newsroom.catalogs.catalogs.items()
        if name.startswith("days/")
    } == {
        f"days/{day}/1": 100,
        f"days/{day}/2": 100,
        f"days/{day}/3": 51,
    }


def test_a_publication_reads_no_page_of_a_day_before_the_last_48_hours() -> None:
    # Given a busy day (three pages), four days ago (the news sitemap's window, 48 hours, and a
    # day more: the days are the display zone's, which may have changed)
    newsroom = Newsroom()
    _busy_day(newsroom, 250)
    counted = _Counted(newsroom.catalogs)

    # When a release is published today
    later = START + timedelta(days=4)
    newsroom.writes_of(EntryChange.published(entry(251, published_at=later)), later)

    # Then none of that day's pages was read, and the news sitemap has today's only
    assert [name for name in counted.reads if name.startswith("days/2026-03-01")] == []
    news = newsroom.site.body("news-sitemap.xml") or b""
    assert news.count(b"<url>") == 1


def test_the_hundred_and_first_release_of_a_day_opens_its_second_page() -> None:
    newsroom = Newsroom()
    items = _busy_day(newsroom, 100)
    day = START.date().isoformat()
    assert newsroom.page(f"archive/{day}.html").xpath("//nav[@class='pages']") == []

    written = newsroom.writes_of(
        EntryChange.published(entry(101, published_at=START + timedelta(minutes=101))),
        START + timedelta(minutes=101),
    )

    # The new page, and the first again: it now links to the second
    assert {f"archive/{day}.html", f"archive/{day}-2.html"} <= set(written)
    assert _headlines(newsroom, f"archive/{day}-2.html") == ["Release number 101 makes the news"]
    assert _headlines(newsroom, f"archive/{day}.html") == [i.headline for i in items]
    assert [a.get("rel") for a in newsroom.page(f"archive/{day}.html").xpath("//nav[@class='pages']//a")] == [
        "next"
    ]


def test_corrections_and_kills_reach_the_page_their_release_is_on() -> None:
    # Given a day of 250 releases
    newsroom = Newsroom()
    items = _busy_day(newsroom, 250)
    day = START.date().isoformat()

    # When one on the first page is corrected and one on the second killed
    corrected = replace(
        items[5], headline="Release number 6, corrected", updated_at=START + timedelta(days=1)
    )
    written = newsroom.writes_of(EntryChange.corrected(corrected), START + timedelta(days=1))
    assert {k for k in written if k.startswith("archive/2026-03-01")} == {f"archive/{day}.html"}
    written = newsroom.writes_of(EntryChange.removed(items[150]), START + timedelta(days=1))
    assert {k for k in written if k.startswith("archive/2026-03-01")} == {f"archive/{day}-2.html"}

    # Then each changed where it is, and nowhere else
    assert _headlines(newsroom, f"archive/{day}.html")[5] == "Release number 6, corrected"
    assert items[150].headline not in _headlines(newsroom, f"archive/{day}-2.html")
    assert len(_headlines(newsroom, f"archive/{day}-2.html")) == 99
    assert "249 releases" in newsroom.page(f"archive/{START:%Y-%m}.html").text_content()


def test_a_release_published_out_of_order_keeps_every_page_at_most_a_hundred() -> None:
    # Given two full pages, then a release published at a time on the first page
    newsroom = Newsroom()
    items = _busy_day(newsroom, 200)
    late = newsroom.publish(201, START + timedelta(minutes=50, seconds=30))

    # Then it is in its place, and the pages after hand their newest on
    day = START.date().isoformat()
    first = _headlines(newsroom, f"archive/{day}.html")
    assert len(first) == 100
    assert first[50] == late.headline
    assert _headlines(newsroom, f"archive/{day}-2.html")[0] == items[99].headline
    assert _headlines(newsroom, f"archive/{day}-3.html") == [items[199].headline]


# -- a site published in the old shape ---------------------------------------------------------------


def _to_old_shape(newsroom: Newsroom) -> dict[str, int]:
    """The catalogs and archive as the site kept them before its days were pages: one catalog per
    day (newest first), the calendar with each day's count, seq and lastmod only, the last 48
    hours in the front document, and each day's archive pages newest first (marked, to see them
    replaced) with one sitemap for the whole day. The days and their old seqs."""
    import json

    catalogs = newsroom.catalogs
    front = json.loads(catalogs.documents["front"][0])
    old: dict[str, int] = {}
    for day, value in front["days"].items():
        names = [f"days/{day}/{n}" for n in range(1, len(value["pages"]) + 1)]
        entries = [e for name in names for e in catalogs.catalogs.pop(name)[0]]
        seq = 1000 + len(entries)
        entries.sort(key=lambda e: (e["published_at"], e["release_id"]), reverse=True)
        catalogs.catalogs[f"days/{day}"] = (entries, seq)
        front["days"][day] = {"count": len(entries), "seq": seq, "lastmod": value["pages"][-1]["lastmod"]}
        old[day] = seq
        for number in range(1, len(names) + 1):
            key = f"archive/{day}{'' if number == 1 else f'-{number}'}.html"
            body = (newsroom.site.body(key) or b"").replace(b"oldest first", b"OLD SHAPE, newest first")
            newsroom.site.objects[key] = (body, "text/html; charset=utf-8", seq)
        for number in range(2, len(names) + 1):
            newsroom.site.objects.pop(f"sitemap-{day}-{number}.xml")
        from functions.domain.publish.sitemaps import render_urlset

        whole = render_urlset([(e["url"], None) for e in entries])
        newsroom.site.objects[f"sitemap-{day}.xml"] = (whole, "application/xml", seq)
    every = [e for day in old for e in catalogs.catalogs[f"days/{day}"][0]]
    front["recent"] = sorted(every, key=lambda e: (e["published_at"], e["release_id"]), reverse=True)
    catalogs.documents["front"] = (json.dumps(front), catalogs.documents["front"][1])
    return old


def test_a_site_of_the_old_shape_is_split_into_pages_at_the_next_refresh_losing_nothing() -> None:
    # Given a site published before days were pages: a busy day of 150 releases and two others
    newsroom = Newsroom()
    busy = _busy_day(newsroom, 150)
    others = [newsroom.publish(200 + n, START + timedelta(days=n)) for n in (1, 2)]
    old = _to_old_shape(newsroom)
    assert sorted(old) == ["2026-03-01", "2026-03-02", "2026-03-03"]
    assert b"OLD SHAPE" in (newsroom.site.body("archive/2026-03-01-2.html") or b"")

    # When the next release is published, on another day
    newest = newsroom.publish(300, START + timedelta(days=3))

    # Then every day is pages now, oldest first: the old pages replaced, the old catalogs left
    for day in old:
        for key in (f"archive/{day}.html", f"archive/{day}-2.html"):
            assert b"OLD SHAPE" not in (newsroom.site.body(key) or b""), key
    assert _headlines(newsroom, "archive/2026-03-01.html") == [i.headline for i in busy[:100]]
    assert _headlines(newsroom, "archive/2026-03-01-2.html") == [i.headline for i in busy[100:]]
    assert {name for name in newsroom.catalogs.catalogs if name.startswith("days/2026-03-01")} >= {
        "days/2026-03-01/1",
        "days/2026-03-01/2",
    }
    # and every release is still reachable from the index, and listed once by the sitemaps
    depth = crawl(SITE, newsroom.fetch)
    assert {_page_key(i) for i in [*busy, *others, newest]} <= set(depth)
    index = lxml.etree.fromstring(newsroom.site.body("sitemap.xml") or b"")
    listed: list[str] = []
    for child in index.findall(f"{SM}sitemap"):
        url = str(child.findtext(f"{SM}loc"))
        assert sitemap_problems(newsroom.site.body(url.removeprefix(SITE)) or b"", url) == [], url
        listed += list(_sitemap_urls(newsroom, url.removeprefix(SITE)))
    releases = [u for u in listed if "/releases/" in u]
    assert sorted(releases) == sorted(i.url for i in [*busy, *others, newest])
    assert len(_sitemap_urls(newsroom, "sitemap-2026-03-01.xml")) == 100
    # and the news sitemap lists the last 48 hours (from the day pages)
    news = newsroom.site.body("news-sitemap.xml") or b""
    assert news_sitemap_problems(news, f"{SITE}news-sitemap.xml") == []
    assert others[1].url.encode() in news
    assert newest.url.encode() in news


def test_a_day_of_the_old_shape_takes_its_next_release_on_its_last_page() -> None:
    newsroom = Newsroom()
    busy = _busy_day(newsroom, 150)
    _to_old_shape(newsroom)

    late = newsroom.publish(151, START + timedelta(minutes=151))

    assert _headlines(newsroom, "archive/2026-03-01-2.html") == [i.headline for i in [*busy[100:], late]]
    assert "151 releases" in newsroom.page(f"archive/{START:%Y-%m}.html").text_content()


def test_a_killed_release_of_an_old_shape_day_leaves_it() -> None:
    newsroom = Newsroom()
    busy = _busy_day(newsroom, 150)
    _to_old_shape(newsroom)

    newsroom.writes_of(EntryChange.removed(busy[120]), START + timedelta(hours=5))

    assert busy[120].headline not in _headlines(newsroom, "archive/2026-03-01-2.html")
    assert len(_headlines(newsroom, "archive/2026-03-01-2.html")) == 49
    assert "149 releases" in newsroom.page(f"archive/{START:%Y-%m}.html").text_content()


# -- corrections and kills -------------------------------------------------------------------------------


def test_a_correction_is_replaced_wherever_the_release_is_listed() -> None:
    newsroom = Newsroom()
    item = newsroom.publish(1, START, org="org-acme")
    corrected_at = START + timedelta(days=2)
    corrected = replace(item, headline="Release number 1 makes the news, corrected", updated_at=corrected_at)

    newsroom.writes_of(EntryChange.corrected(corrected), corrected_at)

    for key in ("index.html", f"archive/{START.date()}.html", "categories/sports.html", "orgs/org-acme.html"):
        if newsroom.site.body(key) is None:
            continue
        assert "Release number 1 makes the news, corrected" in newsroom.page(key).text_content(), key
    atom = feedparser.parse(newsroom.site.body("feeds/all.atom"))
    assert atom.entries[0].updated_parsed[:6] == corrected_at.timetuple()[:6]
    sitemap = lxml.etree.fromstring(newsroom.site.body(f"sitemap-{START.date()}.xml"))
    assert sitemap.findtext(f"{SM}url/{SM}lastmod") == "2026-03-03T09:00:00Z"
    # It stays where it was first published: the day of its first publication, once
    assert newsroom.page(f"archive/{START.date()}.html").xpath("count(//article)") == 1


def test_a_removed_release_leaves_every_list_and_the_counts() -> None:
    newsroom = Newsroom()
    kept = newsroom.publish(1, START, category="business", org="org-acme")
    killed = newsroom.publish(2, START + timedelta(hours=1), category="business", org="org-acme")

    newsroom.writes_of(EntryChange.removed(killed), START + timedelta(hours=2))

    shared = [key for key in newsroom.site.objects if not key.startswith("releases/")]
    for key in shared:
        assert killed.url.encode() not in (newsroom.site.body(key) or b""), key
    assert kept.url.encode() in (newsroom.site.body("index.html") or b"")
    month = newsroom.page(f"archive/{START:%Y-%m}.html").text_content()
    assert "1 release" in month
    assert "2 releases" not in month


def test_a_release_published_and_killed_in_one_batch_is_on_no_page() -> None:
    newsroom = Newsroom()
    kept, killed = (replace(entry(n, published_at=START), org_id="org-acme") for n in (1, 2))

    newsroom.shared.apply(
        [EntryChange.published(kept), EntryChange.published(killed), EntryChange.removed(killed)]
    )

    for key in (f"archive/{START.date()}.html", f"sitemap-{START.date()}.xml", "news-sitemap.xml"):
        body = newsroom.site.body(key) or b""
        assert kept.url.encode() in body, key
        assert killed.url.encode() not in body, key


def test_a_release_killed_after_its_day_is_found_in_any_zones_day() -> None:
    # Given a release published while the site showed UTC, killed after the zone became Tokyo's
    newsroom = Newsroom()
    item = newsroom.publish(1, datetime(2026, 3, 1, 20, 0, tzinfo=UTC))  # 2 March in Tokyo
    newsroom.identity = Site(url=SITE, time_zone="Asia/Tokyo")
    tokyo = SharedSite(
        catalogs=newsroom.catalogs, writer=newsroom.site, site=newsroom.identity, clock=newsroom.clock
    )

    tokyo.apply([EntryChange.removed(item)])

    assert item.url.encode() not in (newsroom.site.body("archive/2026-03-01.html") or b"")


# -- an empty site ------------------------------------------------------------------------------------


def test_a_fresh_site_is_an_empty_newsroom_not_a_missing_page() -> None:
    newsroom = Newsroom()

    written = newsroom.shared.ensure().written

    index = newsroom.page("index.html")
    assert "No releases have been published yet" in index.text_content()
    # nothing the index links to on the site is missing
    for href in newsroom.links("index.html"):
        if href.startswith(SITE) and not href.endswith("#main") and "#" not in href:
            key = href.removeprefix(SITE) or "index.html"
            assert newsroom.site.body(key) is not None, key
    assert {"sitemap.xml", "news-sitemap.xml", "feeds/all.xml", "organisations.html"} <= set(written)
    # and setting it up again changes nothing
    assert newsroom.shared.ensure().written == []


def test_every_time_on_every_shared_page_is_a_valid_html_date_time() -> None:
    newsroom = Newsroom(zone="America/New_York")
    for number in range(1, 8):
        newsroom.publish(number, START + timedelta(days=number, microseconds=123456))
    pages = [key for key in newsroom.site.objects if key.endswith(".html")]
    assert len(pages) > 10
    for key in pages:
        for value in times(newsroom.site.body(key) or b""):
            assert valid_time_datetime(value), (key, value)


# -- sitemaps -----------------------------------------------------------------------------------------


def _sitemap_urls(newsroom: Newsroom, key: str) -> dict[str, str | None]:
    """A sitemap's URLs and their lastmod, as a crawler reads them."""
    root = lxml.etree.fromstring(newsroom.site.body(key) or b"")
    return {str(u.findtext(f"{SM}loc")): u.findtext(f"{SM}lastmod") for u in root.findall(f"{SM}url")}


def test_the_sitemaps_follow_the_protocol_and_list_every_release_with_its_last_change() -> None:
    # Given releases over three days, one of them corrected since
    newsroom = Newsroom(zone="Europe/Paris")
    items = [newsroom.publish(n, START + timedelta(days=n // 3, hours=n)) for n in range(1, 9)]
    corrected_at = START + timedelta(days=5)
    corrected = replace(items[0], headline="Release number 1, corrected", updated_at=corrected_at)
    newsroom.writes_of(EntryChange.corrected(corrected), corrected_at)

    # When a search engine reads robots.txt's sitemap, the sitemap index
    index_key = "sitemap.xml"
    assert sitemap_problems(newsroom.site.body(index_key) or b"", SITE + index_key) == []
    index = lxml.etree.fromstring(newsroom.site.body(index_key) or b"")
    assert index.tag == f"{SM}sitemapindex"
    children = {
        str(s.findtext(f"{SM}loc")): s.findtext(f"{SM}lastmod") for s in index.findall(f"{SM}sitemap")
    }

    # Then every sitemap it names is there and valid, and together they list every release once
    listed: dict[str, str | None] = {}
    for url in children:
        key = url.removeprefix(SITE)
        body = newsroom.site.body(key)
        assert body is not None, key
        assert sitemap_problems(body, url) == [], key
        for loc, lastmod in _sitemap_urls(newsroom, key).items():
            assert loc not in listed, loc
            listed[loc] = lastmod
    releases = {item.url for item in items}
    assert releases <= set(listed)
    assert f"{SITE}index.html" in listed or SITE in listed
    assert {f"{SITE}categories/{c}.html" for c in CATEGORIES} <= set(listed)
    # each release's lastmod is its last change: the corrected one's is the correction
    assert listed[items[0].url] == "2026-03-06T09:00:00Z"
    assert listed[items[1].url] == "2026-03-01T11:00:00Z"
    # and a day's sitemap's lastmod in the index is at least that of every release it lists
    for url, lastmod in children.items():
        inside = [m for m in _sitemap_urls(newsroom, url.removeprefix(SITE)).values() if m]
        if inside:
            assert lastmod is not None, url
            assert lastmod >= max(inside), url


def test_the_pages_sitemap_lists_every_organisation_page_with_its_newest_publication() -> None:
    # Given a site of three organisations, one of them with a release corrected since and
    # another with its newest release killed
    newsroom = Newsroom()
    acme = [newsroom.publish(n, START + timedelta(hours=n), org="org-acme") for n in (1, 4)]
    rovers = newsroom.publish(2, START + timedelta(hours=2), org="org-rovers")
    harbour = [newsroom.publish(n, START + timedelta(hours=n), org="org-harbour") for n in (3, 5)]
    corrected_at = START + timedelta(days=2)
    newsroom.writes_of(EntryChange.corrected(replace(rovers, updated_at=corrected_at)), corrected_at)
    newsroom.writes_of(EntryChange.removed(harbour[1]), START + timedelta(days=3))

    # When a search engine reads the sitemap index and the sitemaps it names
    index = lxml.etree.fromstring(newsroom.site.body("sitemap.xml") or b"")
    listed: dict[str, str | None] = {}
    for child in index.findall(f"{SM}sitemap"):
        url = str(child.findtext(f"{SM}loc"))
        body = newsroom.site.body(url.removeprefix(SITE)) or b""
        assert sitemap_problems(body, url) == [], url
        listed |= _sitemap_urls(newsroom, url.removeprefix(SITE))

    # Then it finds the organisations' page and each organisation's page, each page there, with
    # its newest publication (or correction) as its lastmod
    assert f"{SITE}organisations.html" in listed
    assert {url: lastmod for url, lastmod in listed.items() if url.startswith(f"{SITE}orgs/")} == {
        f"{SITE}orgs/org-acme.html": "2026-03-01T13:00:00Z",
        f"{SITE}orgs/org-rovers.html": "2026-03-03T09:00:00Z",
        f"{SITE}orgs/org-harbour.html": "2026-03-01T12:00:00Z",
    }
    for org in ORGS:
        assert newsroom.site.body(f"orgs/{org}.html") is not None
    assert acme[1].url in newsroom.links("orgs/org-acme.html")


def test_a_site_from_before_lists_its_organisations_pages_at_the_next_publication() -> None:
    # Given a site whose front document does not know its organisations (written before it kept them)
    newsroom = Newsroom()
    newsroom.publish(1, START, org="org-acme")
    newsroom.publish(2, START + timedelta(hours=1), org="org-rovers")
    newsroom.catalogs.update_document(
        "front", lambda document: {k: v for k, v in document.items() if k != "orgs"}
    )

    # When another organisation publishes
    newsroom.publish(3, START + timedelta(hours=2), org="org-harbour")

    # Then the pages' sitemap lists every organisation's page, the new one with its lastmod
    listed = _sitemap_urls(newsroom, "sitemap-pages.xml")
    assert {url for url in listed if url.startswith(f"{SITE}orgs/")} == {
        f"{SITE}orgs/{org}.html" for org in ORGS
    }
    assert listed[f"{SITE}orgs/org-harbour.html"] == "2026-03-01T11:00:00Z"


def test_the_news_sitemap_lists_the_last_48_hours_as_google_news_reads_it() -> None:
    newsroom = Newsroom()
    old = newsroom.publish(1, START)
    older_than_two_days = newsroom.publish(2, START + timedelta(days=1))
    recent = newsroom.publish(3, START + timedelta(days=3), category="business")
    newest = newsroom.publish(4, START + timedelta(days=3, hours=5))

    body = newsroom.site.body("news-sitemap.xml") or b""

    assert news_sitemap_problems(body, f"{SITE}news-sitemap.xml") == []
    root = lxml.etree.fromstring(body)
    news = "{http://www.google.com/schemas/sitemap-news/0.9}"
    urls = [str(u.findtext(f"{SM}loc")) for u in root.findall(f"{SM}url")]
    assert urls == [newest.url, recent.url]
    assert old.url not in urls
    assert older_than_two_days.url not in urls
    first = root.find(f"{SM}url/{news}news")
    assert first is not None
    assert first.findtext(f"{news}publication/{news}name") == "Harbour News"
    assert first.findtext(f"{news}publication/{news}language") == "en"
    assert first.findtext(f"{news}title") == newest.headline
    assert first.findtext(f"{news}publication_date") == "2026-03-04T14:00:00Z"


def test_the_news_sitemap_carries_any_headline_and_name_as_text() -> None:
    from functions.domain.publish.sitemaps import render_news_sitemap

    item = replace(entry(1, published_at=START), headline='Acme & <Sons> say "</news:title>"')
    body = render_news_sitemap([item], site=Site(url=SITE, name="News & <Views>"))

    assert news_sitemap_problems(body, f"{SITE}news-sitemap.xml") == []
    news = "{http://www.google.com/schemas/sitemap-news/0.9}"
    root = lxml.etree.fromstring(body)
    assert root.findtext(f"{SM}url/{news}news/{news}title") == 'Acme & <Sons> say "</news:title>"'
    assert root.findtext(f"{SM}url/{news}news/{news}publication/{news}name") == "News & <Views>"
    assert render_news_sitemap([], site=Site(url=SITE)).startswith(b"<?xml")


def test_the_protocol_check_refuses_what_a_search_engine_would() -> None:
    # (the checker above can fail: a sitemap in a folder may list only URLs below that folder)
    from functions.domain.publish.sitemaps import render_urlset

    body = render_urlset([(f"{SITE}releases/1.html", START)])
    assert sitemap_problems(body, f"{SITE}sitemap-2026-03-01.xml") == []
    assert sitemap_problems(body, f"{SITE}sitemaps/2026-03-01.xml") == [
        f"entry 0: {SITE}releases/1.html is outside the sitemap's folder {SITE}sitemaps/"
    ]
    bad = body.replace(b"2026-03-01T09:00:00Z", b"1 March 2026")
    assert sitemap_problems(bad, f"{SITE}sitemap.xml") == [
        "entry 0: lastmod '1 March 2026' is not a W3C datetime"
    ]


def test_robots_txt_lets_crawlers_in_and_names_both_sitemaps() -> None:
    import urllib.robotparser

    from functions.domain.publish.sitemaps import render_robots

    robots = urllib.robotparser.RobotFileParser()
    robots.parse(render_robots(Site(url=SITE)).splitlines())
    assert robots.site_maps() == [f"{SITE}sitemap.xml", f"{SITE}news-sitemap.xml"]
    assert robots.can_fetch("Googlebot-News", f"{SITE}releases/1.html")


def test_no_shared_page_skips_a_heading_level() -> None:
    # (what axe-core's heading-order rule checks: a screen reader's outline has no holes)
    newsroom = Newsroom()
    for number in range(1, 4):
        newsroom.publish(number, START + timedelta(hours=number))
    for key in [k for k in newsroom.site.objects if k.endswith(".html")]:
        levels = [int(h.tag[1]) for h in newsroom.page(key).iter("h1", "h2", "h3", "h4", "h5", "h6")]
        assert levels[0] == 1, key
        assert all(b <= a + 1 for a, b in itertools.pairwise(levels)), (key, levels)
