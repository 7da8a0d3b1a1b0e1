"""Composition root of the publisher: settings, adapters and the publication service."""

from __future__ import annotations

import os
from functools import cache
from typing import Any

from functions.domain.publication import Outcome, PublicationService, PublishMessage, Unpublishable
from functions.observability import logger, metrics
from functions.runtime import aws_client, utc_now
from functions.settings import PublisherSettings

_METRICS = {
    Outcome.PUBLISHED: "ReleasePublished",
    Outcome.KILLED: "ReleaseKilled",
    Outcome.SCHEDULED: "ReleaseScheduled",
    Outcome.DELAYED: "ReleaseDelayed",
}


@cache
def settings() -> PublisherSettings:
    return PublisherSettings.from_env(os.environ)


@cache
def service() -> PublicationService:
    from functions.adapters.dynamodb_catalog import DynamoLegacyCatalogs
    from functions.adapters.dynamodb_state import DynamoStateRepository
    from functions.adapters.s3_catalog import S3Catalogs
    from functions.adapters.s3_releases import S3ReleaseStore
    from functions.adapters.s3_site import S3Site
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
        ),
        schedules=EventBridgeSchedules(
            aws_client("scheduler"),
            group=current.schedule_group,
            target_arn=current.publish_queue_arn,
            role_arn=current.scheduler_role_arn,
        ),
        queue=SqsPublishQueue(aws_client("sqs"), current.publish_queue_url),
        clock=utc_now,
        site_url=current.site_url,
        feed_size=current.feed_size,
    )


@cache
def dead_letters() -> Any:
    from functions.adapters.sqs_publish import SqsDeadLetters

    return SqsDeadLetters(aws_client("sqs"), settings().publish_dead_letter_queue_url)


def handle_record(record: Any) -> str:
    """One SQS record (Powertools' SQSRecord): parse and publish; raising marks it failed.

    A release that can never be published (``Unpublishable``) is not retried five times: it goes
    to the dead-letter queue at once, with the reason as message attributes, and the record
    counts as handled. If that send fails, the record fails and is retried as any other.
    """
    message = PublishMessage.parse(record.body)
    context = {"release_id": message.release_id, "version": message.version, "action": message.action}
    try:
        handled = service().handle(message)
    except Unpublishable as failure:
        dead_letters().send(
            record.body, failure=failure.reason.value, detail=failure.detail, release_id=failure.release_id
        )
        logger.error(
            "release cannot be published; dead-lettered",
            extra={**context, "failure": failure.reason.value, "detail": failure.detail},
        )
        metrics.add_metric(name="ReleaseDeadLettered", unit="Count", value=1)
        return f"dead-lettered: {failure.reason.value}"
    logger.info(
        "publish message handled",
        extra={**context, "outcome": handled.outcome.value, "detail": handled.detail},
    )
    if name := _METRICS.get(handled.outcome):
        metrics.add_metric(name=name, unit="Count", value=1)
    return handled.outcome.value


def reset() -> None:
    settings.cache_clear()
    service.cache_clear()
    dead_letters.cache_clear()
