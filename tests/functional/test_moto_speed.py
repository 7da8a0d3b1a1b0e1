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


# -- DynamoDB items in answers ------------------------------------------------------------------

# Every kind of attribute value but binaries, nested, with the edge cases moto's walk has rules
# for: empty strings, sets and containers, None inside a map and a list, a member set to None.
EVERY_KIND: dict[str, Any] = {
    "pk": {"S": "release#r1"},
    "empty": {"S": ""},
    "count": {"N": "42"},
    "ratio": {"N": "-0.5"},
    "yes": {"BOOL": True},
    "no": {"BOOL": False},
    "nothing": {"NULL": True},
    "tags": {"SS": ["a", "b"]},
    "sizes": {"NS": ["1", "2.5"]},
    "list": {"L": [{"S": "x"}, {"N": "1"}, None, {"L": []}, {"M": {}}, {"SS": []}]},
    "map": {
        "M": {
            "inner": {"M": {"deep": {"L": [{"BOOL": False}, {"NULL": True}]}}},
            "gone": None,
            "empty": {},
            "text": {"S": "caf\u00e9 \u2013 \u00fcber"},
        }
    },
    "odd": {"S": None},
}
# Binaries (base64 on the wire) are left to moto's walk, wherever they are.
BINARIES: dict[str, Any] = {
    "pk": {"S": "release#r2"},
    "blob": {"B": b"\x00\x01binary"},
    "blobs": {"BS": [b"one", b"two"]},
    "list": {"L": [{"S": "x"}, {"B": b"in a list"}, None]},
    "map": {"M": {"blob": {"B": b"in a map"}, "gone": None, "text": {"S": "t"}}},
}
STATE_ITEM: dict[str, Any] = {
    "pk": {"S": "release#01J"},
    "sk": {"S": "state"},
    "status": {"S": "pending_review"},
    "version": {"N": "3"},
    "history": {"L": [{"M": {"at": {"S": "2026-12-01T10:00:00Z"}, "by": {"S": "local:me"}}}]},
    "flags": {"SS": ["new_org"]},
}

ANSWERS: dict[str, tuple[str, str, dict[str, Any]]] = {
    "GetItem": ("dynamodb", "GetItem", {"Item": EVERY_KIND}),
    "GetItem with binaries": ("dynamodb", "GetItem", {"Item": BINARIES}),
    "BatchGetItem": (
        "dynamodb",
        "BatchGetItem",
        {"Responses": {"releases": [STATE_ITEM, EVERY_KIND, BINARIES]}, "UnprocessedKeys": {}},
    ),
    "Query": (
        "dynamodb",
        "Query",
        {
            "Items": [STATE_ITEM, EVERY_KIND],
            "Count": 2,
            "ScannedCount": 2,
            "LastEvaluatedKey": {"pk": {"S": "x"}},
        },
    ),
    "UpdateItem": ("dynamodb", "UpdateItem", {"Attributes": STATE_ITEM}),
    "GetRecords": (
        "dynamodbstreams",
        "GetRecords",
        {
            "Records": [
                {
                    "eventID": "1",
                    "eventName": "MODIFY",
                    "dynamodb": {
                        "Keys": {"pk": {"S": "release#01J"}, "sk": {"S": "state"}},
                        "NewImage": STATE_ITEM,
                        "OldImage": EVERY_KIND,
                        "SequenceNumber": "100",
                        "SizeBytes": 10,
                        "StreamViewType": "NEW_AND_OLD_IMAGES",
                    },
                }
            ],
            "NextShardIterator": "it",
        },
    ),
    "an attribute value moto's walk does not know": (
        "dynamodb",
        "GetItem",
        {"Item": {"pk": {"S": "x", "s": "lower"}, "other": {"X": "unknown"}}},
    ),
}


def _written(serializer: type[Any], service: str, operation: str, result: Any) -> Any:
    from moto.core.serialize import XFormedAttributePicker
    from moto.core.utils import get_service_model

    model = get_service_model(service).operation_model(operation)
    answer = serializer(operation_model=model, value_picker=XFormedAttributePicker()).serialize(result)
    return answer["body"]


@pytest.mark.parametrize("answer", sorted(ANSWERS))
def test_dynamodb_answers_are_written_byte_for_byte_as_moto_writes_them(answer: str) -> None:
    # Given an answer holding items (every kind of attribute value), when moto's serializer and
    # ours write it, then the bodies are the same bytes
    from moto.core.serialize import JSONSerializer

    service, operation, result = ANSWERS[answer]

    ours = _written(moto_speed.ItemAnswersSerializer, service, operation, result)

    assert ours == _written(JSONSerializer, service, operation, result)


