"""Composition root of the publisher: settings, adapters and the publication service."""

from __future__ import annotations

import os
from functools import cache
from typing import Any

from functions.domain.publication import PublicationService, PublishMessage
from functions.observability import logger, metrics
from functions.runtime import aws_client, utc_now
from functions.settings import PublisherSettings


@cache
def settings() -> PublisherSettings:
    return PublisherSettings.from_env(os.environ)


@cache
def service() -> PublicationService:
    from functions.adapters.dynamodb_catalog import DynamoCatalogs
    from functions.adapters.dynamodb_state import DynamoStateRepository
    from functions.adapters.s3_releases import S3ReleaseStore
    from functions.adapters.s3_site import S3Site
    from functions.adapters.scheduler import EventBridgeSchedules

    current = settings()
    return PublicationService(
        states=DynamoStateRepository(aws_client("dynamodb"), current.releases_table),
        store=S3ReleaseStore(aws_client("s3"), current.releases_bucket),
        site=S3Site(aws_client("s3"), current.site_bucket),
        catalogs=DynamoCatalogs(aws_client("dynamodb"), current.releases_table),
        schedules=EventBridgeSchedules(
            aws_client("scheduler"),
            group=current.schedule_group,
            target_arn=current.publish_queue_arn,
            role_arn=current.scheduler_role_arn,
        ),
        clock=utc_now,
        site_url=current.site_url,
        feed_size=current.feed_size,
    )


def handle_record(record: Any) -> str:
    """One SQS record (Powertools' SQSRecord): parse and publish; raising marks it failed."""
    message = PublishMessage.parse(record.body)
    outcome = service().handle(message)
    logger.info(
        "publish message handled",
        extra={
            "release_id": message.release_id,
            "version": message.version,
            "action": message.action,
            "outcome": outcome,
        },
    )
    if outcome in ("published", "killed") or outcome.startswith("scheduled"):
        metrics.add_metric(name=f"Release{outcome.split()[0].title()}", unit="Count", value=1)
    return outcome


def reset() -> None:
    settings.cache_clear()
    service.cache_clear()
