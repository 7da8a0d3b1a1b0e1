"""Site-refresh requests: how a batch's changes travel to the site-refresh function and how it
merges several (functions/adapters/sqs_site_refresh.py, functions/domain/publish/shared.py)."""

from __future__ import annotations

import base64
import gzip
import json
import random
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from functions.adapters import sqs_site_refresh
from functions.adapters.sqs_site_refresh import MAX_BODY, SqsSiteRefresh, decode, encode
from functions.domain.publish.shared import EntryChange, SharedSite, coalesce, still_current
from functions.domain.site import Site
from tests.fakes import Clock, MemoryCatalogs, MemorySite
from tests.unit.publish.samples import SITE, entry

START = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)


class Sent:
    """An SQS client that keeps what it is asked to send."""

    def __init__(self) -> None:
        self.messages: list[dict[str, Any]] = []

    def send_message(self, **request: Any) -> dict[str, Any]:
        self.messages.append(request)
        return {"MessageId": str(len(self.messages))}


def _changes(count: int) -> list[EntryChange]:
    return [EntryChange.published(entry(n, published_at=START + timedelta(minutes=n))) for n in range(count)]


def test_a_request_carries_the_changes_compressed_and_reads_back_the_same() -> None:
    changes = [*_changes(3), EntryChange.removed(entry(7, published_at=START))]

    body = encode(changes)

    assert decode(body) == [*changes[:3], EntryChange.removed(entry(7, published_at=START).without_body())]
    assert len(body) < len(json.dumps([c.to_json() for c in changes]))  # gzip earns its keep


def test_one_batch_is_one_message_of_the_one_group_deduplicated_by_its_body() -> None:
    sqs = Sent()

    SqsSiteRefresh(sqs, "https://sqs.local/refresh.fifo").request(_changes(10))
    SqsSiteRefresh(sqs, "https://sqs.local/refresh.fifo").request([])

    [message] = sqs.messages
    assert message["MessageGroupId"] == "site"
    assert len(message["MessageDeduplicationId"]) == 64
    assert decode(message["MessageBody"]) == _changes(10)


def test_changes_too_large_for_one_message_are_split_in_order() -> None:
    sqs = Sent()
    noise = random.Random(17)
    # Bodies that do not compress: a few releases of the longest kind fill a message
    bodies = ["".join(chr(noise.randrange(0x4E00, 0x9FFF)) for _ in range(40_000)) for _ in range(6)]
    changes = [
        EntryChange.published(replace(entry(n, published_at=START), body_html=body))
        for n, body in enumerate(bodies)
    ]

    SqsSiteRefresh(sqs, "https://sqs.local/refresh.fifo").request(changes)

    assert len(sqs.messages) > 1
    assert all(len(m["MessageBody"].encode()) <= MAX_BODY for m in sqs.messages)
    assert [c for m in sqs.messages for c in decode(m["MessageBody"])] == changes


def test_a_change_too_large_alone_goes_without_its_body(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sqs_site_refresh, "MAX_BODY", 600)
    sqs = Sent()
    noise = random.Random(3)
    body = "".join(chr(noise.randrange(0x4E00, 0x9FFF)) for _ in range(2000))
    change = EntryChange.published(replace(entry(1, published_at=START), body_html=body))

    SqsSiteRefresh(sqs, "https://sqs.local/refresh.fifo").request([change])

    [message] = sqs.messages
    assert decode(message["MessageBody"]) == [EntryChange.published(change.entry.without_body())]


@pytest.mark.parametrize(
    "body", ["", "{}", '{"changes": "not base64!"}', json.dumps({"changes": "aGVsbG8="})]
)
def test_a_body_that_is_not_a_request_is_refused_clearly(body: str) -> None:
    with pytest.raises(ValueError, match="not a site-refresh request"):
        decode(body)


def test_an_entry_that_is_not_one_is_refused_clearly() -> None:
    data = base64.b64encode(gzip.compress(json.dumps([{"kind": "published", "entry": {}}]).encode())).decode()
    with pytest.raises(ValueError, match="not a site-refresh request"):
        decode(json.dumps({"changes": data}))


def test_requests_coalesce_in_order_and_a_repeated_change_counts_once() -> None:
    a, b, c = _changes(3)
    removed_a = EntryChange.removed(a.entry)

    merged = coalesce([[a, b], [a, b], [removed_a], [c, c]])

    assert merged == [a, b, removed_a, c]


def test_a_coalesced_batch_leaves_the_site_as_its_requests_one_by_one_would() -> None:
    def newsroom() -> tuple[SharedSite, MemorySite]:
        site = MemorySite()
        shared = SharedSite(catalogs=MemoryCatalogs(), writer=site, site=Site(url=SITE), clock=Clock(START))
        return shared, site

    a, b, c = _changes(3)
    requests = [[a, b], [EntryChange.removed(a.entry)], [c], [b]]
    one_by_one, by_one = newsroom()
    for request in requests:
        one_by_one.apply(request)
    together, coalesced = newsroom()

    together.apply(coalesce(requests))

    assert coalesced.objects.keys() == by_one.objects.keys()
    for key in ("index.html", "feeds/all.xml", "news-sitemap.xml"):
        assert coalesced.body(key) == by_one.body(key)


def test_a_killed_releases_publication_is_dropped_its_removal_kept() -> None:
    a, b = _changes(2)
    removed = EntryChange.removed(a.entry)

    kept = still_current([a, b, removed], {a.entry.release_id: "killed", b.entry.release_id: "published"})

    assert kept == [b, removed]
    assert still_current([a], {}) == [a]  # unknown: as asked
