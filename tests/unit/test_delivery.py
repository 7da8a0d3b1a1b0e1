"""Routing events into jobs and delivering them: signatures, retries, dead letters, disabling."""

from __future__ import annotations

import itertools
import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from standardwebhooks import Webhook as Verifier
from standardwebhooks import WebhookVerificationError

from functions.domain import delivery
from functions.domain.delivery import (
    RETRIES_EXHAUSTED,
    WEBHOOK_DISABLED,
    DeliveryService,
    EventRouter,
    Outcome,
    nominal_delay,
    queue_delay,
    retry_delay,
)
from functions.domain.events import EventType, release_event
from functions.domain.messages import MailJob, ReleaseNotice, WebhookDisabledNotice, WebhookJob
from functions.domain.records import Caller, ReleaseRecord
from functions.domain.states import Status
from functions.domain.subscriptions import WebhookSubscription
from functions.domain.webhooks import AttemptOutcome, WebhookService, format_secret
from tests.fakes import (
    Clock,
    MemoryBox,
    MemoryDeliveryLog,
    MemoryEventsQueue,
    MemoryMailer,
    MemoryWebhooks,
    ScriptedSender,
)

T0 = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
PUBLIC = "93.184.215.14"
ACME = Caller(org_id="acme", org_name="Acme")


class World:
    """The services over in-memory ports, with a clock the test moves."""

    def __init__(self, statuses: list[int | None] | None = None, *, now: datetime = T0) -> None:
        self.clock = Clock(now)
        self.hooks = MemoryWebhooks()
        self.log = MemoryDeliveryLog()
        self.box = MemoryBox()
        self.queue = MemoryEventsQueue()
        self.sender = ScriptedSender(statuses or [204])
        self.mailer = MemoryMailer()
        self.dns: dict[str, list[str]] = {"hooks.example.org": [PUBLIC]}
        self.secrets: dict[str, int] = {}
        self.webhooks = WebhookService(
            hooks=self.hooks,
            log=self.log,
            box=self.box,
            queue=self.queue,
            resolve=self.resolve,
            clock=self.clock,
            random_bytes=self._random,
        )
        self.service = DeliveryService(
            hooks=self.hooks,
            log=self.log,
            box=self.box,
            queue=self.queue,
            sender=self.sender,
            resolve=self.resolve,
            clock=self.clock,
            backoff=nominal_delay,  # no jitter: the schedule itself
            mailer=self.mailer,
            compose=lambda job, now: _message(job),
        )
        self.router = EventRouter(
            hooks=self.hooks, queue=self.queue, contact_of=lambda record: "press@acme.example", mail=True
        )

    def _random(self, size: int) -> bytes:
        self.secrets[str(len(self.secrets))] = size
        return bytes([len(self.secrets)]) * size

    def resolve(self, host: str, port: int) -> list[str]:
        if host not in self.dns:
            raise OSError("no such host")
        return self.dns[host]

    def register(
        self, events: list[EventType] | None = None, url: str = "https://hooks.example.org/in"
    ) -> str:
        subscription = WebhookSubscription(url=url, events=events or [EventType.RELEASE_APPROVED])
        hook, secret = self.webhooks.register(ACME, subscription)
        self.secret = secret
        return hook.webhook_id

    def run(self) -> list[Outcome]:
        """Deliver the jobs waiting, once SQS would hand them over (the clock moves by their delay)."""
        waiting = list(self.queue.jobs)
        self.queue.jobs.clear()
        outcomes = []
        for job, delay in waiting:
            self.clock.now += timedelta(seconds=delay)
            outcomes.append(
                self.service.deliver(job) if isinstance(job, WebhookJob) else self.service.mail(job)
            )
        return outcomes


def _message(job: MailJob):  # type: ignore[no-untyped-def]
    from email.message import EmailMessage

    message = EmailMessage()
    message["To"] = job.recipient
    message["Subject"] = job.event_type
    message.set_content("notice")
    return message


def _release(status: Status = Status.APPROVED, **changes: object) -> ReleaseRecord:
    record = ReleaseRecord(
        release_id="6f6b1f6e-0000-4000-8000-000000000001",
        org_id="acme",
        org_name="Acme",
        status=status,
        version=1,
        category="personnel",
        headline="Acme names a CFO",
        language="en",
        created_at=T0,
        updated_at=T0,
        object_key="orgs/acme/releases/x/v0001.json",
        payload_hash="h",
        content_digest="d",
    )
    return replace(record, **changes)  # type: ignore[arg-type]


def _approve(world: World) -> None:
    world.router.changed(_release(Status.PENDING_REVIEW), _release(Status.APPROVED))


# -- routing -----------------------------------------------------------------------------------------


