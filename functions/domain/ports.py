"""What the domain needs from the outside world. Adapters (and test fakes) satisfy these."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, Protocol

from functions.domain.records import OutboxEntry, ReleaseRecord


class VersionExists(Exception):
    """A release version object already exists (versions are never overwritten)."""

    def __init__(self, payload_hash: str | None) -> None:
        super().__init__("release version already stored")
        self.payload_hash = payload_hash


class RecordExists(Exception):
    """A state item with this release id already exists."""

    def __init__(self, existing: ReleaseRecord) -> None:
        super().__init__("release already recorded")
        self.existing = existing


class ConditionFailed(Exception):
    """A conditional state write found the release in another status or version."""


class ReleaseStore(Protocol):
    def put_version(
        self, *, org_id: str, release_id: str, version: int, document: dict[str, Any], payload_hash: str
    ) -> str:
        """Create the object for one version (never overwriting); return its key."""
        ...

    def get_document(self, key: str) -> dict[str, Any]: ...


class StateRepository(Protocol):
    def create(self, record: ReleaseRecord, *, actor: str) -> None:
        """Insert a new release; raise ``RecordExists`` if its id is taken."""
        ...

    def get(self, release_id: str) -> ReleaseRecord | None: ...

    def find_digest(self, org_id: str, content_digest: str) -> str | None:
        """The id of an earlier release of this organisation with the same content, if any."""
        ...

    def revise(
        self, record: ReleaseRecord, *, expected_version: int, from_statuses: Sequence[str], actor: str
    ) -> None:
        """Store ``record`` as the new version; raise ``ConditionFailed`` if the release moved on."""
        ...

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
        """One conditional status change; raise ``ConditionFailed`` if the release moved on.

        ``current``, the record as the caller read it at ``expected_version``, lets the
        repository return the changed record without reading the whole item back."""
        ...

    def list_for_org(
        self, org_id: str, *, status: str | None, limit: int, cursor: dict[str, Any] | None
    ) -> tuple[list[ReleaseRecord], dict[str, Any] | None]: ...

    def clear_outbox(self, release_id: str, version: int) -> None: ...

    def pending_outbox(self, target: str, *, older_than: datetime, limit: int) -> list[OutboxEntry]: ...


class Schedules(Protocol):
    """One-time schedules that publish a release at its release time."""

    def ensure(self, name: str, *, at: datetime, zone: str, payload: dict[str, Any]) -> None:
        """Create the schedule unless it exists (same name, same release version)."""
        ...

    def delete(self, name: str) -> None:
        """Delete it if it exists."""
        ...


class ModerationQueue(Protocol):
    def send(self, *, release_id: str, version: int, org_id: str, category: str) -> None: ...
