"""In-memory stand-ins for the domain's ports: same contracts as the AWS adapters."""

from __future__ import annotations

import copy
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from functions.domain.intake import object_key
from functions.domain.ports import ConditionFailed, RecordExists, VersionExists
from functions.domain.records import OutboxEntry, ReleaseRecord


@dataclass
class MemoryStore:
    objects: dict[str, tuple[dict[str, Any], str]] = field(default_factory=dict)

    def put_version(
        self, *, org_id: str, release_id: str, version: int, document: dict[str, Any], payload_hash: str
    ) -> str:
        key = object_key(org_id, release_id, version)
        if key in self.objects:
            raise VersionExists(self.objects[key][1])
        self.objects[key] = (copy.deepcopy(document), payload_hash)
        return key

    def get_document(self, key: str) -> dict[str, Any]:
        return copy.deepcopy(self.objects[key][0])


@dataclass
class MemoryStates:
    items: dict[str, ReleaseRecord] = field(default_factory=dict)
    digests: dict[tuple[str, str], str] = field(default_factory=dict)
    history: dict[str, list[dict[str, Any]]] = field(default_factory=dict)

    def create(self, record: ReleaseRecord, *, actor: str) -> None:
        if record.release_id in self.items:
            raise RecordExists(replace(self.items[record.release_id]))
        self.items[record.release_id] = replace(record)
        self.digests[(record.org_id, record.content_digest)] = record.release_id
        self.history[record.release_id] = [{"action": "submit", "actor": actor}]

    def get(self, release_id: str) -> ReleaseRecord | None:
        found = self.items.get(release_id)
        return replace(found) if found else None

    def find_digest(self, org_id: str, content_digest: str) -> str | None:
        return self.digests.get((org_id, content_digest))

    def revise(
        self, record: ReleaseRecord, *, expected_version: int, from_statuses: Sequence[str], actor: str
    ) -> None:
        current = self.items.get(record.release_id)
        if (
            current is None
            or current.version != expected_version
            or current.status not in from_statuses
            or current.org_id != record.org_id
        ):
            raise ConditionFailed
        self.items[record.release_id] = replace(record, decision=current.decision)
        self.digests[(record.org_id, record.content_digest)] = record.release_id
        self.history[record.release_id].append({"action": "revise", "actor": actor})

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
        if current is not None and (current.release_id, current.version) != (release_id, expected_version):
            raise ValueError("current must be the record being changed, at the expected version")
        current = self.items.get(release_id)
        if (
            current is None
            or current.version != expected_version
            or current.status not in from_statuses
            or current.org_id != org_id
        ):
            raise ConditionFailed
        updated = replace(
            current,
            status=to_status,
            updated_at=now,
            decision=decision if decision is not None else current.decision,
            outbox=outbox,
            outbox_at=now if outbox else None,
            published_at=published_at or current.published_at,
            public_url=public_url or current.public_url,
        )
        self.items[release_id] = updated
        self.history[release_id].append({"action": action, "actor": actor})
        return replace(updated)

    def list_for_org(
        self, org_id: str, *, status: str | None, limit: int, cursor: dict[str, Any] | None
    ) -> tuple[list[ReleaseRecord], dict[str, Any] | None]:
        mine = sorted(
            (r for r in self.items.values() if r.org_id == org_id and (status is None or r.status == status)),
            key=lambda r: (r.created_at, r.release_id),
            reverse=True,
        )
        if cursor:
            ids = [r.release_id for r in mine]
            mine = mine[ids.index(cursor["id"]) + 1 :] if cursor["id"] in ids else []
        page = mine[:limit]
        more = len(mine) > limit
        next_cursor = (
            {"id": page[-1].release_id, "created_at": page[-1].created_at.isoformat()} if more else None
        )
        return [replace(r) for r in page], next_cursor

    def clear_outbox(self, release_id: str, version: int) -> None:
        current = self.items.get(release_id)
        if current and current.version == version and current.outbox:
            self.items[release_id] = replace(current, outbox=None, outbox_at=None)

    def pending_outbox(self, target: str, *, older_than: datetime, limit: int) -> list[OutboxEntry]:
        due = [
            r
            for r in self.items.values()
            if r.outbox == target and r.outbox_at is not None and r.outbox_at <= older_than
        ]
        return [OutboxEntry(r.release_id, r.version, target, r.org_id, r.category) for r in due[:limit]]


