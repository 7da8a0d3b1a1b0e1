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
from functions.domain.site import Site
from tests.unit.publish.samples import IDENTITY, ORG_NAME, SITE, entry

EMPTY_SINCE = datetime(2026, 1, 1, 0, 0, tzinfo=UTC)
Render = Callable[..., bytes]
FORMATS = [
    pytest.param(render_rss, "rss20", "feeds/all.xml", id="rss"),
    pytest.param(render_atom, "atom10", "feeds/all.atom", id="atom"),
]


def render(renderer: Render, entries: list[CatalogEntry], path: str, **overrides: Any) -> bytes:
    arguments: dict[str, Any] = {
        "site": IDENTITY,
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


# -- text, never markup; full content; language ---------------------------------------------------

EVIL = '<img src=x onerror=alert(1)> & <script>alert(2)</script> <a href="javascript:alert(3)">x</a>'
CONTENT_NS = "{http://purl.org/rss/1.0/modules/content/}"
DC_NS = "{http://purl.org/dc/elements/1.1/}"
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"


def unsanitised(renderer: Render, entries: list[CatalogEntry], path: str) -> Any:
    """The feed as a reader that trusts it sees it: feedparser without its own HTML sanitiser."""
    parsed = feedparser.parse(render(renderer, entries, path), sanitize_html=False)
    assert not parsed.bozo, parsed.get("bozo_exception")
    return parsed


def as_html(value: str) -> Any:
    import lxml.html

    return lxml.html.fragment_fromstring(value, create_parent="div")


@pytest.mark.parametrize(("renderer", "version", "path"), FORMATS)
def test_the_opening_is_text_that_a_reader_rendering_html_shows_as_typed(
    renderer: Render, version: str, path: str
) -> None:
    # Given an opening whose text looks like markup (a summary typed by a submitter)
    parsed = unsanitised(renderer, [entry(1, opening=EVIL)], path)

    # Then the summary is HTML (RSS description, Atom summary type="html") that renders as
    # exactly the text typed, with no element in it
    summary = parsed.entries[0].summary_detail
    assert summary.type == "text/html"
    rendered = as_html(summary.value)
    assert [element.tag for element in rendered.iter()] == ["div"]
    assert rendered.text_content() == EVIL


@pytest.mark.parametrize(("renderer", "version", "path"), FORMATS)
def test_the_sanitised_body_is_the_full_content(renderer: Render, version: str, path: str) -> None:
    body = (
        "<p>Acme <strong>today</strong> named a "
        '<a href="https://acme.example/" rel="nofollow noopener">chief</a>.</p>'
    )
    parsed = unsanitised(renderer, [entry(1, body_html=body), entry(2)], path)

    [content] = parsed.entries[0].content
    assert (content.type, content.value) == ("text/html", body)
    assert "content" not in parsed.entries[1]  # an entry stored without a body has no content


def test_rss_full_content_is_content_encoded() -> None:
    import lxml.etree

    root = lxml.etree.fromstring(render(render_rss, [entry(1, body_html="<p>Body</p>")], "feeds/all.xml"))
    assert root.findtext(f"channel/item/{CONTENT_NS}encoded") == "<p>Body</p>"


def test_atom_full_content_is_html_content() -> None:
    import lxml.etree

    root = lxml.etree.fromstring(render(render_atom, [entry(1, body_html="<p>Body</p>")], "feeds/all.atom"))
    [content] = root.iter("{http://www.w3.org/2005/Atom}content")
    assert (content.get("type"), content.text) == ("html", "<p>Body</p>")


def test_the_feeds_carry_the_release_language() -> None:
    import lxml.etree

    german, english = entry(1, language="de"), entry(2, language="en")
    # RSS: the channel's language is the one its items share, else the site's; each item its own
    only_german = lxml.etree.fromstring(render(render_rss, [german], "feeds/all.xml"))
    assert only_german.findtext("channel/language") == "de"
    mixed = lxml.etree.fromstring(
        render(render_rss, [german, english], "feeds/all.xml", site=Site(url=SITE, language="fr"))
    )
    assert mixed.findtext("channel/language") == "fr"
    assert [item.findtext(f"{DC_NS}language") for item in mixed.iter("item")] == ["de", "en"]
    # Atom: every entry has its own xml:lang
    atom = lxml.etree.fromstring(render(render_atom, [german, english], "feeds/all.atom"))
    assert atom.get(XML_LANG) == "en"
    assert [e.get(XML_LANG) for e in atom.iter("{http://www.w3.org/2005/Atom}entry")] == ["de", "en"]
    assert [
        e.title_detail.language for e in read(render_atom, [german, english], "feeds/all.atom").entries
    ] == [
        "de",
        "en",
    ]


@pytest.mark.parametrize(("renderer", "version", "path"), FORMATS)
def test_an_item_that_cannot_be_written_is_skipped_and_logged(
    renderer: Render, version: str, path: str, caplog: pytest.LogCaptureFixture
) -> None:
    # Given an entry that somehow holds a character XML cannot carry (entries refuse them, so it
    # is forced in here) between two good ones
    broken = entry(2)
    object.__setattr__(broken, "headline", "Vertical\x0btab")

    with caplog.at_level("ERROR"):
        parsed = read(renderer, [entry(3), broken, entry(1)], path)

    assert [e.link for e in parsed.entries] == [entry(3).url, entry(1).url]
    assert broken.url in caplog.text


def test_an_entry_refuses_what_xml_cannot_carry() -> None:
    from functions.domain.publish.model import UnfitEntry

    with pytest.raises(UnfitEntry, match="U\\+000B"):
        entry(1, headline="Vertical\x0btab")
