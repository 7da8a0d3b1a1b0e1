"""Webhooks table: organisations' webhooks and notification addresses, delivery attempts, e-mails sent.

One table, keyed ``pk`` + ``sk`` (declared in ``template.yaml``, TTL on ``expires_at``):

- ``org#{org}`` / ``webhook#{id}``: a webhook (its secrets sealed, as bytes);
- ``org#{org}`` / ``settings``: the organisation's notification address
  (``press-intake keys notify``);
- ``deliveries#{webhook id}`` / ``{time}#{event id}#{attempt}``: one delivery attempt, expiring
  after ``ATTEMPTS_KEPT``;
- ``mail#{sha256 of the job id}`` / ``sent``: an e-mail sent (so a redelivered job sends none),
  expiring after 30 days.

An organisation's webhooks and its address are one query (``pk = org#{org}``). Every webhook
read or write names the organisation in the key, so another organisation's is never reached.
"""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta
from typing import Any

from botocore.exceptions import ClientError

from functions.adapters.aws_errors import error_code
from functions.adapters.dynamodb_values import from_item, timestamp, to_item
from functions.domain.ports import WebhookExists
from functions.domain.webhooks import (
    ATTEMPTS_KEPT,
    AttemptOutcome,
    DeliveryAttempt,
    HookStatus,
    Organisation,
    Webhook,
)

MAIL_KEPT = timedelta(days=30)
SETTINGS = "settings"


def org_pk(org_id: str) -> str:
    return f"org#{org_id}"


def webhook_sk(webhook_id: str) -> str:
    return f"webhook#{webhook_id}"


def _parse_time(value: Any) -> datetime | None:
    return datetime.fromisoformat(str(value).replace("Z", "+00:00")) if value else None


def _bytes(value: Any) -> bytes | None:
    if value is None:
        return None
    return bytes(value)


def hook_to_item(hook: Webhook) -> dict[str, Any]:
    return {
        "pk": org_pk(hook.org_id),
        "sk": webhook_sk(hook.webhook_id),
        "webhook_id": hook.webhook_id,
        "org_id": hook.org_id,
        "url": hook.url,
        "events": list(hook.events),
        "status": hook.status.value,
        "created_at": timestamp(hook.created_at),
        "secret": hook.secret,
        "previous_secret": hook.previous_secret,
        "previous_until": timestamp(hook.previous_until) if hook.previous_until else None,
        "rotated_at": timestamp(hook.rotated_at) if hook.rotated_at else None,
        "failing_since": timestamp(hook.failing_since) if hook.failing_since else None,
        "last_success_at": timestamp(hook.last_success_at) if hook.last_success_at else None,
        "disabled_at": timestamp(hook.disabled_at) if hook.disabled_at else None,
        "disabled_reason": hook.disabled_reason,
    }


def item_to_hook(values: dict[str, Any]) -> Webhook:
    created = _parse_time(values["created_at"])
    secret = _bytes(values["secret"])
    if created is None or secret is None:
        raise ValueError(f"webhook item {values.get('sk')} is incomplete")
    return Webhook(
        webhook_id=str(values["webhook_id"]),
        org_id=str(values["org_id"]),
        url=str(values["url"]),
        events=tuple(str(e) for e in values.get("events") or ()),
        status=HookStatus(values.get("status", HookStatus.ACTIVE.value)),
        created_at=created,
        secret=secret,
        previous_secret=_bytes(values.get("previous_secret")),
        previous_until=_parse_time(values.get("previous_until")),
        rotated_at=_parse_time(values.get("rotated_at")),
        failing_since=_parse_time(values.get("failing_since")),
        last_success_at=_parse_time(values.get("last_success_at")),
        disabled_at=_parse_time(values.get("disabled_at")),
        disabled_reason=values.get("disabled_reason"),
    )


def _condition_failed(error: ClientError) -> bool:
    return error_code(error) == "ConditionalCheckFailedException"


