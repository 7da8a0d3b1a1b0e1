"""Events from state changes to signed deliveries, on moto with receivers on 127.0.0.1.

The releases table's stream feeds the events function, the events queue the delivery function,
as in the local stack (``tests.functional.pipeline``). Every receiver checks every request with
the ``standardwebhooks`` library.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import boto3
import pytest

from functions import cold_start
from functions.adapters.dynamodb_state import DynamoStateRepository
from functions.adapters.sqs_publish import SqsPublishQueue
from functions.domain.messages import PublishAction, PublishMessage
from functions.domain.moderation import Decision, DecisionAction, ModerationService
from functions.handlers import api as api_handler
from functions.handlers import deliver
from infra.bootstrap import LocalStack
from infra.lambdas import LocalFunctions
from tests.functional.pipeline import (
    Pipeline,
    Receiver,
    api_client,
    dead_letters,
    make_certificates,
    pipeline_stack,
)
from tests.helpers import ApiClient, personnel_release

ALL_RELEASE_EVENTS = [
    "release.accepted",
    "release.changes_requested",
    "release.rejected",
    "release.approved",
    "release.scheduled",
    "release.published",
    "release.corrected",
    "release.killed",
    "release.withdrawn",
]


@pytest.fixture
def world(aws: None, monkeypatch: pytest.MonkeyPatch) -> tuple[LocalStack, LocalFunctions, Pipeline]:
    # Retries at once (the schedule itself is tested on its own): a test decides when time passes
    monkeypatch.setattr(deliver, "retry_delay", lambda attempt: timedelta(0))
    monkeypatch.setattr(deliver, "queue_delay", lambda wait: 0)
    stack, functions = pipeline_stack(monkeypatch)
    return stack, functions, Pipeline(stack, functions)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    running = Receiver().start()
    yield running
    running.stop()


def _register(client: ApiClient, url: str, events: list[str] | None = None) -> tuple[str, str]:
    response = client.post("/webhooks", {"url": url, "events": events or ALL_RELEASE_EVENTS})
    assert response.status == 201, response.body
    return response.json()["id"], response.json()["secret"]


def _moderation(stack: LocalStack) -> ModerationService:
    return ModerationService(
        states=DynamoStateRepository(boto3.client("dynamodb"), stack.ref("ReleasesTable")),
        publish=SqsPublishQueue(boto3.client("sqs"), stack.ref("PublishQueue")),
        clock=lambda: datetime.now(UTC),
    )


def _submit(client: ApiClient, **overrides: Any) -> str:
    response = client.post("/releases", personnel_release(**overrides))
    assert response.status == 202, response.body
    return str(response.json()["id"])


def test_every_state_change_reaches_the_webhook_signed_in_order(world: Any, receiver: Receiver) -> None:
    stack, _, pipeline = world
    acme = api_client()
    hook, receiver.secret = _register(acme, receiver.url())
    # A release is sent back, revised, approved and published, then killed
    release = _submit(acme)
    pipeline.settle()
    moderation = _moderation(stack)
    moderation.decide(release, 1, Decision(DecisionAction.REQUEST_CHANGES, "mod", note="Add a phone number."))
    pipeline.settle()
    assert acme.put(f"/releases/{release}", personnel_release(summary="Revised.")).status == 200
    pipeline.settle()
    moderation.decide(release, 2, Decision(DecisionAction.APPROVE, "mod"))
    pipeline.settle()
    SqsPublishQueue(boto3.client("sqs"), stack.ref("PublishQueue")).send(
        PublishMessage(release_id=release, version=2, action=PublishAction.KILL, reason="inappropriate")
    )
    pipeline.settle()
    # Then the receiver verified every delivery, each event once, in the order they happened
    assert receiver.deliveries, "nothing was delivered"
    assert all(d.verified for d in receiver.deliveries), [d.error for d in receiver.deliveries]
    events = [(d.json()["type"], d.json()["data"]["version"]) for d in receiver.deliveries]
    assert events == [
        ("release.accepted", 1),
        ("release.changes_requested", 1),
        ("release.accepted", 2),
        ("release.approved", 2),
        ("release.published", 2),
        ("release.killed", 2),
    ]
    ids = [d.headers["webhook-id"] for d in receiver.deliveries]
    assert len(set(ids)) == len(ids)
    published = next(d.json() for d in receiver.deliveries if d.json()["type"] == "release.published")
    assert published["data"]["public_url"].endswith(f"releases/{release}.html")
    assert published["data"]["decision"] == {"action": "approve", "reason_codes": [], "note": None}
    changes = receiver.deliveries[1].json()["data"]["decision"]
    assert changes == {"action": "request_changes", "reason_codes": [], "note": "Add a phone number."}
    assert all(b"moderator" not in d.body for d in receiver.deliveries)  # who decided stays internal
    # and the webhook's deliveries say so, with status codes and latencies
    attempts = acme.get(f"/webhooks/{hook}/deliveries", query={"limit": "100"}).json()["items"]
    assert [(a["type"], a["outcome"], a["status_code"]) for a in reversed(attempts)] == [
        (kind, "delivered", 204) for kind, _ in events
    ]
    assert all(isinstance(a["latency_ms"], int) for a in attempts)


def test_only_the_subscribed_events_and_only_the_organisations_own(world: Any, receiver: Receiver) -> None:
    _, _, pipeline = world
    acme, rovers = api_client(), api_client("org-rovers", "Rovers FC")
    _, receiver.secret = _register(acme, receiver.url(), ["release.withdrawn"])
    kept = _submit(acme)
    withdrawn = _submit(acme, headline="Acme withdraws this one")
    assert acme.delete(f"/releases/{withdrawn}").status == 200
    theirs = _submit(rovers, headline="Rovers withdraw theirs")
    assert rovers.delete(f"/releases/{theirs}").status == 200
    pipeline.settle()
    assert [(d.json()["type"], d.json()["data"]["release_id"]) for d in receiver.deliveries] == [
        ("release.withdrawn", withdrawn)
    ]
    assert kept not in json.dumps([d.json() for d in receiver.deliveries])


def test_a_receiver_failing_twice_gets_the_event_exactly_once_more(world: Any) -> None:
    stack, _, pipeline = world
    receiver = Receiver(statuses=[500, 503, 200]).start()
    try:
        acme = api_client()
        hook, receiver.secret = _register(acme, receiver.url(), ["release.accepted"])
        _submit(acme)
        pipeline.settle()
        for _ in range(5):  # more rounds than it needs: nothing more may arrive
            pipeline.step()
    finally:
        receiver.stop()
    assert len(receiver.deliveries) == 3
    assert all(d.verified for d in receiver.deliveries)
    assert len({d.headers["webhook-id"] for d in receiver.deliveries}) == 1  # one event, three attempts
    assert len({d.body for d in receiver.deliveries}) == 1
    attempts = acme.get(f"/webhooks/{hook}/deliveries").json()["items"]
    assert [(a["attempt"], a["outcome"], a["status_code"]) for a in reversed(attempts)] == [
        (1, "failed", 500),
        (2, "failed", 503),
        (3, "delivered", 200),
    ]
    assert pipeline.visible("EventsQueue") == 0
    assert dead_letters(stack) == []
    view = acme.get(f"/webhooks/{hook}").json()
    assert (view["status"], view["failing_since"]) == ("active", None)
    assert view["last_success_at"] is not None


class MovingClock:
    """The delivery function's clock, moved by the test (a day passes in a few calls)."""

    def __init__(self) -> None:
        self.now = datetime.now(UTC)

    def __call__(self) -> datetime:
        return self.now