def test_an_item_read_back_is_the_item_written_and_costs_no_walk_per_value(
    aws: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a table with an item of every kind of attribute value (but binaries) that DynamoDB
    # stores, and moto's attribute picker refusing to look up an AttributeValue member
    from moto.core.serialize import XFormedAttributePicker

    dynamodb = boto3.client("dynamodb")
    dynamodb.create_table(
        TableName="items",
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    item = {k: v for k, v in EVERY_KIND.items() if k not in ("list", "map", "odd")}
    item["list"] = {"L": [{"S": "x"}, {"N": "1"}, {"L": []}, {"M": {}}]}
    item["map"] = {"M": {k: v for k, v in EVERY_KIND["map"]["M"].items() if v}}
    dynamodb.put_item(TableName="items", Item=item)
    picked = XFormedAttributePicker.__call__

    def strict(self: Any, context: Any) -> Any:
        if context.key in ("S", "N", "B", "SS", "NS", "BS", "M", "L", "NULL", "BOOL"):
            raise AssertionError(f"moto's walk looked up {context.key} of an attribute value")
        return picked(self, context)

    monkeypatch.setattr(XFormedAttributePicker, "__call__", strict)

    # When the item is read back, alone and in a batch, then it is the item written
    got = dynamodb.get_item(TableName="items", Key={"pk": item["pk"]})["Item"]
    batch = dynamodb.batch_get_item(RequestItems={"items": {"Keys": [{"pk": item["pk"]}]}})

    assert got == item
    assert batch["Responses"]["items"] == [item]


# -- DynamoDB update expressions ------------------------------------------------------------------


def _table_with_item(dynamodb: Any) -> dict[str, Any]:
    dynamodb.create_table(
        TableName="states",
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    key = {"pk": {"S": "release#r1"}}
    dynamodb.put_item(
        TableName="states",
        Item={**key, "status": {"S": "pending"}, "version": {"N": "1"}, "lease": {"S": "console"}},
    )
    return key


def _decide(dynamodb: Any, key: dict[str, Any]) -> Any:
    return dynamodb.update_item(
        TableName="states",
        Key=key,
        UpdateExpression=(
            "SET #status = :status, history = list_append(if_not_exists(history, :none), :entry) REMOVE lease"
        ),
        ConditionExpression="#status = :from",
        ExpressionAttributeNames={"#status": "status"},
        ExpressionAttributeValues={
            ":status": {"S": "rejected"},
            ":none": {"L": []},
            ":entry": {"L": [{"S": "rejected by bench"}]},
            ":from": {"S": "pending"},
        },
        ReturnValues="ALL_NEW",
    )


def test_an_update_parses_its_expression_once_and_applies_it_as_moto_does(
    aws: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given an item, and moto's parser counting the expressions it parses
    from moto.dynamodb.parsing.expressions import UpdateExpressionParser  # type: ignore[attr-defined]

    dynamodb = boto3.client("dynamodb")
    key = _table_with_item(dynamodb)
    parsed: list[str] = []
    parse = UpdateExpressionParser.make

    def counted(expression: str) -> Any:
        parsed.append(expression)
        return parse(expression)

    monkeypatch.setattr(UpdateExpressionParser, "make", counted)

    # When a decision's update is applied, twice (the second must fail its condition)
    answer = _decide(dynamodb, key)
    with pytest.raises(dynamodb.exceptions.ConditionalCheckFailedException):
        _decide(dynamodb, key)

    # Then the first one changed the item as written, the item is unchanged by the second, and
    # each request parsed its expression once
    expected = {
        **key,
        "status": {"S": "rejected"},
        "version": {"N": "1"},
        "history": {"L": [{"S": "rejected by bench"}]},
    }
    assert answer["Attributes"] == expected
    assert dynamodb.get_item(TableName="states", Key=key)["Item"] == expected
    assert len(parsed) == 2


def test_a_tree_parsed_for_one_expression_is_never_applied_for_another(aws: None) -> None:
    # Given two items, and a transaction updating each with an expression of its own (moto
    # checks both expressions before its backend applies the first)
    dynamodb = boto3.client("dynamodb")
    first = _table_with_item(dynamodb)
    second = {"pk": {"S": "release#r2"}}
    dynamodb.put_item(TableName="states", Item={**second, "status": {"S": "pending"}})

    # When the transaction is applied
    dynamodb.transact_write_items(
        TransactItems=[
            {
                "Update": {
                    "TableName": "states",
                    "Key": first,
                    "UpdateExpression": "SET note = :note",
                    "ExpressionAttributeValues": {":note": {"S": "first"}},
                }
            },
            {
                "Update": {
                    "TableName": "states",
                    "Key": second,
                    "UpdateExpression": "REMOVE #status",
                    "ExpressionAttributeNames": {"#status": "status"},
                }
            },
        ]
    )

    # Then each item changed as its own expression says
    one = dynamodb.get_item(TableName="states", Key=first)["Item"]
    two = dynamodb.get_item(TableName="states", Key=second)["Item"]

    assert (one["note"], one["status"]) == ({"S": "first"}, {"S": "pending"})
    assert two == second