def test_an_event_becomes_one_job_per_subscribed_active_webhook() -> None:
    world = World()
    wanted = world.register([EventType.RELEASE_APPROVED])
    world.register([EventType.RELEASE_REJECTED])  # not this event
    disabled = world.register([EventType.RELEASE_APPROVED])
    world.hooks.disable("acme", disabled, reason="r", at=T0)
    _approve(world)
    jobs = world.queue.take()
    assert [(j.kind, getattr(j, "webhook_id", None)) for j in jobs] == [("webhook", wanted)]
    assert isinstance(jobs[0], WebhookJob)
    assert json.loads(jobs[0].payload)["type"] == "release.approved"
    assert jobs[0].notify == ("press@acme.example",)


def test_mailed_events_go_to_the_contact_and_the_organisations_address_once_each() -> None:
    world = World()
    world.hooks.set_notify_address("acme", "PRESS@acme.example")  # the same person, another case
    world.router.changed(_release(Status.PENDING_REVIEW), _release(Status.CHANGES_REQUESTED))
    mails = [j for j in world.queue.take() if isinstance(j, MailJob)]
    assert [m.recipient for m in mails] == ["press@acme.example"]
    world.hooks.set_notify_address("acme", "office@acme.example")
    world.router.changed(_release(Status.PENDING_REVIEW), _release(Status.REJECTED))
    mails = [j for j in world.queue.take() if isinstance(j, MailJob)]
    assert sorted(m.recipient for m in mails) == ["office@acme.example", "press@acme.example"]
    assert isinstance(mails[0].notice, ReleaseNotice)
    assert mails[0].notice.status == "rejected"


def test_no_mail_for_events_that_are_not_mailed_nor_when_mail_is_off() -> None:
    world = World()
    _approve(world)  # approved: not mailed
    assert world.queue.take() == []
    quiet = EventRouter(
        hooks=world.hooks, queue=world.queue, contact_of=lambda r: "p@acme.example", mail=False
    )
    quiet.changed(_release(Status.PENDING_REVIEW), _release(Status.REJECTED))
    assert world.queue.take() == []


def test_a_media_event_is_routed_like_any_other() -> None:
    from functions.domain.events import media_event

    world = World()
    hook = world.register([EventType.MEDIA_READY])
    world.router.route("acme", media_event("m1", ready=True, at=T0))
    (job,) = world.queue.take()
    assert isinstance(job, WebhookJob)
    assert (job.webhook_id, job.event_type) == (hook, "media.ready")


# -- signing and delivering ----------------------------------------------------------------------------


def test_a_delivery_is_signed_so_the_standard_webhooks_library_verifies_it() -> None:
    # The library refuses a timestamp more than 5 minutes from its own clock: this world's is now
    world = World(now=datetime.now(UTC))
    world.register()
    _approve(world)
    assert world.run() == [Outcome.DELIVERED]
    ((target, body, headers),) = world.sender.requests
    assert target.addresses == (PUBLIC,)  # the checked address
    verified = Verifier(world.secret).verify(body, headers)
    assert verified["type"] == "release.approved"
    assert headers["content-type"] == "application/json"
    with pytest.raises(WebhookVerificationError):
        Verifier(format_secret(b"x" * 32)).verify(body, headers)


def test_signatures_cover_the_timestamp() -> None:
    # Re-timestamping (as the helper above must not do) breaks the signature: it is over the time too
    world = World()
    world.register()
    _approve(world)
    world.run()
    ((_, body, headers),) = world.sender.requests
    moved = {**headers, "webhook-timestamp": str(int(headers["webhook-timestamp"]) + 1)}
    with pytest.raises(WebhookVerificationError):
        _verify_at(world.secret, body, moved)
    assert _verify_at(world.secret, body, headers)["type"] == "release.approved"


def _verify_at(secret: str, body: bytes, headers: dict[str, str]) -> dict[str, object]:
    """Verify as the library does, at the delivery's own time (its 5-minute window moved with it)."""
    verifier = Verifier(secret)
    expected = verifier.sign(
        headers["webhook-id"], datetime.fromtimestamp(int(headers["webhook-timestamp"]), UTC), body.decode()
    )
    if expected not in headers["webhook-signature"].split(" "):
        raise WebhookVerificationError("No matching signature found")
    return json.loads(body)  # type: ignore[no-any-return]


def test_after_a_rotation_both_secrets_sign_for_24_hours_then_only_the_new_one() -> None:
    world = World()
    hook = world.register()
    old = world.secret
    _, new = world.webhooks.rotate(ACME, hook)
    _approve(world)
    world.run()
    _, body, headers = world.sender.requests[-1]
    assert len(headers["webhook-signature"].split(" ")) == 2
    assert _verify_at(old, body, headers) == _verify_at(new, body, headers)
    # a day later, the previous secret no longer signs
    world.clock.now = T0 + timedelta(hours=24, seconds=1)
    world.router.changed(_release(Status.APPROVED), _release(Status.PUBLISHED, updated_at=world.clock.now))
    world.hooks.hooks[("acme", hook)] = replace(
        world.hooks.hooks[("acme", hook)], events=("release.published",)
    )
    world.router.changed(_release(Status.APPROVED), _release(Status.PUBLISHED, updated_at=world.clock.now))
    world.run()
    _, body, headers = world.sender.requests[-1]
    assert len(headers["webhook-signature"].split(" ")) == 1
    _verify_at(new, body, headers)
    with pytest.raises(WebhookVerificationError):
        _verify_at(old, body, headers)


