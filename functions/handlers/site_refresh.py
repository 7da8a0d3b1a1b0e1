"""The site-refresh function (``SiteRefreshFunction``): the only writer of the site's shared
objects (catalogs, index, category, organisation and archive pages, feeds, sitemaps).

It consumes the site-refresh queue, a FIFO queue with one message group, so one batch at a time
in the order the publisher sent them. A batch is coalesced into one ``SharedSite.apply``: every
request's changes in order (``coalesce``), each shared object rewritten once however many
requests and releases the batch holds. A publication or correction of a release that is killed
by now is dropped (a request redriven from the dead-letter queue late never brings one back).

A warm function remembers the catalogs it read and wrote, and a digest of each object it wrote
(``S3Catalogs`` with a ``CatalogCache``, ``S3Site`` as the single writer): before each refresh
the front document is read conditionally on its ETag; unchanged, nothing else is read again
and an object rendered to the same bytes is not written again; changed (another writer), both
memories are forgotten.

Failure: if the rewrite fails, the function raises (its Errors alarm) and the whole batch comes
back, in order; applying it again is idempotent (a change already in a catalog changes nothing;
everything is rendered again). After the queue's maxReceiveCount a request goes to its
dead-letter queue (alarm; ``press-intake dlq redrive --queue site-refresh``), and the next ones
go on. A body that is not a request fails alone, with those after it (FIFO order), and reaches
the dead-letter queue the same way.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.typing import LambdaContext

from functions.cold_start import aws_client, once
from functions.observability import logger, metrics, traced_handler
from functions.settings.site import SiteRefreshSettings

if TYPE_CHECKING:
    from functions.adapters.dynamodb_state import DynamoStateRepository
    from functions.adapters.s3_catalog import S3Catalogs
    from functions.adapters.s3_site import S3Site
    from functions.domain.publish.shared import SharedSite


def utc_now() -> datetime:
    """The function's clock, looked up on every reading (tests set another)."""
    return datetime.now(UTC)


@once
def settings() -> SiteRefreshSettings:
    return SiteRefreshSettings.from_env(os.environ)


@once
def catalogs() -> S3Catalogs:
    """The catalogs, remembered between invocations (``revalidate`` before each refresh)."""
    from functions.adapters.dynamodb_catalog import DynamoLegacyCatalogs
    from functions.adapters.s3_catalog import CatalogCache, S3Catalogs
    from functions.domain.models import CATEGORIES

    current = settings()
    return S3Catalogs(
        aws_client("s3"),
        current.releases_bucket,
        legacy=DynamoLegacyCatalogs(aws_client("dynamodb"), current.releases_table),
        # The catalogs kept in the releases table before S3 (the site's and the categories').
        legacy_names=frozenset({"all", *CATEGORIES}),
        cache=CatalogCache(current.catalog_cache_chars),
    )


@once
def writer() -> S3Site:
    """The site's shared objects, an unchanged one not written again (``forget`` after another writer)."""
    from functions.adapters.s3_site import S3Site

    return S3Site(aws_client("s3"), settings().site_bucket, single_writer=True)


@once
def shared() -> SharedSite:
    from functions.domain.publish.shared import SharedSite

    current = settings()
    return SharedSite(
        catalogs=catalogs(),
        writer=writer(),
        site=current.site(),
        clock=lambda: utc_now(),  # noqa: PLW0108 - looked up on every reading: tests set another
        feed_size=current.feed_size,
    )


@once
def states() -> DynamoStateRepository:
    from functions.adapters.dynamodb_state import DynamoStateRepository

    return DynamoStateRepository(aws_client("dynamodb"), settings().releases_table)


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
@traced_handler
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    from functions.adapters.sqs_site_refresh import decode
    from functions.domain.publish.shared import coalesce, still_current

    records: list[dict[str, Any]] = list(event.get("Records") or [])
    requests = []
    failed: list[dict[str, Any]] = []
    for index, record in enumerate(records):
        try:
            requests.append(decode(str(record.get("body") or "")))
        except ValueError as error:
            logger.error(
                "not a site-refresh request; it and the requests after it come back",
                extra={"message_id": record.get("messageId"), "error": str(error)},
            )
            failed = records[index:]
            break
    changes = coalesce(requests)
    if changes:
        ids = list(dict.fromkeys(c.entry.release_id for c in changes))
        found = states().get_many(ids)
        current = still_current(changes, {rid: record.status for rid, record in found.items()})
        skipped = writer().skipped
        remembered = catalogs().revalidate()
        if not remembered:  # another writer may have changed the site: write everything
            writer().forget()
        refreshed = shared().apply(current)
        logger.info(
            "site refreshed",
            extra={
                "requests": len(requests),
                "changes": len(changes),
                "dropped": len(changes) - len(current),
                "catalogs": len(refreshed.catalogs),
                "written": len(refreshed.written),
                "remembered": remembered,
                "unchanged": writer().skipped - skipped,
            },
        )
        metrics.add_metric(name="SiteRefreshed", unit="Count", value=1)
        metrics.add_metric(name="SiteRefreshChanges", unit="Count", value=len(current))
    return {"batchItemFailures": [{"itemIdentifier": str(r.get("messageId"))} for r in failed]}
