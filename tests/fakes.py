"""In-memory stand-ins for the domain's ports: same contracts as the AWS adapters."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any, Unpack

from functions.domain.messages import ModerationMessage, PublishMessage
from functions.domain.ports import ConditionFailed, RecordExists, TransitionChanges, VersionExists
from functions.domain.publish.model import CatalogEntry, parse_entries
from functions.domain.records import OutboxEntry, OutboxTarget, ReleaseRecord
from functions.domain.states import TRANSITIONS, Action


@dataclass
class MemoryStore:
    objects: dict[str, tuple[dict[str, Any], str]] = field(default_factory=dict)

    def put_version(
        self, *, org_id: str, release_id: str, version: int, document: dict[str, Any], payload_hash: str
    ) -> str:
        key = self.version_key(org_id=org_id, release_id=release_id, version=version)
        if key in self.objects:
            raise VersionExists(key, self.objects[key][1])
        self.objects[key] = (copy.deepcopy(document), payload_hash)
        return key

    def version_key(self, *, org_id: str, release_id: str, version: int) -> str:
        return f"{org_id}/{release_id}/{version}"

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

    def get_many(self, release_ids: Sequence[str]) -> dict[str, ReleaseRecord]:
        return {i: replace(self.items[i]) for i in release_ids if i in self.items}

    def find_digest(self, org_id: str, content_digest: str) -> str | None:
        return self.digests.get((org_id, content_digest))

    def revise(
        self, record: ReleaseRecord, *, expected_version: int, actor: str, action: Action = Action.REVISE
    ) -> None:
        if not TRANSITIONS[action].bumps_version:
            raise ValueError(f"{action.value} stores no new version: use transition()")
        current = self.items.get(record.release_id)
        if (
            current is None
            or current.version != expected_version
            or current.status not in TRANSITIONS[action].sources
            or current.org_id != record.org_id
        ):
            raise ConditionFailed
        # As the table: a new version's content; what is public and the last decision are kept.
        self.items[record.release_id] = replace(
            record,
            decision=current.decision,
            public_version=current.public_version,
            corrections=list(current.corrections),
        )
        self.digests[(record.org_id, record.content_digest)] = record.release_id
        self.history[record.release_id].append({"action": action.value, "actor": actor})

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
        transition = TRANSITIONS[action]
        if transition.bumps_version:
            raise ValueError(f"{action.value} stores a new version: use revise()")
        if current is not None and (current.release_id, current.version) != (release_id, expected_version):
            raise ValueError("current must be the record being changed, at the expected version")
        current = self.items.get(release_id)
        if (
            current is None
            or current.version != expected_version
            or current.status not in transition.sources
            or current.org_id != org_id
        ):
            raise ConditionFailed
        outbox = changes.get("outbox")
        updated = replace(
            current,
            status=transition.target,
            updated_at=now,
            decision=changes.get("decision", current.decision),
            outbox=outbox,
            outbox_at=now if outbox else None,
            published_at=changes.get("published_at", current.published_at),
            public_url=changes.get("public_url", current.public_url),
            public_version=changes.get("public_version", current.public_version),
            corrections=[*current.corrections, *([changes["correction"]] if "correction" in changes else [])],
        )
        self.items[release_id] = updated
        self.history[release_id].append({"action": action.value, "actor": actor})
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

    def pending_outbox(self, target: OutboxTarget, *, older_than: datetime, limit: int) -> list[OutboxEntry]:
        due = [
            r
            for r in self.items.values()
            if r.outbox == target and r.outbox_at is not None and r.outbox_at <= older_than
        ]
        return [OutboxEntry(r.release_id, r.version, target, r.org_id, r.category) for r in due[:limit]]


@dataclass
class MemoryQueue:
    """The moderation queue: each message as its body and attributes, in one dict."""

    messages: list[dict[str, Any]] = field(default_factory=list)
    fail_next: int = 0

    def send(self, message: ModerationMessage, *, org_id: str, category: str) -> None:
        if self.fail_next:
            self.fail_next -= 1
            raise ConnectionError("queue unavailable")
        self.messages.append({**message.model_dump(mode="json"), "org_id": org_id, "category": category})


@dataclass
class MemoryPublishQueue:
    """Messages as sent (their JSON bodies); a delayed one carries ``delay_seconds``."""

    messages: list[dict[str, Any]] = field(default_factory=list)
    fail_next: int = 0

    def send(self, message: PublishMessage, *, delay_seconds: int = 0) -> None:
        if self.fail_next:
            self.fail_next -= 1
            raise ConnectionError("queue unavailable")
        if not 0 <= delay_seconds <= 900:
            raise ValueError("SQS delays a message by 0-900 seconds")
        sent: dict[str, Any] = message.model_dump(mode="json", exclude_none=True)
        if delay_seconds:
            sent["delay_seconds"] = delay_seconds
        self.messages.append(sent)


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
    """Catalogs as stored (entries as JSON, read back through ``parse_entries`` as S3Catalogs does;
    documents as JSON)."""

    catalogs: dict[str, tuple[list[dict[str, Any]], int]] = field(default_factory=dict)
    documents: dict[str, tuple[str, int]] = field(default_factory=dict)
    updates: int = 0

    def get(self, name: str, *, limit: int | None = None) -> tuple[list[CatalogEntry], int]:
        stored, seq = self.catalogs.get(name, ([], 0))
        return parse_entries(stored, limit=limit), seq

    def update(
        self, name: str, change: Callable[[list[CatalogEntry]], list[CatalogEntry]]
    ) -> tuple[list[CatalogEntry], int]:
        entries, seq = self.get(name)
        changed = change(list(entries))
        if changed == entries:
            return entries, seq
        self.catalogs[name] = ([entry.to_json() for entry in changed], seq + 1)
        self.updates += 1
        return changed, seq + 1

    def get_document(self, name: str) -> tuple[dict[str, Any], int]:
        stored, seq = self.documents.get(name, ("{}", 0))
        return json.loads(stored), seq

    def update_document(
        self, name: str, change: Callable[[dict[str, Any]], dict[str, Any]], *, touch: bool = False
    ) -> tuple[dict[str, Any], int]:
        document, seq = self.get_document(name)
        changed = change(json.loads(json.dumps(document)))
        if changed == document and not touch:
            return document, seq
        self.documents[name] = (json.dumps(changed), seq + 1)
        self.updates += 1
        return changed, seq + 1


@dataclass
class MemorySchedules:
    schedules: dict[str, dict[str, Any]] = field(default_factory=dict)

    def ensure(self, name: str, *, at: datetime, zone: str, message: PublishMessage) -> None:
        payload = message.model_dump(mode="json", exclude_none=True)
        self.schedules.setdefault(name, {"at": at, "zone": zone, "payload": payload})

    def delete(self, name: str) -> None:
        self.schedules.pop(name, None)


@dataclass
class Clock:
    now: datetime

    def __call__(self) -> datetime:
        return self.now