@dataclass
class MemoryQueue:
    messages: list[dict[str, Any]] = field(default_factory=list)
    fail_next: int = 0

    def send(self, *, release_id: str, version: int, org_id: str, category: str) -> None:
        if self.fail_next:
            self.fail_next -= 1
            raise ConnectionError("queue unavailable")
        self.messages.append(
            {"release_id": release_id, "version": version, "org_id": org_id, "category": category}
        )

    def send_entry(self, entry: OutboxEntry) -> None:
        self.send(
            release_id=entry.release_id, version=entry.version, org_id=entry.org_id, category=entry.category
        )


@dataclass
class MemoryPublishQueue:
    """Messages as sent; a delayed one carries ``delay_seconds``."""

    messages: list[dict[str, Any]] = field(default_factory=list)
    fail_next: int = 0

    def send(
        self,
        *,
        release_id: str,
        version: int,
        action: str,
        reason: str | None = None,
        delay_seconds: int = 0,
    ) -> None:
        if self.fail_next:
            self.fail_next -= 1
            raise ConnectionError("queue unavailable")
        if not 0 <= delay_seconds <= 900:
            raise ValueError("SQS delays a message by 0-900 seconds")
        message: dict[str, Any] = {"release_id": release_id, "version": version, "action": action}
        if reason:
            message["reason"] = reason
        if delay_seconds:
            message["delay_seconds"] = delay_seconds
        self.messages.append(message)

    def send_entry(self, entry: OutboxEntry) -> None:
        self.send(release_id=entry.release_id, version=entry.version, action="publish")


@dataclass
class MemorySite:
    """The site bucket: objects with their content type and, for shared ones, their catalog seq."""

    objects: dict[str, tuple[bytes, str, int | None]] = field(default_factory=dict)
    writes: list[str] = field(default_factory=list)

    def put(self, key: str, body: bytes, content_type: str, *, max_age: int = 300) -> None:
        self.objects[key] = (body, content_type, None)
        self.writes.append(key)

    def put_if_newer(self, key: str, body: bytes, content_type: str, *, seq: int, max_age: int = 60) -> bool:
        current = self.objects.get(key)
        if current is not None and current[2] is not None and current[2] >= seq:
            return False
        self.objects[key] = (body, content_type, seq)
        self.writes.append(key)
        return True

    def body(self, key: str) -> bytes | None:
        found = self.objects.get(key)
        return found[0] if found else None


@dataclass
class MemoryCatalogs:
    catalogs: dict[str, tuple[list[dict[str, Any]], int]] = field(default_factory=dict)
    updates: int = 0

    def get(self, name: str) -> tuple[list[dict[str, Any]], int]:
        entries, seq = self.catalogs.get(name, ([], 0))
        return copy.deepcopy(entries), seq

    def update(self, name: str, change: Any) -> tuple[list[dict[str, Any]], int]:
        entries, seq = self.get(name)
        changed = change(copy.deepcopy(entries))
        if changed == entries:
            return entries, seq
        self.catalogs[name] = (copy.deepcopy(changed), seq + 1)
        self.updates += 1
        return changed, seq + 1


@dataclass
class MemorySchedules:
    schedules: dict[str, dict[str, Any]] = field(default_factory=dict)

    def ensure(self, name: str, *, at: datetime, zone: str, payload: dict[str, Any]) -> None:
        self.schedules.setdefault(name, {"at": at, "zone": zone, "payload": copy.deepcopy(payload)})

    def delete(self, name: str) -> None:
        self.schedules.pop(name, None)


@dataclass
class Clock:
    now: datetime

    def __call__(self) -> datetime:
        return self.now
