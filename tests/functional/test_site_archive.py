"""The day archive on a stack (moto, the real functions): a site published before days were pages
is upgraded by the next refresh, every release still findable from the newsroom and the old
addresses still answering, with the new pages."""

from __future__ import annotations

from typing import Any

import lxml.etree
import pytest

from infra.bootstrap import LocalStack
from infra.lambdas import LocalFunctions
from tests.functional.pipeline import refresh_site
from tests.functional.test_publisher import World, _page_url
from tests.helpers import ApiClient, sqs_event
from tests.site_checks import crawl, news_sitemap_problems, sitemap_problems

SM = "{http://www.sitemaps.org/schemas/sitemap/0.9}"
PAGE = 2  # entries per page of a day, for this test (100 in service): a few releases fill pages


@pytest.fixture
def world(
    stack: LocalStack, functions_env: LocalFunctions, api: ApiClient, monkeypatch: pytest.MonkeyPatch
) -> World:
    from functions.domain.publish import archive, shared

    monkeypatch.setattr(archive, "DAY_PAGE", PAGE)
    monkeypatch.setattr(shared, "DAY_PAGE", PAGE)
    return World.with_functions_env(stack, functions_env, api, monkeypatch)


def _to_old_shape(world: World) -> dict[str, int]:
    """Rewrite the catalogs and the archive as the site kept them before its days were pages: one
    catalog per day (newest first), the calendar with each day's count, seq and lastmod only, the
    last 48 hours in the front document, each day's pages newest first (marked "OLD SHAPE") with
    one sitemap for the whole day, each object marked with the old seq. The days and their seqs."""
    from functions.adapters.s3_catalog import (
        catalog_key,
        decode,
        decode_document,
        encode,
        encode_document,
    )
    from functions.adapters.s3_site import SEQ_METADATA
    from functions.domain.publish.sitemaps import render_urlset

    s3, catalogs, site = world.s3, world.stack.ref("ReleasesBucket"), world.stack.ref("SiteBucket")

    def read(name: str) -> bytes:
        return bytes(s3.get_object(Bucket=catalogs, Key=catalog_key(name))["Body"].read())

    front, front_seq = decode_document(read("front"))
    old: dict[str, int] = {}
    for day, value in front["days"].items():
        pages = [f"days/{day}/{n}" for n in range(1, len(value["pages"]) + 1)]
        entries = [e for name in pages for e in decode(read(name))[0]]
        for name in pages:
            s3.delete_object(Bucket=catalogs, Key=catalog_key(name))
        entries.sort(key=lambda e: (e["published_at"], e["release_id"]), reverse=True)
        seq = 40 + len(entries)
        s3.put_object(Bucket=catalogs, Key=catalog_key(f"days/{day}"), Body=encode(entries, seq))
        front["days"][day] = {"count": len(entries), "seq": seq, "lastmod": value["pages"][-1]["lastmod"]}
        old[day] = seq
        for number in range(1, len(pages) + 1):
            s3.put_object(
                Bucket=site,
                Key=f"archive/{day}{'' if number == 1 else f'-{number}'}.html",
                Body=b"<!doctype html><title>OLD SHAPE</title><p>newest first</p>",
                ContentType="text/html; charset=utf-8",
                Metadata={SEQ_METADATA: str(seq)},
            )
            if number > 1:
                s3.delete_object(Bucket=site, Key=f"sitemap-{day}-{number}.xml")
        s3.put_object(
            Bucket=site,
            Key=f"sitemap-{day}.xml",
            Body=render_urlset([(e["url"], None) for e in entries]),
            ContentType="application/xml",
            Metadata={SEQ_METADATA: str(seq)},
        )
    every = [e for day in old for e in decode(read(f"days/{day}"))[0]]
    front["recent"] = sorted(every, key=lambda e: (e["published_at"], e["release_id"]), reverse=True)
    s3.put_object(Bucket=catalogs, Key=catalog_key("front"), Body=encode_document(front, front_seq))
    return old


def _publish(world: World, headlines: list[str]) -> list[str]:
    ids = [world.submit_and_approve(headline=headline) for headline in headlines]
    assert world.functions.invoke("PublisherFunction", sqs_event(world.publish_queue())) == {
        "batchItemFailures": []
    }
    refresh_site(world.stack, world.functions)
    return ids


