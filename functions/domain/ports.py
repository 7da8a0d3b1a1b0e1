"""What the domain needs from the outside world: every port, in one place.

The adapters in ``functions/adapters/`` satisfy these against AWS (each given its boto3 client),
and the in-memory fakes of the tests satisfy them in memory; the services receive them in their
constructors and never know which they got.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any, NamedTuple, Protocol, TypedDict, Unpack

from functions.domain.media import MediaRecord
from functions.domain.records import Correction, OutboxEntry, OutboxTarget, ReleaseRecord
from functions.domain.states import Action

if TYPE_CHECKING:
    from email.message import EmailMessage

    from functions.domain.egress import Target
    from functions.domain.events import Event
    from functions.domain.keys import KeyRecord, UsageKey
    from functions.domain.messages import MailJob, ModerationMessage, PublishMessage, WebhookJob
    from functions.domain.publish.model import CatalogEntry
    from functions.domain.webhooks import DeliveryAttempt, Organisation, Webhook


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
    public_version: int  # the version now on the site
    correction: Correction  # a correction just published: appended to the release's corrections


class StateRepository(Protocol):
    """The state item of each release, changed only by conditional writes."""

    def create(self, record: ReleaseRecord, *, actor: str) -> None:
        """Insert a new release; raise ``RecordExists`` if its id is taken."""
        ...

    def get(self, release_id: str) -> ReleaseRecord | None: ...

    def get_many(self, release_ids: Sequence[str]) -> dict[str, ReleaseRecord]:
        """Several releases' state items, read together (release id -> record; unknown ids
        absent), however many they are."""
        ...

    def find_digest(self, org_id: str, content_digest: str) -> str | None:
        """The id of an earlier release of this organisation with the same content, if any."""
        ...

    def revise(
        self,
        record: ReleaseRecord,
        *,
        expected_version: int,
        actor: str,
        action: Action = Action.REVISE,
        current: ReleaseRecord | None = None,
    ) -> None:
        """Store ``record`` as the new version: ``action`` is one that stores a new version
        (``Action.REVISE``, ``Action.CORRECT``); the release must still be at
        ``expected_version`` in a status the action starts from; else ``ConditionFailed``.
        ``current`` is the record as the caller read it at ``expected_version``."""
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


class Delivery(NamedTuple):
    """One moderation message as a console received it (and now holds)."""

    message_id: str
    receipt: str
    claim: ModerationMessage | None  # None: the body is not a claim check
    body: str
    attributes: dict[str, Any]  # message attributes, as they are sent again
    receive_count: int  # SQS's receive count of this copy (what drives the dead-letter queue)
    earlier_deliveries: int = 0  # receives of earlier copies by consoles that did not decide
    sent_at: datetime | None = None  # when this copy was sent
    queued_at: datetime | None = None  # when the first copy was sent

    @property
    def deliveries(self) -> int:
        """How often consoles held this claim check without a decision, this time included."""
        return self.earlier_deliveries + self.receive_count


class QueueCounts(NamedTuple):
    """A queue's approximate counts (SQS's own figures lag by up to a minute)."""

    waiting: int  # visible: ready for the next moderator
    in_flight: int  # received and held by a console (in review), not deleted yet
    delayed: int = 0


class ModerationInbox(Protocol):
    """The moderators' side of the moderation queue. What ``receive`` returns stays held (the
    SQS adapter keeps it invisible to others with a heartbeat) until deleted or handed back."""

    def receive(self, *, max_messages: int, wait_seconds: int, hold_seconds: int) -> list[Delivery]: ...

    def delete(self, deliveries: Sequence[Delivery]) -> None: ...

    def release(self, deliveries: Sequence[Delivery]) -> None:
        """Stop holding: back on the queue when the hold ends, and that receive counted (SQS
        dead-letters a message after ``maxReceiveCount``): for what could not be processed."""
        ...

    def hand_back(self, deliveries: Sequence[Delivery], *, seen: bool = True) -> None:
        """Back on the queue now, as fresh copies no receive has counted yet; ``seen``: this
        receive counts in the copies' ``deliveries`` (a moderator had the release)."""
        ...

    def held(self) -> list[Delivery]: ...


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
    """What the site's shared pages are rendered from (``functions.domain.publish.shared``):
    lists of entries (the newest of the site, of each category and organisation; a page of a
    day's entries) and small documents (the calendar of days, the directory of organisations).

    ``update`` applies ``change`` (a conditional write: a concurrent change fails it, which the
    one-writer design rules out) and returns the catalog after it with its sequence number,
    which grows by one per change (an unchanged result is not written, unless ``touch``); an
    unknown catalog is empty at sequence 0. A stored entry that cannot be read back is skipped
    (and logged), never fatal."""

    def get(self, name: str, *, limit: int | None = None) -> tuple[list[CatalogEntry], int]:
        """The catalog's entries (its first ``limit``, if given) and its sequence number."""
        ...

    def update(
        self, name: str, change: Callable[[list[CatalogEntry]], list[CatalogEntry]]
    ) -> tuple[list[CatalogEntry], int]: ...

    def get_document(self, name: str) -> tuple[dict[str, Any], int]:
        """A document catalog (``{}`` at sequence 0 when there is none), to read, never to change
        in place (it may be what a cache holds)."""
        ...

    def update_document(
        self, name: str, change: Callable[[dict[str, Any]], dict[str, Any]], *, touch: bool = False
    ) -> tuple[dict[str, Any], int]:
        """Apply ``change`` to a document catalog atomically; with ``touch`` its sequence number
        grows even when the document is unchanged."""
        ...


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
# Webhooks and e-mail
# ---------------------------------------------------------------------------------------------


