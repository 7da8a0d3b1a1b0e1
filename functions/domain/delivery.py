"""From an event to the people who want it: routing into jobs, then delivering each job.

``EventRouter`` (the events function) turns one event into delivery jobs on the events queue:
one ``WebhookJob`` per active webhook of the organisation subscribed to its type, and, for the
events in ``MAILED``, one ``MailJob`` per recipient (the release's contact and the
organisation's notification address). Events never leave from the request that caused them.

``DeliveryService`` (the delivery function) runs one job:

- a webhook job is signed per the Standard Webhooks specification (``webhook-id`` stable across
  attempts, ``webhook-timestamp`` the attempt's time, ``webhook-signature`` one ``v1,...`` per
  secret valid now) and POSTed to the checked URL (the SSRF policy again, a 5 s timeout, no
  redirects). A 2xx is a delivery. Anything else is retried on the backoff schedule
  (``retry_delay``: exponential, with jitter) until 24 hours after the first attempt, then
  dead-lettered with the reason. A webhook that has failed for ``DISABLE_AFTER`` without a
  success is disabled, and the organisation told by e-mail;
- a mail job is rendered (``functions.domain.notices``) and sent once: a job already sent
  (a redelivery) sends nothing.
"""

from __future__ import annotations

import logging
import math
import random
from collections.abc import Callable, Iterable
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import TYPE_CHECKING

from functions.domain.egress import Resolve, UnsafeUrl, checked_target
from functions.domain.events import MAILED, Event, EventType, decision_data, events_for, release_event
from functions.domain.messages import (
    DecisionNotice,
    MailJob,
    ReleaseNotice,
    WebhookDisabledNotice,
    WebhookJob,
)
from functions.domain.ports import (
    DeliveryLog,
    EventsQueue,
    HttpOutcome,
    Mailer,
    SecretBox,
    WebhookSender,
    WebhookStore,
)
from functions.domain.records import ReleaseRecord
from functions.domain.webhooks import AttemptOutcome, DeliveryAttempt, Webhook, seal_context

if TYPE_CHECKING:
    from email.message import EmailMessage

log = logging.getLogger(__name__)

RETRY_FOR = timedelta(hours=24)  # after the first attempt; then the dead-letter queue
DISABLE_AFTER = timedelta(days=3)  # failing without a success in between: disabled
FIRST_RETRY = timedelta(seconds=10)
BACKOFF_FACTOR = 3
LONGEST_WAIT = timedelta(hours=6)
MAX_QUEUE_DELAY = 900  # SQS's longest DelaySeconds: longer waits take several hops
USER_AGENT = "press-intake-webhooks/1"


def nominal_delay(attempt: int) -> timedelta:
    """How long to wait after failed attempt ``attempt`` (1-based), before jitter: 10 s, 30 s,
    90 s, 4.5 min, 13.5 min, 40.5 min, about 2 h, then 6 h."""
    seconds = FIRST_RETRY.total_seconds() * BACKOFF_FACTOR ** min(attempt - 1, 20)
    return min(LONGEST_WAIT, timedelta(seconds=seconds))


def retry_delay(attempt: int, rand: Callable[[], float] = random.random) -> timedelta:
    """``nominal_delay`` with jitter: anywhere from half of it to all of it, so that the retries
    of many deliveries that failed together do not all come back at once."""
    return nominal_delay(attempt) * (0.5 + 0.5 * rand())


def queue_delay(wait: timedelta) -> int:
    """The SQS delay for a job due after ``wait``: at most 900 s (the job waits again on arrival
    if it is still early)."""
    return max(0, min(MAX_QUEUE_DELAY, math.ceil(wait.total_seconds())))


def sign(event_id: str, at: datetime, payload: str, secrets: Iterable[bytes]) -> dict[str, str]:
    """The Standard Webhooks headers of one attempt, one signature per secret (space-separated)."""
    from standardwebhooks import Webhook as Signer

    moment = at.astimezone(UTC)
    signatures = [Signer(secret).sign(event_id, moment, payload) for secret in secrets]
    return {
        "webhook-id": event_id,
        "webhook-timestamp": str(math.floor(moment.timestamp())),
        "webhook-signature": " ".join(signatures),
    }


def _people(*addresses: str | None) -> tuple[str, ...]:
    """The addresses given, each once (case-insensitively), in order."""
    seen: dict[str, str] = {}
    for address in addresses:
        if address and address.strip() and address.strip().lower() not in seen:
            seen[address.strip().lower()] = address.strip()
    return tuple(seen.values())


