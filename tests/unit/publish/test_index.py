"""The newsroom index (``index.html``): the latest releases, then a section per category."""

from __future__ import annotations

from datetime import UTC, datetime

import lxml.html

from functions.domain.publish.model import CatalogEntry
from functions.domain.publish.site import render_index
from tests.unit.publish.samples import CATEGORY_ORDER, IDENTITY, ORG_NAME, SITE, entry

GENERATED = datetime(2026, 3, 9, 12, 0, tzinfo=UTC)


def parse(page: str) -> lxml.html.HtmlElement:
    return lxml.html.document_fromstring(page)


def text(element: lxml.html.HtmlElement) -> str:
    return " ".join(element.text_content().split())


def headlines(section: lxml.html.HtmlElement) -> list[str]:
    return [text(a) for a in section.xpath(".//article//h3/a")]


def render(latest: list[CatalogEntry], by_category: dict[str, list[CatalogEntry]]) -> lxml.html.HtmlElement:
    return parse(render_index(latest, by_category, site=IDENTITY, generated_at=GENERATED))


def test_latest_releases_come_first_newest_first() -> None:
    # Given the catalogue's newest entries, newest first
    latest = [entry(3), entry(2, category="sports"), entry(1)]
    root = render(latest, {"business": [entry(3), entry(1)], "sports": [entry(2, category="sports")]})

    # Then the first section lists them in that order, before any category
    sections = root.xpath("//main/section")
    assert sections[0].get("id") == "latest"
    assert headlines(sections[0]) == [e.headline for e in latest]


def test_a_section_per_category_in_a_fixed_order_empty_ones_say_so() -> None:
    root = render([entry(1)], {"business": [entry(1)]})

    sections = root.xpath("//main/section[@class='category']")
    assert [s.get("id") for s in sections] == list(CATEGORY_ORDER)
    assert [text(s.xpath(".//h2")[0]) for s in sections] == [
        "Business", "Sports", "Personnel", "Community", "Events",
    ]  # fmt: skip
    business, *others = sections
    assert headlines(business) == [entry(1).headline]
    for section in others:
        assert headlines(section) == []
        assert "releases yet" in text(section.xpath(".//p[@class='empty']")[0])


def test_an_empty_newsroom_still_renders() -> None:
    root = render([], {})
    assert "No releases have been published yet." in text(root.xpath("//section[@id='latest']")[0])
    # the latest, each category and the archive say that nothing is there yet
    assert len(root.xpath("//p[@class='empty']")) == 1 + len(CATEGORY_ORDER) + 1


def test_each_entry_links_its_headline_and_shows_dateline_time_and_opening() -> None:
    item = entry(7, published_at=datetime(2026, 3, 4, 16, 45, tzinfo=UTC))
    root = render([item], {"business": [item]})
    article = root.xpath("//section[@id='latest']//article")[0]

    link = article.xpath(".//h3/a")[0]
    assert link.get("href") == item.url
    assert text(link) == item.headline
    assert text(article.xpath(".//*[@class='dateline']")[0]) == "LONDON"
    time = article.xpath(".//time")[0]
    assert datetime.fromisoformat(time.get("datetime")) == item.published_at
    assert text(time) == "4 March 2026, 16:45 (UTC)"
    assert text(article.xpath(".//p[@class='opening']")[0]) == item.opening
    assert ORG_NAME in text(article)
    assert article.get("lang") == "en"


def test_an_entry_without_a_dateline() -> None:
    root = render([entry(1, dateline=None)], {})
    assert not root.xpath("//*[@class='dateline']")


def test_text_is_escaped() -> None:
    evil = entry(1, headline='<script>alert(1)</script> "quoted" & more')
    page = render_index([evil], {"business": [evil]}, site=IDENTITY, generated_at=GENERATED)
    root = parse(page)
    assert not root.xpath("//script[not(@type='application/ld+json')]")
    assert "<script>alert(1)</script>" not in page
    assert [text(a) for a in root.xpath("//section[@id='latest']//h3/a")] == [
        '<script>alert(1)</script> "quoted" & more'
    ]


def test_the_head_links_every_feed_and_is_canonical() -> None:
    root = render([entry(1)], {})
    feeds = {(link.get("href"), link.get("type")) for link in root.xpath("//head/link[@rel='alternate']")}
    expected = {
        (f"{SITE}feeds/all.xml", "application/rss+xml"),
        (f"{SITE}feeds/all.atom", "application/atom+xml"),
    }
    for category in CATEGORY_ORDER:
        expected |= {
            (f"{SITE}feeds/{category}.xml", "application/rss+xml"),
            (f"{SITE}feeds/{category}.atom", "application/atom+xml"),
        }
    assert feeds == expected
    assert root.xpath("//link[@rel='canonical']")[0].get("href") == SITE
    assert root.get("lang") == "en"
    assert root.xpath("//meta[@name='viewport']")


def test_the_generation_time_is_shown_and_rendering_is_deterministic() -> None:
    page = render_index([entry(1)], {}, site=IDENTITY, generated_at=GENERATED)
    time = parse(page).xpath("//footer//time")[0]
    assert datetime.fromisoformat(time.get("datetime")) == GENERATED
    assert page == render_index([entry(1)], {}, site=IDENTITY, generated_at=GENERATED)
