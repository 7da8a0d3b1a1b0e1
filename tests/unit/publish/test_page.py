"""Release pages and withdrawal notices (functions/domain/publish/site.py), read as a browser or a
crawler reads them: parsed with lxml.html and queried by element and attribute."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import lxml.html
import pytest

from functions.domain.publish.site import render_killed_page, render_page
from functions.domain.site import Site
from tests.unit.publish.samples import CATEGORY_ORDER, IDENTITY, ORG_NAME, RELEASE_ID, SITE, published

PAGE_URL = f"{SITE}releases/{RELEASE_ID}.html"
JSON_URL = f"{SITE}releases/{RELEASE_ID}.json"
EVIL = "Acme <script>alert(1)</script> & \"quotes\" 'too'"


def parse(page: str) -> lxml.html.HtmlElement:
    return lxml.html.document_fromstring(page)


def one(root: lxml.html.HtmlElement, xpath: str) -> lxml.html.HtmlElement:
    found = root.xpath(xpath)
    assert len(found) == 1, f"{xpath}: {len(found)} matches"
    element: lxml.html.HtmlElement = found[0]
    return element


def text(element: lxml.html.HtmlElement) -> str:
    return " ".join(element.text_content().split())


def alternates(root: lxml.html.HtmlElement) -> dict[str, str]:
    return {link.get("href"): link.get("type") for link in root.xpath("//head/link[@rel='alternate']")}


# ---------------------------------------------------------------------------------------------
# The release page
# ---------------------------------------------------------------------------------------------


def test_the_page_head_serves_browsers_crawlers_and_phones() -> None:
    # Given a published release in Canadian French
    page = render_page(published("personnel", language="fr-CA"), IDENTITY)
    root = parse(page)

    # Then the head says what a browser and a crawler need
    assert page.startswith("<!DOCTYPE html>")
    assert root.get("lang") == "fr-CA"
    assert one(root, "//head/meta[@charset]").get("charset").lower() == "utf-8"
    assert one(root, "//meta[@name='viewport']").get("content") == "width=device-width, initial-scale=1"
    assert text(one(root, "//head/title")).startswith("Acme names Jane Doe chief financial officer")
    assert one(root, "//meta[@name='description']").get("content") == (
        "Acme said on Monday that it had reached a milestone. More detail follows in the body."
    )
    assert one(root, "//link[@rel='canonical']").get("href") == PAGE_URL
    assert not root.xpath("//meta[@name='robots']")
    # the stylesheet is the site's own file (no inline style: the CSP allows none)
    assert one(root, "//head/link[@rel='stylesheet']").get("href").startswith(f"{SITE}assets/site.")
    assert not root.xpath("//style | //*[@style]")


def test_the_page_links_to_its_json_and_the_feeds() -> None:
    root = parse(render_page(published("event"), IDENTITY))
    assert alternates(root) == {
        JSON_URL: "application/json",
        f"{SITE}feeds/all.xml": "application/rss+xml",
        f"{SITE}feeds/all.atom": "application/atom+xml",
        f"{SITE}feeds/event.xml": "application/rss+xml",
        f"{SITE}feeds/event.atom": "application/atom+xml",
    }


def test_without_a_summary_the_description_is_the_opening_sentence() -> None:
    release = published("personnel", summary=None)
    root = parse(render_page(release, IDENTITY))
    assert one(root, "//meta[@name='description']").get("content") == (
        "Acme Corporation today announced that Jane Doe will join as chief financial officer."
    )


def test_the_article_header() -> None:
    root = parse(render_page(published("personnel"), IDENTITY))
    header = one(root, "//article/header")

    assert text(one(root, "//h1")) == "Acme names Jane Doe chief financial officer"
    assert one(header, ".//h1") is not None
    assert "A second line that says a little more" in text(header)
    assert text(one(header, ".//*[@class='dateline']")) == "ST PETERSBURG, Florida"
    published_time = one(header, ".//time")
    assert datetime.fromisoformat(published_time.get("datetime")) == datetime(2026, 3, 2, 14, 5, tzinfo=UTC)
    assert text(published_time) == "2 March 2026, 14:05 (UTC)"
    assert ORG_NAME in text(header)


def test_the_sanitised_body_markup_is_kept() -> None:
    # Given a Markdown body with emphasis, a list and a link (sanitised at intake)
    root = parse(render_page(published("business"), IDENTITY))
    body = one(root, "//article//div[@class='body']")

    # Then its markup arrives as markup, not as escaped text
    assert text(one(body, ".//strong")) == "record revenue"
    assert [text(li) for li in body.xpath(".//ul/li")] == ["Revenue up 20%", "Margin steady"]
    link = one(body, ".//a")
    assert link.get("href") == "https://acme.example/q1"
    assert link.get("rel") == "nofollow noopener"
    assert "&lt;" not in lxml.html.tostring(body, encoding="unicode")


def test_headline_and_other_text_are_escaped() -> None:
    # Given a release whose text fields contain markup and quotes
    release = published(
        "personnel",
        headline=EVIL,
        summary='He said "hello" <b>loudly</b>.',
        dateline="<i>LONDON</i>",
        tags=["<em>tag</em>"],
        boilerplate="About <script>x()</script>",
        details={"person": "<img src=x onerror=alert(1)>", "role": "CFO", "effective_date": "2027-01-01"},
    )
    page = render_page(release, IDENTITY)
    root = parse(page)

    # Then they are shown as text: no element was injected, attribute values are intact
    assert text(one(root, "//h1")) == " ".join(EVIL.split())
    assert not root.xpath("//script[not(@type='application/ld+json')] | //img | //b | //i | //em")
    assert one(root, "//meta[@name='description']").get("content") == 'He said "hello" <b>loudly</b>.'
    assert text(one(root, "//title")).startswith(" ".join(EVIL.split()))
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page


def test_a_body_is_the_only_markup_taken_as_is() -> None:
    # Given a summary that looks like the HTML a body may contain
    release = published("community", summary="<p>Not a paragraph</p>")
    root = parse(render_page(release, IDENTITY))
    assert text(one(root, "//p[@class='summary']")) == "<p>Not a paragraph</p>"


@pytest.mark.parametrize(
    ("category", "expected"),
    [
        ("business", {"Securities": "NYSE: ACME, LSE: ACM"}),
        (
            "sports",
            {
                "Sport": "football",
                "Teams": "Acme Rovers, Example United",
                "Result": "3-1",
                "Date": "28 February 2026",
            },
        ),
        (
            "personnel",
            {
                "Person": "Jane Doe",
                "Role": "Chief Financial Officer",
                "Previously": "Vice President, Finance",
                "Effective": "1 January 2027",
            },
        ),
        ("community", {"Group": "Acme Volunteers", "Area": "Old Town"}),
        (
            "event",
            {
                "Starts": "6 June 2026, 18:00 (Europe/London, UTC+01:00)",
                "Ends": "6 June 2026, 21:30 (Europe/London, UTC+01:00)",
                "Venue": "Acme Hall, 1 Main Street",
            },
        ),
    ],
)
def test_the_details_of_each_category(category: str, expected: dict[str, str]) -> None:
    root = parse(render_page(published(category), IDENTITY))
    details = one(root, "//section[@class='details']")
    labels = [text(dt) for dt in details.xpath(".//dt")]
    values = [text(dd) for dd in details.xpath(".//dd")]
    assert dict(zip(labels, values, strict=True)) == expected


def test_dates_in_the_details_are_machine_readable() -> None:
    personnel = parse(render_page(published("personnel"), IDENTITY))
    assert one(personnel, "//section[@class='details']//time").get("datetime") == "2027-01-01"

    event = parse(render_page(published("event"), IDENTITY))
    starts, ends = event.xpath("//section[@class='details']//time")
    assert datetime.fromisoformat(starts.get("datetime")) == datetime(2026, 6, 6, 17, 0, tzinfo=UTC)
    assert datetime.fromisoformat(ends.get("datetime")) == datetime(2026, 6, 6, 20, 30, tzinfo=UTC)


def test_contact_links_and_tags() -> None:
    root = parse(render_page(published("personnel"), IDENTITY))

    contact = one(root, "//section[@class='contact']")
    assert "Press Office" in text(contact)
    assert one(contact, ".//a[starts-with(@href, 'mailto:')]").get("href") == "mailto:press@acme.example"
    phone = one(contact, ".//a[starts-with(@href, 'tel:')]")
    assert phone.get("href") == "tel:+15550100100"
    assert text(phone) == "+1 (555) 010-0100"

    link = one(root, "//section[@class='links']//a")
    assert link.get("href") == "https://acme.example/investors"
    assert link.get("rel") == "nofollow noopener"
    assert text(link) == "Investor relations"

    assert [text(li) for li in root.xpath("//ul[@class='tags']/li")] == ["milestone", "florida"]
    about = one(root, "//section[@class='boilerplate']")
    assert [text(p) for p in about.xpath(".//p")] == [
        "About Acme: Acme makes everything.",
        "Acme is listed in New York.",
    ]


def test_optional_sections_are_left_out_when_empty() -> None:
    release = published(
        "community", subheadline=None, dateline=None, links=[], tags=[], boilerplate=None, details={}
    )
    root = parse(render_page(release, IDENTITY))
    for section in ("details", "links", "boilerplate", "tags-section"):
        assert not root.xpath(f"//section[@class='{section}']")
    assert not root.xpath("//*[@class='subheadline'] | //*[@class='dateline']")


def test_the_footer_leads_back_to_the_newsroom() -> None:
    root = parse(render_page(published("sports"), Site(url=SITE, name="Acme News")))
    footer_links = {a.get("href") for a in root.xpath("//footer//a")}
    assert SITE in footer_links
    assert JSON_URL in footer_links
    assert text(one(root, "//header[@class='site']/p[@class='brand']/a")) == "Acme News"


@pytest.mark.parametrize("category", CATEGORY_ORDER)
def test_one_h1_per_page_whatever_the_body(category: str) -> None:
    # A body's own h1 is renamed h2 at intake, so the headline stays the page's only h1
    release = published(category, body="<h1>Inner title</h1><p>Text.</p>", body_format="html")
    root = parse(render_page(release, IDENTITY))
    assert [text(h1) for h1 in root.xpath("//h1")] == [release.headline]


def test_rendering_is_deterministic() -> None:
    release = published("event")
    assert render_page(release, IDENTITY) == render_page(release, IDENTITY)


# ---------------------------------------------------------------------------------------------
# The withdrawal notice
# ---------------------------------------------------------------------------------------------


def test_a_withdrawn_release_page_is_a_notice_kept_out_of_search() -> None:
    killed_at = datetime(2026, 3, 3, 10, 0, tzinfo=UTC)
    root = parse(render_killed_page(RELEASE_ID, EVIL, site=IDENTITY, killed_at=killed_at))

    assert one(root, "//meta[@name='robots']").get("content") == "noindex"
    assert one(root, "//link[@rel='canonical']").get("href") == PAGE_URL
    assert text(one(root, "//h1")) == "This release has been withdrawn"
    assert not root.xpath("//*[@class='body'] | //section | //script")
    notice = text(one(root, "//article"))
    assert " ".join(EVIL.split()) in notice  # the headline, as text
    assert datetime.fromisoformat(one(root, "//article//time").get("datetime")) == killed_at
    assert SITE in {a.get("href") for a in root.xpath("//footer//a")}


# ---------------------------------------------------------------------------------------------
# Cold starts: the renderers' libraries load only when a render needs them
# ---------------------------------------------------------------------------------------------


def test_importing_the_renderers_does_not_load_jinja2_or_feedgenerator() -> None:
    code = (
        "import sys\n"
        "import functions.domain.publish.site, functions.domain.publish.ninjs\n"
        "loaded = sorted(m for m in ('jinja2', 'feedgenerator') if m in sys.modules)\n"
        "assert not loaded, loaded\n"
    )
    root = Path(__file__).resolve().parents[3]
    result = subprocess.run(  # noqa: S603 - our own interpreter, our own code
        [sys.executable, "-c", code], cwd=root, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
