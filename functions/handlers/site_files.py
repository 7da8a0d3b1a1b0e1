"""The ``SiteFiles`` custom resource's function (``SiteFilesFunction``): the site set up at deploy.

CloudFormation calls it on Create and Update of the ``SiteFiles`` resource (its properties name
the site's settings, so a changed setting is an Update; a changed stylesheet, whose name carries
its digest, is written by the publisher before the first page naming it); it
writes the static files and the empty newsroom (``functions.domain.publish.setup``) and always
answers (``functions.adapters.custom_resource.run_custom_resource``), so a deploy never hangs. Delete
leaves the site as it is: its pages still use the files.

The local stack calls ``set_up()`` at its start, with the same settings from the same environment.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from functions.cold_start import aws_client
from functions.observability import logger
from functions.settings.site import SiteFilesSettings


def set_up() -> list[str]:
    """Set the site up from this function's settings; the keys written."""
    from functions.adapters.s3_catalog import S3Catalogs
    from functions.adapters.s3_site import S3Site
    from functions.domain.publish.setup import set_up_site
    from functions.domain.publish.shared import SharedSite

    settings = SiteFilesSettings.from_env(os.environ)
    site = settings.site()
    writer = S3Site(aws_client("s3"), settings.site_bucket)
    shared = SharedSite(
        catalogs=S3Catalogs(aws_client("s3"), settings.releases_bucket),
        writer=writer,
        site=site,
        clock=lambda: datetime.now(UTC),
        feed_size=settings.feed_size,
    )
    return set_up_site(site, writer, shared)


def _act(request_type: str, properties: Mapping[str, Any]) -> str:
    physical_id = f"site-files:{properties.get('Bucket') or os.environ.get('SITE_BUCKET', '')}"
    if request_type == "Delete":
        return physical_id  # the published pages still use the stylesheet and the 404 page
    written = set_up()
    logger.info("site set up", extra={"written": len(written)})
    return physical_id


@logger.inject_lambda_context(clear_state=True)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any] | None:
    from functions.adapters.custom_resource import run_custom_resource

    return run_custom_resource(event, context, _act)