class DynamoWebhooks:
    """``WebhookStore`` on the webhooks table."""

    def __init__(self, client: Any, table: str) -> None:
        self._ddb = client
        self._table = table

    def _key(self, org_id: str, webhook_id: str) -> dict[str, Any]:
        return {"pk": {"S": org_pk(org_id)}, "sk": {"S": webhook_sk(webhook_id)}}

    def create(self, hook: Webhook) -> None:
        try:
            self._ddb.put_item(
                TableName=self._table,
                Item=to_item(hook_to_item(hook)),
                ConditionExpression="attribute_not_exists(pk)",
            )
        except ClientError as error:
            if _condition_failed(error):
                raise WebhookExists(hook.webhook_id) from None
            raise

    def get(self, org_id: str, webhook_id: str) -> Webhook | None:
        response = self._ddb.get_item(
            TableName=self._table, Key=self._key(org_id, webhook_id), ConsistentRead=True
        )
        item = response.get("Item")
        return item_to_hook(from_item(item)) if item else None

    def organisation(self, org_id: str) -> Organisation:
        hooks: list[Webhook] = []
        address: str | None = None
        request: dict[str, Any] = {
            "TableName": self._table,
            "KeyConditionExpression": "pk = :pk",
            "ExpressionAttributeValues": {":pk": {"S": org_pk(org_id)}},
            "ConsistentRead": True,
        }
        while True:
            response = self._ddb.query(**request)
            for raw in response.get("Items", []):
                values = from_item(raw)
                if values["sk"] == SETTINGS:
                    address = values.get("notify_address") or None
                elif str(values["sk"]).startswith("webhook#"):
                    hooks.append(item_to_hook(values))
            if "LastEvaluatedKey" not in response:
                break
            request["ExclusiveStartKey"] = response["LastEvaluatedKey"]
        hooks.sort(key=lambda h: (h.created_at, h.webhook_id))
        return Organisation(org_id=org_id, webhooks=tuple(hooks), notify_address=address)

    def delete(self, org_id: str, webhook_id: str) -> bool:
        response = self._ddb.delete_item(
            TableName=self._table, Key=self._key(org_id, webhook_id), ReturnValues="ALL_OLD"
        )
        return bool(response.get("Attributes"))

    def _update(
        self, org_id: str, webhook_id: str, expression: str, values: dict[str, Any], condition: str
    ) -> dict[str, Any] | None:
        """One conditional update; the item after it, or None when the condition failed."""
        request: dict[str, Any] = {
            "TableName": self._table,
            "Key": self._key(org_id, webhook_id),
            "UpdateExpression": expression,
            "ConditionExpression": condition,
            "ExpressionAttributeNames": {"#status": "status"},
            "ReturnValues": "ALL_NEW",
        }
        if values:
            request["ExpressionAttributeValues"] = to_item(values)
        if "#status" not in expression and "#status" not in condition:
            request.pop("ExpressionAttributeNames")
        try:
            response = self._ddb.update_item(**request)
        except ClientError as error:
            if _condition_failed(error):
                return None
            raise
        return from_item(response["Attributes"])

    def rotate(
        self,
        org_id: str,
        webhook_id: str,
        *,
        secret: bytes,
        previous: bytes,
        previous_until: datetime,
        at: datetime,
    ) -> Webhook | None:
        item = self._update(
            org_id,
            webhook_id,
            "SET secret = :secret, previous_secret = :previous, previous_until = :until, rotated_at = :at",
            {
                ":secret": secret,
                ":previous": previous,
                ":until": timestamp(previous_until),
                ":at": timestamp(at),
            },
            "attribute_exists(pk)",
        )
        return item_to_hook(item) if item else None

    def succeeded(self, org_id: str, webhook_id: str, at: datetime) -> None:
        self._update(
            org_id,
            webhook_id,
            "SET last_success_at = :at REMOVE failing_since",
            {":at": timestamp(at)},
            "attribute_exists(pk)",
        )

    def failed(self, org_id: str, webhook_id: str, at: datetime) -> datetime | None:
        item = self._update(
            org_id,
            webhook_id,
            "SET failing_since = if_not_exists(failing_since, :at)",
            {":at": timestamp(at)},
            "attribute_exists(pk)",
        )
        return _parse_time(item.get("failing_since")) if item else None

    def disable(self, org_id: str, webhook_id: str, *, reason: str, at: datetime) -> bool:
        item = self._update(
            org_id,
            webhook_id,
            "SET #status = :disabled, disabled_at = :at, disabled_reason = :reason",
            {":disabled": HookStatus.DISABLED.value, ":active": HookStatus.ACTIVE.value, ":at": timestamp(at),
             ":reason": reason},
            "#status = :active",
        )  # fmt: skip
        return item is not None

    def enable(self, org_id: str, webhook_id: str) -> Webhook | None:
        item = self._update(
            org_id,
            webhook_id,
            "SET #status = :active REMOVE failing_since, disabled_at, disabled_reason",
            {":active": HookStatus.ACTIVE.value},
            "attribute_exists(pk)",
        )
        return item_to_hook(item) if item else None

    def notify_address(self, org_id: str) -> str | None:
        response = self._ddb.get_item(
            TableName=self._table, Key={"pk": {"S": org_pk(org_id)}, "sk": {"S": SETTINGS}}
        )
        item = response.get("Item")
        return from_item(item).get("notify_address") or None if item else None

    def set_notify_address(self, org_id: str, address: str | None) -> None:
        key = {"pk": {"S": org_pk(org_id)}, "sk": {"S": SETTINGS}}
        if address is None:
            self._ddb.delete_item(TableName=self._table, Key=key)
            return
        self._ddb.put_item(TableName=self._table, Item={**key, "notify_address": {"S": address}})


