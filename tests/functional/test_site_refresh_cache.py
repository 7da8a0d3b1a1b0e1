"""A warm site-refresh function remembers the catalogs and what it wrote (moto): the next refresh
reads only the front document (conditionally) and writes only what changed, and a change made by
anyone else is seen, never overwritten."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from infra.bootstrap import LocalStack
from infra.lambdas import LocalFunctions
from tests.functional.pipeline import refresh_site
from tests.functional.test_publisher import World, _page_url
from tests.helpers import ApiClient, sqs_event


@pytest.fixture
def world(
    stack: LocalStack, functions_env: LocalFunctions, api: ApiClient, monkeypatch: pytest.MonkeyPatch
) -> World:
    return World.with_functions_env(stack, functions_env, api, monkeypatch)


class Calls:
    """The functions' S3 calls (their shared client), as (operation, key, conditional)."""

    def __init__(self) -> None:
        from functions.cold_start import aws_client

        self.client = aws_client("s3")
        self.seen: list[tuple[str, str, bool]] = []
        self.client.meta.events.register("before-parameter-build.s3", self._record)

    def _record(self, params: dict[str, Any], model: Any, **_: Any) -> None:
        conditional = any(k in params for k in ("IfNoneMatch", "IfMatch"))
        self.seen.append((model.name, str(params.get("Key")), conditional))

    def take(self) -> list[tuple[str, str, bool]]:
        taken, self.seen = self.seen, []
        return taken

    def close(self) -> None:
        self.client.meta.events.unregister("before-parameter-build.s3", self._record)


@pytest.fixture
def calls(world: World) -> Iterator[Calls]:
    recorder = Calls()
    yield recorder
    recorder.close()


def _publish(world: World, headline: str) -> str:
    [release_id] = [world.submit_and_approve(headline=headline)]
    result = world.functions.invoke("PublisherFunction", sqs_event(world.publish_queue()))
    assert result == {"batchItemFailures": []}
    return release_id


def test_a_warm_refresh_reads_only_the_front_document_and_writes_only_what_changed(
    world: World, calls: Calls
) -> None:
    # Given a site refreshed once by this (now warm) function
    first = _publish(world, "Acme opens its first plant")
    refresh_site(world.stack, world.functions)
    calls.take()

    # When the next release of the same organisation is published and the site refreshed
    second = _publish(world, "Acme opens its second plant")
    calls.take()  # the publisher's
    refresh_site(world.stack, world.functions)
    made = calls.take()

    # Then of the catalogs only the front document was read, conditionally on its ETag
    reads = [(key, conditional) for op, key, conditional in made if op == "GetObject"]
    assert reads == [("catalogs/front.json", True)]
    # and the objects whose bytes did not change were not written again: the directory of
    # organisations (the same organisation), while the index and feeds were
    written = Counter(key for op, key, _ in made if op == "PutObject")
    assert "organisations.html" not in written
    assert {"index.html", "feeds/all.xml", "catalogs/all.json", "catalogs/front.json"} <= set(written)
    assert all(n == 1 for n in written.values()), written
    # and the site is what a cold refresh would have made
    assert {_page_url(first), _page_url(second)} == {e.link for e in world.feed("all").entries}
    assert {_page_url(first), _page_url(second)} <= set(world.index_links())
    assert world.site("organisations.html") is not None


