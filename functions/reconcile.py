"""Composition root of the reconciler: sweep the outbox once."""

from __future__ import annotations

import os
from datetime import timedelta
from functools import cache
from typing import Any

from functions.domain.outbox import sweep_outbox
from functions.observability import logger, metrics
from functions.runtime import aws_client, utc_now
from functions.settings import ReconcilerSettings


@cache
def settings() -> ReconcilerSettings:
    return ReconcilerSettings.from_env(os.environ)


def sweep() -> dict[str, Any]:
    from functions.adapters.dynamodb_state import DynamoStateRepository
    from functions.adapters.sqs_moderation import SqsModerationQueue
    from functions.adapters.sqs_publish import SqsPublishQueue
    from functions.domain.records import MODERATION, PUBLISH, OutboxEntry

    current = settings()
    moderation = SqsModerationQueue(aws_client("sqs"), current.moderation_queue_url)
    publish = SqsPublishQueue(aws_client("sqs"), current.publish_queue_url)

    def to_moderation(entry: OutboxEntry) -> None:
        moderation.send(
            release_id=entry.release_id, version=entry.version, org_id=entry.org_id, category=entry.category
        )

    def to_publish(entry: OutboxEntry) -> None:
        publish.send(release_id=entry.release_id, version=entry.version, action="publish")

    sent = sweep_outbox(
        DynamoStateRepository(aws_client("dynamodb"), current.releases_table),
        {MODERATION: to_moderation, PUBLISH: to_publish},
        now=utc_now(),
        grace=timedelta(seconds=current.outbox_grace_seconds),
        limit=current.outbox_batch,
    )
    if sent:
        logger.warning("outbox sweep queued releases", extra={"sent": [e.release_id for e in sent]})
    metrics.add_metric(name="OutboxRecovered", unit="Count", value=len(sent))
    return {
        "sent": len(sent),
        "releases": [{"id": e.release_id, "version": e.version, "queue": e.target} for e in sent],
    }


def reset() -> None:
    settings.cache_clear()
