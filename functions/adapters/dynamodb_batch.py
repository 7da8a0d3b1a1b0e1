"""Reading items by key in batches: ``BatchGetItem`` takes at most ``BATCH_GET`` keys and may
leave some unprocessed, which are asked for again until none is left."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

BATCH_GET = 100  # keys per BatchGetItem, DynamoDB's limit


def batch_get(ddb: Any, table: str, keys: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """The items (in DynamoDB's JSON) of ``table`` at ``keys``, read strongly consistent; a key
    without an item gives nothing. In no particular order."""
    found: list[dict[str, Any]] = []
    for start in range(0, len(keys), BATCH_GET):
        request: dict[str, Any] = {
            table: {"Keys": list(keys[start : start + BATCH_GET]), "ConsistentRead": True}
        }
        while request:
            response = ddb.batch_get_item(RequestItems=request)
            found.extend(response.get("Responses", {}).get(table, []))
            request = response.get("UnprocessedKeys") or {}
    return found
