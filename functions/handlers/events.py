"""The events function (``EventsFunction``): the releases table's stream in, delivery jobs out.

Every change of a release's state item arrives from the DynamoDB stream (new and old images)
through Powertools' batch processor (partial batch failures: the stream resumes from the first
failed record; the template also bisects a failing batch). Each change is mapped to its events
by the one table in ``functions.domain.events`` and routed (``functions.domain.delivery``) into
jobs on the events queue: nothing about an event is sent from the API or the moderator's
request. A record that is not a release's state item (content fingerprints, legacy catalogs) is
skipped, and so is one that cannot be read as a release (logged): it must never hold up the
stream. A failure to queue fails the record, which the stream hands over again; the jobs it
makes then are the same (stable event ids), so receivers de-duplicate.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import DynamoDBRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from functions.cold_start import aws_client, once
from functions.observability import logger, metrics, traced_handler
from functions.settings.events import EventsSettings

if TYPE_CHECKING:
    from functions.domain.delivery import EventRouter
    from functions.domain.records import ReleaseRecord

STATE_ITEM_PREFIX = "release#"


@once
def settings() -> EventsSettings:
    return EventsSettings.from_env(os.environ)


@once
def router() -> EventRouter:
    from functions.adapters.dynamodb_webhooks import DynamoWebhooks
    from functions.adapters.s3_releases import S3ReleaseStore
    from functions.adapters.sqs_events import SqsEventsQueue
    from functions.domain.delivery import EventRouter

    current = settings()
    store = S3ReleaseStore(aws_client("s3"), current.releases_bucket)

    def contact_of(record: ReleaseRecord) -> str | None:
        document = store.get_document(record.object_key)
        contact = (document.get("content") or {}).get("contact") or {}
        email = contact.get("email") if isinstance(contact, dict) else None
        return str(email) if email else None

    return EventRouter(
        hooks=DynamoWebhooks(aws_client("dynamodb"), current.webhooks_table),
        queue=SqsEventsQueue(aws_client("sqs"), current.events_queue_url),
        contact_of=contact_of,
        mail=bool(current.mail_from),
    )


def _state_item(image: dict[str, Any]) -> ReleaseRecord | None:
    """The release an image holds; None for no image. Raises for one that is not a release."""
    from functions.adapters.dynamodb_state import item_to_record

    return item_to_record(image) if image else None


def handle_record(record: DynamoDBRecord) -> int:
    """One change: the number of jobs it queued. Raising fails the record (it comes again)."""
    change = record.dynamodb
    if change is None or not str(change.keys.get("pk", "")).startswith(STATE_ITEM_PREFIX):
        return 0
    try:
        before = _state_item(change.old_image)
        after = _state_item(change.new_image)
    except (KeyError, TypeError, ValueError):
        logger.exception("a state item that is not a release; skipped", extra={"pk": change.keys.get("pk")})
        metrics.add_metric(name="EventSkipped", unit="Count", value=1)
        return 0
    jobs = router().changed(before, after)
    if jobs and after is not None:
        logger.info(
            "events queued",
            extra={
                "release_id": after.release_id,
                "events": sorted({job.event_type for job in jobs}),
                "jobs": len(jobs),
            },
        )
        metrics.add_metric(name="DeliveryJobsQueued", unit="Count", value=len(jobs))
    return len(jobs)


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
@traced_handler
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    processor = BatchProcessor(event_type=EventType.DynamoDBStreams)  # one per invocation
    return process_partial_response(
        event=event, record_handler=handle_record, processor=processor, context=context
    )
