"""Releases table: one state item per release, changed only by conditional writes.

Keys and indexes (declared in ``template.yaml``):

- ``pk`` = ``release#{id}`` for state items, ``digest#{org}#{sha256}`` for content fingerprints;
- GSI ``by_org_v2`` (``org_id``, ``created_at``) lists an organisation's releases newest first;
- GSI ``by_org_status_v2`` (``org_status`` = ``{org}#{status}``, ``created_at``) filters by status.
  Both project only ``LISTED``, what a listing shows: a write that changes none of those
  attributes (an outbox mark cleared) writes nothing to them. ``by_org`` and
  ``by_org_status``, their forms projecting every attribute, remain only on a stack being
  upgraded (the template's ``OrgIndexMigration``); which pair is read is the repository's setting;
- GSI ``outbox`` (``outbox``, ``outbox_at``) is sparse: only releases whose queue message may
  not have been sent yet carry ``outbox``, which is what the outbox sweep reads. Its value is
  ``{target}#{shard}`` (``outbox_value``): a release's shard is fixed by its id, one of
  ``OUTBOX_SHARDS``, so that marks spread over that many index partitions instead of one per
  target (a partition takes 1,000 writes per second); the sweep queries every shard, and the
  bare ``{target}`` partition that items marked before shards still use.

The organisation indexes are keyed by organisation (``by_org_v2``) and organisation with status
(``by_org_status_v2``): all of one organisation's writes land in one partition of each, which
DynamoDB limits to 1,000 write units and 3,000 read units per second (README, "Capacity").

The state item keeps the newest ``HISTORY_LIMIT`` entries of the release's trail (``history``:
when, which action, who, at which version, to which status); older ones are dropped by the write
that would make more. Every change, old and new image, also goes to the table's stream.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Iterator, Sequence
from datetime import datetime
from typing import Any, Unpack

from botocore.exceptions import BotoCoreError, ClientError

from functions.adapters.aws_errors import error_code
from functions.adapters.dynamodb_batch import batch_get
from functions.adapters.dynamodb_values import from_item, timestamp, to_attribute, to_item
from functions.domain.ports import ConditionFailed, RecordExists, TransitionChanges
from functions.domain.prescreen import Flag
from functions.domain.records import Correction, OutboxEntry, OutboxTarget, ReleaseRecord
from functions.domain.states import TRANSITIONS, Action, Status

log = logging.getLogger(__name__)

BY_ORG = "by_org_v2"
BY_ORG_STATUS = "by_org_status_v2"
OUTBOX = "outbox"
OUTBOX_SHARDS = 8
HISTORY_LIMIT = 10

# What a listing reads (``list_for_org``, the API's ``GET /releases``): every attribute the
# release's view shows. The v2 organisation indexes project these (their own keys and the
# table's aside: template.yaml, held equal to this by a unit test).
LISTED = (
    "release_id", "org_id", "status", "version", "category", "headline", "language", "created_at",
    "updated_at", "release_at", "published_at", "prescreen", "decision", "public_url",
    "public_version", "correction_note", "corrections",
)  # fmt: skip


def release_pk(release_id: str) -> str:
    return f"release#{release_id}"


def digest_pk(org_id: str, digest: str) -> str:
    return f"digest#{org_id}#{digest}"


def outbox_shard(release_id: str) -> int:
    """The release's outbox shard: stable (the same for every mark of the release), spread evenly."""
    return int(hashlib.sha256(release_id.encode()).hexdigest()[:8], 16) % OUTBOX_SHARDS


def outbox_value(target: OutboxTarget, release_id: str) -> str:
    return f"{target.value}#{outbox_shard(release_id)}"


def outbox_target(value: str) -> OutboxTarget:
    """The target a mark names (``{target}#{shard}``, or a bare ``{target}`` written before shards)."""
    return OutboxTarget(value.split("#", 1)[0])


def _parse_time(value: str | None) -> datetime | None:
    if not value:
        return None
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def _history(action: Action, actor: str, now: datetime, version: int, status: Status) -> dict[str, Any]:
    return {
        "at": timestamp(now),
        "action": action.value,
        "actor": actor,
        "version": version,
        "status": status.value,
    }