class EventRouter:
    """Events in, delivery jobs out (on the events queue)."""

    def __init__(
        self,
        *,
        hooks: WebhookStore,
        queue: EventsQueue,
        contact_of: Callable[[ReleaseRecord], str | None],
        mail: bool,
    ) -> None:
        self._hooks = hooks
        self._queue = queue
        self._contact_of = contact_of
        self._mail = mail

    def changed(
        self, before: ReleaseRecord | None, after: ReleaseRecord | None
    ) -> list[WebhookJob | MailJob]:
        """The jobs one change of a release's state item makes (queued)."""
        if after is None:
            return []
        jobs: list[WebhookJob | MailJob] = []
        for kind in events_for(before, after):
            jobs += self.jobs_for(after.org_id, release_event(kind, after), release=after)
        if jobs:
            self._queue.send_all(jobs)
        return jobs

    def route(self, org_id: str, event: Event) -> list[WebhookJob | MailJob]:
        """Queue an event that is not a release's (``media.ready``, ``media.rejected``)."""
        jobs = self.jobs_for(org_id, event)
        if jobs:
            self._queue.send_all(jobs)
        return jobs

    def jobs_for(
        self, org_id: str, event: Event, *, release: ReleaseRecord | None = None
    ) -> list[WebhookJob | MailJob]:
        organisation = self._hooks.organisation(org_id)
        hooks = [h for h in organisation.webhooks if h.active and h.subscribes(event.type)]
        mailed = self._mail and release is not None and EventType(event.type) in MAILED
        if not hooks and not mailed:
            return []
        contact = self._contact_of(release) if release is not None else None
        people = _people(contact, organisation.notify_address)
        jobs: list[WebhookJob | MailJob] = [
            WebhookJob(
                event_id=event.id,
                event_type=event.type,
                org_id=org_id,
                webhook_id=hook.webhook_id,
                payload=event.body(),
                notify=people,
            )
            for hook in hooks
        ]
        if mailed and release is not None:
            notice = _release_notice(release)
            jobs += [
                MailJob(
                    event_id=event.id, event_type=event.type, org_id=org_id, recipient=person, notice=notice
                )
                for person in people
            ]
        return jobs


def _release_notice(record: ReleaseRecord) -> ReleaseNotice:
    decision = decision_data(record)
    return ReleaseNotice(
        release_id=record.release_id,
        version=record.version,
        headline=record.headline,
        org_name=record.org_name,
        status=record.status.value,
        decision=DecisionNotice(
            action=decision["action"], reason_codes=tuple(decision["reason_codes"]), note=decision["note"]
        )
        if decision
        else None,
        public_url=record.public_url,
    )


class Outcome(StrEnum):
    DELIVERED = "delivered"
    RETRYING = "retrying"  # failed; sent again, delayed
    WAITING = "waiting"  # arrived before its time; sent again, delayed
    DEAD_LETTERED = "dead_lettered"  # failed for 24 hours
    DISABLED = "disabled"  # failed, and the webhook was (or had been) disabled: dead-lettered
    GONE = "gone"  # the webhook was deleted meanwhile
    MAILED = "mailed"
    ALREADY_MAILED = "already_mailed"
    MAIL_OFF = "mail_off"  # the stack sends no mail (no sender identity)


# Dead letters this service writes itself, as their ``failure`` attribute.
RETRIES_EXHAUSTED = "retries_exhausted"
WEBHOOK_DISABLED = "webhook_disabled"


def describe(attempt: DeliveryAttempt) -> str:
    if attempt.status_code is not None:
        return f"HTTP {attempt.status_code}"
    return attempt.error or attempt.outcome.value


