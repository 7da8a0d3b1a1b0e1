"""The local stack's snapshot: what it captures from moto, what it puts back, how it is written
and refused. Against in-process moto, as the local stack's own moto server holds the same backends."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest

from infra.bootstrap import LocalStack, bootstrap
from infra.local import persistence
from infra.local.persistence import DataFolder, Persistence, Quiesce, SnapshotError
from tests.functional.conftest import template

REGION = "us-east-1"


def _fill(stack: LocalStack) -> dict[str, Any]:
    """Some of everything: object versions and a delete marker, items, messages, a schedule."""
    s3, sqs = boto3.client("s3"), boto3.client("sqs")
    dynamodb, scheduler = boto3.client("dynamodb"), boto3.client("scheduler")
    releases, site = stack.ref("ReleasesBucket"), stack.ref("SiteBucket")
    s3.put_object(Bucket=releases, Key="r/1.json", Body=b'{"v": 1}', ContentType="application/json")
    s3.put_object(Bucket=releases, Key="r/1.json", Body=b'{"v": 2}', ContentType="application/json")
    s3.put_object(Bucket=releases, Key="gone.json", Body=b"{}")
    s3.delete_object(Bucket=releases, Key="gone.json")
    s3.put_object(
        Bucket=site,
        Key="index.html",
        Body="<h1>Newsroom \u2013 \u00bd</h1>".encode(),
        ContentType="text/html; charset=utf-8",
        Metadata={"release": "r1"},
        Tagging="kind=page",
    )
    s3.put_object(Bucket=site, Key="media/logo.png", Body=bytes(range(256)))
    dynamodb.put_item(
        TableName=stack.ref("KeysTable"),
        Item={"key_id": {"S": "abcdefghijklmnop"}, "n": {"N": "3"}, "tags": {"SS": ["a", "b"]}},
    )
    queue = stack.outputs()["ModerationQueueUrl"]
    sqs.send_message(
        QueueUrl=queue,
        MessageBody='{"release_id": "r1", "version": 1}',
        MessageAttributes={
            "category": {"DataType": "String", "StringValue": "personnel"},
            "blob": {"DataType": "Binary", "BinaryValue": b"\x00\x01"},
        },
    )
    sqs.receive_message(QueueUrl=queue, VisibilityTimeout=0)  # received once, back at once
    sqs.send_message(QueueUrl=queue, MessageBody='{"release_id": "r2", "version": 1}')
    held = sqs.receive_message(QueueUrl=queue, VisibilityTimeout=600, MaxNumberOfMessages=10)
    group = stack.ref("ScheduleGroup") if "ScheduleGroup" in stack.template["Resources"] else "default"
    scheduler.create_schedule(
        Name="publish-r3",
        GroupName=group,
        ScheduleExpression="at(2030-01-01T09:00:00)",
        ScheduleExpressionTimezone="Europe/London",
        FlexibleTimeWindow={"Mode": "OFF"},
        Target={
            "Arn": "arn:aws:sqs:us-east-1:123456789012:q",
            "RoleArn": "arn:aws:iam::1:role/r",
            "Input": "{}",
        },
        ActionAfterCompletion="DELETE",
    )
    return {"queue": queue, "held": [m["Body"] for m in held.get("Messages", [])], "group": group}


@pytest.fixture
def saved(aws: None) -> tuple[dict[str, Any], dict[str, Any]]:
    """The snapshot of a filled stack, as JSON text would give it back."""
    stack = bootstrap(boto3.client, template=template())
    facts = _fill(stack)
    return json.loads(json.dumps(persistence.capture(REGION))), facts


def _reset_moto() -> None:
    """A new, empty moto: as a restarted stack's."""
    from moto.backends import get_backend

    for service in (
        "s3",
        "dynamodb",
        "dynamodbstreams",
        "sqs",
        "scheduler",
        "apigateway",
        "kms",
        "ses",
        "sesv2",
    ):
        get_backend(service).reset()  # type: ignore[call-overload]


def _restart(data: dict[str, Any]) -> Iterator[LocalStack]:
    _reset_moto()
    stack = bootstrap(boto3.client, template=template())
    stack.adopt(persistence.restore(data, REGION, boto3.client).renamed)
    yield stack


