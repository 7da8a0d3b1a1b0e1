"""The publisher Lambda against moto: publish, duplicates, kills, schedules, concurrency."""

from __future__ import annotations

import json
import threading
from datetime import UTC, datetime, timedelta
from typing import Any

import feedparser
import lxml.html
import pytest

from functions.adapters.dynamodb_state import DynamoStateRepository
from functions.adapters.sqs_publish import SqsPublishQueue
from functions.domain.messages import PublishAction, PublishMessage
from functions.domain.moderation import Decision, DecisionAction, ModerationService
from infra.bootstrap import LocalStack
from infra.lambdas import LocalFunctions
from infra.local.sources import OneTimeScheduler
from tests.functional.conftest import receive_all
from tests.functional.pipeline import publish
from tests.helpers import ApiClient, in_days, personnel_release, sqs_event

SITE = "https://site.local.invalid/"


@pytest.fixture
def world(
    stack: LocalStack, functions_env: LocalFunctions, api: ApiClient, monkeypatch: pytest.MonkeyPatch
) -> World:
    return World.with_functions_env(stack, functions_env, api, monkeypatch)


class World:
    @classmethod
    def with_functions_env(
        cls, stack: LocalStack, functions: LocalFunctions, api: ApiClient, monkeypatch: pytest.MonkeyPatch
    ) -> World:
        """The world, with the functions' environment set as Lambda sets it."""
        for name, value in functions.environment.items():
            monkeypatch.setenv(name, value)
        return cls(stack, functions, api)

    def __init__(self, stack: LocalStack, functions: LocalFunctions, api: ApiClient) -> None:
        import boto3

        self.stack, self.functions, self.api = stack, functions, api
        self.s3, self.sqs, self.ddb = boto3.client("s3"), boto3.client("sqs"), boto3.client("dynamodb")
        self.states = DynamoStateRepository(self.ddb, stack.ref("ReleasesTable"))
        self.moderation = ModerationService(
            states=self.states,
            publish=SqsPublishQueue(self.sqs, stack.ref("PublishQueue")),
            clock=lambda: datetime.now(UTC),
        )

    def submit_and_approve(self, **overrides: Any) -> str:
        response = self.api.post("/releases", personnel_release(**overrides))
        assert response.status == 202, response.body
        release_id = str(response.json()["id"])
        result = self.moderation.decide(release_id, 1, Decision(DecisionAction.APPROVE, moderator="test"))
        assert result.outcome.value == "decided"
        return release_id

    def publish_queue(self) -> list[str]:
        return [m["Body"] for m in receive_all(self.sqs, self.stack.ref("PublishQueue"))]

    def run_publisher(self, bodies: list[str]) -> dict[str, Any]:
        result: dict[str, Any] = publish(self.stack, self.functions, sqs_event(bodies))
        return result

    def drain(self) -> dict[str, Any]:
        return self.run_publisher(self.publish_queue())

    def site(self, key: str) -> bytes | None:
        try:
            return bytes(self.s3.get_object(Bucket=self.stack.ref("SiteBucket"), Key=key)["Body"].read())
        except self.s3.exceptions.NoSuchKey:
            return None

    def site_object(self, key: str) -> dict[str, Any]:
        return dict(self.s3.head_object(Bucket=self.stack.ref("SiteBucket"), Key=key))

    def feed(self, name: str, kind: str = "xml") -> Any:
        body = self.site(f"feeds/{name}.{kind}")
        assert body is not None, f"feeds/{name}.{kind} missing"
        return feedparser.parse(body)

    def index_links(self) -> list[str]:
        body = self.site("index.html")
        assert body is not None
        return [str(a.get("href")) for a in lxml.html.fromstring(body).iter("a")]

    def publisher_at(self, monkeypatch: pytest.MonkeyPatch, now: datetime) -> None:
        """The publisher's clock reads ``now``."""
        from functions.handlers import publisher

        monkeypatch.setattr(publisher, "utc_now", lambda: now)

    def queue_depth(self, logical_id: str) -> tuple[int, int]:
        """(visible, delayed) messages of a queue."""
        attributes = self.sqs.get_queue_attributes(
            QueueUrl=self.stack.ref(logical_id),
            AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesDelayed"],
        )["Attributes"]
        return int(attributes["ApproximateNumberOfMessages"]), int(
            attributes["ApproximateNumberOfMessagesDelayed"]
        )

    def site_keys(self) -> set[str]:
        listed = self.s3.list_objects_v2(Bucket=self.stack.ref("SiteBucket")).get("Contents", [])
        return {str(item["Key"]) for item in listed}


class SentMessages:
    """Records what the functions' SQS client sends to one queue (observes, changes nothing)."""

    def __init__(self, queue_url: str) -> None:
        from functions.cold_start import aws_client

        self.calls: list[dict[str, Any]] = []
        self._url = queue_url
        self._client = aws_client("sqs")
        self._client.meta.events.register("provide-client-params.sqs.SendMessage", self._record)

    def _record(self, params: dict[str, Any], **_: Any) -> None:
        if params.get("QueueUrl") == self._url:
            self.calls.append(dict(params))

    def close(self) -> None:
        self._client.meta.events.unregister("provide-client-params.sqs.SendMessage", self._record)


@pytest.fixture
def sent(world: World) -> Any:
    recorder = SentMessages(world.stack.ref("PublishQueue"))
    yield recorder
    recorder.close()


def boto3_scheduler() -> Any:
    import boto3

    return boto3.client("scheduler")


def _page_url(release_id: str) -> str:
    return f"{SITE}releases/{release_id}.html"


