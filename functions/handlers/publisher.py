"""The publisher function (``PublisherFunction``): its Lambda handler and its wiring.

It consumes the publish queue through Powertools' batch processor (partial batch failures: a
failed record comes back, the others are done), each record's body parsed as a
``PublishMessage``; a body that is not one fails its record (and lands in the dead-letter queue
after the queue's maxReceiveCount). A release that can never be published (``Unpublishable``)
is not retried: it goes to the dead-letter queue at once, with the reason as message attributes.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.parser.models import SqsRecordModel
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import Json

from functions.cold_start import aws_client, once
from functions.domain.messages import PublishMessage
from functions.domain.models import CATEGORIES
from functions.domain.publish.service import Outcome, PublicationService, Unpublishable
from functions.observability import logger, metrics, traced_handler
from functions.settings import PublisherSettings

if TYPE_CHECKING:
    from functions.adapters.sqs_publish import SqsDeadLetters

_METRICS = {
    Outcome.PUBLISHED: "ReleasePublished",
    Outcome.CORRECTED: "ReleaseCorrected",
    Outcome.KILLED: "ReleaseKilled",
    Outcome.SCHEDULED: "ReleaseScheduled",
    Outcome.DELAYED: "ReleaseDelayed",
    Outcome.DEAD_LETTERED: "ReleaseDeadLettered",
}


class PublishRecord(SqsRecordModel):
    """An SQS record of the publish queue, its body a ``PublishMessage``."""

    body: Json[PublishMessage]


def utc_now() -> datetime:
    """The publisher's clock, looked up on every reading (tests set another)."""
    return datetime.now(UTC)


@once
def settings() -> PublisherSettings:
    return PublisherSettings.from_env(os.environ)


# The catalogs kept in the releases table before S3 (the site's and the categories'): only they
# are looked for there when they have no object yet.
LEGACY_CATALOGS = frozenset({"all", *CATEGORIES})


@once
def service() -> PublicationService:
    from functions.adapters.dynamodb_catalog import DynamoLegacyCatalogs
    from functions.adapters.dynamodb_state import DynamoStateRepository
    from functions.adapters.s3_catalog import S3Catalogs
    from functions.adapters.s3_releases import S3ReleaseStore
    from functions.adapters.s3_site import S3Site
    from functions.adapters.s3_site_media import S3SiteMedia
    from functions.adapters.scheduler import EventBridgeSchedules
    from functions.adapters.sqs_publish import SqsPublishQueue

    current = settings()
    return PublicationService(
        states=DynamoStateRepository(aws_client("dynamodb"), current.releases_table),
        store=S3ReleaseStore(aws_client("s3"), current.releases_bucket),
        site=S3Site(aws_client("s3"), current.site_bucket),
        catalogs=S3Catalogs(
            aws_client("s3"),
            current.releases_bucket,
            legacy=DynamoLegacyCatalogs(aws_client("dynamodb"), current.releases_table),
            legacy_names=LEGACY_CATALOGS,
        ),
        schedules=EventBridgeSchedules(
            aws_client("scheduler"),
            group=current.schedule_group,
            target_arn=current.publish_queue_arn,
            role_arn=current.scheduler_role_arn,
        ),
        queue=SqsPublishQueue(aws_client("sqs"), current.publish_queue_url),
        clock=lambda: utc_now(),  # noqa: PLW0108 - looked up on every reading: tests set another
        identity=current.site(),
        feed_size=current.feed_size,
        media=S3SiteMedia(
            aws_client("s3"), media_bucket=current.media_bucket, site_bucket=current.site_bucket
        )
        if current.media_bucket
        else None,
    )


@once
def dead_letters() -> SqsDeadLetters:
    from functions.adapters.sqs_publish import SqsDeadLetters

    return SqsDeadLetters(aws_client("sqs"), settings().publish_dead_letter_queue_url)


def handle_record(record: PublishRecord) -> Outcome:
    """One message: publish (or kill) it; raising marks the record failed (retried).

    If dead-lettering an unpublishable release fails, the record fails and is retried as any other.
    """
    message = record.body
    context = {"release_id": message.release_id, "version": message.version, "action": message.action.value}
    lag: float | None = None  # seconds after release_at (or approval) when this published it
    try:
        handled = service().handle(message)
    except Unpublishable as failure:
        dead_letters().send(message, failure=failure.reason.value, detail=failure.detail)
        logger.error(
            "release cannot be published; dead-lettered",
            extra={**context, "failure": failure.reason.value, "detail": failure.detail},
        )
        outcome = Outcome.DEAD_LETTERED
    else:
        logger.info(
            "publish message handled",
            extra={**context, "outcome": handled.outcome.value, "detail": handled.detail},
        )
        outcome, lag = handled.outcome, handled.lag_seconds
    if name := _METRICS.get(outcome):
        metrics.add_metric(name=name, unit="Count", value=1)
    if lag is not None:
        metrics.add_metric(name="PublicationLag", unit="Seconds", value=lag)
    return outcome


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
@traced_handler
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    # One processor per invocation: it keeps the batch's records and results on itself, so a
    # shared one would mix up two invocations running at once in one process (Lambda never
    # does; the local stack serialises each function's invocations, and tests may not).
    processor = BatchProcessor(event_type=EventType.SQS, model=PublishRecord)
    return process_partial_response(
        event=event, record_handler=handle_record, processor=processor, context=context
    )