def record_to_item(record: ReleaseRecord) -> dict[str, Any]:
    return {
        "pk": release_pk(record.release_id),
        "release_id": record.release_id,
        "org_id": record.org_id,
        "org_name": record.org_name,
        "status": record.status.value,
        "org_status": f"{record.org_id}#{record.status.value}",
        "version": record.version,
        "category": record.category,
        "headline": record.headline,
        "language": record.language,
        "created_at": timestamp(record.created_at),
        "updated_at": timestamp(record.updated_at),
        "release_at": record.release_at.isoformat() if record.release_at else None,
        "published_at": timestamp(record.published_at) if record.published_at else None,
        "object_key": record.object_key,
        "payload_hash": record.payload_hash or None,  # none for a release no retry names
        "content_digest": record.content_digest,
        "prescreen": [{"code": f.code, "message": f.message} for f in record.prescreen],
        "decision": record.decision,
        "public_url": record.public_url,
        "outbox": outbox_value(record.outbox, record.release_id) if record.outbox else None,
        "outbox_at": timestamp(record.outbox_at) if record.outbox_at else None,
        "public_version": record.public_version,
        "correction_note": record.correction_note,
        "corrections": [c.as_item() for c in record.corrections] or None,
    }


def item_to_record(values: dict[str, Any]) -> ReleaseRecord:
    created = _parse_time(values["created_at"])
    updated = _parse_time(values["updated_at"])
    if created is None or updated is None:
        raise ValueError(f"state item {values.get('pk')} has no timestamps")
    published_at = _parse_time(values.get("published_at"))
    public_version = values.get("public_version")
    if public_version is None and published_at is not None:
        public_version = values["version"]  # published before versions and public ones could differ
    return ReleaseRecord(
        release_id=values["release_id"],
        org_id=values["org_id"],
        org_name=values.get("org_name", ""),
        status=Status(values["status"]),
        version=int(values["version"]),
        category=values["category"],
        headline=values["headline"],
        language=values.get("language", "en"),
        created_at=created,
        updated_at=updated,
        release_at=_parse_time(values.get("release_at")),
        published_at=published_at,
        object_key=values.get("object_key", ""),  # not in a listing (LISTED)
        payload_hash=values.get("payload_hash") or "",
        content_digest=values.get("content_digest", ""),
        prescreen=[Flag(str(f["code"]), str(f["message"])) for f in values.get("prescreen", [])],
        decision=_plain(values.get("decision")),
        public_url=values.get("public_url"),
        outbox=outbox_target(values["outbox"]) if values.get("outbox") else None,
        outbox_at=_parse_time(values.get("outbox_at")),
        public_version=int(public_version) if public_version is not None else None,
        correction_note=values.get("correction_note"),
        corrections=[Correction.from_item(_plain(c)) for c in values.get("corrections") or []],
        history=[_plain(h) for h in values["history"]] if "history" in values else None,
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
    return error_code(error) == "ConditionalCheckFailedException"


class _Update:
    """An update expression being built: ``SET``/``REMOVE`` clauses and their placeholders,
    named after the attributes they stand for (``#decision``, ``:decision``)."""

    def __init__(self) -> None:
        self.sets: list[str] = []
        self.removes: list[str] = []
        self.names: dict[str, str] = {}
        self.values: dict[str, Any] = {}
        self.assigned: list[str] = []  # attributes set to a value given here (not computed from the item)
        self.trail: list[dict[str, Any]] | None = None  # the history once written, when known

    def name(self, attribute: str) -> str:
        self.names[f"#{attribute}"] = attribute
        return f"#{attribute}"

    def value(self, label: str, value: Any) -> str:
        self.values[f":{label}"] = to_attribute(value)
        return f":{label}"

    def set(self, attribute: str, value: Any) -> None:
        self.sets.append(f"{self.name(attribute)} = {self.value(attribute, value)}")
        self.assigned.append(attribute)

    def written(self) -> dict[str, Any]:
        """What the assigned attributes hold once the write succeeded, as a read would return
        them (the values as serialized for the request, deserialized)."""
        return from_item({attribute: self.values[f":{attribute}"] for attribute in self.assigned})

    def append_history(self, entry: dict[str, Any], kept: list[dict[str, Any]] | None) -> str | None:
        """Add ``entry`` to the item's history. Given ``kept``, the history as read with the
        record, one that would grow past ``HISTORY_LIMIT`` is written whole, its oldest entries
        dropped; that write returns its condition: the history is still the one read."""
        history = self.name("history")
        if kept is None or len(kept) < HISTORY_LIMIT:
            self.sets.append(f"{history} = list_append({history}, {self.value('history', [entry])})")
            self.trail = None if kept is None else [*kept, entry]
            return None
        self.trail = [*kept[len(kept) - HISTORY_LIMIT + 1 :], entry]
        self.sets.append(f"{history} = {self.value('history', self.trail)}")
        return f"size({history}) = {self.value('history_size', len(kept))}"

    def append(self, attribute: str, item: dict[str, Any]) -> None:
        """Add ``item`` at the end of the list ``attribute`` (created when missing)."""
        name = self.name(attribute)
        empty = self.value(f"{attribute}_none", [])
        self.sets.append(
            f"{name} = list_append(if_not_exists({name}, {empty}), {self.value(attribute, [item])})"
        )

    def remove(self, attribute: str) -> None:
        self.removes.append(self.name(attribute))

    def equals(self, attribute: str, label: str, value: Any) -> str:
        """A condition: ``attribute`` holds ``value``."""
        return f"{self.name(attribute)} = {self.value(label, value)}"

    def one_of(self, attribute: str, label: str, allowed: Sequence[str]) -> str:
        """A condition: ``attribute`` holds one of ``allowed``."""
        placeholders = [self.value(f"{label}{i}", value) for i, value in enumerate(allowed)]
        return f"{self.name(attribute)} IN ({', '.join(placeholders)})"

    def request(self, table: str, release_id: str, condition: str) -> dict[str, Any]:
        expression = "SET " + ", ".join(self.sets)
        if self.removes:
            expression += " REMOVE " + ", ".join(self.removes)
        return {
            "TableName": table,
            "Key": {"pk": {"S": release_pk(release_id)}},
            "UpdateExpression": expression,
            "ConditionExpression": condition,
            "ExpressionAttributeNames": self.names,
            "ExpressionAttributeValues": self.values,
        }


# What a new version (a revision, a correction) writes: its content fields (everything else,
# such as what is public, is kept); those without a value are removed.
_REVISED = (
    "status", "org_status", "version", "category", "headline", "language", "updated_at",
    "release_at", "published_at", "object_key", "payload_hash", "content_digest", "prescreen",
    "outbox", "outbox_at", "correction_note",
)  # fmt: skip
_REMOVABLE = frozenset({"release_at", "correction_note"})


def _transition_update(
    release_id: str,
    to: Status,
    *,
    org_id: str,
    now: datetime,
    history: dict[str, Any],
    changes: TransitionChanges,
    kept: list[dict[str, Any]] | None,
) -> tuple[_Update, str | None]:
    update = _Update()
    update.set("status", to.value)
    update.set("org_status", f"{org_id}#{to.value}")
    update.set("updated_at", timestamp(now))
    unchanged = update.append_history(history, kept)
    if "decision" in changes:
        update.set("decision", changes["decision"])
    if "published_at" in changes:
        update.set("published_at", timestamp(changes["published_at"]))
    if "public_url" in changes:
        update.set("public_url", changes["public_url"])
    if "public_version" in changes:
        update.set("public_version", changes["public_version"])
    if "correction" in changes:
        update.append("corrections", changes["correction"].as_item())
    if "outbox" in changes:
        update.set("outbox", outbox_value(changes["outbox"], release_id))
        update.set("outbox_at", timestamp(now))
    else:
        update.remove("outbox")
        update.remove("outbox_at")
    return update, unchanged


class DynamoStateRepository:
    def __init__(
        self, client: Any, table: str, *, org_index: str = BY_ORG, org_status_index: str = BY_ORG_STATUS
    ) -> None:
        self._ddb = client
        self._table = table
        self._org_index = org_index  # what list_for_org reads: the v2 indexes, or the old ones
        self._org_status_index = org_status_index

    # -- writes -------------------------------------------------------------------------------

    def create(self, record: ReleaseRecord, *, actor: str) -> None:
        item = record_to_item(record)
        item["history"] = [_history(Action.SUBMIT, actor, record.created_at, record.version, record.status)]
        try:
            self._ddb.put_item(
                TableName=self._table, Item=to_item(item), ConditionExpression="attribute_not_exists(pk)"
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
            self._ddb.put_item(TableName=self._table, Item=to_item(digest_item))
        except (ClientError, BotoCoreError):
            log.warning("content fingerprint not recorded for %s", record.release_id, exc_info=True)

    def revise(
        self,
        record: ReleaseRecord,
        *,
        expected_version: int,
        actor: str,
        action: Action = Action.REVISE,
        current: ReleaseRecord | None = None,
    ) -> None:
        """The new version's content, if the release (of the same organisation) is still at
        ``expected_version`` in a status ``action`` (a revision or a correction) starts from.
        ``current``, the record as read at ``expected_version``, gives the history to bound."""
        if not TRANSITIONS[action].bumps_version:
            raise ValueError(f"{action.value} stores no new version: use transition()")
        item = record_to_item(record)
        update = _Update()
        for attribute in _REVISED:
            if item[attribute] is not None:
                update.set(attribute, item[attribute])
            elif attribute in _REMOVABLE:
                update.remove(attribute)
        entry = _history(action, actor, record.updated_at, record.version, record.status)
        unchanged = update.append_history(entry, current.history if current is not None else None)
        sources = sorted(TRANSITIONS[action].sources)
        conditions = [
            update.equals("version", "expected", expected_version),
            update.equals("org_id", "org", record.org_id),
            update.one_of("status", "from", sources),
        ]
        if unchanged:
            conditions.append(unchanged)
        condition = " AND ".join(conditions)
        self._update(update.request(self._table, record.release_id, condition))
        self._remember_digest(record, record.updated_at)

    def transition(
        self,
        release_id: str,
        action: Action,
        *,
        org_id: str,
        expected_version: int,
        actor: str,
        now: datetime,
        current: ReleaseRecord | None = None,
        **changes: Unpack[TransitionChanges],
    ) -> ReleaseRecord:
        """One conditional status change, on (version, organisation and status).

        The statuses the action starts from and the one it leads to come from ``TRANSITIONS``.
        The organisation and status are checked through ``org_status`` (always written as
        ``{org_id}#{status}`` with them), so the write names only attributes it may change plus
        ``pk`` and ``version``: what the moderators' IAM policy allows (``dynamodb:Attributes``
        counts the attributes a condition reads). Given ``current`` (the record as read at
        ``expected_version``), the result is ``current`` with the change applied: the write
        returns nothing (``ReturnValues`` ``NONE``) when it only sets values given here, and
        the changed attributes (``UPDATED_NEW``; that policy refuses ``ALL_NEW``) when it adds a
        correction to the item's list of them. ``current`` also gives the item's history, which
        the write keeps to ``HISTORY_LIMIT`` entries (without it, the entry is appended and the
        next write given the record trims).
        """
        transition = TRANSITIONS[action]
        if transition.bumps_version:
            raise ValueError(f"{action.value} stores a new version: use revise()")
        if current is not None and (current.release_id, current.version) != (release_id, expected_version):
            raise ValueError("current must be the record being changed, at the expected version")
        history = _history(action, actor, now, expected_version, transition.target)
        update, unchanged = _transition_update(
            release_id,
            transition.target,
            org_id=org_id,
            now=now,
            history=history,
            changes=changes,
            kept=current.history if current is not None else None,
        )
        sources = [f"{org_id}#{status.value}" for status in sorted(transition.sources)]
        conditions = [
            update.equals("version", "expected", expected_version),
            update.one_of("org_status", "from", sources),
        ]
        if unchanged:
            conditions.append(unchanged)
        condition = " AND ".join(conditions)
        request = update.request(self._table, release_id, condition)
        if current is None:
            return item_to_record(
                from_item(self._update({**request, "ReturnValues": "ALL_NEW"})["Attributes"])
            )
        if "correction" in changes:  # the list of corrections grows in the item: read back what it became
            written = from_item(
                self._update({**request, "ReturnValues": "UPDATED_NEW"}).get("Attributes", {})
            )
        else:  # nothing to read back: sending the changed attributes would cost both sides time
            self._update({**request, "ReturnValues": "NONE"})
            written = update.written()
        changed = {**record_to_item(current), **written}
        if "outbox" not in changes:  # removed: UPDATED_NEW returns nothing for it
            changed.update(outbox=None, outbox_at=None)
        if update.trail is not None:
            changed["history"] = update.trail
        return item_to_record(changed)

    def _update(self, request: dict[str, Any]) -> Any:
        try:
            return self._ddb.update_item(**request)
        except ClientError as error:
            if _is_condition_failure(error):
                raise ConditionFailed from None
            raise

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
        return item_to_record(from_item(item)) if item else None

    def every_release(self) -> Iterator[ReleaseRecord]:
        """Every release's state item, page by page (a scan: for the local stack's figures,
        where nothing else counts them; never on a request path)."""
        pages = self._ddb.get_paginator("scan").paginate(
            TableName=self._table,
            FilterExpression="begins_with(pk, :release)",
            ExpressionAttributeValues={":release": {"S": "release#"}},
        )
        for page in pages:
            for item in page.get("Items", []):
                yield item_to_record(from_item(item))

    def get_many(self, release_ids: Sequence[str]) -> dict[str, ReleaseRecord]:
        """The state items of these releases, read consistently (one BatchGetItem per 100, and
        more only for what DynamoDB leaves unprocessed); unknown ids are absent."""
        keys = [{"pk": {"S": release_pk(release_id)}} for release_id in dict.fromkeys(release_ids)]
        records = (item_to_record(from_item(item)) for item in batch_get(self._ddb, self._table, keys))
        return {record.release_id: record for record in records}

    def find_digest(self, org_id: str, content_digest: str) -> str | None:
        response = self._ddb.get_item(
            TableName=self._table, Key={"pk": {"S": digest_pk(org_id, content_digest)}}
        )
        item = response.get("Item")
        return str(item["release_id"]["S"]) if item else None

    def list_for_org(
        self, org_id: str, *, status: str | None, limit: int, cursor: dict[str, Any] | None
    ) -> tuple[list[ReleaseRecord], dict[str, Any] | None]:
        """A page of the organisation's releases, newest first. From the v2 indexes the records
        hold ``LISTED`` only: no object key, content hashes, outbox mark or history."""
        if status:
            index, key_name, key_value = self._org_status_index, "org_status", f"{org_id}#{status}"
        else:
            index, key_name, key_value = self._org_index, "org_id", org_id
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
        records = [item_to_record(from_item(item)) for item in response.get("Items", [])]
        last = response.get("LastEvaluatedKey")
        next_cursor = None
        if last:
            next_cursor = {
                "id": last["pk"]["S"].removeprefix("release#"),
                "created_at": last["created_at"]["S"],
            }
        return records, next_cursor

    def pending_outbox(self, target: OutboxTarget, *, older_than: datetime, limit: int) -> list[OutboxEntry]:
        """Up to ``limit`` marks for ``target`` older than ``older_than``: every shard's, and the
        unsharded partition's of marks written before shards."""
        entries: list[OutboxEntry] = []
        partitions = [target.value, *(f"{target.value}#{shard}" for shard in range(OUTBOX_SHARDS))]
        for partition in partitions:
            if len(entries) >= limit:
                break
            response = self._ddb.query(
                TableName=self._table,
                IndexName=OUTBOX,
                KeyConditionExpression="outbox = :t AND outbox_at <= :cut",
                ExpressionAttributeValues={":t": {"S": partition}, ":cut": {"S": timestamp(older_than)}},
                Limit=limit - len(entries),
            )
            for raw in response.get("Items", []):
                values = from_item(raw)
                entries.append(
                    OutboxEntry(
                        release_id=values["release_id"],
                        version=int(values["version"]),
                        target=outbox_target(values["outbox"]),
                        org_id=values["org_id"],
                        category=values["category"],
                    )
                )
        return entries