def test_a_receiver_that_always_fails_ends_in_the_dead_letter_queue_and_is_disabled(
    world: Any, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from infra.local.mail import MailCapture

    stack, _, pipeline = world
    clock = MovingClock()
    monkeypatch.setattr(deliver, "utc_now", clock)
    monkeypatch.setattr(deliver, "retry_delay", lambda attempt: timedelta(hours=2))
    receiver = Receiver(statuses=[500]).start()
    try:
        acme = api_client()
        hook, receiver.secret = _register(acme, receiver.url(), ["release.accepted"])
        from functions.adapters.dynamodb_webhooks import DynamoWebhooks

        DynamoWebhooks(boto3.client("dynamodb"), stack.ref("WebhooksTable")).set_notify_address(
            "org-acme", "office@acme.example"
        )
        started = clock.now
        _submit(acme)

        def an_hour_passes() -> None:
            clock.now += timedelta(hours=1)

        pipeline.settle(rounds=40, before_each=an_hour_passes)
        # After 24 hours of failures the event is in the dead-letter queue, with why
        (dead,) = dead_letters(stack)
        assert dead["MessageAttributes"]["failure"]["StringValue"] == "retries_exhausted"
        assert "HTTP 500" in dead["MessageAttributes"]["failure_detail"]["StringValue"]
        assert json.loads(dead["Body"])["webhook_id"] == hook
        assert acme.get(f"/webhooks/{hook}").json()["status"] == "active"  # one day is not three
        attempts = len(receiver.deliveries)
        assert 12 <= attempts <= 14  # every two hours, for 24 hours
        # Three days after the first failure (an hour after the start), the next event fails
        # too: the webhook is disabled
        clock.now = started + timedelta(days=3, hours=1, minutes=1)
        assert acme.post(f"/webhooks/{hook}/test").status == 202
        pipeline.settle()
    finally:
        receiver.stop()
    view = acme.get(f"/webhooks/{hook}").json()
    assert view["status"] == "disabled"
    assert "3 days" in view["disabled_reason"]
    assert "HTTP 500" in view["disabled_reason"]
    assert view["disabled_at"] is not None
    failures = sorted(m["MessageAttributes"]["failure"]["StringValue"] for m in dead_letters(stack))
    assert failures == ["webhook_disabled"]  # the first one is still held from the read above
    # the organisation was told, at its notification address (a test event has no release contact)
    capture = MailCapture(region="us-east-1", folder=tmp_path)
    capture.collect()
    told = [m for m in capture.messages if "Webhook disabled" in m.header("Subject")]
    assert sorted(m.header("To") for m in told) == ["office@acme.example"]
    assert hook in (told[0].part("plain") or "")
    # and nothing more is sent to it
    assert acme.post(f"/webhooks/{hook}/test").status == 202
    pipeline.settle()
    assert len(receiver.deliveries) == attempts + 1
    # until it is enabled again
    enabled = acme.post(f"/webhooks/{hook}/enable")
    assert (enabled.status, enabled.json()["status"], enabled.json()["failing_since"]) == (
        200,
        "active",
        None,
    )


def test_private_and_metadata_addresses_are_refused_at_delivery_when_dns_changed(
    world: Any, monkeypatch: pytest.MonkeyPatch, receiver: Receiver
) -> None:
    _, _, pipeline = world
    answers = {"hooks.example.test": ["93.184.215.14"]}

    def resolve(host: str, port: int) -> Sequence[str]:
        return answers[host]

    monkeypatch.setattr(api_handler, "resolve_host", resolve)
    monkeypatch.setattr(deliver, "resolve_host", resolve)
    monkeypatch.setattr(deliver, "retry_delay", lambda attempt: timedelta(hours=1))  # not within this test
    monkeypatch.delenv("WEBHOOKS_ALLOW_LOOPBACK")  # as on AWS
    cold_start.reset_all()
    acme = api_client()
    hook, _ = _register(acme, f"https://hooks.example.test:{receiver.port}/in", ["release.accepted"])
    for address in ("169.254.169.254", "10.1.2.3", "fd00:ec2::254", "::ffff:127.0.0.2"):
        answers["hooks.example.test"] = ["93.184.215.14", address]  # a second address, inside
        _submit(acme, headline=f"Acme release for {address}")
        pipeline.events.run_once()
        pipeline.deliveries.run_once()
    attempts = acme.get(f"/webhooks/{hook}/deliveries").json()["items"]
    assert {a["outcome"] for a in attempts} == {"refused"}
    assert len(attempts) == 4
    for address in ("169.254.169.254", "10.1.2.3", "fd00:ec2::254", "::ffff:127.0.0.2"):
        assert any(address in a["error"] for a in attempts), address
    assert receiver.deliveries == []


def test_https_deliveries_verify_the_certificate_against_the_urls_host(
    world: Any, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    _, _, pipeline = world
    good = make_certificates(tmp_path, "hooks.example.test")
    monkeypatch.setattr(deliver, "resolve_host", lambda host, port: ["127.0.0.1"])
    monkeypatch.setattr(api_handler, "resolve_host", lambda host, port: ["127.0.0.1"])
    monkeypatch.setattr(deliver, "tls", good.client_context)
    receiver = Receiver(tls=good.server_context()).start()
    other = Receiver(tls=make_certificates(tmp_path, "elsewhere.example.test").server_context()).start()
    try:
        acme = api_client()
        _, receiver.secret = _register(acme, receiver.url(host="hooks.example.test"), ["release.accepted"])
        wrong, _ = _register(acme, other.url(host="hooks.example.test"), ["release.accepted"])
        _submit(acme)
        pipeline.events.run_once()
        pipeline.deliveries.run_once()  # one attempt each (the one that fails is retried later)
    finally:
        receiver.stop()
        other.stop()
    # The right certificate: delivered, to the checked address, with the URL's name in SNI and Host
    (delivery,) = receiver.deliveries
    assert delivery.verified
    assert delivery.server_name == "hooks.example.test"
    assert delivery.headers["host"] == f"hooks.example.test:{receiver.port}"
    # A certificate for another name: the TLS handshake fails, nothing is sent
    assert other.deliveries == []
    (failed, *_) = acme.get(f"/webhooks/{wrong}/deliveries").json()["items"]
    assert failed["outcome"] == "failed"
    assert failed["status_code"] is None
    assert failed["error"].startswith("TLS")


def test_redirects_are_not_followed(world: Any) -> None:
    _, _, pipeline = world
    target = Receiver().start()
    redirecting = Receiver(statuses=[302], redirect_to=target.url("/elsewhere")).start()
    try:
        acme = api_client()
        hook, _ = _register(acme, redirecting.url(), ["release.accepted"])
        _submit(acme)
        pipeline.events.run_once()
        pipeline.deliveries.run_once()
    finally:
        target.stop()
        redirecting.stop()
    assert len(redirecting.deliveries) == 1
    assert target.deliveries == []
    (attempt,) = acme.get(f"/webhooks/{hook}/deliveries").json()["items"]
    assert (attempt["outcome"], attempt["status_code"]) == ("failed", 302)


def test_a_slow_receiver_is_given_up_on_after_the_timeout(
    world: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from functions import cold_start

    _, _, pipeline = world
    monkeypatch.setenv("WEBHOOK_TIMEOUT_SECONDS", "0.5")  # 5 s in the template's functions
    cold_start.reset_all()
    slow = Receiver(delay=3).start()
    try:
        acme = api_client()
        hook, _ = _register(acme, slow.url(), ["release.accepted"])
        _submit(acme)
        pipeline.events.run_once()
        pipeline.deliveries.run_once()
    finally:
        slow.stop()
    (attempt,) = acme.get(f"/webhooks/{hook}/deliveries").json()["items"]
    assert (attempt["outcome"], attempt["status_code"], attempt["error"]) == ("failed", None, "timeout")
    assert attempt["latency_ms"] < 2000


def test_after_a_rotation_receivers_with_either_secret_verify_for_a_day(
    world: Any, receiver: Receiver
) -> None:
    from standardwebhooks import Webhook

    _, _, pipeline = world
    acme = api_client()
    hook, old = _register(acme, receiver.url(), ["release.accepted"])
    new = acme.post(f"/webhooks/{hook}/rotate-secret").json()["secret"]
    _submit(acme)
    pipeline.settle()
    (delivery,) = receiver.deliveries
    assert len(delivery.headers["webhook-signature"].split(" ")) == 2
    assert Webhook(old).verify(delivery.body, delivery.headers) == Webhook(new).verify(
        delivery.body, delivery.headers
    )


def test_a_test_event_is_delivered_like_any_other(world: Any, receiver: Receiver) -> None:
    _, _, pipeline = world
    acme = api_client()
    hook, receiver.secret = _register(acme, receiver.url(), ["release.killed"])
    queued = acme.post(f"/webhooks/{hook}/test").json()
    pipeline.settle()
    (delivery,) = receiver.deliveries
    assert delivery.verified
    assert delivery.headers["webhook-id"] == queued["id"]
    assert delivery.json()["type"] == "webhook.test"
    assert delivery.json()["data"] == {"webhook_id": hook}


def test_a_stream_change_that_is_not_a_release_is_skipped_and_holds_nothing_up(
    world: Any, receiver: Receiver
) -> None:
    stack, _, pipeline = world
    acme = api_client()
    _, receiver.secret = _register(acme, receiver.url(), ["release.accepted"])
    table = stack.ref("ReleasesTable")
    ddb = boto3.client("dynamodb")
    ddb.put_item(TableName=table, Item={"pk": {"S": "release#broken"}, "status": {"S": "no-such-status"}})
    ddb.put_item(TableName=table, Item={"pk": {"S": "catalog#all"}, "seq": {"N": "1"}})
    _submit(acme)
    pipeline.settle()
    assert [d.json()["type"] for d in receiver.deliveries] == ["release.accepted"]
