"""The webhook service behind /webhooks: registration, secrets, scope, rotation, tests."""

from __future__ import annotations

import base64
from datetime import UTC, datetime, timedelta

import pytest
from pydantic import ValidationError

from functions.domain import errors
from functions.domain.events import EventType
from functions.domain.messages import WebhookJob
from functions.domain.records import Caller
from functions.domain.subscriptions import WebhookSubscription
from functions.domain.webhooks import MAX_WEBHOOKS, WebhookService, seal_context
from tests.fakes import Clock, MemoryBox, MemoryDeliveryLog, MemoryEventsQueue, MemoryWebhooks

T0 = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
ACME = Caller(org_id="acme", org_name="Acme")
ROVERS = Caller(org_id="rovers", org_name="Rovers FC")
DNS = {"hooks.example.org": ["93.184.215.14"], "inside.example.org": ["10.1.2.3"]}


Parts = tuple[WebhookService, MemoryWebhooks, MemoryEventsQueue, Clock]


@pytest.fixture
def parts() -> Parts:
    hooks, queue, clock = MemoryWebhooks(), MemoryEventsQueue(), Clock(T0)

    def resolve(host: str, port: int) -> list[str]:
        if host not in DNS:
            raise OSError(host)
        return DNS[host]

    service = WebhookService(
        hooks=hooks, log=MemoryDeliveryLog(), box=MemoryBox(), queue=queue, resolve=resolve, clock=clock
    )
    return service, hooks, queue, clock


def _subscription(url: str = "https://hooks.example.org/in", *events: EventType) -> WebhookSubscription:
    return WebhookSubscription(url=url, events=list(events or [EventType.RELEASE_PUBLISHED]))


def test_a_new_webhook_has_a_standard_webhooks_secret_kept_only_sealed(parts: Parts) -> None:
    service, hooks, _, _ = parts
    hook, secret = service.register(ACME, _subscription())
    assert secret.startswith("whsec_")
    raw = base64.b64decode(secret.removeprefix("whsec_"))
    assert len(raw) == 32
    stored = hooks.get("acme", hook.webhook_id)
    assert stored is not None
    assert raw not in stored.secret  # sealed, not the secret itself
    assert MemoryBox().open(stored.secret, context=seal_context("acme", hook.webhook_id)) == raw
    # and bound to its webhook: another's context does not open it
    with pytest.raises(PermissionError):
        MemoryBox().open(stored.secret, context=seal_context("rovers", hook.webhook_id))


def test_two_webhooks_never_share_a_secret(parts: Parts) -> None:
    service, _, _, _ = parts
    secrets = {service.register(ACME, _subscription())[1] for _ in range(5)}
    assert len(secrets) == 5


@pytest.mark.parametrize(
    ("url", "code"),
    [
        ("http://hooks.example.org/in", "unsafe_url.scheme"),
        ("https://inside.example.org/in", "unsafe_url.private"),
        ("https://169.254.169.254/latest/meta-data/", "unsafe_url.metadata"),
        ("https://[fd00:ec2::254]/", "unsafe_url.metadata"),
        ("https://127.0.0.1:8765/hooks", "unsafe_url.loopback"),
        ("https://unknown.example.org/", "unsafe_url.unresolvable"),
    ],
)
def test_a_url_the_policy_refuses_is_a_validation_error_on_url(parts: Parts, url: str, code: str) -> None:
    service, hooks, _, _ = parts
    with pytest.raises(errors.ValidationFailed) as refused:
        service.register(ACME, _subscription(url))
    (error,) = refused.value.errors
    assert (error.field, error.code) == ("url", code)
    assert hooks.hooks == {}


def test_events_are_listed_once_and_must_be_known() -> None:
    with pytest.raises(ValidationError):
        WebhookSubscription(url="https://hooks.example.org/", events=[])
    with pytest.raises(ValidationError):
        WebhookSubscription.model_validate({"url": "https://h.example/", "events": ["release.accepted"] * 2})
    with pytest.raises(ValidationError):
        WebhookSubscription.model_validate({"url": "https://h.example/", "events": ["release.exploded"]})
    with pytest.raises(ValidationError):
        WebhookSubscription.model_validate({"url": "https://h.example/", "events": ["webhook.test"]})


def test_an_organisation_has_at_most_ten_webhooks(parts: Parts) -> None:
    service, _, _, _ = parts
    for _ in range(MAX_WEBHOOKS):
        service.register(ACME, _subscription())
    with pytest.raises(errors.ValidationFailed):
        service.register(ACME, _subscription())
    service.register(ROVERS, _subscription())  # another organisation's count is its own


def test_another_organisations_webhook_does_not_exist_for_you(parts: Parts) -> None:
    service, hooks, queue, _ = parts
    hook, _ = service.register(ACME, _subscription())
    for call in (
        lambda: service.get(ROVERS, hook.webhook_id),
        lambda: service.delete(ROVERS, hook.webhook_id),
        lambda: service.rotate(ROVERS, hook.webhook_id),
        lambda: service.enable(ROVERS, hook.webhook_id),
        lambda: service.test(ROVERS, hook.webhook_id),
        lambda: service.deliveries(ROVERS, hook.webhook_id, limit=5),
    ):
        with pytest.raises(errors.WebhookNotFound):
            call()
    assert service.list_for(ROVERS) == []
    assert hooks.get("acme", hook.webhook_id) == hook  # untouched
    assert queue.jobs == []


@pytest.mark.parametrize("webhook_id", ["wh_nope", "../etc", "x" * 300, ""])
def test_an_id_that_is_no_webhook_id_is_not_found(parts: Parts, webhook_id: str) -> None:
    service, _, _, _ = parts
    with pytest.raises(errors.WebhookNotFound):
        service.get(ACME, webhook_id)


def test_rotating_keeps_the_previous_secret_for_24_hours(parts: Parts) -> None:
    service, _, _, clock = parts
    hook, first = service.register(ACME, _subscription())
    clock.now = T0 + timedelta(hours=2)
    rotated, second = service.rotate(ACME, hook.webhook_id)
    assert second != first
    assert rotated.previous_until == clock.now + timedelta(hours=24)
    assert rotated.previous_secret == hook.secret
    assert len(rotated.sealed_secrets(clock.now)) == 2
    assert rotated.sealed_secrets(clock.now + timedelta(hours=24)) == [rotated.secret]


def test_a_test_is_queued_for_the_delivery_function_not_sent_from_the_request(parts: Parts) -> None:
    service, _, queue, _ = parts
    hook, _ = service.register(ACME, _subscription())
    event = service.test(ACME, hook.webhook_id)
    ((job, delay),) = queue.jobs
    assert isinstance(job, WebhookJob)
    assert (job.webhook_id, job.event_id, job.event_type, delay) == (
        hook.webhook_id,
        event.id,
        "webhook.test",
        0,
    )
    assert service.test(ACME, hook.webhook_id).id != event.id


def test_enabling_forgets_the_failures(parts: Parts) -> None:
    service, hooks, _, _ = parts
    hook, _ = service.register(ACME, _subscription())
    hooks.failed("acme", hook.webhook_id, T0)
    hooks.disable("acme", hook.webhook_id, reason="failing", at=T0)
    enabled = service.enable(ACME, hook.webhook_id)
    assert (enabled.active, enabled.failing_since, enabled.disabled_reason) == (True, None, None)
