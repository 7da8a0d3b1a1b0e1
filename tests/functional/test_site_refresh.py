"""Publication per batch against moto: the publisher asks once per batch, the site-refresh
function (the only writer of the shared objects) rewrites them once per batch of requests."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from aws_lambda_powertools.utilities.batch.exceptions import BatchProcessingError
from typer.testing import CliRunner

from cli.main import app
from infra.bootstrap import LocalStack
from infra.lambdas import LocalFunctions
from tests.functional.conftest import Faults, receive_all
from tests.functional.pipeline import refresh_site, site_refresher
from tests.functional.test_publisher import World, _page_url
from tests.helpers import ApiClient, sqs_event


@pytest.fixture
def world(
    stack: LocalStack, functions_env: LocalFunctions, api: ApiClient, monkeypatch: pytest.MonkeyPatch
) -> World:
    return World.with_functions_env(stack, functions_env, api, monkeypatch)


class Puts:
    """The site objects the functions write (``PutObject`` on their shared S3 client), by key."""

    def __init__(self) -> None:
        from functions.cold_start import aws_client

        self.client = aws_client("s3")
        self.keys: list[str] = []
        self.client.meta.events.register("before-parameter-build.s3.PutObject", self._count)

    def _count(self, params: dict[str, Any], **_: Any) -> None:
        self.keys.append(str(params["Key"]))

    def close(self) -> None:
        self.client.meta.events.unregister("before-parameter-build.s3.PutObject", self._count)

    def count(self, key: str) -> int:
        return self.keys.count(key)


@pytest.fixture
def puts(world: World) -> Any:
    counting = Puts()
    yield counting
    counting.close()


def refresh_requests(world: World) -> list[dict[str, Any]]:
    """What waits on the site-refresh queue (received: hidden for its visibility timeout)."""
    return receive_all(world.sqs, world.stack.ref("SiteRefreshQueue"))


def _approve(world: World, count: int, prefix: str = "Acme batch release") -> list[str]:
    return [world.submit_and_approve(headline=f"{prefix} {n:02d}") for n in range(count)]


def test_a_batch_of_ten_is_one_refresh_request_and_one_rewrite_of_each_shared_object(
    world: World, puts: Puts
) -> None:
    # Given ten approved releases on the publish queue
    ids = _approve(world, 10)
    bodies = world.publish_queue()
    assert len(bodies) == 10

    # When the publisher takes them in one batch
    result = world.functions.invoke("PublisherFunction", sqs_event(bodies))

    # Then each release has its own page and ninjs, is marked published, and nothing shared is
    # written yet: the batch left one request on the site-refresh queue
    assert result == {"batchItemFailures": []}
    for release_id in ids:
        assert world.api.get(f"/releases/{release_id}").json()["status"] == "published"
        assert puts.count(f"releases/{release_id}.html") == 1
        assert puts.count(f"releases/{release_id}.json") == 1
    assert not [k for k in puts.keys if k.startswith(("catalogs/", "feeds/")) or k == "index.html"]
    assert world.site("index.html") is None
    attributes = world.sqs.get_queue_attributes(
        QueueUrl=world.stack.ref("SiteRefreshQueue"), AttributeNames=["ApproximateNumberOfMessages"]
    )["Attributes"]
    assert attributes["ApproximateNumberOfMessages"] == "1"

    # When the site refresh runs
    assert refresh_site(world.stack, world.functions) == 1

    # Then the index, the feeds and the site catalog were each written once, with all ten
    assert puts.count("index.html") == 1
    assert puts.count("feeds/all.xml") == 1
    assert puts.count("catalogs/all.json") == 1
    expected = {_page_url(i) for i in ids}
    assert {e.link for e in world.feed("all").entries} == expected
    assert expected <= set(world.index_links())


def test_requests_waiting_together_are_coalesced_into_one_rewrite(world: World, puts: Puts) -> None:
    # Given three publisher batches whose requests wait on the site-refresh queue
    batches = [_approve(world, 2, prefix=f"Acme release of batch {b}") for b in range(3)]
    for _ in batches:
        bodies = world.publish_queue()
        assert world.functions.invoke("PublisherFunction", sqs_event(bodies)) == {"batchItemFailures": []}

    # When the site refresh takes them (one batch of the FIFO queue)
    poller = site_refresher(world.stack, world.functions)
    poller.run_once()

    # Then one rewrite put every release on the site: each shared object written once
    assert poller.batches == 1
    assert puts.count("index.html") == 1
    assert puts.count("feeds/all.atom") == 1
    expected = {_page_url(i) for batch in batches for i in batch}
    assert {e.link for e in world.feed("all", "atom").entries} == expected
    assert refresh_requests(world) == []


def test_a_refresh_request_that_cannot_be_sent_leaves_the_batch_unpublished(
    world: World, faults: Faults
) -> None:
    from functions.cold_start import aws_client

    # Given two approved releases, and the site-refresh queue refusing the next request
    ids = _approve(world, 2)
    faults.fail(aws_client("sqs"), "SendMessage", when=lambda params: "SiteRefresh" in params["QueueUrl"])

    # When the publisher takes them, Then the invocation fails (every record failed: the whole
    # batch comes back for another try) and neither is marked published
    event = sqs_event(world.publish_queue())
    with pytest.raises(BatchProcessingError, match="All records failed"):
        world.functions.invoke("PublisherFunction", event)
    assert {world.api.get(f"/releases/{i}").json()["status"] for i in ids} == {"approved"}

    # And the redelivery publishes them everywhere
    assert world.run_publisher([r["body"] for r in event["Records"]]) == {"batchItemFailures": []}
    assert {e.link for e in world.feed("all").entries} == {_page_url(i) for i in ids}
    assert {world.api.get(f"/releases/{i}").json()["status"] for i in ids} == {"published"}


def test_a_late_request_never_brings_back_a_killed_release(world: World) -> None:
    # Given a published release whose refresh request is kept (as a dead letter would be)
    killed, kept = _approve(world, 2)
    world.functions.invoke("PublisherFunction", sqs_event(world.publish_queue()))
    [request] = refresh_requests(world)
    world.sqs.change_message_visibility(
        QueueUrl=world.stack.ref("SiteRefreshQueue"),
        ReceiptHandle=request["ReceiptHandle"],
        VisibilityTimeout=0,
    )
    refresh_site(world.stack, world.functions)
    assert _page_url(killed) in {e.link for e in world.feed("all").entries}

    # And the release killed since
    world.run_publisher([json.dumps({"release_id": killed, "version": 1, "action": "kill"})])
    assert _page_url(killed) not in {e.link for e in world.feed("all").entries}

    # When the old request is applied again (redriven from the dead-letter queue)
    world.sqs.send_message(
        QueueUrl=world.stack.ref("SiteRefreshQueue"),
        MessageBody=request["Body"],
        MessageGroupId="site",
        MessageDeduplicationId="redriven",
    )
    refresh_site(world.stack, world.functions)

    # Then the killed release stays off the site; the other stays on it
    links = {e.link for e in world.feed("all").entries}
    assert _page_url(killed) not in links
    assert _page_url(kept) in links


def test_a_failed_refresh_is_dead_lettered_and_a_redrive_puts_the_release_on_the_site(
    world: World, faults: Faults, local_info: Path
) -> None:
    from functions.cold_start import aws_client

    # Given a publication whose site refresh fails every time (a catalog cannot be written)
    [release_id] = _approve(world, 1)
    world.functions.invoke("PublisherFunction", sqs_event(world.publish_queue()))
    faults.fail(
        aws_client("s3"), "PutObject", times=100, when=lambda params: params["Key"].startswith("catalogs/")
    )
    queue = world.stack.ref("SiteRefreshQueue")
    world.sqs.set_queue_attributes(QueueUrl=queue, Attributes={"VisibilityTimeout": "0"})  # retry at once

    # When SQS delivers it as many times as the queue's maxReceiveCount allows
    poller = site_refresher(world.stack, world.functions)
    for _ in range(6):
        poller.run_once()

    # Then the request waits in the dead-letter queue (its alarm's metric), nothing lost
    assert world.api.get(f"/releases/{release_id}").json()["status"] == "published"
    assert world.site("feeds/all.xml") is None
    assert receive_all(world.sqs, queue) == []

    # When the failure is gone and an operator redrives the dead letters
    faults.clear()
    world.sqs.set_queue_attributes(
        QueueUrl=world.stack.ref("SiteRefreshDeadLetterQueue"), Attributes={"VisibilityTimeout": "0"}
    )
    redriven = CliRunner().invoke(app, ["dlq", "redrive", "--queue", "site-refresh"])
    assert redriven.exit_code == 0, redriven.output
    assert "Moved 1 message(s)" in redriven.stdout
    refresh_site(world.stack, world.functions)

    # Then the release is on the index and in the feeds
    assert {e.link for e in world.feed("all").entries} == {_page_url(release_id)}
    assert _page_url(release_id) in world.index_links()


def test_a_body_that_is_not_a_request_fails_with_those_after_it(world: World) -> None:
    # Given a batch of the FIFO queue: a request, something else, a request
    first, second = _approve(world, 2)
    for body in world.publish_queue():
        world.functions.invoke("PublisherFunction", sqs_event([body]))
    bodies = [m["Body"] for m in refresh_requests(world)]
    assert len(bodies) == 2
    event = sqs_event(
        [bodies[0], "not a request", bodies[1]], queue_arn="arn:aws:sqs:us-east-1:1:refresh.fifo"
    )

    # When the site refresh takes them
    result = world.functions.invoke("SiteRefreshFunction", event)

    # Then the first is applied; the bad one and the one after it come back (FIFO order)
    records = event["Records"]
    assert {f["itemIdentifier"] for f in result["batchItemFailures"]} == {
        records[1]["messageId"],
        records[2]["messageId"],
    }
    links = {e.link for e in world.feed("all").entries}
    assert len(links & {_page_url(first), _page_url(second)}) == 1


def test_a_catalog_changed_between_read_and_write_fails_loudly(world: World) -> None:
    import boto3

    from functions.adapters.s3_catalog import CatalogRace, S3Catalogs, catalog_key, encode

    # Given a catalog, and a second writer changing it while it is rewritten
    s3 = boto3.client("s3")
    bucket = world.stack.ref("ReleasesBucket")
    catalogs = S3Catalogs(s3, bucket)
    s3.put_object(Bucket=bucket, Key=catalog_key("all"), Body=encode([], 1))

    def change(entries: list[Any]) -> list[Any]:
        s3.put_object(Bucket=bucket, Key=catalog_key("all"), Body=encode([], 2))  # the other writer
        return [*entries, *world_entry()]

    # When the rewrite writes, Then it fails with what happened, and the other write stands
    with pytest.raises(CatalogRace, match="catalog all changed"):
        catalogs.update("all", change)
    assert catalogs.get("all") == ([], 2)


def world_entry() -> list[Any]:
    from datetime import UTC, datetime

    from functions.domain.publish.model import CatalogEntry

    return [
        CatalogEntry(
            release_id="r1",
            headline="Headline",
            dateline=None,
            opening="Opening.",
            category="business",
            language="en",
            published_at=datetime(2026, 1, 2, tzinfo=UTC),
            url="https://site.local.invalid/releases/r1.html",
            org_name="Acme",
        )
    ]
