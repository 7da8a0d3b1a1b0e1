"""The delivery function (``DeliveryFunction``): the events queue in, webhooks and e-mail out.

Each record is a ``WebhookJob`` or a ``MailJob`` (``functions.domain.messages``), run by
``functions.domain.delivery.DeliveryService``: a webhook job is signed and POSTed (5 s, no
redirects, to the address the SSRF policy checked), retried on the backoff schedule by sending
the job again delayed, dead-lettered after 24 hours; a mail job is rendered and sent through
SES once. A body that is no job fails its record (the dead-letter queue after the queue's
maxReceiveCount); an e-mail that can never be sent (``UndeliverableMail``) goes to the
dead-letter queue at once.

The clock, the backoff schedule, the SQS delay of a retry, the resolver and the TLS context are
module-level functions, looked up on every use, so that tests can set others.
"""

from __future__ import annotations

import os
import ssl
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.parser.models import SqsRecordModel
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import Json

from functions.cold_start import aws_client, once
from functions.domain import delivery
from functions.domain.delivery import DeliveryService, Outcome
from functions.domain.messages import DeliveryJob, MailJob
from functions.observability import logger, metrics, traced_handler
from functions.settings.deliver import DeliverySettings

if TYPE_CHECKING:
    from collections.abc import Sequence

    from functions.adapters.sqs_events import SqsEventsQueue

_METRICS = {
    Outcome.DELIVERED: "WebhookDelivered",
    Outcome.RETRYING: "WebhookRetried",
    Outcome.DEAD_LETTERED: "WebhookDeadLettered",
    Outcome.DISABLED: "WebhookDisabled",
    Outcome.MAILED: "MailSent",
}


class EventsRecord(SqsRecordModel):
    """An SQS record of the events queue, its body a delivery job."""

    body: Json[DeliveryJob]


def utc_now() -> datetime:
    return datetime.now(UTC)


def retry_delay(attempt: int) -> timedelta:
    return delivery.retry_delay(attempt)


def queue_delay(wait: timedelta) -> int:
    return delivery.queue_delay(wait)


def resolve_host(host: str, port: int) -> Sequence[str]:
    from functions.adapters.http_webhooks import resolve_host as system_resolver

    return system_resolver(host, port)


def tls() -> ssl.SSLContext | None:
    """The TLS context of deliveries; None: verification against the usual CA bundle."""
    return None


@once
def settings() -> DeliverySettings:
    return DeliverySettings.from_env(os.environ)


@once
def queue() -> SqsEventsQueue:
    from functions.adapters.sqs_events import SqsEventsQueue

    current = settings()
    return SqsEventsQueue(aws_client("sqs"), current.events_queue_url, current.events_dead_letter_queue_url)


@once
def service() -> DeliveryService:
    from functions.adapters.dynamodb_webhooks import DynamoDeliveryLog, DynamoWebhooks
    from functions.adapters.http_webhooks import UrllibSender
    from functions.adapters.kms_secrets import KmsSecretBox
    from functions.adapters.ses_mail import SesMailer
    from functions.domain.notices import compose

    current = settings()
    mailer = None
    if current.mail_from:
        mailer = SesMailer(
            aws_client("sesv2"),
            sender=current.mail_from,
            configuration_set=current.mail_configuration_set or None,
        )

    def composed(job: MailJob, now: datetime) -> Any:
        return compose(job, sender=current.mail_from, site_name=current.site_name, now=now)

    return DeliveryService(
        hooks=DynamoWebhooks(aws_client("dynamodb"), current.webhooks_table),
        log=DynamoDeliveryLog(aws_client("dynamodb"), current.webhooks_table),
        box=KmsSecretBox(aws_client("kms"), current.webhook_secrets_key),
        queue=queue(),
        sender=UrllibSender(timeout=current.webhook_timeout_seconds, tls=tls()),
        resolve=lambda host, port: resolve_host(host, port),  # noqa: PLW0108 - tests set another
        clock=lambda: utc_now(),  # noqa: PLW0108 - looked up on every reading: tests set another
        backoff=lambda attempt: retry_delay(attempt),  # noqa: PLW0108 - tests set another
        hold=lambda wait: queue_delay(wait),  # noqa: PLW0108 - tests set another
        mailer=mailer,
        compose=composed,
        allow_loopback=current.webhooks_allow_loopback,
    )


def handle_record(record: EventsRecord) -> Outcome:
    """One job; raising fails the record (it comes back after the visibility timeout)."""
    from functions.domain.notices import UndeliverableMail

    job = record.body
    context = {"event_id": job.event_id, "event_type": job.event_type, "kind": job.kind.value}
    if isinstance(job, MailJob):
        try:
            outcome = service().mail(job)
        except UndeliverableMail as failure:
            queue().dead_letter(job, failure="undeliverable", detail=str(failure))
            logger.error("e-mail can never be sent; dead-lettered", extra={**context, "detail": str(failure)})
            outcome = Outcome.DEAD_LETTERED
    else:
        context.update(webhook_id=job.webhook_id, attempt=str(job.attempt))
        outcome = service().deliver(job)
    logger.info("delivery job handled", extra={**context, "outcome": outcome.value})
    if name := _METRICS.get(outcome):
        metrics.add_metric(name=name, unit="Count", value=1)
    return outcome


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
@traced_handler
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    processor = BatchProcessor(event_type=EventType.SQS, model=EventsRecord)  # one per invocation
    return process_partial_response(
        event=event, record_handler=handle_record, processor=processor, context=context
    )
