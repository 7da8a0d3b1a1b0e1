"""What the domain needs from the outside world: every port, in one place.

The adapters in ``functions/adapters/`` satisfy these against AWS (each given its boto3 client),
and the in-memory fakes of the tests satisfy them in memory; the services receive them in their
constructors and never know which they got.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol, TypedDict, Unpack

from functions.domain.media import MediaRecord
from functions.domain.records import OutboxEntry, OutboxTarget, ReleaseRecord
from functions.domain.states import Action

if TYPE_CHECKING:
    from functions.domain.keys import KeyRecord, UsageKey
    from functions.domain.messages import ModerationMessage, PublishMessage
    from functions.domain.publish.model import CatalogEntry


class VersionExists(Exception):
    """A release version object already exists (versions are never overwritten)."""

    def __init__(self, key: str, payload_hash: str | None) -> None:
        super().__init__("release version already stored")
        self.key = key
        self.payload_hash = payload_hash


class RecordExists(Exception):
    """A state item with this release id already exists."""

    def __init__(self, existing: ReleaseRecord) -> None:
        super().__init__("release already recorded")
        self.existing = existing


class ConditionFailed(Exception):
    """A conditional state write found the release in another status or version."""


# ---------------------------------------------------------------------------------------------
# Releases: their versions and their state
# ---------------------------------------------------------------------------------------------


class ReleaseStore(Protocol):
    """One document per release version, created once and never overwritten."""

    def put_version(
        self, *, org_id: str, release_id: str, version: int, document: dict[str, Any], payload_hash: str
    ) -> str:
        """Create the object for one version and return its key; raise ``VersionExists`` (with
        the key and the stored payload hash) when it is already there."""
        ...

    def version_key(self, *, org_id: str, release_id: str, version: int) -> str:
        """Where one version of a release is kept (whether or not it exists)."""
        ...

    def get_document(self, key: str) -> dict[str, Any]: ...


class TransitionChanges(TypedDict, total=False):
    """What a transition may write besides the status (everything else is kept)."""

    decision: dict[str, Any]  # the latest decision, as moderation.Decision.as_item builds it
    outbox: OutboxTarget  # the queue the next message goes to (no mark: the mark is removed)
    published_at: datetime
    public_url: str


class StateRepository(Protocol):
    """The state item of each release, changed only by conditional writes."""

    def create(self, record: ReleaseRecord, *, actor: str) -> None:
        """Insert a new release; raise ``RecordExists`` if its id is taken."""
        ...

    def get(self, release_id: str) -> ReleaseRecord | None: ...

    def find_digest(self, org_id: str, content_digest: str) -> str | None:
        """The id of an earlier release of this organisation with the same content, if any."""
        ...

    def revise(self, record: ReleaseRecord, *, expected_version: int, actor: str) -> None:
        """Store ``record`` as the new version (``Action.REVISE``: the release must still be at
        ``expected_version`` in a status revising is allowed from); else ``ConditionFailed``."""
        ...

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
        """Apply ``action`` as one conditional write: the release (of ``org_id``) must be at
        ``expected_version`` in one of the statuses the action starts from (``TRANSITIONS``) and
        moves to its target; else ``ConditionFailed``. Returns the changed record.

        ``current``, the record as the caller read it at ``expected_version``, lets the
        repository return the changed record without reading the whole item back."""
        ...

    def list_for_org(
        self, org_id: str, *, status: str | None, limit: int, cursor: dict[str, Any] | None
    ) -> tuple[list[ReleaseRecord], dict[str, Any] | None]: ...

    def clear_outbox(self, release_id: str, version: int) -> None: ...

    def pending_outbox(
        self, target: OutboxTarget, *, older_than: datetime, limit: int
    ) -> list[OutboxEntry]: ...


# ---------------------------------------------------------------------------------------------
# Queues and schedules
# ---------------------------------------------------------------------------------------------


class ModerationQueue(Protocol):
    def send(self, message: ModerationMessage, *, org_id: str, category: str) -> None:
        """Queue a release version for the moderators (organisation and category as attributes)."""
        ...


class PublishQueue(Protocol):
    def send(self, message: PublishMessage, *, delay_seconds: int = 0) -> None:
        """Queue a message for the publisher, invisible for ``delay_seconds`` (at most 900)."""
        ...


class Schedules(Protocol):
    """One-time schedules that put a publish message on the publish queue at a release's time."""

    def ensure(self, name: str, *, at: datetime, zone: str, message: PublishMessage) -> None:
        """Create the schedule unless it exists (same name, same release version)."""
        ...

    def delete(self, name: str) -> None:
        """Delete it if it exists."""
        ...


