"""In-memory stand-ins for the domain's ports: same contracts as the AWS adapters."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from email.message import EmailMessage
from typing import Any, Unpack

from functions.domain.egress import Target
from functions.domain.messages import MailJob, ModerationMessage, PublishMessage, WebhookJob
from functions.domain.ports import (
    ConditionFailed,
    HttpOutcome,
    RecordExists,
    TransitionChanges,
    VersionExists,
    WebhookExists,
)
from functions.domain.publish.model import CatalogEntry, parse_entries
from functions.domain.records import OutboxEntry, OutboxTarget, ReleaseRecord, document_json
from functions.domain.states import TRANSITIONS, Action
from functions.domain.webhooks import DeliveryAttempt, HookStatus, Organisation, Webhook


@dataclass
class MemoryStore:
    """Each version held as the JSON text the S3 adapter writes (``document_json``: what is not
    JSON fails here too, and reading gives a copy that shares nothing with what was stored)."""

    objects: dict[str, tuple[str, str]] = field(default_factory=dict)

    def put_version(
        self, *, org_id: str, release_id: str, version: int, document: dict[str, Any], payload_hash: str
    ) -> str:
        key = self.version_key(org_id=org_id, release_id=release_id, version=version)
        if key in self.objects:
            raise VersionExists(key, self.objects[key][1])
        self.objects[key] = (document_json(document).decode(), payload_hash)
        return key

    def version_key(self, *, org_id: str, release_id: str, version: int) -> str:
        return f"{org_id}/{release_id}/{version}"

    def get_document(self, key: str) -> dict[str, Any]:
        document: dict[str, Any] = json.loads(self.objects[key][0])
        return document


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
        self,
        record: ReleaseRecord,
        *,
        expected_version: int,
        actor: str,
        action: Action = Action.REVISE,
        current: ReleaseRecord | None = None,
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


# -- webhooks and e-mail ---------------------------------------------------------------------------


@dataclass
class MemoryWebhooks:
    """``WebhookStore``: each organisation's webhooks and notification address."""

    hooks: dict[tuple[str, str], Webhook] = field(default_factory=dict)
    addresses: dict[str, str] = field(default_factory=dict)

    def create(self, hook: Webhook) -> None:
        if (hook.org_id, hook.webhook_id) in self.hooks:
            raise WebhookExists(hook.webhook_id)
        self.hooks[(hook.org_id, hook.webhook_id)] = hook

    def get(self, org_id: str, webhook_id: str) -> Webhook | None:
        return self.hooks.get((org_id, webhook_id))

    def organisation(self, org_id: str) -> Organisation:
        mine = sorted((h for (o, _), h in self.hooks.items() if o == org_id), key=lambda h: h.created_at)
        return Organisation(org_id=org_id, webhooks=tuple(mine), notify_address=self.addresses.get(org_id))

    def delete(self, org_id: str, webhook_id: str) -> bool:
        return self.hooks.pop((org_id, webhook_id), None) is not None

    def _change(self, org_id: str, webhook_id: str, **changes: Any) -> Webhook | None:
        hook = self.hooks.get((org_id, webhook_id))
        if hook is None:
            return None
        self.hooks[(org_id, webhook_id)] = replace(hook, **changes)
        return self.hooks[(org_id, webhook_id)]

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
        return self._change(
            org_id,
            webhook_id,
            secret=secret,
            previous_secret=previous,
            previous_until=previous_until,
            rotated_at=at,
        )

    def succeeded(self, org_id: str, webhook_id: str, at: datetime) -> None:
        self._change(org_id, webhook_id, failing_since=None, last_success_at=at)

    def failed(self, org_id: str, webhook_id: str, at: datetime) -> datetime | None:
        hook = self.hooks.get((org_id, webhook_id))
        if hook is None:
            return None
        since = hook.failing_since or at
        self._change(org_id, webhook_id, failing_since=since)
        return since

    def disable(self, org_id: str, webhook_id: str, *, reason: str, at: datetime) -> bool:
        hook = self.hooks.get((org_id, webhook_id))
        if hook is None or not hook.active:
            return False
        self._change(org_id, webhook_id, status=HookStatus.DISABLED, disabled_at=at, disabled_reason=reason)
        return True

    def enable(self, org_id: str, webhook_id: str) -> Webhook | None:
        hook = self.hooks.get((org_id, webhook_id))
        return None if hook is None else self._change(org_id, webhook_id, **_enabled(hook))

    def set_notify_address(self, org_id: str, address: str | None) -> None:
        if address is None:
            self.addresses.pop(org_id, None)
        else:
            self.addresses[org_id] = address


