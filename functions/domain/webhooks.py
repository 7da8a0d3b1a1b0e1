"""Webhooks: what an organisation registers, and the service behind ``/webhooks``.

A webhook is a URL and the events it wants (``functions.domain.events.EventType``). Its signing
secret (Standard Webhooks: ``whsec_`` and the base64 of 32 random bytes) is shown once, when it
is created or rotated, and kept only sealed (``SecretBox``: KMS, bound to the organisation and
the webhook by the encryption context): it signs, so a hash would not do. Rotating keeps the
previous secret valid for ``PREVIOUS_SECRET_VALID`` (deliveries carry both signatures).

Every URL passes the SSRF policy (``functions.domain.egress``) when it is registered, and again
at every delivery. A test (``test``) is queued like any event, never sent from the request.
"""

from __future__ import annotations

import base64
import re
import secrets
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from enum import StrEnum

from functions.domain import errors
from functions.domain.egress import Resolve, UnsafeUrl, checked_target
from functions.domain.events import Event, ping_event
from functions.domain.messages import WebhookJob
from functions.domain.ports import DeliveryLog, EventsQueue, SecretBox, WebhookExists, WebhookStore
from functions.domain.records import Caller
from functions.domain.subscriptions import WebhookSubscription

SECRET_PREFIX = "whsec_"  # noqa: S105 - the format's prefix, not a secret
SECRET_BYTES = 32
MAX_WEBHOOKS = 10  # per organisation
PREVIOUS_SECRET_VALID = timedelta(hours=24)
ATTEMPTS_KEPT = timedelta(days=7)  # how long delivery attempts are listed (the table's TTL)
_WEBHOOK_ID = re.compile(r"^wh_[0-9a-f]{32}$")


class HookStatus(StrEnum):
    ACTIVE = "active"
    DISABLED = "disabled"


class AttemptOutcome(StrEnum):
    DELIVERED = "delivered"  # a 2xx answer
    FAILED = "failed"  # another answer, or none (timeout, TLS, connection)
    REFUSED = "refused"  # the URL no longer passes the SSRF policy: nothing was sent


def new_webhook_id() -> str:
    return f"wh_{uuid.uuid4().hex}"


def is_webhook_id(value: str) -> bool:
    return bool(_WEBHOOK_ID.match(value))


def format_secret(raw: bytes) -> str:
    """The secret as shown to the organisation and as receivers' libraries take it."""
    return SECRET_PREFIX + base64.b64encode(raw).decode("ascii")


def seal_context(org_id: str, webhook_id: str) -> dict[str, str]:
    """What a sealed secret is bound to: it opens for this webhook of this organisation only."""
    return {"purpose": "webhook-signing-secret", "org_id": org_id, "webhook_id": webhook_id}


@dataclass(frozen=True)
class Webhook:
    webhook_id: str
    org_id: str
    url: str
    events: tuple[str, ...]
    status: HookStatus
    created_at: datetime
    secret: bytes = field(repr=False)  # sealed
    previous_secret: bytes | None = field(default=None, repr=False)  # sealed, until previous_until
    previous_until: datetime | None = None
    rotated_at: datetime | None = None
    failing_since: datetime | None = None
    last_success_at: datetime | None = None
    disabled_at: datetime | None = None
    disabled_reason: str | None = None

    @property
    def active(self) -> bool:
        return self.status is HookStatus.ACTIVE

    def subscribes(self, event_type: str) -> bool:
        return event_type in self.events

    def sealed_secrets(self, now: datetime) -> list[bytes]:
        """The secrets deliveries are signed with now: the current one, and the previous one
        during the 24 hours after a rotation."""
        keys = [self.secret]
        if self.previous_secret is not None and self.previous_until is not None and now < self.previous_until:
            keys.append(self.previous_secret)
        return keys


@dataclass(frozen=True)
class Organisation:
    """What the events function needs about an organisation: its webhooks and notification address."""

    org_id: str
    webhooks: tuple[Webhook, ...] = ()
    notify_address: str | None = None


@dataclass(frozen=True)
class DeliveryAttempt:
    webhook_id: str
    event_id: str
    event_type: str
    attempt: int
    at: datetime
    outcome: AttemptOutcome
    status_code: int | None = None
    latency_ms: int | None = None
    error: str | None = None


def _unsafe(error: UnsafeUrl) -> errors.ValidationFailed:
    return errors.ValidationFailed(
        [errors.FieldError("url", error.detail, f"unsafe_url.{error.reason.value}")],
        detail="The webhook URL is refused.",
    )