def attempt_to_item(attempt: DeliveryAttempt) -> dict[str, Any]:
    return {
        "pk": f"deliveries#{attempt.webhook_id}",
        "sk": f"{timestamp(attempt.at)}#{attempt.event_id}#{attempt.attempt:04d}",
        "webhook_id": attempt.webhook_id,
        "event_id": attempt.event_id,
        "event_type": attempt.event_type,
        "attempt": attempt.attempt,
        "at": timestamp(attempt.at),
        "outcome": attempt.outcome.value,
        "status_code": attempt.status_code,
        "latency_ms": attempt.latency_ms,
        "error": attempt.error[:500] if attempt.error else None,
        "expires_at": int((attempt.at + ATTEMPTS_KEPT).timestamp()),
    }


def item_to_attempt(values: dict[str, Any]) -> DeliveryAttempt:
    at = _parse_time(values["at"])
    if at is None:
        raise ValueError(f"delivery item {values.get('sk')} has no time")
    status = values.get("status_code")
    latency = values.get("latency_ms")
    return DeliveryAttempt(
        webhook_id=str(values["webhook_id"]),
        event_id=str(values["event_id"]),
        event_type=str(values["event_type"]),
        attempt=int(values["attempt"]),
        at=at,
        outcome=AttemptOutcome(values["outcome"]),
        status_code=int(status) if status is not None else None,
        latency_ms=int(latency) if latency is not None else None,
        error=values.get("error"),
    )


def _mail_key(job_id: str) -> dict[str, Any]:
    digest = hashlib.sha256(job_id.encode("utf-8")).hexdigest()
    return {"pk": {"S": f"mail#{digest}"}, "sk": {"S": "sent"}}


class DynamoDeliveryLog:
    """``DeliveryLog`` on the webhooks table."""

    def __init__(self, client: Any, table: str) -> None:
        self._ddb = client
        self._table = table

    def record(self, attempt: DeliveryAttempt) -> None:
        self._ddb.put_item(TableName=self._table, Item=to_item(attempt_to_item(attempt)))

    def recent(self, webhook_id: str, *, limit: int) -> list[DeliveryAttempt]:
        response = self._ddb.query(
            TableName=self._table,
            KeyConditionExpression="pk = :pk",
            ExpressionAttributeValues={":pk": {"S": f"deliveries#{webhook_id}"}},
            ScanIndexForward=False,
            Limit=limit,
        )
        return [item_to_attempt(from_item(item)) for item in response.get("Items", [])]

    def mailed(self, job_id: str) -> bool:
        response = self._ddb.get_item(TableName=self._table, Key=_mail_key(job_id), ConsistentRead=True)
        return "Item" in response

    def mark_mailed(self, job_id: str, at: datetime) -> None:
        self._ddb.put_item(
            TableName=self._table,
            Item={
                **_mail_key(job_id),
                "at": {"S": timestamp(at)},
                "expires_at": {"N": str(int((at + MAIL_KEPT).timestamp()))},
            },
        )
