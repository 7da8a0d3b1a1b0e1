"""The local stack's cheaper paths through moto (infra/moto_speed.py) answer as moto does."""

from __future__ import annotations

from typing import Any

import boto3
import pytest
from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app
from moto.sqs.models import Queue, SQSBackend, sqs_backends

from infra import moto_speed
from infra.moto_speed import Dispatcher


def _signed(service: str, target: str | None = None, path: str = "/") -> dict[str, Any]:
    environ = {
        "PATH_INFO": path,
        "HTTP_HOST": "127.0.0.1:5000",
        "HTTP_AUTHORIZATION": (
            f"AWS4-HMAC-SHA256 Credential=local/20261201/us-east-1/{service}/aws4_request, "
            "SignedHeaders=host, Signature=0"
        ),
    }
    if target:
        environ["HTTP_X_AMZ_TARGET"] = target
    return environ


REQUESTS = {
    "sqs": _signed("sqs", "AmazonSQS.ReceiveMessage"),
    "dynamodb": _signed("dynamodb", "DynamoDB_20120810.UpdateItem"),
    "dynamodb streams": _signed("dynamodb", "DynamoDBStreams_20120810.GetRecords"),
    "s3": _signed("s3", path="/releases-bucket/orgs/demo/releases/r1/v1.json"),
    "ses": _signed("ses"),
    "sesv2": _signed("ses", path="/v2/email/outbound-emails"),
    "scheduler": _signed("scheduler", path="/schedules"),
    "cloudwatch": _signed("monitoring"),
    "kms": _signed("kms", "TrentService.Decrypt"),
    "apigateway": _signed("apigateway", path="/usageplans"),
    "sts": _signed("sts"),
    "moto api": {"PATH_INFO": "/moto-api/reset", "HTTP_HOST": "127.0.0.1:5000"},
}


@pytest.mark.parametrize("request_name", sorted(REQUESTS))
def test_the_dispatcher_routes_each_request_to_the_service_moto_picks(request_name: str) -> None:
    # Given moto's dispatcher and ours, when both route the same request (ours twice: the second
    # time from what it remembered), then both pick the same service.
    environ = REQUESTS[request_name]
    expected = DomainDispatcherApplication(create_backend_app).get_application(dict(environ)).service  # type: ignore[attr-defined]
    ours = Dispatcher(create_backend_app)

    first = ours.get_application(dict(environ))
    again = ours.get_application(dict(environ))

    assert first.service == expected  # type: ignore[attr-defined]
    assert again is first


def _queue_with_messages(sqs: Any, retention_seconds: int) -> tuple[str, SQSBackend]:
    url = sqs.create_queue(
        QueueName="retained", Attributes={"MessageRetentionPeriod": str(retention_seconds)}
    )["QueueUrl"]
    for body in ("old", "new"):
        sqs.send_message(QueueUrl=url, MessageBody=body)
    return url, sqs_backends["123456789012"]["us-east-1"]


def test_the_retention_check_agrees_with_moto_for_kept_and_expired_messages(aws: None) -> None:
    # Given a queue keeping messages 60 s, one of them sent two minutes ago
    sqs = boto3.client("sqs")
    _, backend = _queue_with_messages(sqs, 60)
    old, new = backend.get_queue("retained")._messages
    old.sent_timestamp -= 120_000

    # When both checks judge each message, then they agree: the old one is past its retention
    for message, kept in ((old, False), (new, True)):
        assert moto_speed.moto_retention_check(backend, "retained", message) is kept
        assert backend.is_message_valid_based_on_retention_period("retained", message) is kept


def test_a_receive_returns_messages_without_computing_the_queue_attributes(
    aws: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a queue with two messages, whose full attribute set (message counts) is never computed
    sqs = boto3.client("sqs")
    url, _ = _queue_with_messages(sqs, 345_600)

    def counted(_: Queue) -> dict[str, Any]:
        raise AssertionError("the queue's attributes were computed for a receive")

    monkeypatch.setattr(Queue, "attributes", property(counted))

    # When a console receives, then it gets both messages
    received = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10)["Messages"]

    assert sorted(m["Body"] for m in received) == ["new", "old"]
