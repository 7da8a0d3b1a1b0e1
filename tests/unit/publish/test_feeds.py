"""RSS 2.0 and Atom 1.0 feeds, read with feedparser as a feed reader reads them."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

import feedparser
import pytest

from functions.domain.publish.model import CatalogEntry
from functions.domain.publish.site import feed_path, render_atom, render_rss
from tests.unit.publish.samples import ORG_NAME, SITE, entry

EMPTY_SINCE = datetime(2026, 1, 1, 0, 0, tzinfo=UTC)
Render = Callable[..., bytes]
FORMATS = [
    pytest.param(render_rss, "rss20", "feeds/all.xml", id="rss"),
    pytest.param(render_atom, "atom10", "feeds/all.atom", id="atom"),
]


def render(renderer: Render, entries: list[CatalogEntry], path: str, **overrides: Any) -> bytes:
    arguments: dict[str, Any] = {
        "site_url": SITE,
        "title": "Acme Newsroom",
        "feed_path": path,
        "description": "Press releases from the Acme newsroom",
        "updated": EMPTY_SINCE,
    }
    return renderer(entries, **(arguments | overrides))


def read(renderer: Render, entries: list[CatalogEntry], path: str, **overrides: Any) -> Any:
    parsed = feedparser.parse(render(renderer, entries, path, **overrides))
    assert not parsed.bozo, parsed.get("bozo_exception")
    return parsed


def utc(struct: Any) -> datetime:
    return datetime(*struct[:6], tzinfo=UTC)


NEWEST_FIRST = [entry(3), entry(2, category="sports"), entry(1)]


@pytest.mark.parametrize(("renderer", "version", "path"), FORMATS)
def test_the_format_is_recognised_with_its_title_and_links(renderer: Render, version: str, path: str) -> None:
    parsed = read(renderer, NEWEST_FIRST, path)

    assert parsed.version == version
    assert parsed.feed.title == "Acme Newsroom"
    assert parsed.feed.link == SITE
    self_links = [link.href for link in parsed.feed.links if link.rel == "self"]
    assert self_links == [SITE + path]


@pytest.mark.parametrize(("renderer", "version", "path"), FORMATS)
def test_entries_in_the_given_order_with_titles_links_and_dates(
    renderer: Render, version: str, path: str
) -> None:
    parsed = read(renderer, NEWEST_FIRST, path)

    assert [e.title for e in parsed.entries] == [e.headline for e in NEWEST_FIRST]
    assert [e.link for e in parsed.entries] == [e.url for e in NEWEST_FIRST]
    assert [utc(e.published_parsed) for e in parsed.entries] == [e.published_at for e in NEWEST_FIRST]
    assert [e.summary for e in parsed.entries] == [e.opening for e in NEWEST_FIRST]
    assert all(e.author == ORG_NAME for e in parsed.entries)
    # The category travels as its term
    assert [e.tags[0].term for e in parsed.entries] == ["business", "sports", "business"]


@pytest.mark.parametrize(("renderer", "version", "path"), FORMATS)
def test_an_item_is_identified_by_its_page_url_across_renders(
    renderer: Render, version: str, path: str
) -> None:
    # Given the same entries rendered twice, the second time with a newer entry on top
    first = read(renderer, NEWEST_FIRST, path)
    second = read(renderer, [entry(4), *NEWEST_FIRST], path)

    # Then each release keeps its id: the page URL (RSS: a permalink guid)
    assert [e.id for e in first.entries] == [e.url for e in NEWEST_FIRST]
    assert [e.id for e in second.entries[1:]] == [e.id for e in first.entries]
    # and the bytes of a re-render with the same input are the same
    assert render(renderer, NEWEST_FIRST, path) == render(renderer, NEWEST_FIRST, path)


def test_the_rss_guid_is_a_permalink() -> None:
    xml = render(render_rss, [entry(1)], "feeds/all.xml").decode()
    assert f'<guid isPermaLink="true">{entry(1).url}</guid>' in xml


def test_the_atom_feed_id_is_the_feed_url() -> None:
    parsed = read(render_atom, [entry(1)], "feeds/business.atom")
    assert parsed.feed.id == f"{SITE}feeds/business.atom"


@pytest.mark.parametrize(("renderer", "version", "path"), FORMATS)
def test_the_feed_is_as_recent_as_its_newest_entry(renderer: Render, version: str, path: str) -> None:
    parsed = read(renderer, NEWEST_FIRST, path)
    assert utc(parsed.feed.updated_parsed) == entry(3).published_at


@pytest.mark.parametrize(("renderer", "version", "path"), FORMATS)
def test_an_empty_feed_is_valid_and_dated_by_the_caller(renderer: Render, version: str, path: str) -> None:
    parsed = read(renderer, [], path)
    assert parsed.version == version
    assert parsed.entries == []
    assert utc(parsed.feed.updated_parsed) == EMPTY_SINCE


@pytest.mark.parametrize(("renderer", "version", "path"), FORMATS)
def test_the_feed_holds_what_it_is_given(renderer: Render, version: str, path: str) -> None:
    # Given a bounded list of the 20 newest entries (the catalogue's job)
    twenty = [entry(n) for n in range(40, 20, -1)]
    parsed = read(renderer, twenty, path)
    assert len(parsed.entries) == 20
    assert parsed.entries[0].id == entry(40).url
    assert parsed.entries[-1].id == entry(21).url


@pytest.mark.parametrize(("renderer", "version", "path"), FORMATS)
def test_times_in_any_offset_are_read_back_as_the_same_instant(
    renderer: Render, version: str, path: str
) -> None:
    # Given an entry whose time was recorded with a +09:00 offset
    tokyo = datetime(2026, 3, 3, 8, 30, tzinfo=ZoneInfo("Asia/Tokyo"))
    parsed = read(renderer, [entry(1, published_at=tokyo)], path)
    # Then a reader gets the same instant
    assert utc(parsed.entries[0].published_parsed) == tokyo == datetime(2026, 3, 2, 23, 30, tzinfo=UTC)
    assert utc(parsed.feed.updated_parsed) == tokyo


def test_category_feeds_live_beside_the_all_feeds() -> None:
    assert feed_path(None, "rss") == "feeds/all.xml"
    assert feed_path(None, "atom") == "feeds/all.atom"
    assert feed_path("event", "rss") == "feeds/event.xml"
    assert feed_path("event", "atom") == "feeds/event.atom"


def test_titles_with_markup_are_text() -> None:
    evil = entry(1, headline="<b>Bold</b> & <script>x</script>")
    for renderer, _, path in (p.values for p in FORMATS):
        parsed = read(renderer, [evil], path)
        assert parsed.entries[0].title == "<b>Bold</b> & <script>x</script>"
