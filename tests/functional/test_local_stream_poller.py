"""The local stack's DynamoDB stream poller: Lambda's batch semantics for ``Type: DynamoDB`` events
(in order; ``ReportBatchItemFailures`` resumes from the first failed record; a batch whose
invocation raised is bisected; after ``MaximumRetryAttempts`` the batch is described to the
on-failure queue and skipped), on moto's DynamoDB Streams."""

from __future__ import annotations

import json
from typing import Any

import boto3
import pytest

from infra.local.sources import DynamoStreamPoller, StreamSource, streams_client

TABLE = "changes"


@pytest.fixture
def table(aws: None) -> tuple[str, str]:
    """A table with a NEW_AND_OLD_IMAGES stream, and an on-failure queue: (stream ARN, queue URL)."""
    ddb = boto3.client("dynamodb")
    created = ddb.create_table(
        TableName=TABLE,
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"},
    )
    queue = boto3.client("sqs").create_queue(QueueName="failed-batches")["QueueUrl"]
    return str(created["TableDescription"]["LatestStreamArn"]), str(queue)


def _put(*names: str) -> None:
    ddb = boto3.client("dynamodb")
    for name in names:
        ddb.put_item(TableName=TABLE, Item={"pk": {"S": name}, "secret": {"B": b"\x00\xff"}})


class Function:
    """Records every batch (its keys, in order) and raises on a batch holding the ``poison`` key;
    with ``report`` set, reports that key as failed the first time it sees it."""

    def __init__(self, *, poison: str | None = None, report: str | None = None) -> None:
        self.batches: list[list[str]] = []
        self.events: list[dict[str, Any]] = []
        self._poison = poison
        self._report = report

    def __call__(self, event: dict[str, Any]) -> dict[str, Any]:
        records = event["Records"]
        keys = [r["dynamodb"]["Keys"]["pk"]["S"] for r in records]
        self.batches.append(keys)
        self.events.append(event)
        if self._poison in keys:
            raise RuntimeError("poison")
        if self._report in keys:
            sequence = records[keys.index(self._report)]["dynamodb"]["SequenceNumber"]
            self._report = None
            return {"batchItemFailures": [{"itemIdentifier": sequence}]}
        return {"batchItemFailures": []}


def _poller(stream: str, function: Function, **source: Any) -> DynamoStreamPoller:
    return DynamoStreamPoller(
        streams_client(),
        boto3.client("sqs"),
        StreamSource(function="F", stream_arn=stream, **source),
        function,
        region="us-east-1",
        poll_interval=0,
        longest_retry_wait=0,
    )


def test_changes_arrive_in_order_as_lambda_shapes_them(table: tuple[str, str]) -> None:
    stream, _ = table
    function = Function()
    poller = _poller(stream, function, batch_size=2)
    _put("a", "b", "c")
    poller.run_once()
    poller.run_once()
    assert function.batches == [["a", "b"], ["c"]]
    record = function.events[0]["Records"][0]
    assert record["eventSource"] == "aws:dynamodb"
    assert record["eventName"] == "INSERT"
    assert record["eventSourceARN"] == stream
    assert record["dynamodb"]["NewImage"]["secret"] == {"B": "AP8="}  # base64, as Lambda sends it
    assert isinstance(record["dynamodb"]["ApproximateCreationDateTime"], int)
    # and what is done is not delivered again
    poller.run_once()
    assert function.batches == [["a", "b"], ["c"]]
    assert poller.position == function.events[1]["Records"][0]["dynamodb"]["SequenceNumber"]


def test_a_reported_failure_resumes_from_the_first_failed_record(table: tuple[str, str]) -> None:
    stream, _ = table

    function = Function(report="b")  # b (and what follows it) fails the first time
    poller = _poller(stream, function, report_failures=True)
    _put("a", "b", "c")
    poller.run_once()
    assert function.batches == [["a", "b", "c"], ["b", "c"]]


def test_without_report_batch_item_failures_a_report_is_ignored(table: tuple[str, str]) -> None:
    stream, _ = table
    function = Function(report="a")
    poller = _poller(stream, function, report_failures=False)
    _put("a", "b")
    poller.run_once()
    assert function.batches == [["a", "b"]]


def test_a_raising_batch_is_bisected_and_a_poison_record_goes_to_the_on_failure_queue(
    table: tuple[str, str],
) -> None:
    stream, queue = table
    function = Function(poison="d")
    poller = _poller(stream, function, bisect=True, max_retries=2, on_failure_url=queue)
    _put("a", "b", "c", "d")
    poller.run_once()
    # halves until the poison record is alone; the others succeed once each
    assert function.batches == [["a", "b", "c", "d"], ["a", "b"], ["c", "d"], ["c"], ["d"]]
    (message,) = boto3.client("sqs").receive_message(QueueUrl=queue).get("Messages", [])
    failure = json.loads(message["Body"])
    assert failure["requestContext"]["condition"] == "RetryAttemptsExhausted"
    info = failure["DDBStreamBatchInfo"]
    assert info["batchSize"] == 1
    assert info["streamArn"] == stream
    assert info["startSequenceNumber"] == info["endSequenceNumber"]
    # and the stream goes on after it
    _put("e")
    poller.run_once()
    assert function.batches[-1] == ["e"]


def test_without_bisect_a_raising_batch_is_retried_whole(table: tuple[str, str]) -> None:
    stream, queue = table
    function = Function(poison="b")
    poller = _poller(stream, function, bisect=False, max_retries=1, on_failure_url=queue)
    _put("a", "b")
    poller.run_once()
    assert function.batches == [["a", "b"], ["a", "b"]]
    (message,) = boto3.client("sqs").receive_message(QueueUrl=queue).get("Messages", [])
    assert json.loads(message["Body"])["DDBStreamBatchInfo"]["batchSize"] == 2
