"""Catalogs as they used to be kept: one item of the releases table each (``pk = catalog#{name}``).

Read-only: catalogs now live in S3 (``functions.adapters.s3_catalog``), which reads these items
once, for a catalog that has no object yet, so that an upgraded stack keeps its entries and
sequence numbers.
"""

from __future__ import annotations

import json
from typing import Any

Entries = list[dict[str, Any]]


def catalog_pk(name: str) -> str:
    return f"catalog#{name}"


class DynamoLegacyCatalogs:
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