# -- publish -------------------------------------------------------------------------------------


def test_an_approved_release_is_published_everywhere(world: World) -> None:
    release_id = world.submit_and_approve()

    result = world.drain()

    assert result == {"batchItemFailures": []}
    ninjs = json.loads(world.site(f"releases/{release_id}.json") or b"{}")
    assert ninjs["pubStatus"] == "usable"
    assert ninjs["headlines"][0]["value"] == "Acme names Jane Doe chief financial officer"
    assert world.site_object(f"releases/{release_id}.json")["ContentType"].startswith("application/json")
    page = lxml.html.fromstring(world.site(f"releases/{release_id}.html") or b"")
    assert page.findtext(".//h1") == "Acme names Jane Doe chief financial officer"
    assert world.site_object(f"releases/{release_id}.html")["ContentType"].startswith("text/html")
    assert _page_url(release_id) in world.index_links()
    for name in ("all", "personnel"):
        for kind, version in (("xml", "rss20"), ("atom", "atom10")):
            feed = world.feed(name, kind)
            assert feed.version == version
            assert [e.link for e in feed.entries] == [_page_url(release_id)]
    assert world.site_object("feeds/all.xml")["ContentType"].startswith("application/rss+xml")
    assert world.site_object("feeds/all.atom")["ContentType"].startswith("application/atom+xml")
    assert world.feed("business").entries == []  # every category's feed exists (the index links to it)
    view = world.api.get(f"/releases/{release_id}").json()
    assert view["status"] == "published"
    assert view["public_url"] == _page_url(release_id)
    assert view["published_at"]


def test_a_publication_reports_its_lag_as_a_metric(world: World, capsys: pytest.CaptureFixture[str]) -> None:
    # Given an approved release with no release_at (its lag counts from the approval)
    world.submit_and_approve()
    capsys.readouterr()

    # When the publisher publishes it
    world.drain()

    # Then the function's metrics (EMF lines on stdout, as CloudWatch reads them) carry the
    # publication and its lag in seconds, under the namespace the dashboard reads
    emitted = [json.loads(line) for line in capsys.readouterr().out.splitlines() if '"_aws"' in line]
    (lag,) = [m for m in emitted if "PublicationLag" in m]
    assert lag["ReleasePublished"] in (1.0, [1.0]), lag  # EMF allows a value or a list of values
    (seconds,) = lag["PublicationLag"] if isinstance(lag["PublicationLag"], list) else [lag["PublicationLag"]]
    assert 0 <= seconds < 60
    (directive,) = lag["_aws"]["CloudWatchMetrics"]
    assert directive["Namespace"] == "PressIntake"
    assert {"Name": "PublicationLag", "Unit": "Seconds"} in directive["Metrics"]


def test_a_duplicate_delivery_yields_one_page_and_one_feed_entry(world: World) -> None:
    release_id = world.submit_and_approve()
    bodies = world.publish_queue()
    assert len(bodies) == 1

    assert world.run_publisher(bodies + bodies) == {"batchItemFailures": []}  # same message twice
    assert world.run_publisher(bodies) == {"batchItemFailures": []}  # and once more, later

    guids = [e.id for e in world.feed("all").entries]
    assert guids.count(guids[0]) == 1
    assert len(guids) == 1
    index = lxml.html.fromstring(world.site("index.html") or b"")
    latest = [a.get("href") for a in index.xpath("//section[@id='latest']//a")]
    assert latest.count(_page_url(release_id)) == 1
    category = [a.get("href") for a in index.xpath("//section[@id='personnel']//a")]
    assert category.count(_page_url(release_id)) == 1
    assert world.api.get(f"/releases/{release_id}").json()["status"] == "published"


class SiteWrites:
    """Records the keys the functions' S3 client writes to the site bucket (observes only)."""

    def __init__(self, bucket: str) -> None:
        from functions.cold_start import aws_client

        self.keys: list[str] = []
        self._bucket = bucket
        self._client = aws_client("s3")
        self._client.meta.events.register("provide-client-params.s3.PutObject", self._record)

    def _record(self, params: dict[str, Any], **_: Any) -> None:
        if params.get("Bucket") == self._bucket:
            self.keys.append(str(params["Key"]))

    def close(self) -> None:
        self._client.meta.events.unregister("provide-client-params.s3.PutObject", self._record)


def _metric_total(emitted_stdout: str, name: str) -> float:
    """The sum of a metric over the EMF lines a function printed (a value or a list of them)."""
    total = 0.0
    for line in emitted_stdout.splitlines():
        if '"_aws"' not in line:
            continue
        value = json.loads(line).get(name)
        if value is not None:
            total += sum(value) if isinstance(value, list) else value
    return total