def _sitemaps(world: World) -> dict[str, list[str]]:
    """Each sitemap the index names, with the URLs it lists (each checked against the protocol)."""
    index = lxml.etree.fromstring(world.site("sitemap.xml") or b"")
    found: dict[str, list[str]] = {}
    for child in index.findall(f"{SM}sitemap"):
        url = str(child.findtext(f"{SM}loc"))
        key = url.rsplit("/", maxsplit=1)[-1]
        body = world.site(key)
        assert body is not None, key
        assert sitemap_problems(body, url) == [], key
        found[key] = [str(u.findtext(f"{SM}loc")) for u in lxml.etree.fromstring(body).findall(f"{SM}url")]
    return found


def test_a_site_of_the_old_shape_is_upgraded_by_the_next_refresh_losing_no_release(world: World) -> None:
    from functions import cold_start

    # Given a site of five releases published in the old shape (the deploy that upgrades it
    # starts the functions afresh)
    before = _publish(world, [f"Acme announcement number {n}" for n in range(1, 6)])
    [day] = _to_old_shape(world)
    assert b"OLD SHAPE" in (world.site(f"archive/{day}-3.html") or b"")
    cold_start.reset_all()

    # When the next release is published
    [after] = _publish(world, ["Acme announcement number 6"])

    # Then the day is pages, oldest first, at the addresses it had (and one more)
    def page(number: int) -> bytes:
        return world.site(f"archive/{day}{'' if number == 1 else f'-{number}'}.html") or b""

    for number in (1, 2, 3):
        assert b"OLD SHAPE" not in page(number)
    everything = [*before, after]
    for number, pair in enumerate([everything[0:2], everything[2:4], everything[4:6]], 1):
        body = page(number).decode()
        positions = [body.find(_page_url(release_id)) for release_id in pair]
        assert all(p > 0 for p in positions), number
        assert positions == sorted(positions), number
    assert b"(page 2)" in page(2)
    # and every release is reachable from the newsroom's index
    depth = crawl(world.functions.environment["SITE_URL"], world.site)
    reached = {key for key in depth if key.startswith("releases/")}
    assert {f"releases/{release_id}.html" for release_id in everything} <= reached
    # and listed once by the sitemaps: the day's old sitemap is its first page's now
    sitemaps = _sitemaps(world)
    listed = [url for urls in sitemaps.values() for url in urls if "/releases/" in url]
    assert sorted(listed) == sorted(_page_url(release_id) for release_id in everything)
    assert sitemaps[f"sitemap-{day}.xml"] == [_page_url(r) for r in everything[0:2]]
    assert {f"sitemap-{day}-2.xml", f"sitemap-{day}-3.xml"} <= set(sitemaps)
    # and the news sitemap lists the last 48 hours (from the day pages)
    news = world.site("news-sitemap.xml") or b""
    assert news_sitemap_problems(news, world.functions.environment["SITE_URL"] + "news-sitemap.xml") == []
    assert all(_page_url(release_id).encode() in news for release_id in everything)


def _calendar(world: World) -> dict[str, Any]:
    from functions.adapters.s3_catalog import S3Catalogs

    front, _ = S3Catalogs(world.s3, world.stack.ref("ReleasesBucket")).get_document("front")
    return dict(front["days"])


def test_a_publication_rewrites_only_the_last_page_of_its_day(world: World) -> None:
    from functions.cold_start import aws_client

    # Given a day of three pages
    _publish(world, [f"Acme announcement number {n}" for n in range(1, 6)])
    [day] = _calendar(world)
    written: list[str] = []

    def record(params: dict[str, Any], **_: Any) -> None:
        written.append(str(params["Key"]))

    client = aws_client("s3")
    client.meta.events.register("before-parameter-build.s3.PutObject", record)
    try:
        # When one more is published
        _publish(world, ["Acme announcement number 6"])
    finally:
        client.meta.events.unregister("before-parameter-build.s3.PutObject", record)

    # Then of the day's pages, sitemaps and catalogs only the third was written
    assert sorted(k for k in written if day in k) == sorted(
        [f"archive/{day}-3.html", f"sitemap-{day}-3.xml", f"catalogs/days/{day}/3.json"]
    )
    assert [p["count"] for p in _calendar(world)[day]["pages"]] == [2, 2, 2]
