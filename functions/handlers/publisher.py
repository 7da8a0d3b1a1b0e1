"""The publisher function (``PublisherFunction``): its Lambda handler and its wiring.

It consumes the publish queue through Powertools' batch processor (partial batch failures: a
failed record comes back, the others are done), each record's body parsed as a
``PublishMessage``; a body that is not one fails its record (and lands in the dead-letter queue
after the queue's maxReceiveCount). A release that can never be published (``Unpublishable``)
is not retried: it goes to the dead-letter queue at once, with the reason as message attributes.

A batch is handled in three steps: every record's own objects (its ninjs document, page and
media; ``PublicationService.prepare``), then one request to the site-refresh queue with every
change for the shared objects (``refresh``: the site-refresh function rewrites them, once),
then each record's state transition (``Pending.finish``). If the request cannot be sent, every
record that needed it fails and comes back; no release is marked published before its entry is
on the site-refresh queue.

A batch handles each release once (``BatchReleases``): the same message again (an outbox re-send,
a redelivery) succeeds as a ``duplicate``, writing and counting nothing; another message for a
release the batch already has (a kill after its publish) fails its record, so that it comes
back and is handled after the first one's transition, against the state that one left.
"""

from __future__ import annotations

import os
import sys
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.parser.models import SqsRecordModel
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import Json

from functions.cold_start import aws_client, once
from functions.domain.messages import PublishMessage
from functions.domain.models import CATEGORIES
from functions.domain.publish.service import Handled, Outcome, Pending, PublicationService, Unpublishable
from functions.observability import logger, metrics, traced_handler
from functions.settings.site import PublisherSettings

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
    from functions.adapters.sqs_site_refresh import SqsSiteRefresh

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
        refresh=SqsSiteRefresh(aws_client("sqs"), current.site_refresh_queue_url),
    )


@once
def dead_letters() -> SqsDeadLetters:
    from functions.adapters.sqs_publish import SqsDeadLetters

    return SqsDeadLetters(aws_client("sqs"), settings().publish_dead_letter_queue_url)


def _context(message: PublishMessage) -> dict[str, Any]:
    return {"release_id": message.release_id, "version": message.version, "action": message.action.value}


def prepare_record(record: PublishRecord) -> Pending:
    """One message's own part (raising marks the record failed: retried). An unpublishable
    release is dead-lettered here; if that fails, the record fails and is retried as any other."""
    message = record.body
    try:
        return service().prepare(message)
    except Unpublishable as failure:
        dead_letters().send(message, failure=failure.reason.value, detail=failure.detail)
        logger.error(
            "release cannot be published; dead-lettered",
            extra={**_context(message), "failure": failure.reason.value, "detail": failure.detail},
        )
        return Pending.done(Handled(Outcome.DEAD_LETTERED))


class AlreadyInBatch(Exception):
    """Another message for a release its batch already handles: the record comes back later."""


class BatchReleases:
    """The first message of each release in one batch: only it is handled."""

    def __init__(self) -> None:
        self._first: dict[str, PublishMessage] = {}

    def prepare(self, record: PublishRecord) -> Pending:
        message = record.body
        first = self._first.setdefault(message.release_id, message)
        if first is message:
            return prepare_record(record)
        if first == message:
            return Pending.done(Handled(Outcome.DUPLICATE, "the same message is earlier in the batch"))
        raise AlreadyInBatch(
            f"release {message.release_id}: {first.action.value} v{first.version} is earlier in the"
            f" batch; {message.action.value} v{message.version} comes back after it"
        )


def finish_record(record: PublishRecord, pending: Pending) -> Outcome:
    """One message's state transition, after its batch's refresh request (raising fails it)."""
    handled = pending.finish()
    if handled.outcome is not Outcome.DEAD_LETTERED:
        logger.info(
            "publish message handled",
            extra={**_context(record.body), "outcome": handled.outcome.value, "detail": handled.detail},
        )
    if name := _METRICS.get(handled.outcome):
        metrics.add_metric(name=name, unit="Count", value=1)
    if handled.lag_seconds is not None:
        metrics.add_metric(name="PublicationLag", unit="Seconds", value=handled.lag_seconds)
    return handled.outcome


def _release_ids(event: dict[str, Any]) -> list[str]:
    """The releases a batch is about, for one read of their state (a body that is not a publish
    message is left to the batch processor to fail)."""
    ids: list[str] = []
    for raw in event.get("Records") or []:
        try:
            ids.append(PublishMessage.model_validate_json(raw.get("body") or "").release_id)
        except ValueError:
            continue
    return list(dict.fromkeys(ids))[:100]


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
@traced_handler
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    # One processor per invocation: it keeps the batch's records and results on itself, so a
    # shared one would mix up two invocations running at once in one process (Lambda never
    # does; the local stack serialises each function's invocations, and tests may not).
    processor = BatchProcessor(event_type=EventType.SQS, model=PublishRecord)
    publication = service()
    publication.prefetch(_release_ids(event))
    batch = BatchReleases()
    with processor(records=event["Records"], handler=batch.prepare, lambda_context=context):
        # (the record as received, as parsed, its pending part) of each record prepared
        prepared = [
            (raw, PublishRecord.model_validate(raw), pending)
            for status, pending, raw in processor.process()
            if status == "success"
        ]
        try:
            publication.refresh([change for _, _, pending in prepared for change in pending.changes])
        except Exception:
            logger.exception("the site refresh could not be requested; the batch comes back")
            _fail(processor, [(raw, record) for raw, record, pending in prepared if pending.changes])
            prepared = [item for item in prepared if not item[2].changes]
        for raw, record, pending in prepared:
            try:
                finish_record(record, pending)
            except Exception:
                logger.exception("publish message failed", extra=_context(record.body))
                _fail(processor, [(raw, record)])
    return processor.response()


def _fail(processor: BatchProcessor, records: list[tuple[dict[str, Any], PublishRecord]]) -> None:
    """Mark records the processor saw succeed as failed (a later step of their batch failed)."""
    error = sys.exc_info()
    successes: list[Any] = processor.success_messages  # it keeps the records as received
    for raw, record in records:
        successes.remove(raw)
        processor.failure_handler(record, error)
