"""The outbox index without a hot key: marks spread over shards, the sweep reads every one."""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest

from functions.adapters.dynamodb_state import OUTBOX_SHARDS, DynamoStateRepository, outbox_shard
from infra.bootstrap import LocalStack
from tests.functional.conftest import Faults, receive_all
from tests.functional.test_reliability import _sweep
from tests.helpers import ApiClient, personnel_release


def _marks(stack: LocalStack, dynamodb: Any) -> dict[str, str]:
    items = dynamodb.scan(TableName=stack.ref("ReleasesTable"))["Items"]
    return {i["release_id"]["S"]: i["outbox"]["S"] for i in items if "outbox" in i}


def test_marks_spread_over_the_shards_and_the_sweep_sends_every_one(
    api: ApiClient,
    stack: LocalStack,
    lambda_clients: dict[str, Any],
    faults: Faults,
    dynamodb: Any,
    sqs: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Given forty submissions whose moderation message could not be sent (all left marked)
    faults.fail(lambda_clients["sqs"], "SendMessage", times=1000)
    ids = [
        api.post("/releases", personnel_release(headline=f"Sharded outbox release {n:02d}")).json()["id"]
        for n in range(40)
    ]
    faults.clear()

    # Then their marks name their target and their own shard, over more than one partition
    marks = _marks(stack, dynamodb)
    assert set(marks) == set(ids)
    assert all(marks[i] == f"moderation#{outbox_shard(i)}" for i in ids)
    partitions = Counter(marks.values())
    assert 4 <= len(partitions) <= OUTBOX_SHARDS  # (fewer than 4 of 8 for 40 random ids: < 1e-15)
    assert max(partitions.values()) <= 40 // 2  # no partition holds most of them

    # And the sweep, querying every shard, sends each once
    assert _sweep(stack, monkeypatch)["sent"] == 40
    messages = receive_all(sqs, stack.ref("ModerationQueue"))
    assert sorted(m["json"]["release_id"] for m in messages) == sorted(ids)
    assert _marks(stack, dynamodb) == {}


def test_a_mark_written_before_shards_is_still_swept(
    api: ApiClient, stack: LocalStack, dynamodb: Any, sqs: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a release whose mark is the bare target (as items were marked before shards)
    release_id = api.post("/releases", personnel_release()).json()["id"]
    receive_all(sqs, stack.ref("ModerationQueue"))
    dynamodb.update_item(
        TableName=stack.ref("ReleasesTable"),
        Key={"pk": {"S": f"release#{release_id}"}},
        UpdateExpression="SET outbox = :t, outbox_at = :at",
        ExpressionAttributeValues={":t": {"S": "moderation"}, ":at": {"S": "2026-01-01T00:00:00.000000Z"}},
    )
    assert DynamoStateRepository(dynamodb, stack.ref("ReleasesTable")).get(release_id).outbox == "moderation"  # type: ignore[union-attr]

    # When the sweep runs, Then it sends it
    assert _sweep(stack, monkeypatch)["sent"] == 1
    assert [m["json"]["release_id"] for m in receive_all(sqs, stack.ref("ModerationQueue"))] == [release_id]
