"""Keys table: one item per API key, holding only the hash of its secret (and its
organisation's usage key, for the authorizer's one read).

GSI ``by_org_v2`` (``org_id``, ``created_at``) holds only the keys: an organisation's list reads
its ids there and the items by id. ``by_org``, the form projecting every attribute, remains only
on a stack being upgraded (the template's ``OrgIndexMigration``, stack output
``KeysOrgIndexName``); the list reads either the same way."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from botocore.exceptions import ClientError

from functions.adapters.aws_errors import error_code
from functions.adapters.dynamodb_batch import batch_get
from functions.adapters.dynamodb_values import timestamp
from functions.domain.keys import LAST_USED_GRANULARITY, REVOKED, KeyRecord, UsageKey

BY_ORG = "by_org_v2"


def _parse(value: dict[str, str] | None) -> datetime | None:
    if not value:
        return None
    return datetime.fromisoformat(value["S"].replace("Z", "+00:00"))


def _usage_key(item: dict[str, Any]) -> UsageKey | None:
    if "usage_key_id" not in item or "usage_key" not in item:
        return None  # a key issued before per-organisation limits existed
    return UsageKey(key_id=item["usage_key_id"]["S"], value=item["usage_key"]["S"])


def _record(item: dict[str, Any]) -> KeyRecord:
    created = _parse(item["created_at"])
    if created is None:
        raise ValueError("key item without created_at")
    return KeyRecord(
        key_id=item["key_id"]["S"],
        org_id=item["org_id"]["S"],
        org_name=item.get("org_name", {}).get("S", ""),
        role=item.get("role", {}).get("S", "submitter"),
        status=item["status"]["S"],
        secret_hash=item["secret_hash"]["S"],
        created_at=created,
        last_used_at=_parse(item.get("last_used_at")),
        revoked_at=_parse(item.get("revoked_at")),
        usage_key=_usage_key(item),
    )


class KeyAlreadyExists(Exception):
    pass


class DynamoKeyRepository:
    def __init__(self, client: Any, table: str, *, org_index: str = BY_ORG) -> None:
        self._ddb = client
        self._table = table
        self._org_index = org_index

    def create(self, record: KeyRecord) -> None:
        item = {
            "key_id": {"S": record.key_id},
            "org_id": {"S": record.org_id},
            "org_name": {"S": record.org_name},
            "role": {"S": record.role},
            "status": {"S": record.status},
            "secret_hash": {"S": record.secret_hash},
            "created_at": {"S": timestamp(record.created_at)},
        }
        if record.usage_key is not None:
            item["usage_key_id"] = {"S": record.usage_key.key_id}
            item["usage_key"] = {"S": record.usage_key.value}
        try:
            self._ddb.put_item(
                TableName=self._table, Item=item, ConditionExpression="attribute_not_exists(key_id)"
            )
        except ClientError as error:
            if error_code(error) == "ConditionalCheckFailedException":
                raise KeyAlreadyExists(record.key_id) from None
            raise

    def get(self, key_id: str) -> KeyRecord | None:
        # Strongly consistent: a revocation is visible to the very next uncached authorization.
        item = self._ddb.get_item(
            TableName=self._table, Key={"key_id": {"S": key_id}}, ConsistentRead=True
        ).get("Item")
        return _record(item) if item else None

    def touch(self, key_id: str, now: datetime) -> None:
        """Record use, at most once per LAST_USED_GRANULARITY (a conditional no-op otherwise)."""
        try:
            self._ddb.update_item(
                TableName=self._table,
                Key={"key_id": {"S": key_id}},
                UpdateExpression="SET last_used_at = :now",
                ConditionExpression=(
                    "attribute_exists(key_id) AND "
                    "(attribute_not_exists(last_used_at) OR last_used_at < :cutoff)"
                ),
                ExpressionAttributeValues={
                    ":now": {"S": timestamp(now)},
                    ":cutoff": {"S": timestamp(now - LAST_USED_GRANULARITY)},
                },
            )
        except ClientError as error:
            if error_code(error) != "ConditionalCheckFailedException":
                raise

    def revoke(self, key_id: str, now: datetime) -> KeyRecord | None:
        """Mark the key revoked; ``None`` if there is no such key. Revoking twice is harmless."""
        try:
            response = self._ddb.update_item(
                TableName=self._table,
                Key={"key_id": {"S": key_id}},
                UpdateExpression="SET #status = :revoked, revoked_at = if_not_exists(revoked_at, :now)",
                ConditionExpression="attribute_exists(key_id)",
                ExpressionAttributeNames={"#status": "status"},
                ExpressionAttributeValues={":revoked": {"S": REVOKED}, ":now": {"S": timestamp(now)}},
                ReturnValues="ALL_NEW",
            )
        except ClientError as error:
            if error_code(error) == "ConditionalCheckFailedException":
                return None
            raise
        return _record(response["Attributes"])

    def list(self, org_id: str | None = None) -> list[KeyRecord]:
        """Keys of one organisation (their ids from the index, the items by id) or of all (an
        operator's scan of a small table)."""
        items: list[dict[str, Any]] = []
        request: dict[str, Any] = {"TableName": self._table}
        if org_id:
            request.update(
                IndexName=self._org_index,
                KeyConditionExpression="org_id = :org",
                ExpressionAttributeValues={":org": {"S": org_id}},
                ProjectionExpression="key_id",
            )
        while True:
            response = self._ddb.query(**request) if org_id else self._ddb.scan(**request)
            items.extend(response.get("Items", []))
            if "LastEvaluatedKey" not in response:
                break
            request["ExclusiveStartKey"] = response["LastEvaluatedKey"]
        if org_id:
            items = batch_get(self._ddb, self._table, [{"key_id": item["key_id"]} for item in items])
        records = [_record(item) for item in items]
        return sorted(records, key=lambda r: (r.org_id, r.created_at))