class WebhookService:
    """What the API does with webhooks; every call is scoped to the caller's organisation."""

    def __init__(
        self,
        *,
        hooks: WebhookStore,
        log: DeliveryLog,
        box: SecretBox,
        queue: EventsQueue,
        resolve: Resolve,
        clock: Callable[[], datetime],
        allow_loopback: bool = False,
        random_bytes: Callable[[int], bytes] = secrets.token_bytes,
    ) -> None:
        self._hooks = hooks
        self._log = log
        self._box = box
        self._queue = queue
        self._resolve = resolve
        self._clock = clock
        self._allow_loopback = allow_loopback
        self._random = random_bytes

    def register(self, caller: Caller, subscription: WebhookSubscription) -> tuple[Webhook, str]:
        """A new webhook and its secret, as shown once."""
        try:
            checked_target(subscription.url, self._resolve, allow_loopback=self._allow_loopback)
        except UnsafeUrl as error:
            raise _unsafe(error) from None
        if len(self._hooks.organisation(caller.org_id).webhooks) >= MAX_WEBHOOKS:
            raise errors.ValidationFailed(
                [errors.FieldError("url", f"An organisation may have {MAX_WEBHOOKS} webhooks.", "too_many")],
                detail=f"Your organisation already has {MAX_WEBHOOKS} webhooks; delete one first.",
            )
        webhook_id = new_webhook_id()
        raw = self._random(SECRET_BYTES)
        hook = Webhook(
            webhook_id=webhook_id,
            org_id=caller.org_id,
            url=subscription.url,
            events=tuple(sorted(e.value for e in subscription.events)),
            status=HookStatus.ACTIVE,
            created_at=self._clock(),
            secret=self._box.seal(raw, context=seal_context(caller.org_id, webhook_id)),
        )
        try:
            self._hooks.create(hook)
        except WebhookExists:  # a uuid4 collision: vanishingly rare, but never overwrite
            raise errors.DependencyFailure("The webhook could not be stored; retry.") from None
        return hook, format_secret(raw)

    def list_for(self, caller: Caller) -> list[Webhook]:
        return list(self._hooks.organisation(caller.org_id).webhooks)

    def get(self, caller: Caller, webhook_id: str) -> Webhook:
        hook = self._hooks.get(caller.org_id, webhook_id) if is_webhook_id(webhook_id) else None
        if hook is None:
            raise errors.WebhookNotFound(webhook_id)
        return hook

    def delete(self, caller: Caller, webhook_id: str) -> None:
        if not (is_webhook_id(webhook_id) and self._hooks.delete(caller.org_id, webhook_id)):
            raise errors.WebhookNotFound(webhook_id)

    def rotate(self, caller: Caller, webhook_id: str) -> tuple[Webhook, str]:
        """A new secret (shown once); the current one stays valid for 24 hours."""
        hook = self.get(caller, webhook_id)
        now = self._clock()
        raw = self._random(SECRET_BYTES)
        rotated = self._hooks.rotate(
            caller.org_id,
            webhook_id,
            secret=self._box.seal(raw, context=seal_context(caller.org_id, webhook_id)),
            previous=hook.secret,
            previous_until=now + PREVIOUS_SECRET_VALID,
            at=now,
        )
        if rotated is None:
            raise errors.WebhookNotFound(webhook_id)
        return rotated, format_secret(raw)

    def enable(self, caller: Caller, webhook_id: str) -> Webhook:
        """Deliver to a disabled webhook again (its failures are forgotten)."""
        self.get(caller, webhook_id)
        hook = self._hooks.enable(caller.org_id, webhook_id)
        if hook is None:
            raise errors.WebhookNotFound(webhook_id)
        return hook

    def test(self, caller: Caller, webhook_id: str) -> Event:
        """Queue a ``webhook.test`` event for this webhook (delivered like any other)."""
        hook = self.get(caller, webhook_id)
        now = self._clock()
        event = ping_event(hook.webhook_id, at=now, nonce=uuid.uuid4().hex)
        self._queue.send(
            WebhookJob(
                event_id=event.id,
                event_type=event.type,
                org_id=caller.org_id,
                webhook_id=hook.webhook_id,
                payload=event.body(),
            )
        )
        return event

    def deliveries(self, caller: Caller, webhook_id: str, *, limit: int) -> list[DeliveryAttempt]:
        hook = self.get(caller, webhook_id)
        return self._log.recent(hook.webhook_id, limit=limit)


def forget_failures(hook: Webhook) -> Webhook:
    """The webhook enabled again, as if it had never failed."""
    return replace(hook, status=HookStatus.ACTIVE, failing_since=None, disabled_at=None, disabled_reason=None)