def test_every_attempt_has_the_same_webhook_id_and_a_fresh_timestamp() -> None:
    world = World(statuses=[500, 503, 204])
    world.register()
    _approve(world)
    for _ in range(3):
        world.run()
    ids = {headers["webhook-id"] for _, _, headers in world.sender.requests}
    stamps = [int(headers["webhook-timestamp"]) for _, _, headers in world.sender.requests]
    assert len(world.sender.requests) == 3
    assert len(ids) == 1
    assert stamps == sorted(stamps)
    assert len(set(stamps)) == 3


# -- retries, dead letters, disabling ----------------------------------------------------------------------


def test_a_failed_attempt_is_retried_on_the_schedule_and_a_success_ends_it() -> None:
    world = World(statuses=[500, None, 204])
    world.register()
    _approve(world)
    assert world.run() == [Outcome.RETRYING]
    ((retry, delay),) = world.queue.jobs
    assert isinstance(retry, WebhookJob)
    assert (retry.attempt, retry.first_attempt_at, retry.not_before) == (2, T0, T0 + timedelta(seconds=10))
    assert delay == 10
    assert world.run() == [Outcome.RETRYING]
    assert world.run() == [Outcome.DELIVERED]
    assert world.run() == []  # nothing more
    outcomes = [a.outcome for a in reversed(world.log.recent(_hook_of(world), limit=10))]
    assert outcomes == [AttemptOutcome.FAILED, AttemptOutcome.FAILED, AttemptOutcome.DELIVERED]


def _hook_of(world: World) -> str:
    """The id of the world's one webhook."""
    ((_, hook),) = world.hooks.hooks
    return hook


def test_a_webhook_failing_for_24_hours_leaves_the_event_in_the_dead_letter_queue() -> None:
    world = World(statuses=[500])
    world.register()
    _approve(world)
    outcomes: list[Outcome] = []
    while world.queue.jobs:
        outcomes += world.run()
    assert outcomes[-1] is Outcome.DEAD_LETTERED
    assert set(outcomes[:-1]) == {Outcome.RETRYING, Outcome.WAITING}  # long waits take several hops
    ((job, failure, detail),) = world.queue.dead
    assert isinstance(job, WebhookJob)
    assert job.first_attempt_at == T0
    assert failure == RETRIES_EXHAUSTED
    assert "HTTP 500" in detail
    attempts = sorted(world.log.attempts, key=lambda a: a.attempt)
    assert attempts[-1].at == T0 + timedelta(hours=24)  # the last attempt at the 24-hour mark
    assert attempts[-2].at < T0 + timedelta(hours=24)
    assert [a.attempt for a in attempts] == list(range(1, len(attempts) + 1))
    assert 8 <= len(attempts) <= 14
    # every SQS delay is at most 15 minutes, however long the wait
    assert all(delay <= 900 for _, delay in world.queue.jobs)


def test_an_endpoint_failing_for_three_days_is_disabled_and_the_organisation_told() -> None:
    world = World(statuses=[500])
    world.hooks.set_notify_address("acme", "office@acme.example")
    hook = world.register()
    _approve(world)
    while world.queue.jobs:
        world.run()  # day 0-1: retried, then dead-lettered; the webhook still active
    assert world.hooks.get("acme", hook).active  # type: ignore[union-attr]
    # Day 3: another event fails too
    world.clock.now = T0 + timedelta(days=3)
    world.router.changed(
        _release(Status.PENDING_REVIEW), _release(Status.APPROVED, updated_at=world.clock.now)
    )
    assert world.run() == [Outcome.DISABLED]
    disabled = world.hooks.get("acme", hook)
    assert disabled is not None
    assert not disabled.active
    assert "3 days" in (disabled.disabled_reason or "")
    assert [f for _, f, _ in world.queue.dead] == [RETRIES_EXHAUSTED, WEBHOOK_DISABLED]  # nothing lost
    notices = [j for j in world.queue.take() if isinstance(j, MailJob)]
    assert sorted(n.recipient for n in notices) == ["office@acme.example", "press@acme.example"]
    assert all(isinstance(n.notice, WebhookDisabledNotice) for n in notices)
    # and nothing more is sent to it
    requests = len(world.sender.requests)
    world.router.changed(_release(Status.APPROVED), _release(Status.SCHEDULED, updated_at=world.clock.now))
    world.run()
    assert len(world.sender.requests) == requests