class WebhookExists(Exception):
    """A webhook with this id already exists."""


class WebhookStore(Protocol):
    """Each organisation's webhooks (and its notification address), kept under the organisation:
    every read and write names it, so another organisation's webhook is never reached."""

    def create(self, hook: Webhook) -> None:
        """Insert a new webhook; ``WebhookExists`` if its id is taken."""
        ...

    def get(self, org_id: str, webhook_id: str) -> Webhook | None: ...

    def organisation(self, org_id: str) -> Organisation:
        """The organisation's webhooks, oldest first, and its notification address."""
        ...

    def delete(self, org_id: str, webhook_id: str) -> bool:
        """Remove it; whether it existed."""
        ...

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
        """Replace the sealed secret, keeping ``previous`` valid until ``previous_until``."""
        ...

    def succeeded(self, org_id: str, webhook_id: str, at: datetime) -> None:
        """A delivery succeeded: the webhook is failing no longer."""
        ...

    def failed(self, org_id: str, webhook_id: str, at: datetime) -> datetime | None:
        """A delivery failed: since when the webhook has failed without a success in between
        (``at`` if this is the first failure); None if the webhook is gone."""
        ...

    def disable(self, org_id: str, webhook_id: str, *, reason: str, at: datetime) -> bool:
        """Disable an active webhook; whether this call disabled it (False: it already was)."""
        ...

    def enable(self, org_id: str, webhook_id: str) -> Webhook | None: ...

    def set_notify_address(self, org_id: str, address: str | None) -> None: ...


class DeliveryLog(Protocol):
    """Recent delivery attempts per webhook (kept for ``ATTEMPTS_KEPT_DAYS``) and the e-mails sent."""

    def record(self, attempt: DeliveryAttempt) -> None: ...

    def recent(self, webhook_id: str, *, limit: int) -> list[DeliveryAttempt]:
        """The newest attempts first."""
        ...

    def mailed(self, job_id: str) -> bool:
        """Whether this mail job was already sent."""
        ...

    def mark_mailed(self, job_id: str, at: datetime) -> None: ...


class SecretBox(Protocol):
    """Seals webhook signing secrets (they sign, so they cannot be stored as a hash)."""

    def seal(self, secret: bytes, *, context: dict[str, str]) -> bytes: ...

    def open(self, sealed: bytes, *, context: dict[str, str]) -> bytes: ...


class EventsQueue(Protocol):
    """The events queue, where every delivery job waits for the delivery function."""

    def send(self, job: WebhookJob | MailJob, *, delay_seconds: int = 0) -> None: ...

    def send_all(self, jobs: list[WebhookJob | MailJob]) -> None:
        """Send every job (in batches); raises if any could not be sent."""
        ...

    def dead_letter(self, job: WebhookJob | MailJob, *, failure: str, detail: str) -> None:
        """Put a job that will never succeed in the dead-letter queue, with why."""
        ...


class HttpOutcome(TypedDict):
    status: int | None  # the HTTP status, None when no answer came
    latency_ms: int
    error: str | None  # why no answer came (timeout, TLS, connection refused...)


class WebhookSender(Protocol):
    """POSTs one signed body to a checked target (its addresses only; no redirects)."""

    def post(self, target: Target, body: bytes, headers: dict[str, str]) -> HttpOutcome: ...


class Mailer(Protocol):
    def send(self, message: EmailMessage) -> str:
        """Send the message; its id at the mail service."""
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


class MediaEvents(Protocol):
    """Where verification announces ``media.ready`` and ``media.rejected`` to the organisation's
    webhooks (``functions.domain.delivery.EventRouter``)."""

    def route(self, org_id: str, event: Event) -> Sequence[object]:
        """Queue the event's delivery jobs; raises if they could not be queued."""
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