def test_a_duplicate_within_one_batch_is_handled_once(
    world: World, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given an approved release whose publish message is in one batch twice (an outbox re-send)
    release_id = world.submit_and_approve()
    other = world.submit_and_approve(headline="Acme names John Roe chief operating officer")
    bodies = world.publish_queue()
    mine = [body for body in bodies if release_id in body]
    writes = SiteWrites(world.stack.ref("SiteBucket"))
    capsys.readouterr()

    # When the publisher handles the batch
    try:
        result = world.run_publisher([*mine, *bodies])
    finally:
        writes.close()

    # Then both records succeed (the duplicate is no failure), the release's objects are
    # written once, and the metrics count two publications, not three
    assert result == {"batchItemFailures": []}
    assert writes.keys.count(f"releases/{release_id}.html") == 1
    assert writes.keys.count(f"releases/{release_id}.json") == 1
    assert _metric_total(capsys.readouterr().out, "ReleasePublished") == 2
    for published in (release_id, other):
        assert world.api.get(f"/releases/{published}").json()["status"] == "published"
    assert [e.link for e in world.feed("all").entries].count(_page_url(release_id)) == 1


def test_another_message_for_a_release_in_the_batch_comes_back_after_the_first(world: World) -> None:
    # Given a batch with a release's publish message and, later in it, a kill of that release
    release_id = world.submit_and_approve()
    [publish_body] = world.publish_queue()
    kill_body = PublishMessage(
        release_id=release_id, version=1, action=PublishAction.KILL, reason="inappropriate"
    ).model_dump_json()
    event = sqs_event([publish_body, kill_body])

    # When the publisher handles the batch
    result = publish(world.stack, world.functions, event)

    # Then the release is published and the kill's record comes back (it is not lost as "not
    # killable" against the state before the publication) ...
    assert result == {"batchItemFailures": [{"itemIdentifier": event["Records"][1]["messageId"]}]}
    assert world.api.get(f"/releases/{release_id}").json()["status"] == "published"

    # ... and, delivered again, takes the release down
    assert world.run_publisher([kill_body]) == {"batchItemFailures": []}
    assert world.api.get(f"/releases/{release_id}").json()["status"] == "killed"
    assert _page_url(release_id) not in world.index_links()


def test_feeds_are_newest_first_and_bounded(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FEED_SIZE", "3")
    from tests.functional.conftest import reset_function_caches

    reset_function_caches()
    ids = []
    for n in range(5):
        ids.append(world.submit_and_approve(headline=f"Acme release number {n:02d} for the feed"))
        world.drain()
    links = [e.link for e in world.feed("all").entries]
    assert links == [_page_url(i) for i in reversed(ids[-3:])]
    updated = [e.published_parsed for e in world.feed("all").entries]
    assert updated == sorted(updated, reverse=True)


# -- kill -----------------------------------------------------------------------------------------


def test_a_kill_takes_a_release_down(world: World) -> None:
    kept = world.submit_and_approve(headline="Acme release that stays published")
    killed = world.submit_and_approve(headline="Acme release that is killed later")
    world.drain()
    SqsPublishQueue(world.sqs, world.stack.ref("PublishQueue")).send(
        PublishMessage(release_id=killed, version=1, action=PublishAction.KILL, reason="inappropriate")
    )

    assert world.drain() == {"batchItemFailures": []}

    ninjs = json.loads(world.site(f"releases/{killed}.json") or b"{}")
    assert ninjs["pubStatus"] == "canceled"
    page = (world.site(f"releases/{killed}.html") or b"").decode()
    assert "withdrawn" in page.lower()
    assert "Acme release that is killed later" not in [e.title for e in world.feed("all").entries]
    assert _page_url(killed) not in world.index_links()
    assert _page_url(kept) in world.index_links()
    assert [e.link for e in world.feed("personnel", "atom").entries] == [_page_url(kept)]
    view = world.api.get(f"/releases/{killed}").json()
    assert view["status"] == "killed"
    assert view["decision"]["action"] == "kill"
    assert view["decision"]["reason_codes"] == ["inappropriate"]
    # A second kill is harmless
    SqsPublishQueue(world.sqs, world.stack.ref("PublishQueue")).send(
        PublishMessage(release_id=killed, version=1, action=PublishAction.KILL)
    )
    assert world.drain() == {"batchItemFailures": []}


# -- scheduled releases ------------------------------------------------------------------------------


def test_a_future_release_is_scheduled_and_nothing_is_public_before_its_time(world: World) -> None:
    # Given a published release, and an approved one due in two days
    visible = world.submit_and_approve(headline="Acme release published today")
    later_at = in_days(2)
    later = world.submit_and_approve(headline="Acme release embargoed for later", release_at=later_at)

    assert world.drain() == {"batchItemFailures": []}

    # Then only the first is public
    assert world.api.get(f"/releases/{later}").json()["status"] == "scheduled"
    assert world.site(f"releases/{later}.html") is None
    assert world.site(f"releases/{later}.json") is None
    assert _page_url(later) not in world.index_links()
    for kind in ("xml", "atom"):
        assert [e.link for e in world.feed("all", kind).entries] == [_page_url(visible)]
    # And a one-time schedule will put it back on the publish queue at its time
    import boto3

    client = boto3.client("scheduler")
    group = world.stack.ref("ReleaseSchedules")
    schedule = client.get_schedule(GroupName=group, Name=f"release-{later}-v1")
    assert schedule["ScheduleExpression"].startswith("at(")
    assert schedule["ActionAfterCompletion"] == "DELETE"
    assert schedule["Target"]["Arn"] == world.stack.attribute("PublishQueue", "Arn")
    assert json.loads(schedule["Target"]["Input"]) == {"release_id": later, "version": 1, "action": "publish"}
    due = datetime.fromisoformat(later_at)

    # When the time comes (the local stack's scheduler fires what moto only stores)
    fired = OneTimeScheduler(client, world.sqs, clock=lambda: due + timedelta(seconds=1)).fire_due()
    assert fired == 1
    bodies = world.publish_queue()
    assert world.run_publisher(bodies) == {"batchItemFailures": []}
    # Then the publisher checks the clock itself: our clock is still today, so it keeps waiting
    assert world.api.get(f"/releases/{later}").json()["status"] == "scheduled"
    assert world.site(f"releases/{later}.html") is None


def test_a_due_scheduled_release_is_published(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    release_at = datetime.now(UTC) + timedelta(days=1)
    release_id = world.submit_and_approve(release_at=release_at.isoformat())
    world.drain()
    assert world.api.get(f"/releases/{release_id}").json()["status"] == "scheduled"

    # When the schedule delivers the message after the release time
    from functions.handlers import publisher

    monkeypatch.setattr(publisher, "utc_now", lambda: release_at + timedelta(seconds=5))
    body = json.dumps({"release_id": release_id, "version": 1, "action": "publish"})
    assert world.run_publisher([body]) == {"batchItemFailures": []}

    assert world.api.get(f"/releases/{release_id}").json()["status"] == "published"
    assert world.site(f"releases/{release_id}.html") is not None
    assert _page_url(release_id) in world.index_links()


def _release_at(world: World, seconds: float, monkeypatch: pytest.MonkeyPatch) -> tuple[str, datetime]:
    """An approved release due ``seconds`` after now, and that now (the publisher's clock)."""
    now = datetime.now(UTC).replace(microsecond=0)
    release_at = now + timedelta(seconds=seconds)
    release_id = world.submit_and_approve(release_at=release_at.isoformat())
    world.publisher_at(monkeypatch, now)
    return release_id, release_at


def test_a_release_due_now_is_published_at_once(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    release_id, release_at = _release_at(world, 0, monkeypatch)

    assert world.drain() == {"batchItemFailures": []}

    view = world.api.get(f"/releases/{release_id}").json()
    assert view["status"] == "published"
    assert datetime.fromisoformat(view["published_at"]) >= release_at
    assert world.site(f"releases/{release_id}.html") is not None


def test_a_release_due_in_ten_seconds_waits_on_the_publish_queue(
    world: World, monkeypatch: pytest.MonkeyPatch, sent: SentMessages
) -> None:
    # Given an approved release due in 10 s (today published at once: "due within 30 s")
    release_id, release_at = _release_at(world, 10, monkeypatch)

    # When the publisher gets it now
    assert world.drain() == {"batchItemFailures": []}

    # Then nothing is public, it is scheduled, and its message is back on the publish queue,
    # delayed by exactly the remainder
    assert world.api.get(f"/releases/{release_id}").json()["status"] == "scheduled"
    assert world.site_keys() == set()
    assert world.queue_depth("PublishQueue") == (0, 1)
    [call] = sent.calls
    assert call["QueueUrl"] == world.stack.ref("PublishQueue")
    assert call["DelaySeconds"] == 10
    assert json.loads(call["MessageBody"]) == {"release_id": release_id, "version": 1, "action": "publish"}
    assert boto3_scheduler().list_schedules(GroupName=world.stack.ref("ReleaseSchedules"))["Schedules"] == []

    # And when that message arrives at release_at, the release is published
    world.publisher_at(monkeypatch, release_at)
    assert world.run_publisher([call["MessageBody"]]) == {"batchItemFailures": []}
    view = world.api.get(f"/releases/{release_id}").json()
    assert view["status"] == "published"
    assert datetime.fromisoformat(view["published_at"]) == release_at


def test_a_release_due_in_twenty_minutes_gets_a_schedule(
    world: World, monkeypatch: pytest.MonkeyPatch, sent: SentMessages
) -> None:
    release_id, release_at = _release_at(world, 20 * 60, monkeypatch)

    assert world.drain() == {"batchItemFailures": []}

    assert world.api.get(f"/releases/{release_id}").json()["status"] == "scheduled"
    schedule = boto3_scheduler().get_schedule(
        GroupName=world.stack.ref("ReleaseSchedules"), Name=f"release-{release_id}-v1"
    )
    assert schedule["ScheduleExpression"] == f"at({release_at.strftime('%Y-%m-%dT%H:%M:%S')})"
    assert sent.calls == []  # too far for a delayed message
    assert world.site_keys() == set()


def test_a_schedule_firing_forty_seconds_early_re_arms_for_the_remainder(
    world: World, monkeypatch: pytest.MonkeyPatch, sent: SentMessages
) -> None:
    # Given a release scheduled 20 minutes ahead
    release_id, release_at = _release_at(world, 20 * 60, monkeypatch)
    world.drain()

    # When EventBridge fires its schedule 40 s before the second it names
    client = boto3_scheduler()
    assert OneTimeScheduler(client, world.sqs, clock=lambda: release_at).fire_due() == 1
    world.publisher_at(monkeypatch, release_at - timedelta(seconds=40))
    assert world.drain() == {"batchItemFailures": []}

    # Then nothing is public and the message waits 40 s more on the publish queue
    assert world.api.get(f"/releases/{release_id}").json()["status"] == "scheduled"
    assert world.site_keys() == set()
    assert [call["DelaySeconds"] for call in sent.calls] == [40]
    assert world.queue_depth("PublishQueue") == (0, 1)

    # And 40 s later it is published
    world.publisher_at(monkeypatch, release_at)
    assert world.run_publisher([sent.calls[0]["MessageBody"]]) == {"batchItemFailures": []}
    assert world.api.get(f"/releases/{release_id}").json()["status"] == "published"


def test_a_duplicate_delivery_after_publication_changes_nothing(
    world: World, monkeypatch: pytest.MonkeyPatch, sent: SentMessages
) -> None:
    release_id, release_at = _release_at(world, 5, monkeypatch)
    world.drain()
    body = sent.calls[0]["MessageBody"]
    world.publisher_at(monkeypatch, release_at)
    assert world.run_publisher([body]) == {"batchItemFailures": []}
    before = {key: world.site_object(key)["ETag"] for key in world.site_keys()}
    published_at = world.api.get(f"/releases/{release_id}").json()["published_at"]

    # When the same message is delivered again, later
    world.publisher_at(monkeypatch, release_at + timedelta(minutes=5))
    assert world.run_publisher([body, body]) == {"batchItemFailures": []}

    # Then no object of the site changed and nothing was re-sent
    assert {key: world.site_object(key)["ETag"] for key in world.site_keys()} == before
    assert len(sent.calls) == 1
    assert world.api.get(f"/releases/{release_id}").json()["published_at"] == published_at


def test_withdrawing_a_scheduled_release_deletes_its_schedule(world: World) -> None:
    import boto3

    release_id = world.submit_and_approve(release_at=in_days(3))
    world.drain()
    client = boto3.client("scheduler")
    group = world.stack.ref("ReleaseSchedules")
    assert [s["Name"] for s in client.list_schedules(GroupName=group)["Schedules"]] == [
        f"release-{release_id}-v1"
    ]

    assert world.api.delete(f"/releases/{release_id}").json()["status"] == "withdrawn"

    assert client.list_schedules(GroupName=group)["Schedules"] == []
    # and should a delivery still arrive, nothing is published
    body = json.dumps({"release_id": release_id, "version": 1, "action": "publish"})
    assert world.run_publisher([body]) == {"batchItemFailures": []}
    assert world.site(f"releases/{release_id}.html") is None


# -- robustness -----------------------------------------------------------------------------------------


def test_concurrent_publications_never_lose_an_entry(world: World) -> None:
    ids = [world.submit_and_approve(headline=f"Acme concurrent release {n:02d}") for n in range(8)]
    bodies = world.publish_queue()
    assert len(bodies) == 8
    barrier = threading.Barrier(len(bodies))
    failures: list[Any] = []

    def publish(body: str) -> None:
        barrier.wait()
        failures.extend(world.run_publisher([body])["batchItemFailures"])

    threads = [threading.Thread(target=publish, args=(b,)) for b in bodies]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)

    assert failures == []
    expected = {_page_url(i) for i in ids}
    for name in ("all", "personnel"):
        for kind in ("xml", "atom"):
            assert {e.link for e in world.feed(name, kind).entries} == expected
    assert expected <= set(world.index_links())


def test_a_bad_record_fails_alone(world: World) -> None:
    release_id = world.submit_and_approve()
    good = world.publish_queue()[0]
    unknown = json.dumps(
        {"release_id": "00000000-0000-4000-8000-000000000000", "version": 1, "action": "publish"}
    )
    event = sqs_event(
        [unknown, good, "not json", json.dumps({"release_id": release_id, "version": 1, "action": "x"})]
    )

    result = world.functions.invoke("PublisherFunction", event)

    failed = {f["itemIdentifier"] for f in result["batchItemFailures"]}
    records = event["Records"]
    assert failed == {records[0]["messageId"], records[2]["messageId"], records[3]["messageId"]}
    assert world.api.get(f"/releases/{release_id}").json()["status"] == "published"


def test_a_message_for_an_older_version_is_skipped(world: World) -> None:
    release_id = world.submit_and_approve()
    world.publish_queue()
    body = json.dumps({"release_id": release_id, "version": 0, "action": "publish"})
    assert world.run_publisher([body]) == {"batchItemFailures": []}
    assert world.site(f"releases/{release_id}.html") is None


def test_the_template_wires_the_publisher_to_the_publish_queue(stack: LocalStack) -> None:
    function = stack.template["Resources"]["PublisherFunction"]["Properties"]
    event = function["Events"]["Publish"]["Properties"]
    assert event["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert event["BatchSize"] >= 1
    assert event["ScalingConfig"]["MaximumConcurrency"] >= 2
    assert stack.outputs()["SiteUrl"].startswith("https://")


def test_nothing_of_the_publisher_loads_on_the_api_path() -> None:
    import subprocess
    import sys

    publisher_only = ("jinja2", "feedgenerator", "functions.domain.publish")
    code = (
        "import sys, functions.handlers.api; "
        f"bad = [m for m in sys.modules if m.startswith({publisher_only!r})]; "
        "print(bad); sys.exit(1 if bad else 0)"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)  # noqa: S603
    assert result.returncode == 0, result.stdout + result.stderr


# -- one release never blocks the others -----------------------------------------------------------------


def test_a_release_that_cannot_be_rendered_is_dead_lettered_with_its_reason_and_blocks_nobody(
    world: World, local_info: Any
) -> None:
    # Given an organisation whose name (from its key record) holds a vertical tab, which no feed
    # can carry, and a release of it approved in the same batch as another organisation's
    odd = world.api.as_org("org-odd", "Odd\x0bOrganisation")
    response = odd.post("/releases", personnel_release(headline="Odd organisation names a director"))
    assert response.status == 202, response.body
    bad = str(response.json()["id"])
    world.moderation.decide(bad, 1, Decision(DecisionAction.APPROVE, moderator="test"))
    good = world.submit_and_approve()

    # When the publisher handles the batch
    result = world.drain()

    # Then the bad release is not retried: it went to the dead-letter queue at once, with why
    assert result == {"batchItemFailures": []}
    [dead] = receive_all(world.sqs, world.stack.ref("PublishDeadLetterQueue"))
    assert dead["json"] == {"release_id": bad, "version": 1, "action": "publish"}
    attributes = {name: value["StringValue"] for name, value in dead["MessageAttributes"].items()}
    assert attributes["failure"] == "render_failed"
    assert "U+000B" in attributes["failure_detail"]
    assert attributes["release_id"] == bad
    world.sqs.change_message_visibility(
        QueueUrl=world.stack.ref("PublishDeadLetterQueue"),
        ReceiptHandle=dead["ReceiptHandle"],
        VisibilityTimeout=0,
    )
    # And it is nowhere on the site, while the other release is everywhere
    assert odd.get(f"/releases/{bad}").json()["status"] == "approved"
    assert world.site(f"releases/{bad}.html") is None
    for name in ("all", "personnel"):
        for kind in ("xml", "atom"):
            assert [e.link for e in world.feed(name, kind).entries] == [_page_url(good)]
    # And later publications proceed
    later = world.submit_and_approve(headline="Acme release published after the bad one")
    assert world.drain() == {"batchItemFailures": []}
    assert [e.link for e in world.feed("all").entries] == [_page_url(later), _page_url(good)]

    # And the operator sees the reason
    from typer.testing import CliRunner

    from cli.main import app

    listed = CliRunner().invoke(app, ["dlq", "list", "--queue", "publish", "--json"])
    assert listed.exit_code == 0, listed.output
    [row] = json.loads(listed.stdout)
    assert (row["reason"], json.loads(row["body"])["release_id"]) == ("render_failed", bad)
    assert "U+000B" in row["detail"]


def test_a_transient_failure_is_retried_not_dead_lettered(world: World, faults: Any) -> None:
    from functions.cold_start import aws_client

    unlucky = world.submit_and_approve(headline="Acme release whose document read fails once")
    other = world.submit_and_approve()
    faults.fail(aws_client("s3"), "GetObject", when=lambda params: unlucky in params["Key"])

    result = world.drain()

    # The failed record goes back to the queue for another try (SQS counts it towards the
    # dead-letter queue's maxReceiveCount), the other is published
    assert len(result["batchItemFailures"]) == 1
    assert receive_all(world.sqs, world.stack.ref("PublishDeadLetterQueue")) == []
    assert world.api.get(f"/releases/{unlucky}").json()["status"] == "approved"
    assert world.api.get(f"/releases/{other}").json()["status"] == "published"


def test_an_unrenderable_catalog_entry_is_skipped_and_the_site_still_updates(world: World) -> None:
    # Given catalogs that hold an entry no feed can carry (written before intake refused it)
    from functions.adapters.s3_catalog import catalog_key, decode, encode

    stale = {
        "release_id": "00000000-0000-4000-8000-00000000dead",
        "headline": "A headline with a vertical\x0btab",
        "dateline": None,
        "opening": "Stale.",
        "category": "personnel",
        "language": "en",
        "published_at": (datetime.now(UTC) - timedelta(days=1)).isoformat(),
        "url": _page_url("00000000-0000-4000-8000-00000000dead"),
        "org_name": "Acme Corporation",
    }
    bucket = world.stack.ref("ReleasesBucket")

    def stored(name: str) -> list[dict[str, Any]]:
        body = world.s3.get_object(Bucket=bucket, Key=catalog_key(name))["Body"].read()
        return decode(body)[0]

    for name in ("all", "personnel"):
        world.s3.put_object(
            Bucket=bucket, Key=catalog_key(name), Body=encode([stale], 1), ContentEncoding="gzip"
        )

    # When a release is published
    release_id = world.submit_and_approve()
    assert world.drain() == {"batchItemFailures": []}

    # Then the feeds and the index are rewritten with it, and without the stale entry
    for name in ("all", "personnel"):
        for kind in ("xml", "atom"):
            feed = world.feed(name, kind)
            assert not feed.bozo
            assert [e.link for e in feed.entries] == [_page_url(release_id)]
    assert _page_url(release_id) in world.index_links()
    assert stale["url"] not in world.index_links()
    assert [e["release_id"] for e in stored("all")] == [release_id]


EVIL = {
    "headline": (
        '<img src=x onerror=alert(1)> Acme <script>alert(2)</script> <a href="javascript:alert(3)">news</a>'
    ),
    "summary": (
        '<img src=x onerror=alert(4)> A summary <a href="javascript:alert(5)">x</a> <script>alert(6)</script>'
    ),
    "dateline": "<img src=x onerror=alert(7)> LONDON",
    "body_format": "html",
    "body": (
        "<p>Acme today <img src=x onerror=alert(8)> named a chief."
        '<script>alert(9)</script> <a href="javascript:alert(10)">More</a> '
        '<a href="https://acme.example/" onclick="alert(11)">Newsroom</a></p>'
    ),
}
SUBMITTER_ORG = "<img src=x onerror=alert(12)> Acme <script>alert(13)</script>"


def _typed_elements(html: str) -> list[str]:
    """Elements and attributes in ``html`` that only a submitter's markup could have put there."""
    found = []
    for element in lxml.html.fragment_fromstring(html, create_parent="div").iter():
        if element.tag in ("img", "script", "iframe", "svg", "object"):
            found.append(element.tag)
        for name, value in element.attrib.items():
            if name.startswith("on") or "javascript:" in value.replace(" ", "").lower():
                found.append(f"{element.tag}@{name}")
    return found


def test_feeds_carry_text_never_submitter_markup(world: World) -> None:
    import html

    import lxml.etree

    # Given a release whose every text field, and its organisation's name, hold live markup
    org = world.api.as_org("org-evil", SUBMITTER_ORG)
    response = org.post("/releases", personnel_release(**EVIL))
    assert response.status == 202, response.body
    release_id = str(response.json()["id"])
    world.moderation.decide(release_id, 1, Decision(DecisionAction.APPROVE, moderator="test"))

    # When it is published
    assert world.drain() == {"batchItemFailures": []}

    for name in ("all", "personnel"):
        for kind in ("xml", "atom"):
            raw = world.site(f"feeds/{name}.{kind}")
            assert raw is not None
            # Then, read as a reader that trusts the feed reads it (no sanitising of its own)
            parsed = feedparser.parse(raw, sanitize_html=False)
            assert not parsed.bozo
            [item] = parsed.entries
            fields = {
                "title": item.title_detail,
                "summary": item.summary_detail,
                "content": item.content[0],
            }
            for field, detail in fields.items():
                # an HTML field (RSS description and content:encoded, Atom summary and content
                # type="html") is rendered as HTML; a text field as text, as its format defines
                # (Atom titles are type="text"; an RSS title is plain text in RSS 2.0)
                as_html = detail.value if field != "title" else html.escape(detail.value)
                assert _typed_elements(as_html) == [], (name, kind, field, detail.value)
            # the summary is the submitter's text, shown as typed
            shown = lxml.html.fragment_fromstring(item.summary, create_parent="div").text_content()
            assert shown.startswith("<img src=x onerror=alert(4)> A summary")
            assert _typed_elements(html.escape(item.author)) == []
            assert item.author == SUBMITTER_ORG
            # And in the XML itself, no field holds an element: every one is text
            root = lxml.etree.fromstring(raw)
            entry_tag = "item" if kind == "xml" else "{http://www.w3.org/2005/Atom}entry"
            [element] = root.iter(entry_tag)
            for child in element.iter():
                assert child.tag.split("}")[-1] not in ("img", "script", "a"), child.tag
            assert {child.tag.split("}")[-1] for child in element} >= {"title", "link"}
    # And the index and the page show the same text as text
    assert _typed_elements((world.site("index.html") or b"").decode()) == []
    assert _typed_elements((world.site(f"releases/{release_id}.html") or b"").decode()) == []


def test_a_full_catalog_of_the_longest_bodies_still_publishes(world: World) -> None:
    # Given a site catalog of 49 entries with 50,000-character bodies of two-byte characters
    # (about 5 MB of JSON: a DynamoDB item holds at most 400 KB)
    from functions.adapters.s3_catalog import S3Catalogs
    from functions.domain.publish.model import CatalogEntry

    long_body = "<p>" + "é" * 49_993 + "</p>"
    seeded = [
        {
            "release_id": f"00000000-0000-4000-8000-{n:012d}",
            "headline": f"Seeded release number {n}",
            "dateline": None,
            "opening": "Seeded.",
            "category": "personnel",
            "language": "en",
            "published_at": (datetime.now(UTC) - timedelta(hours=n)).isoformat(),
            "url": _page_url(f"00000000-0000-4000-8000-{n:012d}"),
            "org_name": "Acme Corporation",
            "body": long_body,
        }
        for n in range(1, 50)
    ]
    catalogs = S3Catalogs(world.s3, world.stack.ref("ReleasesBucket"))
    catalogs.update("all", lambda _: [CatalogEntry.from_json(entry) for entry in seeded])
    assert len(json.dumps(seeded).encode()) > 400 * 1024

    # When a release with a body of the same size is published
    release_id = world.submit_and_approve(body="Acme " * 9_998)
    assert world.drain() == {"batchItemFailures": []}

    # Then the site feed has all 50, each with its full content
    feed = feedparser.parse(world.site("feeds/all.xml"), sanitize_html=False)
    assert len(feed.entries) == 50
    assert feed.entries[0].link == _page_url(release_id)
    assert feed.entries[0].content[0].value == "<p>" + ("Acme " * 9_998).strip() + "</p>"
    assert feed.entries[1].content[0].value == long_body
    entries, _ = catalogs.get("all")
    assert len(entries) == 50


def test_catalogs_are_private_gzip_json_changed_by_conditional_writes(world: World) -> None:
    import gzip

    release_id = world.submit_and_approve()
    world.drain()

    bucket = world.stack.ref("ReleasesBucket")
    stored = world.s3.get_object(Bucket=bucket, Key="catalogs/all.json")
    assert stored["ContentEncoding"] == "gzip"
    document = json.loads(gzip.decompress(stored["Body"].read()))
    assert document["seq"] == 1
    assert [e["release_id"] for e in document["entries"]] == [release_id]
    assert document["entries"][0]["body"].startswith("<p>Acme Corporation today announced")
    # In the private releases bucket, not on the site
    assert world.site("catalogs/all.json") is None
    block = world.s3.get_public_access_block(Bucket=bucket)["PublicAccessBlockConfiguration"]
    assert all(block.values())

    # A write against a stale ETag is refused, so a concurrent change is never lost
    from botocore.exceptions import ClientError

    with pytest.raises(ClientError, match="PreconditionFailed"):
        world.s3.put_object(Bucket=bucket, Key="catalogs/all.json", Body=b"x", IfMatch='"stale"')
    with pytest.raises(ClientError, match="PreconditionFailed"):
        world.s3.put_object(Bucket=bucket, Key="catalogs/all.json", Body=b"x", IfNoneMatch="*")


def test_catalogs_kept_in_the_table_before_are_carried_over(world: World) -> None:
    # Given a stack upgraded from catalogs kept as table items: seq 41, an index rendered from it
    from functions.adapters.s3_site import SEQ_METADATA

    old = {
        "release_id": "00000000-0000-4000-8000-0000000000aa",
        "headline": "A release published before the upgrade",
        "dateline": None,
        "opening": "Old.",
        "category": "personnel",
        "language": "en",
        "published_at": (datetime.now(UTC) - timedelta(days=3)).isoformat(),
        "url": _page_url("00000000-0000-4000-8000-0000000000aa"),
        "org_name": "Acme Corporation",
    }
    for name in ("all", "personnel"):
        world.ddb.put_item(
            TableName=world.stack.ref("ReleasesTable"),
            Item={"pk": {"S": f"catalog#{name}"}, "entries": {"S": json.dumps([old])}, "seq": {"N": "41"}},
        )
    for key in ("index.html", "feeds/all.xml", "feeds/all.atom"):
        world.s3.put_object(
            Bucket=world.stack.ref("SiteBucket"), Key=key, Body=b"old", Metadata={SEQ_METADATA: "41"}
        )

    # When a release is published
    release_id = world.submit_and_approve()
    assert world.drain() == {"batchItemFailures": []}

    # Then the index and feeds are replaced, and keep the old entry after the new one
    assert [e.link for e in world.feed("all").entries] == [_page_url(release_id), old["url"]]
    assert [e.link for e in world.feed("all", "atom").entries] == [_page_url(release_id), old["url"]]
    assert {_page_url(release_id), old["url"]} <= set(world.index_links())
    assert world.site_object("index.html")["Metadata"][SEQ_METADATA] == "42"


def _granted(function: dict[str, Any]) -> tuple[list[dict[str, Any]], dict[str, list[Any]]]:
    """A function's policy statements, and each action with the resources it is granted on."""
    statements = [s for policy in function["Policies"] for s in policy["Statement"]]
    granted: dict[str, list[Any]] = {}
    for statement in statements:
        assert statement["Effect"] == "Allow"
        resources = (
            statement["Resource"] if isinstance(statement["Resource"], list) else [statement["Resource"]]
        )
        for action in statement["Action"]:
            assert "*" not in action
            granted.setdefault(action, []).extend(resources)
    return statements, granted


def test_the_publisher_may_write_only_what_it_writes(stack: LocalStack) -> None:
    # Least privilege: every statement's actions and resources, as the template grants them
    function = stack.template["Resources"]["PublisherFunction"]["Properties"]
    statements, granted = _granted(function)
    # It sends to its own queue (a delayed re-arm), its dead-letter queue and the site-refresh
    # queue (one request per batch), nothing else
    assert granted["sqs:SendMessage"] == [
        {"Fn::GetAtt": ["PublishQueue", "Arn"]},
        {"Fn::GetAtt": ["PublishDeadLetterQueue", "Arn"]},
        {"Fn::GetAtt": ["SiteRefreshQueue", "Arn"]},
    ]
    # In the releases bucket it writes nothing (the catalogs are the site refresh's); it reads versions
    assert not [r for r in granted["s3:PutObject"] if "ReleasesBucket" in json.dumps(r)]
    assert granted["s3:GetObject"][0] == {"Fn::Sub": "${ReleasesBucket.Arn}/orgs/*"}
    # In the table it reads and updates release state items only, never puts or deletes them
    assert "dynamodb:PutItem" not in granted
    assert "dynamodb:DeleteItem" not in granted
    [table] = [s for s in statements if "dynamodb:UpdateItem" in s["Action"]]
    assert table["Condition"] == {"ForAllValues:StringLike": {"dynamodb:LeadingKeys": ["release#*"]}}
    assert function["Environment"]["Variables"]["PUBLISH_QUEUE_URL"] == {"Ref": "PublishQueue"}
    assert function["Environment"]["Variables"]["PUBLISH_DEAD_LETTER_QUEUE_URL"] == {
        "Ref": "PublishDeadLetterQueue"
    }
    assert function["Environment"]["Variables"]["SITE_REFRESH_QUEUE_URL"] == {"Ref": "SiteRefreshQueue"}


def test_the_site_refresh_may_write_only_the_shared_objects(stack: LocalStack) -> None:
    function = stack.template["Resources"]["SiteRefreshFunction"]["Properties"]
    statements, granted = _granted(function)
    # It writes the catalogs in the releases bucket and the site; it sends nothing, changes no item
    releases = [r for r in granted["s3:PutObject"] if "ReleasesBucket" in json.dumps(r)]
    assert releases == [{"Fn::Sub": "${ReleasesBucket.Arn}/catalogs/*"}]
    assert not [action for action in granted if action.startswith("sqs:")]
    assert not [
        a
        for a in granted
        if a.startswith("dynamodb:") and a not in ("dynamodb:GetItem", "dynamodb:BatchGetItem")
    ]
    [table] = [s for s in statements if "dynamodb:BatchGetItem" in s["Action"]]
    assert table["Condition"] == {
        "ForAllValues:StringLike": {"dynamodb:LeadingKeys": ["release#*", "catalog#*"]}
    }
    # It consumes the site-refresh queue, FIFO, ten requests per batch, reporting partial failures
    [event] = function["Events"].values()
    assert event["Properties"]["Queue"] == {"Fn::GetAtt": ["SiteRefreshQueue", "Arn"]}
    assert event["Properties"]["BatchSize"] == 10
    queue = stack.template["Resources"]["SiteRefreshQueue"]["Properties"]
    assert queue["FifoQueue"] is True
    assert queue["RedrivePolicy"]["deadLetterTargetArn"] == {
        "Fn::GetAtt": ["SiteRefreshDeadLetterQueue", "Arn"]
    }