def test_a_restored_stack_has_every_object_item_message_and_schedule(
    saved: tuple[dict[str, Any], dict[str, Any]],
) -> None:
    data, facts = saved
    for stack in _restart(data):
        # Then a capture of the new moto is the same as the saved one (but for the ids of the
        # template's usage plan and KMS keys, created again at every start)
        assert _without_plan_ids(json.loads(json.dumps(persistence.capture(REGION)))) == _without_plan_ids(
            data
        )
        s3, sqs = boto3.client("s3"), boto3.client("sqs")
        releases, site = stack.ref("ReleasesBucket"), stack.ref("SiteBucket")
        # objects: every version, the latest current; the delete marker still hides its object
        versions = s3.list_object_versions(Bucket=releases, Prefix="r/1.json")["Versions"]
        assert len(versions) == 2
        assert s3.get_object(Bucket=releases, Key="r/1.json")["Body"].read() == b'{"v": 2}'
        assert "gone.json" not in [o["Key"] for o in s3.list_objects_v2(Bucket=releases).get("Contents", [])]
        page = s3.get_object(Bucket=site, Key="index.html")
        assert page["Body"].read().decode() == "<h1>Newsroom \u2013 \u00bd</h1>"
        assert page["ContentType"] == "text/html; charset=utf-8"
        assert page["Metadata"] == {"release": "r1"}
        tags = s3.get_object_tagging(Bucket=site, Key="index.html")["TagSet"]
        assert tags == [{"Key": "kind", "Value": "page"}]
        assert s3.get_object(Bucket=site, Key="media/logo.png")["Body"].read() == bytes(range(256))
        # items
        items = boto3.client("dynamodb").scan(TableName=stack.ref("KeysTable"))["Items"]
        assert items == [{"key_id": {"S": "abcdefghijklmnop"}, "n": {"N": "3"}, "tags": {"SS": ["a", "b"]}}]
        # messages: attributes and receive counts kept; the held ones are still held
        attributes = sqs.get_queue_attributes(QueueUrl=facts["queue"], AttributeNames=["All"])["Attributes"]
        assert attributes["ApproximateNumberOfMessagesNotVisible"] == "2"
        # schedules
        schedule = boto3.client("scheduler").get_schedule(GroupName=facts["group"], Name="publish-r3")
        assert schedule["ScheduleExpression"] == "at(2030-01-01T09:00:00)"
        assert schedule["ScheduleExpressionTimezone"] == "Europe/London"
        assert schedule["ActionAfterCompletion"] == "DELETE"


def _without_plan_ids(data: dict[str, Any]) -> dict[str, Any]:
    plans = [{k: v for k, v in plan.items() if k != "id"} for plan in data["apigateway"]["usage_plans"]]
    keys = [{k: v for k, v in key.items() if k != "ids"} for key in data["kms"]]
    return {**data, "apigateway": {**data["apigateway"], "usage_plans": plans}, "kms": keys}


def test_usage_keys_and_organisations_limits_survive_a_restart(aws: None) -> None:
    from functions.adapters.apigateway_usage_plans import ApiGatewayUsagePlans
    from functions.domain.keys import OrgLimits

    # Given two organisations' usage keys, one of them with limits of its own
    stack = bootstrap(boto3.client, template=template())
    plans = ApiGatewayUsagePlans(boto3.client("apigateway"), stack.ref("OrganisationsUsagePlan"))
    acme, rovers = plans.for_organisation("acme"), plans.for_organisation("rovers")
    plans.set_limits("rovers", OrgLimits(rate=3, burst=7))
    data = json.loads(json.dumps(persistence.capture(REGION)))
    # When the stack restarts (a new template plan under a new id) and the snapshot is restored
    for restarted in _restart(data):
        again = ApiGatewayUsagePlans(boto3.client("apigateway"), restarted.ref("OrganisationsUsagePlan"))
        # Then each organisation has the same usage key (the keys table refers to its id and value)
        assert again.for_organisation("acme") == acme
        assert again.for_organisation("rovers") == rovers
        apigateway = boto3.client("apigateway")
        # and the one with its own limits still has them; the other is in the template's plan
        (own,) = apigateway.get_usage_plans(keyId=rovers.key_id)["items"]
        assert own["throttle"] == {"rateLimit": 3.0, "burstLimit": 7}
        (default,) = apigateway.get_usage_plans(keyId=acme.key_id)["items"]
        assert default["id"] == restarted.ref("OrganisationsUsagePlan")


