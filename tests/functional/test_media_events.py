"""media.ready and media.rejected: a verification's verdict reaches the organisation's webhooks
through the events queue and the delivery function, signed like every event (on moto, with a
receiver on 127.0.0.1 that checks each request with the ``standardwebhooks`` library)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from aws_lambda_powertools.utilities.batch.exceptions import BatchProcessingError

from functions.adapters.sqs_events import SqsEventsQueue
from functions.handlers import deliver
from infra.bootstrap import LocalStack
from infra.lambdas import LocalFunctions
from tests import media_fixtures as files
from tests.functional.media_support import Verifier, declare, upload, uploaded
from tests.functional.pipeline import Pipeline, Receiver, api_client, pipeline_stack
from tests.helpers import ApiClient, sqs_event

World = tuple[LocalStack, LocalFunctions, Pipeline, Verifier]


@pytest.fixture
def world(aws: None, monkeypatch: pytest.MonkeyPatch) -> World:
    monkeypatch.setattr(deliver, "retry_delay", lambda attempt: timedelta(0))
    monkeypatch.setattr(deliver, "queue_delay", lambda wait: 0)
    stack, functions = pipeline_stack(monkeypatch)
    return stack, functions, Pipeline(stack, functions), Verifier(stack, functions)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    running = Receiver().start()
    yield running
    running.stop()


def _register(client: ApiClient, url: str, events: list[str]) -> str:
    response = client.post("/webhooks", {"url": url, "events": events})
    assert response.status == 201, response.body
    return str(response.json()["secret"])


def _events(receiver: Receiver) -> list[dict[str, Any]]:
    assert all(d.verified for d in receiver.deliveries), [d.error for d in receiver.deliveries]
    return [d.json() for d in receiver.deliveries]


def test_a_webhook_subscribed_to_media_events_receives_each_verdict(world: World, receiver: Receiver) -> None:
    _, _, pipeline, verifier = world
    acme = api_client()
    receiver.secret = _register(acme, receiver.url(), ["media.ready", "media.rejected"])

    # When an image is verified and a markup file declared as a PNG is refused
    photo = uploaded(acme, verifier, files.png(900, 600), "image/png")
    assert photo["status"] == "ready"
    markup = b"<svg xmlns='http://www.w3.org/2000/svg'><script>alert(1)</script></svg>"
    refused = uploaded(acme, verifier, markup, "image/png")
    assert refused["status"] == "rejected"
    pipeline.settle()

    # Then the webhook received media.ready, then media.rejected with the reason, signed
    events = _events(receiver)
    assert [(e["type"], e["data"]) for e in events] == [
        ("media.ready", {"media_id": photo["id"], "status": "ready", "reason": None}),
        ("media.rejected", {"media_id": refused["id"], "status": "rejected", "reason": refused["reason"]}),
    ]
    assert refused["reason"] == "markup"


def test_media_events_go_only_to_their_subscribers_and_their_organisation(
    world: World, receiver: Receiver
) -> None:
    _, _, pipeline, verifier = world
    other = Receiver().start()
    try:
        # Given a webhook of Acme's for release events only, and one of another organisation's
        acme = api_client()
        receiver.secret = _register(acme, receiver.url(), ["release.published"])
        rovers = api_client("org-rovers", "Rovers FC")
        other.secret = _register(rovers, other.url(), ["media.ready", "media.rejected"])

        # When Acme's upload is verified
        assert uploaded(acme, verifier, files.png(900, 600), "image/png")["status"] == "ready"
        pipeline.settle()

        # Then neither webhook hears of it
        assert receiver.deliveries == []
        assert other.deliveries == []
    finally:
        other.stop()


def test_a_verdict_whose_announcement_failed_is_announced_when_the_upload_notification_comes_again(
    world: World, receiver: Receiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    _, functions, pipeline, verifier = world
    acme = api_client()
    receiver.secret = _register(acme, receiver.url(), ["media.ready"])
    # Given the events queue refuses the first announcement
    send_all = SqsEventsQueue.send_all
    calls: list[int] = []

    def flaky(self: SqsEventsQueue, jobs: list[Any]) -> None:
        calls.append(len(jobs))
        if len(calls) == 1:
            raise RuntimeError("the events queue is unavailable")
        send_all(self, jobs)

    monkeypatch.setattr(SqsEventsQueue, "send_all", flaky)
    created = declare(acme, files.png(900, 600), "image/png")
    upload(created, files.png(900, 600))
    (notification,) = verifier.sqs.receive_message(QueueUrl=verifier.queue_url, WaitTimeSeconds=1)["Messages"]

    # When the upload notification is handled: the verdict is stored, its announcement fails
    # Then the invocation fails (its only record failed: SQS delivers it again), though the media is ready
    with pytest.raises(BatchProcessingError):
        functions.invoke("MediaVerifyFunction", sqs_event([notification["Body"]]))
    assert acme.get(f"/media/{created['id']}").json()["status"] == "ready"

    # When it is delivered again
    again = functions.invoke("MediaVerifyFunction", sqs_event([notification["Body"]]))
    assert again == {"batchItemFailures": []}
    verifier.sqs.delete_message(QueueUrl=verifier.queue_url, ReceiptHandle=notification["ReceiptHandle"])
    pipeline.settle()

    # Then the webhook received media.ready, once
    events = _events(receiver)
    assert [(e["type"], e["data"]["media_id"]) for e in events] == [("media.ready", created["id"])]
    assert len(calls) == 2