def test_a_success_in_between_resets_the_three_days() -> None:
    world = World(statuses=[500, 204, 500])
    hook = world.register()
    _approve(world)
    world.run()  # fails at T0
    world.run()  # succeeds
    world.clock.now = T0 + timedelta(days=3, hours=1)
    world.router.changed(
        _release(Status.PENDING_REVIEW), _release(Status.APPROVED, updated_at=world.clock.now)
    )
    assert world.run() == [Outcome.RETRYING]
    assert world.hooks.get("acme", hook).failing_since == world.clock.now  # type: ignore[union-attr]


def test_a_job_for_a_deleted_webhook_is_dropped_and_one_for_a_disabled_one_kept() -> None:
    world = World()
    gone = world.register()
    _approve(world)
    world.webhooks.delete(ACME, gone)
    assert world.run() == [Outcome.GONE]
    kept = world.register()
    _approve(world)
    world.hooks.disable("acme", kept, reason="failing", at=T0)
    assert world.run() == [Outcome.DISABLED]
    assert world.queue.dead[0][1] == WEBHOOK_DISABLED
    assert world.sender.requests == []


def test_the_url_is_checked_again_at_delivery_when_dns_changed() -> None:
    world = World()
    hook = world.register()
    world.dns["hooks.example.org"] = ["169.254.169.254"]  # after registration
    _approve(world)
    assert world.run() == [Outcome.RETRYING]
    assert world.sender.requests == []  # nothing was sent
    (attempt,) = world.log.recent(hook, limit=5)
    assert attempt.outcome is AttemptOutcome.REFUSED
    assert "169.254.169.254" in (attempt.error or "")


def test_an_early_job_waits_again_without_an_attempt() -> None:
    world = World()
    world.register()
    job = WebhookJob(
        event_id="msg_1",
        event_type="release.approved",
        org_id="acme",
        webhook_id=_hook_of(world),
        payload="{}",
        not_before=T0 + timedelta(hours=2),
    )
    assert world.service.deliver(job) is Outcome.WAITING
    ((again, delay),) = world.queue.jobs
    assert (again, delay) == (job, 900)
    assert world.sender.requests == []


def test_the_backoff_grows_exponentially_with_jitter_and_caps_at_six_hours() -> None:
    nominal = [nominal_delay(n).total_seconds() for n in range(1, 12)]
    assert nominal[:4] == [10, 30, 90, 270]
    assert all(b >= a for a, b in itertools.pairwise(nominal))
    assert max(nominal) == 6 * 3600
    assert retry_delay(3, rand=lambda: 0.0) == nominal_delay(3) / 2
    assert retry_delay(3, rand=lambda: 1.0) == nominal_delay(3)
    assert queue_delay(timedelta(hours=5)) == 900
    assert queue_delay(timedelta(seconds=1.2)) == 2
    assert queue_delay(timedelta(seconds=-3)) == 0


# -- e-mail ------------------------------------------------------------------------------------------


def test_a_mail_job_is_sent_once_however_often_it_is_delivered() -> None:
    world = World()
    world.router.changed(_release(Status.PENDING_REVIEW), _release(Status.REJECTED))
    (job,) = world.queue.take()
    assert isinstance(job, MailJob)
    assert world.service.mail(job) is Outcome.MAILED
    assert world.service.mail(job) is Outcome.ALREADY_MAILED
    assert len(world.mailer.sent) == 1
    assert world.mailer.sent[0]["To"] == "press@acme.example"


def test_without_a_mailer_mail_jobs_are_dropped_with_a_warning(caplog: pytest.LogCaptureFixture) -> None:
    world = World()
    quiet = DeliveryService(
        hooks=world.hooks,
        log=world.log,
        box=world.box,
        queue=world.queue,
        sender=world.sender,
        resolve=world.resolve,
        clock=world.clock,
    )
    job = MailJob(
        event_id="msg_1",
        event_type="release.rejected",
        org_id="acme",
        recipient="p@acme.example",
        notice=ReleaseNotice(release_id="r", version=1, headline="h", status="rejected"),
    )
    assert quiet.mail(job) is Outcome.MAIL_OFF
    assert "mail is off" in caplog.text


def test_the_event_a_webhook_gets_is_the_one_the_router_built() -> None:
    world = World()
    world.register()
    record = _release(Status.APPROVED)
    world.router.changed(_release(Status.PENDING_REVIEW), record)
    world.run()
    _, body, headers = world.sender.requests[0]
    expected = release_event(EventType.RELEASE_APPROVED, record)
    assert (headers["webhook-id"], body.decode()) == (expected.id, expected.body())
    assert delivery.USER_AGENT in headers["user-agent"]
