"""The outbox sweep function (``OutboxSweepFunction``, every minute): its handler and its wiring.

Each run sends what the outbox still holds (``functions.domain.outbox.sweep``): the moderation
and publish messages that were recorded in the releases table but not sent (a crash, a timeout,
a failed send), once they are older than the grace period.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from functions.cold_start import aws_client, once
from functions.observability import logger, metrics, traced_handler
from functions.settings.outbox_sweep import OutboxSweepSettings


@once
def settings() -> OutboxSweepSettings:
    return OutboxSweepSettings.from_env(os.environ)


def sweep_once() -> dict[str, Any]:
    from functions.adapters.dynamodb_state import DynamoStateRepository
    from functions.adapters.sqs_moderation import SqsModerationQueue
    from functions.adapters.sqs_publish import SqsPublishQueue
    from functions.domain.outbox import sweep

    current = settings()
    sent = sweep(
        DynamoStateRepository(aws_client("dynamodb"), current.releases_table),
        moderation=SqsModerationQueue(aws_client("sqs"), current.moderation_queue_url),
        publish=SqsPublishQueue(aws_client("sqs"), current.publish_queue_url),
        now=datetime.now(UTC),
        grace=timedelta(seconds=current.outbox_grace_seconds),
        limit=current.outbox_batch,
    )
    if sent:
        logger.warning("outbox sweep queued releases", extra={"sent": [e.release_id for e in sent]})
    metrics.add_metric(name="OutboxRecovered", unit="Count", value=len(sent))
    return {
        "sent": len(sent),
        "releases": [{"id": e.release_id, "version": e.version, "queue": e.target.value} for e in sent],
    }


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
@traced_handler
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return sweep_once()
