"""What search engines, social networks and assistive technology read on the pages: Open Graph,
the Twitter card, schema.org JSON-LD (extracted from the page and parsed as JSON), every
``<time datetime>`` against the HTML grammar, the languages elements are marked with, the site's
own identity, and the stylesheet's colours in light and dark mode."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta, timezone

import lxml.html
import pytest

from functions.domain.publish.model import PublishedMedia
from functions.domain.publish.site import (
    asset_path,
    render_day_page,
    render_index,
    render_killed_page,
    render_not_found,
    render_page,
    static_file,
)
from functions.domain.records import Correction
from functions.domain.site import Site, html_datetime, human_time
from tests.site_checks import json_ld, open_graph, times, valid_time_datetime
from tests.unit.publish.samples import CATEGORY_ORDER, ORG_NAME, PUBLISHED, RELEASE_ID, SITE, entry, published

OWNER = Site(
    url=SITE,
    name="Harbour City News",
    tagline="Every press release from the harbour",
    logo_url="https://cdn.example.org/logo.png",
    language="en-GB",
    time_zone="Europe/London",
)
PAGE_URL = f"{SITE}releases/{RELEASE_ID}.html"
CORRECTED = PUBLISHED + timedelta(days=1, hours=2)


def parse(page: str) -> lxml.html.HtmlElement:
    return lxml.html.document_fromstring(page)


def corrected_release(language: str = "en") -> object:
    release = published("personnel", language=language)
    return replace(release, corrections=(Correction(2, "Corrects the effective date.", CORRECTED),))


# -- Open Graph and Twitter ------------------------------------------------------------------------


def test_a_release_page_describes_itself_to_social_networks() -> None:
    page = render_page(corrected_release(), OWNER)  # type: ignore[arg-type]
    og = open_graph(page)

    assert og["og:title"] == ["Acme names Jane Doe chief financial officer · Harbour City News"]
    assert og["og:description"][0].startswith("Acme said on Monday")
    assert og["og:url"] == [PAGE_URL]
    assert og["og:type"] == ["article"]
    assert og["og:site_name"] == ["Harbour City News"]
    assert og["og:locale"] == ["en"]
    assert og["og:image"] == ["https://cdn.example.org/logo.png"]
    assert og["article:published_time"] == ["2026-03-02T14:05:00Z"]
    assert og["article:modified_time"] == ["2026-03-03T16:05:00Z"]
    assert og["article:section"] == ["Personnel"]
    assert og["twitter:card"] == ["summary"]
    assert og["twitter:title"] == og["og:title"]
    assert og["twitter:description"] == og["og:description"]


def _photo(media_id: str, alt: str, *, role: str = "featured", caption: str | None = None) -> PublishedMedia:
    renditions = [
        {
            "name": f"w{width}.webp",
            "key": f"renditions/acme/{media_id}/w{width}.webp",
            "content_type": "image/webp",
            "bytes": width * 10,
            "width": width,
            "height": width * 3 // 4,
        }
        for width in (320, 800, 1600)
    ]
    attachment = {
        "id": media_id,
        "role": role,
        "content_type": "image/jpeg",
        "bytes": 99_000,
        "renditions": renditions,
        "alt": alt,
        "caption": caption,
        "credit": "Photo: Acme",
    }
    return PublishedMedia.from_attachment(attachment, release_id=RELEASE_ID, site_url=SITE)


def test_a_release_with_images_shows_its_lead_image_to_social_networks_and_search_engines() -> None:
    # Given a release with a featured photo and a gallery image, on a site with a logo
    featured = _photo("m-1", "Jane Doe at her desk", caption="Jane Doe")
    gallery = _photo("m-2", "The headquarters", role="gallery")
    page = render_page(replace(published("personnel"), attachments=(gallery, featured)), OWNER)

    # Then Open Graph and the Twitter card name the featured photo's largest rendition, not the logo
    og = open_graph(page)
    largest = f"{SITE}media/{RELEASE_ID}/m-1/w1600.webp"
    assert og["og:image"] == [largest]
    assert og["og:image:alt"] == ["Jane Doe at her desk"]
    assert (og["og:image:width"], og["og:image:height"]) == (["1600"], ["1200"])
    assert og["twitter:card"] == ["summary_large_image"]
    assert og["twitter:image"] == [largest]
    # and the NewsArticle's image lists the featured photo first, then the gallery
    [article] = json_ld(page)
    assert article["image"] == [
        {"@type": "ImageObject", "url": largest, "contentUrl": largest, "width": 1600, "height": 1200,
         "caption": "Jane Doe", "creditText": "Photo: Acme"},
        {"@type": "ImageObject", "url": f"{SITE}media/{RELEASE_ID}/m-2/w1600.webp",
         "contentUrl": f"{SITE}media/{RELEASE_ID}/m-2/w1600.webp", "width": 1600, "height": 1200,
         "caption": "The headquarters", "creditText": "Photo: Acme"},
    ]  # fmt: skip


def test_without_a_featured_image_the_first_gallery_image_leads() -> None:
    gallery = _photo("m-2", "The headquarters", role="gallery")
    page = render_page(replace(published("personnel"), attachments=(gallery,)), OWNER)
    assert open_graph(page)["og:image"] == [f"{SITE}media/{RELEASE_ID}/m-2/w1600.webp"]


@pytest.mark.parametrize(("language", "locale"), [("fr-CA", "fr_CA"), ("de", "de"), ("zh-Hant-TW", "zh_TW")])
def test_the_locale_is_the_releases_language_as_open_graph_writes_it(language: str, locale: str) -> None:
    assert open_graph(render_page(published("community", language=language), OWNER))["og:locale"] == [locale]


# -- JSON-LD -------------------------------------------------------------------------------------------


def test_a_release_page_is_a_schema_org_news_article() -> None:
    [article] = json_ld(render_page(corrected_release(), OWNER))  # type: ignore[arg-type]

    assert article["@context"] == "https://schema.org"
    assert article["@type"] == "NewsArticle"
    assert article["headline"] == "Acme names Jane Doe chief financial officer"
    assert article["datePublished"] == "2026-03-02T14:05:00Z"
    assert article["dateModified"] == "2026-03-03T16:05:00Z"
    assert article["inLanguage"] == "en"
    issuer = {"@type": "Organization", "name": ORG_NAME, "url": f"{SITE}orgs/org-acme.html"}
    assert article["publisher"] == issuer
    assert article["author"] == issuer
    assert article["mainEntityOfPage"] == {"@type": "WebPage", "@id": PAGE_URL}
    assert article["articleSection"] == "Personnel"
    assert article["correction"] == [
        {
            "@type": "CorrectionComment",
            "text": "Corrects the effective date.",
            "datePublished": "2026-03-03T16:05:00Z",
        }
    ]


def test_json_ld_cannot_be_broken_out_of_by_a_headline() -> None:
    # Given a headline that tries to close the script element and open another
    evil = '</script><script>alert(1)</script><!-- "quoted" & more'
    page = render_page(published("personnel", headline=evil), OWNER)

    # Then the page has exactly one script, the JSON-LD, and it parses back to the headline as typed
    root = parse(page)
    assert [s.get("type") for s in root.iter("script")] == ["application/ld+json"]
    assert (
        "</script><script>"
        not in page.split('<script type="application/ld+json">', 1)[1].split("</script>")[0]
    )
    assert json_ld(page)[0]["headline"] == evil


def test_the_index_is_a_website_and_lists_are_collection_pages() -> None:
    [site] = json_ld(render_index([], {}, site=OWNER, generated_at=PUBLISHED))
    assert (site["@type"], site["name"], site["url"], site["inLanguage"]) == (
        "WebSite",
        OWNER.name,
        SITE,
        "en-GB",
    )
    [day] = json_ld(render_day_page(date(2026, 3, 2), [entry(1)], number=1, pages=1, site=OWNER))
    assert day["@type"] == "CollectionPage"


# -- times ----------------------------------------------------------------------------------------------


def test_times_are_shown_in_the_display_zone_with_the_offset() -> None:
    summer = datetime(2026, 7, 1, 14, 5, 30, 123456, tzinfo=UTC)
    assert human_time(summer, "Europe/London") == "1 July 2026, 15:05 (UTC+01:00)"
    assert human_time(summer, "America/St_Johns") == "1 July 2026, 11:35 (UTC-02:30)"
    assert human_time(summer, "UTC") == "1 July 2026, 14:05 (UTC)"
    assert html_datetime(summer, "Europe/London") == "2026-07-01T15:05:30.123+01:00"
    assert html_datetime(summer.replace(microsecond=0)) == "2026-07-01T14:05:30Z"
    with pytest.raises(ValueError, match="time zone"):
        html_datetime(datetime(2026, 7, 1))


@pytest.mark.parametrize(
    ("value", "valid"),
    [
        ("2026-03-02T14:05:00Z", True),
        ("2026-03-02T14:05:00.123+01:00", True),
        ("2026-03-02", True),
        ("2026-03-02T14:05:00.123456+00:00", False),  # six fractional digits: isoformat()'s
        ("2026-02-30", False),
        ("2026-03-02T25:00Z", False),
    ],
)
def test_the_checker_knows_the_html_grammar(value: str, valid: bool) -> None:
    assert valid_time_datetime(value) is valid


def _every_page() -> dict[str, str]:
    moment = datetime(2026, 3, 2, 14, 5, 7, 654321, tzinfo=timezone(timedelta(hours=-5)))
    pages = {
        f"release-{c}": render_page(replace(published(c, published_at=moment), corrections=()), OWNER)
        for c in CATEGORY_ORDER
    }
    pages["corrected"] = render_page(corrected_release(), OWNER)  # type: ignore[arg-type]
    items = [entry(n, published_at=moment + timedelta(hours=n)) for n in range(3)]
    pages["index"] = render_index(
        items, {"business": items}, site=OWNER, generated_at=moment, months=[(2026, 3)]
    )
    pages["day"] = render_day_page(moment.date(), items, number=1, pages=1, site=OWNER)
    pages["killed"] = render_killed_page(
        RELEASE_ID, "A headline", site=OWNER, killed_at=moment, reason="Spam."
    )
    pages["404"] = render_not_found(OWNER)
    return pages


@pytest.mark.parametrize(("name", "page"), sorted(_every_page().items()))
def test_every_time_datetime_is_a_valid_html_date_time(name: str, page: str) -> None:
    found = times(page)
    for value in found:
        assert valid_time_datetime(value), (name, value)
    if name not in ("404",):
        assert found, name


# -- languages -------------------------------------------------------------------------------------------


def test_interface_text_on_a_page_in_another_language_is_marked_as_english() -> None:
    # Given a French release on an English newsroom
    root = parse(render_page(corrected_release("fr-CA"), OWNER))  # type: ignore[arg-type]

    # Then the page is French, and the interface around the release says it is English
    assert root.get("lang") == "fr-CA"
    for xpath in (
        "//nav[@class='sections']",
        "//footer",
        "//h2[@id='contact-heading']",
        "//h2[@id='corrections-heading']",
        "//section[@class='details']//dt",
        "//p[@class='category']",
    ):
        for element in root.xpath(xpath):
            assert element.get("lang") == "en", xpath
    # the site's name in its own language, the release's text unmarked (the page's)
    assert root.xpath("//p[@class='brand']//span")[0].get("lang") == "en-GB"
    assert root.xpath("//h1")[0].get("lang") is None


def test_an_english_release_needs_no_marking() -> None:
    root = parse(render_page(published("personnel"), Site(url=SITE)))
    assert root.xpath("//nav[@class='sections']")[0].get("lang") is None


# -- the owner's site --------------------------------------------------------------------------------------


def test_every_page_carries_the_sites_name_logo_stylesheet_and_favicon() -> None:
    for name, page in _every_page().items():
        root = parse(page)
        brand = root.xpath("//header[@class='site']//p[@class='brand']/a")[0]
        assert brand.get("href") == SITE, name
        assert "Harbour City News" in brand.text_content(), name
        assert brand.xpath(".//img")[0].get("src") == OWNER.logo_url, name
        assert root.xpath("//p[@class='tagline']")[0].text_content() == OWNER.tagline, name
        assert root.xpath("//link[@rel='stylesheet']")[0].get("href") == SITE + asset_path("site.css"), name
        icons = {link.get("href") for link in root.xpath("//link[@rel='icon']")}
        assert icons == {f"{SITE}favicon.svg", f"{SITE}favicon.ico"}, name


def test_the_killed_page_says_the_newsroom_withdrew_it_when_and_why_never_who() -> None:
    killed_at = datetime(2026, 3, 4, 10, 0, tzinfo=UTC)
    page = render_killed_page(
        RELEASE_ID,
        "A headline",
        site=OWNER,
        killed_at=killed_at,
        reason="Offensive, unlawful or unsafe content.",
    )
    notice = " ".join(parse(page).xpath("//p[@class='notice']")[0].text_content().split())
    assert notice == (
        "Withdrawn by the Harbour City News newsroom on 4 March 2026, 10:00 (UTC): "
        "Offensive, unlawful or unsafe content."
    )


def test_the_asset_name_changes_with_the_stylesheet() -> None:
    assert re.fullmatch(r"assets/site\.[0-9a-f]{10}\.css", asset_path("site.css"))


# -- colours -------------------------------------------------------------------------------------------------


def _luminance(colour: str) -> float:
    channels = [int(colour[i : i + 2], 16) / 255 for i in (1, 3, 5)]
    linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def _contrast(a: str, b: str) -> float:
    high, low = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def _schemes() -> dict[str, dict[str, str]]:
    css = static_file("site.css").decode()
    light = css.split("@media (prefers-color-scheme: dark)")[0]
    dark = css.split("@media (prefers-color-scheme: dark)")[1].split("}\n}")[0]
    variables = re.compile(r"--([a-z-]+):\s*(#[0-9a-f]{6})")
    return {"light": dict(variables.findall(light)), "dark": dict(variables.findall(dark))}


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_both_schemes_set_background_and_text_colours_that_contrast(scheme: str) -> None:
    colours = _schemes()[scheme]
    # Every scheme sets its own background and text colour (no browser default is left to mix)
    assert {"bg", "fg", "muted", "accent", "visited", "notice-bg"} <= set(colours)
    for text in ("fg", "muted", "accent", "visited"):
        for background in ("bg", "notice-bg"):
            ratio = _contrast(colours[text], colours[background])
            assert ratio >= 4.5, (scheme, text, background, round(ratio, 2))
    css = static_file("site.css").decode()
    assert "body { margin: 0; background: var(--bg); color: var(--fg);" in css
