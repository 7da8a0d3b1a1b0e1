"""Releases table: one state item per release, changed only by conditional writes.

Keys and indexes (declared in ``template.yaml``):

- ``pk`` = ``release#{id}`` for state items, ``digest#{org}#{sha256}`` for content fingerprints;
- GSI ``by_org`` (``org_id``, ``created_at``) lists an organisation's releases newest first;
- GSI ``by_org_status`` (``org_status`` = ``{org}#{status}``, ``created_at``) filters by status;
- GSI ``outbox`` (``outbox``, ``outbox_at``) is sparse: only releases whose queue message may
  not have been sent yet carry ``outbox``, which is what the reconciler sweeps.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from boto3.dynamodb.types import TypeDeserializer, TypeSerializer
from botocore.exceptions import BotoCoreError, ClientError

from functions.domain.ports import ConditionFailed, RecordExists
from functions.domain.prescreen import Flag
from functions.domain.records import OutboxEntry, ReleaseRecord

log = logging.getLogger(__name__)

BY_ORG = "by_org"
BY_ORG_STATUS = "by_org_status"
OUTBOX = "outbox"

_serializer = TypeSerializer()
_deserializer = TypeDeserializer()


def release_pk(release_id: str) -> str:
    return f"release#{release_id}"


def digest_pk(org_id: str, digest: str) -> str:
    return f"digest#{org_id}#{digest}"


def timestamp(value: datetime) -> str:
    """UTC, fixed width: sorts lexicographically in time order (GSI sort keys)."""
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _parse_time(value: str | None) -> datetime | None:
    if not value:
        return None
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def _serialize(values: dict[str, Any]) -> dict[str, Any]:
    return {k: _serializer.serialize(v) for k, v in values.items() if v is not None}


def _deserialize(item: dict[str, Any]) -> dict[str, Any]:
    return {k: _deserializer.deserialize(v) for k, v in item.items()}


def _history(action: str, actor: str, now: datetime, version: int, status: str) -> dict[str, Any]:
    return {"at": timestamp(now), "action": action, "actor": actor, "version": version, "status": status}


def record_to_item(record: ReleaseRecord) -> dict[str, Any]:
    return {
        "pk": release_pk(record.release_id),
        "release_id": record.release_id,
        "org_id": record.org_id,
        "org_name": record.org_name,
        "status": record.status,
        "org_status": f"{record.org_id}#{record.status}",
        "version": record.version,
        "category": record.category,
        "headline": record.headline,
        "language": record.language,
        "created_at": timestamp(record.created_at),
        "updated_at": timestamp(record.updated_at),
        "release_at": record.release_at.isoformat() if record.release_at else None,
        "published_at": timestamp(record.published_at) if record.published_at else None,
        "object_key": record.object_key,
        "payload_hash": record.payload_hash,
        "content_digest": record.content_digest,
        "prescreen": [{"code": f.code, "message": f.message} for f in record.prescreen],
        "decision": record.decision,
        "public_url": record.public_url,
        "outbox": record.outbox,
        "outbox_at": timestamp(record.outbox_at) if record.outbox_at else None,
    }


def item_to_record(values: dict[str, Any]) -> ReleaseRecord:
    created = _parse_time(values["created_at"])
    updated = _parse_time(values["updated_at"])
    if created is None or updated is None:
        raise ValueError(f"state item {values.get('pk')} has no timestamps")
    return ReleaseRecord(
        release_id=values["release_id"],
        org_id=values["org_id"],
        org_name=values.get("org_name", ""),
        status=values["status"],
        version=int(values["version"]),
        category=values["category"],
        headline=values["headline"],
        language=values.get("language", "en"),
        created_at=created,
        updated_at=updated,
        release_at=_parse_time(values.get("release_at")),
        published_at=_parse_time(values.get("published_at")),
        object_key=values["object_key"],
        payload_hash=values.get("payload_hash", ""),
        content_digest=values.get("content_digest", ""),
        prescreen=[Flag(str(f["code"]), str(f["message"])) for f in values.get("prescreen", [])],
        decision=_plain(values.get("decision")),
        public_url=values.get("public_url"),
        outbox=values.get("outbox"),
        outbox_at=_parse_time(values.get("outbox_at")),
    )


def _plain(value: Any) -> Any:
    """Decimals from DynamoDB back to ints (we never store fractional numbers)."""
    from decimal import Decimal

    if isinstance(value, Decimal):
        return int(value)
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def _is_condition_failure(error: ClientError) -> bool:
    return error.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException"


class DynamoStateRepository:
    def __init__(self, client: Any, table: str) -> None:
        self._ddb = client
        self._table = table

    # -- writes -------------------------------------------------------------------------------

    def create(self, record: ReleaseRecord, *, actor: str) -> None:
        item = record_to_item(record)
        item["history"] = [_history("submit", actor, record.created_at, record.version, record.status)]
        try:
            self._ddb.put_item(
                TableName=self._table, Item=_serialize(item), ConditionExpression="attribute_not_exists(pk)"
            )
        except ClientError as error:
            if _is_condition_failure(error):
                existing = self.get(record.release_id)
                if existing is not None:
                    raise RecordExists(existing) from None
            raise
        self._remember_digest(record, record.created_at)

    def _remember_digest(self, record: ReleaseRecord, when: datetime) -> None:
        """Fingerprint -> release, for the duplicate flag. A hint, not a commit: written after the
        state item (no transaction, which would double the write cost) and never failing it."""
        digest_item = {
            "pk": digest_pk(record.org_id, record.content_digest),
            "release_id": record.release_id,
            "seen_at": timestamp(when),
        }
        try:
            self._ddb.put_item(TableName=self._table, Item=_serialize(digest_item))
        except (ClientError, BotoCoreError):
            log.warning("content fingerprint not recorded for %s", record.release_id, exc_info=True)

    def revise(
        self, record: ReleaseRecord, *, expected_version: int, from_statuses: Sequence[str], actor: str
    ) -> None:
        item = record_to_item(record)
        for key in ("pk", "release_id", "org_id", "org_name", "created_at", "decision", "public_url"):
            item.pop(key, None)
        item = {k: v for k, v in item.items() if v is not None}
        names = {f"#f{i}": key for i, key in enumerate(item)}
        values: dict[str, Any] = {f":v{i}": _serializer.serialize(v) for i, v in enumerate(item.values())}
        sets = [f"#f{i} = :v{i}" for i in range(len(item))]
        removes = [key for key in ("release_at",) if getattr(record, key) is None]
        names.update({f"#r{i}": key for i, key in enumerate(removes)})
        names["#history"] = "history"
        names["#status"] = "status"
        names["#version"] = "version"
        names["#org"] = "org_id"
        values[":h"] = _serializer.serialize(
            [_history("revise", actor, record.updated_at, record.version, record.status)]
        )
        values[":expected"] = {"N": str(expected_version)}
        values[":org"] = {"S": record.org_id}
        status_values = {f":s{i}": {"S": s} for i, s in enumerate(from_statuses)}
        values.update(status_values)
        expression = "SET " + ", ".join([*sets, "#history = list_append(#history, :h)"])
        if removes:
            expression += " REMOVE " + ", ".join(f"#r{i}" for i in range(len(removes)))
        try:
            self._ddb.update_item(
                TableName=self._table,
                Key={"pk": {"S": release_pk(record.release_id)}},
                UpdateExpression=expression,
                ConditionExpression=(
                    f"#version = :expected AND #org = :org AND #status IN ({', '.join(status_values)})"
                ),
                ExpressionAttributeNames=names,
                ExpressionAttributeValues=values,
            )
        except ClientError as error:
            if _is_condition_failure(error):
                raise ConditionFailed from None
            raise
        self._remember_digest(record, record.updated_at)

    def transition(
        self,
        release_id: str,
        *,
        org_id: str,
        expected_version: int,
        from_statuses: Sequence[str],
        to_status: str,
        action: str,
        actor: str,
        now: datetime,
        decision: dict[str, Any] | None = None,
        outbox: str | None = None,
        published_at: datetime | None = None,
        public_url: str | None = None,
        current: ReleaseRecord | None = None,
    ) -> ReleaseRecord:
        """One conditional status change, on (version, organisation and status).

        The organisation and status are checked through ``org_status`` (always written as
        ``{org_id}#{status}`` with them), so the write names only attributes it may change plus
        ``pk`` and ``version``: what the moderators' IAM policy allows (``dynamodb:Attributes``
        counts the attributes a condition reads). Given ``current`` (the record as read at
        ``expected_version``), only the changed attributes come back (``UPDATED_NEW``: that
        policy refuses ``ALL_NEW``) and the result is ``current`` with them applied.
        """
        if current is not None and (current.release_id, current.version) != (release_id, expected_version):
            raise ValueError("current must be the record being changed, at the expected version")
        org_statuses = {f":o{i}": {"S": f"{org_id}#{s}"} for i, s in enumerate(from_statuses)}
        sets = [
            "#status = :to",
            "org_status = :org_status",
            "updated_at = :now",
            "#history = list_append(#history, :h)",
        ]
        values: dict[str, Any] = {
            ":to": {"S": to_status},
            ":now": {"S": timestamp(now)},
            ":h": _serializer.serialize([_history(action, actor, now, expected_version, to_status)]),
            ":expected": {"N": str(expected_version)},
            **org_statuses,
        }
        if decision is not None:
            sets.append("decision = :decision")
            values[":decision"] = _serializer.serialize(decision)
        if published_at is not None:
            sets.append("published_at = :published_at")
            values[":published_at"] = {"S": timestamp(published_at)}
        if public_url is not None:
            sets.append("public_url = :public_url")
            values[":public_url"] = {"S": public_url}
        if outbox is not None:
            sets.extend(["outbox = :outbox", "outbox_at = :now"])
            values[":outbox"] = {"S": outbox}
            remove = ""
        else:
            remove = " REMOVE outbox, outbox_at"
        values[":org_status"] = {"S": f"{org_id}#{to_status}"}
        try:
            response = self._ddb.update_item(
                TableName=self._table,
                Key={"pk": {"S": release_pk(release_id)}},
                UpdateExpression="SET " + ", ".join(sets) + remove,
                ConditionExpression=f"#version = :expected AND org_status IN ({', '.join(org_statuses)})",
                ExpressionAttributeNames={"#status": "status", "#version": "version", "#history": "history"},
                ExpressionAttributeValues=values,
                ReturnValues="ALL_NEW" if current is None else "UPDATED_NEW",
            )
        except ClientError as error:
            if _is_condition_failure(error):
                raise ConditionFailed from None
            raise
        if current is None:
            return item_to_record(_deserialize(response["Attributes"]))
        changed = {**record_to_item(current), **_deserialize(response.get("Attributes", {}))}
        if outbox is None:  # removed: UPDATED_NEW returns nothing for it
            changed.update(outbox=None, outbox_at=None)
        return item_to_record(changed)

    def clear_outbox(self, release_id: str, version: int) -> None:
        try:
            self._ddb.update_item(
                TableName=self._table,
                Key={"pk": {"S": release_pk(release_id)}},
                UpdateExpression="REMOVE outbox, outbox_at",
                ConditionExpression="#version = :v AND attribute_exists(outbox)",
                ExpressionAttributeNames={"#version": "version"},
                ExpressionAttributeValues={":v": {"N": str(version)}},
            )
        except ClientError as error:
            if not _is_condition_failure(error):
                raise
            # Already cleared, or a newer version re-marked it: nothing to do.

    # -- reads --------------------------------------------------------------------------------

    def get(self, release_id: str) -> ReleaseRecord | None:
        response = self._ddb.get_item(
            TableName=self._table, Key={"pk": {"S": release_pk(release_id)}}, ConsistentRead=True
        )
        item = response.get("Item")
        return item_to_record(_deserialize(item)) if item else None

    def find_digest(self, org_id: str, content_digest: str) -> str | None:
        response = self._ddb.get_item(
            TableName=self._table, Key={"pk": {"S": digest_pk(org_id, content_digest)}}
        )
        item = response.get("Item")
        return str(item["release_id"]["S"]) if item else None

    def list_for_org(
        self, org_id: str, *, status: str | None, limit: int, cursor: dict[str, Any] | None
    ) -> tuple[list[ReleaseRecord], dict[str, Any] | None]:
        if status:
            index, key_name, key_value = BY_ORG_STATUS, "org_status", f"{org_id}#{status}"
        else:
            index, key_name, key_value = BY_ORG, "org_id", org_id
        query: dict[str, Any] = {
            "TableName": self._table,
            "IndexName": index,
            "KeyConditionExpression": "#k = :k",
            "ExpressionAttributeNames": {"#k": key_name},
            "ExpressionAttributeValues": {":k": {"S": key_value}},
            "ScanIndexForward": False,
            "Limit": limit,
        }
        if cursor:
            query["ExclusiveStartKey"] = {
                "pk": {"S": release_pk(cursor["id"])},
                "created_at": {"S": cursor["created_at"]},
                key_name: {"S": key_value},
            }
        response = self._ddb.query(**query)
        records = [item_to_record(_deserialize(item)) for item in response.get("Items", [])]
        last = response.get("LastEvaluatedKey")
        next_cursor = None
        if last:
            next_cursor = {
                "id": last["pk"]["S"].removeprefix("release#"),
                "created_at": last["created_at"]["S"],
            }
        return records, next_cursor

    def pending_outbox(self, target: str, *, older_than: datetime, limit: int) -> list[OutboxEntry]:
        response = self._ddb.query(
            TableName=self._table,
            IndexName=OUTBOX,
            KeyConditionExpression="outbox = :t AND outbox_at <= :cut",
            ExpressionAttributeValues={":t": {"S": target}, ":cut": {"S": timestamp(older_than)}},
            Limit=limit,
        )
        entries = []
        for raw in response.get("Items", []):
            values = _deserialize(raw)
            entries.append(
                OutboxEntry(
                    release_id=values["release_id"],
                    version=int(values["version"]),
                    target=values["outbox"],
                    org_id=values["org_id"],
                    category=values["category"],
                )
            )
        return entries