# ---------------------------------------------------------------------------------------------
# The published site
# ---------------------------------------------------------------------------------------------


class SiteWriter(Protocol):
    """The public site's objects."""

    def put(self, key: str, body: bytes, content_type: str, *, max_age: int = 300) -> None: ...

    def put_if_newer(self, key: str, body: bytes, content_type: str, *, seq: int, max_age: int = 60) -> bool:
        """Write a shared object (index, feed) unless the site has one rendered from catalog
        ``seq`` or later; whether it was written."""
        ...


class SiteMedia(Protocol):
    """Published renditions of attachments: copied from the private uploads bucket to the site."""

    def copy(self, source_key: str, site_key: str, content_type: str) -> None: ...

    def keys(self, prefix: str) -> list[str]:
        """The site's objects under ``prefix``."""
        ...

    def delete(self, keys: list[str]) -> None: ...


class Catalogs(Protocol):
    """The bounded lists of newest entries behind the index and the feeds: the site's (``all``)
    and one per category. ``update`` applies ``change`` atomically (retrying on a concurrent
    change) and returns the catalog after it with its sequence number, which grows by one per
    change; an unknown catalog is empty at sequence 0. A stored entry that cannot be read back
    is skipped (and logged), never fatal."""

    def get(self, name: str, *, limit: int | None = None) -> tuple[list[CatalogEntry], int]:
        """The catalog's entries (its first ``limit``, if given) and its sequence number."""
        ...

    def update(
        self, name: str, change: Callable[[list[CatalogEntry]], list[CatalogEntry]]
    ) -> tuple[list[CatalogEntry], int]: ...


# ---------------------------------------------------------------------------------------------
# API keys
# ---------------------------------------------------------------------------------------------


class KeyStore(Protocol):
    def create(self, record: KeyRecord) -> None: ...


class UsageKeys(Protocol):
    def for_organisation(self, org_id: str) -> UsageKey:
        """The organisation's usage key, created (in the default usage plan) on first use."""
        ...


# ---------------------------------------------------------------------------------------------
# Media: their records and their bytes
# ---------------------------------------------------------------------------------------------


class MediaRepository(Protocol):
    """One record per media, changed only by conditional writes on its status."""

    def create(self, record: MediaRecord, *, expires_at: datetime) -> None: ...

    def get(self, media_id: str) -> MediaRecord | None: ...

    def claim(self, media_id: str, *, token: str, now: datetime, lease_until: datetime) -> MediaRecord:
        """Take the record for one verification: it must be ``awaiting_upload``, or ``verifying``
        under a lease that ran out before ``now``; else ``ConditionFailed``."""
        ...

    def finish(self, record: MediaRecord, *, token: str, now: datetime, expires_at: datetime | None) -> None:
        """Store the verdict (``record``'s status, renditions, reason...) if the verification
        holding ``token`` still holds the record; else ``ConditionFailed``."""
        ...

    def mark_used(self, media_id: str, *, org_id: str, release_id: str) -> None:
        """Record that ``release_id`` names the media: it must be ``ready`` and ``org_id``'s; else
        ``ConditionFailed``."""
        ...

    def delete_unused(self, media_id: str, *, org_id: str) -> None:
        """Delete the record unless a release names it; else ``ConditionFailed``."""
        ...


class MediaObjects(Protocol):
    """The private uploads bucket: originals and verified renditions."""

    def presign_upload(
        self, key: str, *, content_type: str, size: int, expires_in: int
    ) -> tuple[str, dict[str, str]]:
        """An S3 presigned POST (URL and form fields) for exactly this key, type and size."""
        ...

    def head(self, key: str) -> tuple[int, str] | None:
        """(size, content type) of an object, or None when it is missing."""
        ...

    def read(self, key: str, *, max_bytes: int) -> bytes:
        """The object's bytes, at most ``max_bytes + 1`` of them (so that an object replaced by a
        larger one meanwhile is seen to be too large, never read whole)."""
        ...

    def put(self, key: str, body: bytes, content_type: str) -> None: ...

    def delete(self, keys: list[str]) -> None:
        """Delete these objects (missing ones are no error)."""
        ...
