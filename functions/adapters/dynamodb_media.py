"""Media table: one record per media (``media_id``), changed only by conditional writes.

Why a table of its own rather than items of the releases table: media have their own life
(a record nobody uploads to expires with DynamoDB's TTL, ``expires_at``, as the uploads bucket's
lifecycle rule deletes the bytes), their own writers (the verification function may touch media
and nothing else, the moderators' policy releases and nothing else), and no query in common with
releases. ``used_by`` (a string set) names the releases whose versions attach the media: a media
some release names is never deleted.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from botocore.exceptions import ClientError

from functions.adapters.aws_errors import error_code
from functions.adapters.dynamodb_values import from_item, timestamp, to_item
from functions.domain.media import MediaRecord, MediaStatus, Reason, Rendition
from functions.domain.ports import ConditionFailed


def _parse_time(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def _epoch(value: datetime) -> int:
    return int(value.timestamp())


def _rendition_item(rendition: Rendition) -> dict[str, Any]:
    item: dict[str, Any] = {
        "name": rendition.name,
        "key": rendition.key,
        "content_type": rendition.content_type,
        "bytes": rendition.bytes,
    }
    if rendition.width is not None:
        item["width"] = rendition.width
    if rendition.height is not None:
        item["height"] = rendition.height
    return item


def record_to_item(record: MediaRecord) -> dict[str, Any]:
    values: dict[str, Any] = {
        "media_id": record.media_id,
        "org_id": record.org_id,
        "status": record.status.value,
        "filename": record.filename,
        "content_type": record.content_type,
        "bytes": record.bytes,
        "created_at": timestamp(record.created_at),
        "updated_at": timestamp(record.updated_at),
        "upload_key": record.upload_key,
        "width": record.width,
        "height": record.height,
        "pages": record.pages,
        "sha256": record.sha256,
        "renditions": [_rendition_item(r) for r in record.renditions],
        "reason": record.reason.value if record.reason else None,
        "reason_detail": record.reason_detail,
    }
    if record.used_by:
        values["used_by"] = set(record.used_by)
    return to_item(values)


def _int(value: Any) -> int | None:
    return None if value is None else int(value)


def item_to_record(item: dict[str, Any]) -> MediaRecord:
    values = from_item(item)
    return MediaRecord(
        media_id=values["media_id"],
        org_id=values["org_id"],
        status=MediaStatus(values["status"]),
        filename=values["filename"],
        content_type=values["content_type"],
        bytes=int(values["bytes"]),
        created_at=_parse_time(values["created_at"]),
        updated_at=_parse_time(values["updated_at"]),
        upload_key=values["upload_key"],
        width=_int(values.get("width")),
        height=_int(values.get("height")),
        pages=_int(values.get("pages")),
        sha256=values.get("sha256"),
        renditions=[
            Rendition(
                name=r["name"],
                key=r["key"],
                content_type=r["content_type"],
                bytes=int(r["bytes"]),
                width=_int(r.get("width")),
                height=_int(r.get("height")),
            )
            for r in values.get("renditions") or []
        ],
        reason=Reason(values["reason"]) if values.get("reason") else None,
        reason_detail=values.get("reason_detail"),
        used_by=frozenset(values.get("used_by") or ()),
    )


class DynamoMediaRepository:
    def __init__(self, client: Any, table: str) -> None:
        self._ddb = client
        self._table = table

    def _conditional(self, call: Any, **request: Any) -> Any:
        try:
            return call(TableName=self._table, **request)
        except ClientError as error:
            if error_code(error) == "ConditionalCheckFailedException":
                raise ConditionFailed from None
            raise

    def create(self, record: MediaRecord, *, expires_at: datetime) -> None:
        item = record_to_item(record)
        item["expires_at"] = {"N": str(_epoch(expires_at))}
        self._conditional(self._ddb.put_item, Item=item, ConditionExpression="attribute_not_exists(media_id)")

    def get(self, media_id: str) -> MediaRecord | None:
        response = self._ddb.get_item(
            TableName=self._table, Key={"media_id": {"S": media_id}}, ConsistentRead=True
        )
        item = response.get("Item")
        return item_to_record(item) if item else None

    def claim(self, media_id: str, *, token: str, now: datetime, lease_until: datetime) -> MediaRecord:
        response = self._conditional(
            self._ddb.update_item,
            Key={"media_id": {"S": media_id}},
            UpdateExpression=(
                "SET #status = :verifying, claim = :token, claim_until = :until, updated_at = :now"
            ),
            ConditionExpression=(
                "attribute_exists(media_id) AND "
                "(#status = :awaiting OR (#status = :verifying AND claim_until < :now))"
            ),
            ExpressionAttributeNames={"#status": "status"},
            ExpressionAttributeValues={
                ":verifying": {"S": MediaStatus.VERIFYING.value},
                ":awaiting": {"S": MediaStatus.AWAITING_UPLOAD.value},
                ":token": {"S": token},
                ":until": {"S": timestamp(lease_until)},
                ":now": {"S": timestamp(now)},
            },
            ReturnValues="ALL_NEW",
        )
        return item_to_record(response["Attributes"])

    def finish(self, record: MediaRecord, *, token: str, now: datetime, expires_at: datetime | None) -> None:
        item = record_to_item(record)
        names: dict[str, str] = {}
        values: dict[str, Any] = {":token": {"S": token}, ":verifying": {"S": MediaStatus.VERIFYING.value}}
        sets = []
        for attribute in (
            "status",
            "updated_at",
            "width",
            "height",
            "pages",
            "sha256",
            "renditions",
            "reason",
            "reason_detail",
        ):
            if attribute in item:
                names[f"#{attribute}"] = attribute
                values[f":{attribute}"] = item[attribute]
                sets.append(f"#{attribute} = :{attribute}")
        removes = ["claim", "claim_until"]
        if expires_at is None:
            removes.append("expires_at")
        else:
            sets.append("expires_at = :expires")
            values[":expires"] = {"N": str(_epoch(expires_at))}
        names.setdefault("#status", "status")
        self._conditional(
            self._ddb.update_item,
            Key={"media_id": {"S": record.media_id}},
            UpdateExpression=f"SET {', '.join(sets)} REMOVE {', '.join(removes)}",
            ConditionExpression="#status = :verifying AND claim = :token",
            ExpressionAttributeNames=names,
            ExpressionAttributeValues=values,
        )

    def mark_used(self, media_id: str, *, org_id: str, release_id: str) -> None:
        self._conditional(
            self._ddb.update_item,
            Key={"media_id": {"S": media_id}},
            UpdateExpression="ADD used_by :release",
            ConditionExpression="#status = :ready AND org_id = :org",
            ExpressionAttributeNames={"#status": "status"},
            ExpressionAttributeValues={
                ":release": {"SS": [release_id]},
                ":ready": {"S": MediaStatus.READY.value},
                ":org": {"S": org_id},
            },
        )

    def delete_unused(self, media_id: str, *, org_id: str) -> None:
        self._conditional(
            self._ddb.delete_item,
            Key={"media_id": {"S": media_id}},
            ConditionExpression=(
                "attribute_exists(media_id) AND org_id = :org AND attribute_not_exists(used_by)"
            ),
            ExpressionAttributeValues={":org": {"S": org_id}},
        )
