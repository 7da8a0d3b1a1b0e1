"""Reading items by key in batches: every key asked for once per batch of 100, and what DynamoDB
leaves unprocessed asked for again."""

from __future__ import annotations

from typing import Any

from functions.adapters.dynamodb_batch import BATCH_GET, batch_get


class _Table:
    """A stand-in DynamoDB client holding one table; it leaves the last key of each first batch
    unprocessed, as DynamoDB may under load."""

    def __init__(self, items: dict[str, dict[str, Any]]) -> None:
        self.items = items
        self.batches: list[list[str]] = []

    def batch_get_item(self, RequestItems: dict[str, Any]) -> dict[str, Any]:
        (table, asked), *_ = RequestItems.items()
        assert asked["ConsistentRead"] is True
        ids = [key["id"]["S"] for key in asked["Keys"]]
        first = ids not in self.batches and len(ids) > 1
        self.batches.append(ids)
        served, left = (ids[:-1], ids[-1:]) if first else (ids, [])
        response: dict[str, Any] = {"Responses": {table: [self.items[i] for i in served if i in self.items]}}
        if left:
            response["UnprocessedKeys"] = {table: {**asked, "Keys": [{"id": {"S": i}} for i in left]}}
        return response


def test_every_item_is_read_however_many_keys_and_whatever_is_left_unprocessed() -> None:
    # Given a table of 250 items and a client that leaves a key of each batch unprocessed
    items = {f"r{n}": {"id": {"S": f"r{n}"}, "n": {"N": str(n)}} for n in range(250)}
    client = _Table(items)
    keys = [{"id": {"S": f"r{n}"}} for n in range(260)]  # ten of them hold nothing
    # When they are read by key
    found = batch_get(client, "releases", keys)
    # Then every item is there once, no batch held more than DynamoDB takes, the unprocessed
    # keys were asked for again
    assert sorted(item["id"]["S"] for item in found) == sorted(items)
    assert max(len(batch) for batch in client.batches) == BATCH_GET
    assert [len(batch) for batch in client.batches] == [100, 1, 100, 1, 60, 1]


def test_no_keys_asks_nothing() -> None:
    client = _Table({})
    assert batch_get(client, "releases", []) == []
    assert client.batches == []
