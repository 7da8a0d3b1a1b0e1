"""The media verification function (``MediaVerifyFunction``): the verification queue's consumer.

The uploads bucket notifies the verification queue of every object created under ``uploads/``
(S3 event notifications); each SQS record carries one S3 event, whose records name the objects.
Each object is verified by ``MediaService.verify_upload`` (idempotent, conditional writes); a
record whose media another delivery is verifying right now fails alone and comes back after the
queue's visibility timeout (Powertools ``BatchProcessor``, partial batch failures). S3's test
event (sent when the notification is configured) is acknowledged and ignored. Each verdict is
announced to the organisation's webhooks (``media.ready``, ``media.rejected``) through the
webhooks' router onto the events queue, which the delivery function delivers from as it does
every release event.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote_plus

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.typing import LambdaContext

from functions.cold_start import aws_client, once
from functions.observability import logger, metrics, traced_handler

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
    from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

    from functions.domain.delivery import EventRouter
    from functions.domain.media_service import MediaService
    from functions.settings.media_verify import MediaVerifySettings


@once
def service() -> MediaService:
    import os

    from functions.adapters.dynamodb_media import DynamoMediaRepository
    from functions.adapters.s3_media import S3MediaObjects
    from functions.domain.media_service import MediaService
    from functions.domain.verification import verify
    from functions.settings.media_verify import MediaVerifySettings

    settings = MediaVerifySettings.from_env(os.environ)
    return MediaService(
        repository=DynamoMediaRepository(aws_client("dynamodb"), settings.media_table),
        objects=S3MediaObjects(aws_client("s3"), settings.media_bucket),
        clock=lambda: datetime.now(UTC),
        verify=verify,
        events=_events(settings),
    )


def _events(settings: MediaVerifySettings) -> EventRouter | None:
    """The webhooks' router (no e-mail: media events are for webhooks only)."""
    if not (settings.webhooks_table and settings.events_queue_url):
        return None
    from functions.adapters.dynamodb_webhooks import DynamoWebhooks
    from functions.adapters.sqs_events import SqsEventsQueue
    from functions.domain.delivery import EventRouter

    return EventRouter(
        hooks=DynamoWebhooks(aws_client("dynamodb"), settings.webhooks_table),
        queue=SqsEventsQueue(aws_client("sqs"), settings.events_queue_url),
        contact_of=lambda release: None,
        mail=False,
    )


def uploaded_keys(body: str) -> list[str]:
    """The object keys an S3 event notification (an SQS body) names; none for S3's test event."""
    event = json.loads(body)
    if not isinstance(event, dict) or event.get("Event") == "s3:TestEvent":
        return []
    keys = []
    for record in event.get("Records") or []:
        if str(record.get("eventName", "")).startswith("ObjectCreated:"):
            keys.append(unquote_plus(str(record["s3"]["object"]["key"])))
    return keys


def _record_handler(record: SQSRecord) -> None:
    for key in uploaded_keys(record.body):
        outcome = service().verify_upload(key)
        logger.info("media verification", extra={"key": key, "outcome": outcome.value})
        metrics.add_metric(name=f"Media{outcome.value.title().replace('_', '')}", unit="Count", value=1)


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
@traced_handler
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    processor = BatchProcessor(event_type=EventType.SQS)  # one per invocation, as the publisher's
    return process_partial_response(
        event=event, record_handler=_record_handler, processor=processor, context=context
    )
