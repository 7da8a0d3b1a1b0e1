"""Catalogs: the newest entries of the site and of each category, one item each.

A catalog is small and bounded (the feed size), so reading and rewriting it costs the same
however many releases came before. Each change is a conditional put on the catalog's sequence
number, retried on conflict: concurrent publications never lose an entry.
"""

from __future__ import annotations

import json
import random
import time
from collections.abc import Callable
from typing import Any

from botocore.exceptions import ClientError

_RETRIES = 25
Entries = list[dict[str, Any]]


def catalog_pk(name: str) -> str:
    return f"catalog#{name}"


class DynamoCatalogs:
    def __init__(self, client: Any, table: str) -> None:
        self._ddb = client
        self._table = table

    def get(self, name: str) -> tuple[Entries, int]:
        item = self._ddb.get_item(
            TableName=self._table, Key={"pk": {"S": catalog_pk(name)}}, ConsistentRead=True
        ).get("Item")
        if not item:
            return [], 0
        entries: Entries = json.loads(item["entries"]["S"])
        return entries, int(item["seq"]["N"])

    def update(self, name: str, change: Callable[[Entries], Entries]) -> tuple[Entries, int]:
        """Apply ``change`` atomically; returns the catalog after it and its sequence number."""
        for attempt in range(_RETRIES):
            entries, seq = self.get(name)
            changed = change(entries)
            if changed == entries:
                return entries, seq  # nothing to do (a redelivered message)
            condition = (
                {"ConditionExpression": "attribute_not_exists(pk)"}
                if seq == 0
                else {
                    "ConditionExpression": "seq = :seq",
                    "ExpressionAttributeValues": {":seq": {"N": str(seq)}},
                }
            )
            try:
                self._ddb.put_item(
                    TableName=self._table,
                    Item={
                        "pk": {"S": catalog_pk(name)},
                        "entries": {"S": json.dumps(changed, separators=(",", ":"))},
                        "seq": {"N": str(seq + 1)},
                    },
                    **condition,
                )
                return changed, seq + 1
            except ClientError as error:
                if error.response.get("Error", {}).get("Code") != "ConditionalCheckFailedException":
                    raise
                time.sleep(random.uniform(0, 0.01 * (attempt + 1)))  # noqa: S311 - jitter, not crypto
        raise RuntimeError(f"catalog {name} kept changing; giving up after {_RETRIES} attempts")