def test_held_messages_come_back_after_their_visibility_timeout(
    saved: tuple[dict[str, Any], dict[str, Any]],
) -> None:
    data, facts = saved
    # Given the stack was down for longer than the 600 s the messages were held for
    for queue in data["sqs"]:
        for message in queue["messages"]:
            message["visible_at"] -= 601_000
            message["sent_timestamp"] -= 601_000
    for _ in _restart(data):
        sqs = boto3.client("sqs")
        # Then they are delivered again, with their attributes and one more receive
        received = sqs.receive_message(
            QueueUrl=facts["queue"],
            MaxNumberOfMessages=10,
            AttributeNames=["ApproximateReceiveCount"],
            MessageAttributeNames=["All"],
        )["Messages"]
        by_body = {json.loads(m["Body"])["release_id"]: m for m in received}
        assert set(by_body) == {"r1", "r2"}
        assert by_body["r1"]["Attributes"]["ApproximateReceiveCount"] == "3"
        assert by_body["r2"]["Attributes"]["ApproximateReceiveCount"] == "2"
        assert by_body["r1"]["MessageAttributes"]["category"]["StringValue"] == "personnel"
        assert by_body["r1"]["MessageAttributes"]["blob"]["BinaryValue"] == b"\x00\x01"


def test_resources_the_template_no_longer_declares_are_made_again(aws: None) -> None:
    bootstrap(boto3.client, template=template())
    sqs = boto3.client("sqs")
    url = sqs.create_queue(QueueName="by-hand", Attributes={"VisibilityTimeout": "7"})["QueueUrl"]
    sqs.send_message(QueueUrl=url, MessageBody="kept")
    boto3.client("s3").create_bucket(Bucket="by-hand-bucket")
    boto3.client("s3").put_object(Bucket="by-hand-bucket", Key="k", Body=b"v")
    data = json.loads(json.dumps(persistence.capture(REGION)))
    for _ in [None]:
        _reset_moto()
        bootstrap(boto3.client, template=template())
        restored = persistence.restore(data, REGION, boto3.client)
        assert "queue by-hand" in restored.created
        assert "bucket by-hand-bucket" in restored.created
        url = boto3.client("sqs").get_queue_url(QueueName="by-hand")["QueueUrl"]
        attributes = boto3.client("sqs").get_queue_attributes(QueueUrl=url, AttributeNames=["All"])
        assert attributes["Attributes"]["VisibilityTimeout"] == "7"
        assert boto3.client("sqs").receive_message(QueueUrl=url)["Messages"][0]["Body"] == "kept"
        assert boto3.client("s3").get_object(Bucket="by-hand-bucket", Key="k")["Body"].read() == b"v"


# -- the file ----------------------------------------------------------------------------------------


def _persistence(folder: Path, interval: float = 60.0) -> Persistence:
    return Persistence(DataFolder(folder), region=REGION, interval=interval)


def test_a_save_is_private_atomic_and_skipped_when_nothing_changed(aws: None, tmp_path: Path) -> None:
    stack = bootstrap(boto3.client, template=template())
    saver = _persistence(tmp_path)
    saver.load(boto3.client)  # nothing to restore

    assert saver.save() is True
    snapshot = tmp_path / "snapshot.json"
    assert snapshot.stat().st_mode & 0o777 == 0o600
    assert saver.save() is False  # unchanged: not written again
    boto3.client("s3").put_object(Bucket=stack.ref("SiteBucket"), Key="a.html", Body=b"a")
    assert saver.save() is True
    document = json.loads(snapshot.read_text())
    assert document["format"] == "press-intake-local-snapshot"
    assert document["version"] == persistence.FORMAT_VERSION
    assert "saved_at" in document
    assert [p.name for p in tmp_path.iterdir()] == ["snapshot.json"]  # no temporary file left