def _enabled(_: Webhook) -> dict[str, Any]:
    return {"status": HookStatus.ACTIVE, "failing_since": None, "disabled_at": None, "disabled_reason": None}


@dataclass
class MemoryDeliveryLog:
    attempts: list[DeliveryAttempt] = field(default_factory=list)
    sent: dict[str, datetime] = field(default_factory=dict)

    def record(self, attempt: DeliveryAttempt) -> None:
        self.attempts.append(attempt)

    def recent(self, webhook_id: str, *, limit: int) -> list[DeliveryAttempt]:
        mine = [a for a in self.attempts if a.webhook_id == webhook_id]
        return sorted(mine, key=lambda a: (a.at, a.attempt), reverse=True)[:limit]

    def mailed(self, job_id: str) -> bool:
        return job_id in self.sent

    def mark_mailed(self, job_id: str, at: datetime) -> None:
        self.sent[job_id] = at


@dataclass
class MemoryBox:
    """``SecretBox``: sealed = the context and the secret, reversed (opens only with that context)."""

    def seal(self, secret: bytes, *, context: dict[str, str]) -> bytes:
        return (repr(sorted(context.items())).encode() + b"|" + secret)[::-1]

    def open(self, sealed: bytes, *, context: dict[str, str]) -> bytes:
        bound, _, secret = sealed[::-1].partition(b"|")
        if bound != repr(sorted(context.items())).encode():
            raise PermissionError("sealed for another webhook")
        return secret


@dataclass
class MemoryEventsQueue:
    """Jobs as sent, with their SQS delay; dead letters with their reason."""

    jobs: list[tuple[WebhookJob | MailJob, int]] = field(default_factory=list)
    dead: list[tuple[WebhookJob | MailJob, str, str]] = field(default_factory=list)

    def send(self, job: WebhookJob | MailJob, *, delay_seconds: int = 0) -> None:
        if not 0 <= delay_seconds <= 900:
            raise ValueError("SQS delays a message by 0-900 seconds")
        self.jobs.append((job, delay_seconds))

    def send_all(self, jobs: list[WebhookJob | MailJob]) -> None:
        self.jobs += [(job, 0) for job in jobs]

    def dead_letter(self, job: WebhookJob | MailJob, *, failure: str, detail: str) -> None:
        self.dead.append((job, failure, detail))

    def take(self) -> list[WebhookJob | MailJob]:
        """Every job waiting, removed from the queue (as a consumer would receive them)."""
        taken = [job for job, _ in self.jobs]
        self.jobs.clear()
        return taken


@dataclass
class ScriptedSender:
    """``WebhookSender``: answers with the next status of ``statuses`` (the last one after that);
    None is no answer (a timeout). Keeps every request."""

    statuses: list[int | None] = field(default_factory=lambda: [204])
    requests: list[tuple[Target, bytes, dict[str, str]]] = field(default_factory=list)

    def post(self, target: Target, body: bytes, headers: dict[str, str]) -> HttpOutcome:
        self.requests.append((target, body, headers))
        status = self.statuses[min(len(self.requests), len(self.statuses)) - 1]
        return {"status": status, "latency_ms": 7, "error": None if status is not None else "timeout"}


@dataclass
class MemoryMailer:
    sent: list[EmailMessage] = field(default_factory=list)

    def send(self, message: EmailMessage) -> str:
        self.sent.append(message)
        return f"mail-{len(self.sent)}"