def test_a_change_by_another_writer_is_seen_by_the_warm_refresh(world: World, calls: Calls) -> None:
    import boto3

    from functions.adapters.s3_catalog import S3Catalogs
    from functions.adapters.s3_site import S3Site
    from functions.domain.publish.shared import EntryChange, SharedSite
    from functions.domain.site import Site
    from tests.functional.test_site_refresh import world_entry

    # Given a warm site refresh
    first = _publish(world, "Acme opens its first plant")
    refresh_site(world.stack, world.functions)

    # And another writer putting a release on the site meanwhile (its own catalogs and writer)
    s3 = boto3.client("s3")
    now = datetime.now(UTC)
    other = SharedSite(
        catalogs=S3Catalogs(s3, world.stack.ref("ReleasesBucket")),
        writer=S3Site(s3, world.stack.ref("SiteBucket")),
        site=Site(url=world.functions.environment["SITE_URL"]),
        clock=lambda: now,
    )
    [elsewhere] = world_entry()
    elsewhere = replace(elsewhere, published_at=now - timedelta(seconds=1))
    other.apply([EntryChange.published(elsewhere)])

    # When the next release is published and the warm function refreshes the site
    second = _publish(world, "Acme opens its second plant")
    calls.take()
    refresh_site(world.stack, world.functions)
    made = calls.take()

    # Then it read the catalogs again (the front document had changed) and lost nothing
    read = {key for op, key, _ in made if op == "GetObject"}
    assert {"catalogs/front.json", "catalogs/all.json"} <= read
    links = {e.link for e in world.feed("all").entries}
    assert {_page_url(first), _page_url(second), elsewhere.url} == links
    assert elsewhere.url in world.index_links()


def test_a_catalog_changed_behind_the_cache_fails_its_write_and_is_read_again(world: World) -> None:
    import boto3

    from functions.adapters.s3_catalog import CatalogCache, CatalogRace, S3Catalogs, catalog_key, encode
    from tests.functional.test_site_refresh import world_entry

    # Given catalogs remembered by a warm process (the front document and the site's catalog)
    s3 = boto3.client("s3")
    bucket = world.stack.ref("ReleasesBucket")
    cache = CatalogCache()
    catalogs = S3Catalogs(s3, bucket, cache=cache)
    catalogs.revalidate()
    catalogs.update_document("front", lambda document: {**document, "base": 0})
    [entry] = world_entry()
    catalogs.update("all", lambda entries: [entry])
    assert catalogs.revalidate() is True  # nothing changed: what it remembers stands

    # When someone else rewrites the site's catalog without the front document (no writer does)
    s3.put_object(Bucket=bucket, Key=catalog_key("all"), Body=encode([], 7), ContentEncoding="gzip")
    assert catalogs.revalidate() is True  # the front document cannot tell

    # Then the next change of it fails instead of overwriting it, and the cache is forgotten
    second = replace(entry, release_id="r2", url=entry.url.replace("r1", "r2"))
    with pytest.raises(CatalogRace):
        catalogs.update("all", lambda entries: [second, *entries])
    assert "all" not in cache
    # and the retry (the batch comes back) reads what S3 holds and builds on it
    assert catalogs.revalidate() is False
    entries, seq = catalogs.update("all", lambda entries: [second, *entries])
    assert (entries, seq) == ([second], 8)


def test_the_cache_keeps_to_its_bound_least_recently_used_out_front_kept(world: World) -> None:
    import boto3

    from functions.adapters.s3_catalog import CatalogCache, S3Catalogs
    from tests.functional.test_site_refresh import world_entry

    s3 = boto3.client("s3")
    bucket = world.stack.ref("ReleasesBucket")
    [entry] = world_entry()
    # (how many characters the front document and a catalog of one entry take)
    probe = CatalogCache()
    S3Catalogs(s3, bucket, cache=probe).update_document("front", lambda document: {**document, "base": 0})
    front = probe.chars
    S3Catalogs(s3, bucket, cache=probe).update("probe", lambda entries: [entry])
    one = probe.chars - front

    # Given a cache bound to the front document and about two such catalogs
    cache = CatalogCache(max_chars=front + 2 * one + one // 2)
    catalogs = S3Catalogs(s3, bucket, cache=cache)
    catalogs.update_document("front", lambda document: {**document, "base": 1})

    # When three are written, the first used again after each
    for name in ("business", "sports", "event"):
        catalogs.update(name, lambda entries: [entry])
        catalogs.get("business")

    # Then the least recently used went, the front document stays, and it keeps to its bound
    assert "front" in cache
    assert "business" in cache
    assert "event" in cache
    assert "sports" not in cache
    assert cache.chars <= front + 2 * one + one // 2
    # and what went is read again when asked for, the same
    assert catalogs.get("sports") == ([entry], 1)