@pytest.mark.parametrize(
    "content",
    [
        b"",
        b"\x00\xff not json",
        b'{"format": "press-intake-local-snapshot", "version": 1, "data": {"s3": []',
        b'{"format": "something-else", "version": 1}',
        b'{"format": "press-intake-local-snapshot", "version": 0, "data": {}}',
        b'{"format": "press-intake-local-snapshot", "version": 99, "data": {}}',
        b'{"format": "press-intake-local-snapshot", "version": 1, "data": {"s3": []}}',
    ],
    ids=["empty", "binary", "truncated", "other-format", "older", "newer", "incomplete"],
)
def test_an_unusable_snapshot_is_refused_and_never_written_over(
    aws: None, tmp_path: Path, content: bytes
) -> None:
    (tmp_path / "snapshot.json").write_bytes(content)
    saver = _persistence(tmp_path)

    with pytest.raises(SnapshotError) as refused:
        saver.check()

    assert "It is left as it is" in str(refused.value)
    assert "--fresh" in str(refused.value)
    saver.close()  # the stop's final save
    assert (tmp_path / "snapshot.json").read_bytes() == content


def test_a_snapshot_with_unexpected_content_is_refused(aws: None, tmp_path: Path) -> None:
    bootstrap(boto3.client, template=template())
    document = {
        "format": "press-intake-local-snapshot",
        "version": 1,
        "data": {"s3": [{"name": "x"}], "dynamodb": [], "sqs": [], "scheduler": []},
    }
    (tmp_path / "snapshot.json").write_text(json.dumps(document))
    saver = _persistence(tmp_path)
    with pytest.raises(SnapshotError, match="does not have the expected content"):
        saver.load(boto3.client)
    saver.close()
    assert json.loads((tmp_path / "snapshot.json").read_text()) == document


def test_fresh_keeps_the_previous_snapshot_aside(tmp_path: Path) -> None:
    (tmp_path / "snapshot.json").write_bytes(b"old data")
    kept = DataFolder(tmp_path).set_aside()
    assert kept == tmp_path / "snapshot.json.old"
    assert kept.read_bytes() == b"old data"
    assert not (tmp_path / "snapshot.json").exists()


def test_one_data_folder_serves_one_stack(tmp_path: Path) -> None:
    first = DataFolder(tmp_path)
    first.lock()
    try:
        with pytest.raises(SnapshotError, match="uses the data folder"):
            DataFolder(tmp_path).lock()
    finally:
        first.unlock()
    second = DataFolder(tmp_path)
    second.lock()  # free again
    second.unlock()


# -- pausing moto ---------------------------------------------------------------------------------


def test_a_pause_waits_for_running_requests_and_holds_new_ones() -> None:
    quiesce = Quiesce()
    events: list[str] = []
    inside = threading.Event()
    release = threading.Event()

    def request(name: str, wait_for: threading.Event | None = None) -> None:
        with quiesce.request():
            events.append(f"{name} in")
            inside.set()
            if wait_for:
                wait_for.wait(5)
            events.append(f"{name} out")

    first = threading.Thread(target=request, args=("first", release))
    first.start()
    inside.wait(5)
    paused = threading.Event()

    def snapshot() -> None:
        with quiesce.paused():
            paused.set()
            events.append("snapshot")
            time.sleep(0.05)

    taker = threading.Thread(target=snapshot)
    taker.start()
    time.sleep(0.05)
    assert not paused.is_set()  # the running request is not cut short
    release.set()
    taker.join(5)
    second = threading.Thread(target=request, args=("second",))
    second.start()
    second.join(5)
    first.join(5)
    assert events == ["first in", "first out", "snapshot", "second in", "second out"]