class DeliveryService:
    def __init__(
        self,
        *,
        hooks: WebhookStore,
        log: DeliveryLog,
        box: SecretBox,
        queue: EventsQueue,
        sender: WebhookSender,
        resolve: Resolve,
        clock: Callable[[], datetime],
        backoff: Callable[[int], timedelta] = retry_delay,
        hold: Callable[[timedelta], int] = queue_delay,
        mailer: Mailer | None = None,
        compose: Callable[[MailJob, datetime], EmailMessage] | None = None,
        allow_loopback: bool = False,
    ) -> None:
        self._hooks = hooks
        self._log = log
        self._box = box
        self._queue = queue
        self._sender = sender
        self._resolve = resolve
        self._clock = clock
        self._backoff = backoff
        self._hold = hold
        self._mailer = mailer
        self._compose = compose
        self._allow_loopback = allow_loopback

    # -- webhooks ---------------------------------------------------------------------------------

    def deliver(self, job: WebhookJob) -> Outcome:
        now = self._clock()
        if job.not_before is not None and job.not_before > now:
            self._queue.send(job, delay_seconds=self._hold(job.not_before - now))
            return Outcome.WAITING
        hook = self._hooks.get(job.org_id, job.webhook_id)
        if hook is None:
            log.info("webhook %s is gone; %s not delivered", job.webhook_id, job.event_id)
            return Outcome.GONE
        if not hook.active:
            self._queue.dead_letter(job, failure=WEBHOOK_DISABLED, detail=hook.disabled_reason or "disabled")
            return Outcome.DISABLED
        attempt = self._attempt(hook, job, now)
        self._log.record(attempt)
        if attempt.outcome is AttemptOutcome.DELIVERED:
            self._hooks.succeeded(hook.org_id, hook.webhook_id, now)
            return Outcome.DELIVERED
        return self._failed(hook, job, attempt, now)

    def _attempt(self, hook: Webhook, job: WebhookJob, now: datetime) -> DeliveryAttempt:
        def result(outcome: AttemptOutcome, **details: object) -> DeliveryAttempt:
            return DeliveryAttempt(
                webhook_id=hook.webhook_id,
                event_id=job.event_id,
                event_type=job.event_type,
                attempt=job.attempt,
                at=now,
                outcome=outcome,
                **details,  # type: ignore[arg-type]
            )

        try:
            target = checked_target(hook.url, self._resolve, allow_loopback=self._allow_loopback)
        except UnsafeUrl as refused:
            log.warning("webhook %s refused at delivery: %s", hook.webhook_id, refused.reason.value)
            return result(AttemptOutcome.REFUSED, error=refused.detail)
        context = seal_context(hook.org_id, hook.webhook_id)
        secrets = [self._box.open(sealed, context=context) for sealed in hook.sealed_secrets(now)]
        headers = {
            **sign(job.event_id, now, job.payload, secrets),
            "content-type": "application/json",
            "user-agent": USER_AGENT,
        }
        answer: HttpOutcome = self._sender.post(target, job.payload.encode("utf-8"), headers)
        status = answer["status"]
        delivered = status is not None and 200 <= status < 300
        return result(
            AttemptOutcome.DELIVERED if delivered else AttemptOutcome.FAILED,
            status_code=status,
            latency_ms=answer["latency_ms"],
            error=answer["error"],
        )

    def _failed(self, hook: Webhook, job: WebhookJob, attempt: DeliveryAttempt, now: datetime) -> Outcome:
        since = self._hooks.failed(hook.org_id, hook.webhook_id, now)
        if since is None:
            return Outcome.GONE
        if now - since >= DISABLE_AFTER:
            self._disable(hook, job, since, attempt, now)
            self._queue.dead_letter(
                job, failure=WEBHOOK_DISABLED, detail=f"the webhook was disabled; last: {describe(attempt)}"
            )
            return Outcome.DISABLED
        first = job.first_attempt_at or now
        deadline = first + RETRY_FOR
        if now >= deadline:
            self._queue.dead_letter(
                job,
                failure=RETRIES_EXHAUSTED,
                detail=f"{job.attempt} attempts over 24 hours; last: {describe(attempt)}",
            )
            return Outcome.DEAD_LETTERED
        due = min(now + self._backoff(job.attempt), deadline)
        self._queue.send(
            job.retry(not_before=due, first_attempt_at=first), delay_seconds=self._hold(due - now)
        )
        return Outcome.RETRYING

    def _disable(
        self, hook: Webhook, job: WebhookJob, since: datetime, attempt: DeliveryAttempt, now: datetime
    ) -> None:
        reason = (
            f"Every delivery failed for {DISABLE_AFTER.days} days without a success "
            f"(failing since {since.astimezone(UTC):%Y-%m-%d %H:%M} UTC; last attempt: {describe(attempt)})."
        )
        if not self._hooks.disable(hook.org_id, hook.webhook_id, reason=reason, at=now):
            return  # another delivery disabled it (and told them) first
        log.warning("webhook %s disabled: %s", hook.webhook_id, reason)
        if self._mailer is None:
            return
        people = _people(self._hooks.organisation(hook.org_id).notify_address, *job.notify)
        notice = WebhookDisabledNotice(
            webhook_id=hook.webhook_id, url=hook.url, failing_since=since, reason=reason
        )
        jobs: list[WebhookJob | MailJob] = [
            MailJob(
                event_id=f"{hook.webhook_id}:disabled:{now.isoformat()}",
                event_type="webhook.disabled",
                org_id=hook.org_id,
                recipient=person,
                notice=notice,
            )
            for person in people
        ]
        if jobs:
            self._queue.send_all(jobs)
        else:
            log.warning("nobody to tell that webhook %s was disabled (no address)", hook.webhook_id)

    # -- e-mail -------------------------------------------------------------------------------------

    def mail(self, job: MailJob) -> Outcome:
        if self._mailer is None or self._compose is None:
            log.warning("mail is off (no sender identity): %s to %s not sent", job.event_type, job.recipient)
            return Outcome.MAIL_OFF
        if self._log.mailed(job.job_id):
            return Outcome.ALREADY_MAILED
        now = self._clock()
        message = self._compose(job, now)
        self._mailer.send(message)
        self._log.mark_mailed(job.job_id, now)
        return Outcome.MAILED