def test_a_long_poll_does_not_hold_up_a_snapshot(aws: None) -> None:
    stack = bootstrap(boto3.client, template=template())
    quiesce = Quiesce()
    quiesce.wrap(lambda environ, start_response: [])  # installs the long-poll hook
    from moto.backends import get_backend

    backend = get_backend("sqs")["123456789012"][REGION]
    name = stack.outputs()["ModerationQueueUrl"].rsplit("/", 1)[-1]
    polling = threading.Event()

    def long_poll() -> None:
        with quiesce.request():
            polling.set()
            backend.receive_message(name, 1, 3, 30)  # waits up to 3 s: the queue is empty

    poller = threading.Thread(target=long_poll)
    poller.start()
    polling.wait(5)
    time.sleep(0.1)
    started = time.monotonic()
    with quiesce.paused():
        waited = time.monotonic() - started
    poller.join(10)
    assert waited < 1.5


def test_webhook_secrets_sealed_before_a_restart_still_open_after_it(aws: None) -> None:
    from botocore.exceptions import ClientError

    from functions.adapters.kms_secrets import KmsSecretBox

    # Given a signing secret sealed with the template's KMS key and kept in the webhooks table
    stack = bootstrap(boto3.client, template=template())
    context = {"purpose": "webhook-signing-secret", "org_id": "acme", "webhook_id": "wh_1"}
    raw = bytes(range(32))
    sealed = KmsSecretBox(boto3.client("kms"), stack.attribute("WebhookSecretsKey", "Arn")).seal(
        raw, context=context
    )
    item = {"pk": {"S": "org#acme"}, "sk": {"S": "webhook#wh_1"}, "secret": {"B": sealed}}
    boto3.client("dynamodb").put_item(TableName=stack.ref("WebhooksTable"), Item=item)
    data = json.loads(json.dumps(persistence.capture(REGION)))
    # When the stack restarts (the key is created again, under a new id) and the snapshot is restored
    for restarted in _restart(data):
        box = KmsSecretBox(boto3.client("kms"), restarted.attribute("WebhookSecretsKey", "Arn"))
        kept = boto3.client("dynamodb").get_item(
            TableName=restarted.ref("WebhooksTable"), Key={k: item[k] for k in ("pk", "sk")}
        )["Item"]
        # Then the sealed secret is the same bytes and opens with the stack's key
        assert kept["secret"]["B"] == sealed
        assert box.open(kept["secret"]["B"], context=context) == raw
        # and what is sealed after the restart opens too, only with its own context
        again = box.seal(b"after the restart", context=context)
        assert box.open(again, context=context) == b"after the restart"
        with pytest.raises(ClientError):
            box.open(sealed, context={**context, "webhook_id": "wh_2"})


def test_stream_changes_not_yet_taken_reach_the_consumer_after_a_restart(aws: None) -> None:
    from infra.local.sources import DynamoStreamPoller, StreamSource, streams_client

    def poller(stack: LocalStack, seen: list[str]) -> DynamoStreamPoller:
        def invoke(event: dict[str, Any]) -> dict[str, Any]:
            seen.extend(r["dynamodb"]["Keys"]["pk"]["S"] for r in event["Records"])
            return {"batchItemFailures": []}

        source = StreamSource(
            function="EventsFunction", stream_arn=stack.attribute("ReleasesTable", "StreamArn")
        )
        return DynamoStreamPoller(
            streams_client(), boto3.client("sqs"), source, invoke, region=REGION, poll_interval=0
        )

    # Given a consumer that took the first change of the releases table but not the second
    stack = bootstrap(boto3.client, template=template())
    table = stack.ref("ReleasesTable")
    ddb = boto3.client("dynamodb")
    seen: list[str] = []
    before = poller(stack, seen)
    ddb.put_item(TableName=table, Item={"pk": {"S": "release#taken"}})
    before.run_once()
    ddb.put_item(TableName=table, Item={"pk": {"S": "release#pending"}})
    data = json.loads(json.dumps(persistence.capture(REGION, {table: before.position})))
    assert seen == ["release#taken"]
    # When the stack restarts and a new consumer reads the new stream from its start
    for restarted in _restart(data):
        after: list[str] = []
        poller(restarted, after).run_once()
        # Then it gets the change it had not taken, and restoring the items announced nothing
        assert after == ["release#pending"]
        assert {i["pk"]["S"] for i in ddb.scan(TableName=table)["Items"]} == {
            "release#taken",
            "release#pending",
        }
