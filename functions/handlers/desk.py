"""The desk files function (``DeskFilesFunction``): the ``Custom::DeskFiles`` resource's handler
and its wiring.

CloudFormation calls it on Create, Update and Delete of the ``DeskFiles`` resource. Create and
Update put the web desk (the files ``DeskFilesLayer`` unpacks at ``/opt/desk``) into the site
bucket under ``desk/``, with a ``config.json`` naming the stack's API and an ``index.html``
whose CSP lets it reach that API and the media uploads bucket (``functions.domain.desk``), and
remove what an earlier version left; Delete takes the desk out.
It always answers CloudFormation (``functions.adapters.custom_resource``, imported on the first
request), so a deploy never waits for a timeout.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from functions.cold_start import aws_client, once
from functions.observability import logger
from functions.settings.desk import DeskFilesSettings

if TYPE_CHECKING:
    from functions.adapters.custom_resource import Action


@once
def settings() -> DeskFilesSettings:
    return DeskFilesSettings.from_env(os.environ)


def desk_files_action(s3: Any, source: Path) -> Action:
    """The ``DeskFiles`` resource: ``Bucket``, ``ApiUrl``, optional ``SiteUrl`` and
    ``UploadsBucket`` (the media uploads bucket, whose form URL the desk may POST attachments to),
    and ``Files``, the layer version, which only makes CloudFormation send an update when the
    files change."""
    from functions.adapters.s3_desk import S3Desk
    from functions.adapters.s3_media import S3MediaObjects
    from functions.domain.desk import DeskFilesError, desk_objects

    def act(request_type: str, properties: Mapping[str, Any]) -> str:
        bucket = str(properties.get("Bucket") or "")
        if not bucket:
            raise DeskFilesError("the Bucket property is required")
        physical_id = f"desk-files:{bucket}"
        desk = S3Desk(s3, bucket)
        if request_type == "Delete":
            removed = desk.remove()
            logger.info("desk removed", extra={"bucket": bucket, "objects": removed})
            return physical_id
        api_url = str(properties.get("ApiUrl") or "")
        site_url = str(properties.get("SiteUrl") or "") or None
        uploads = str(properties.get("UploadsBucket") or "")
        # The same client the API presigns uploads with: the same URL, so the CSP names it.
        uploads_url = S3MediaObjects(s3, uploads).form_url() if uploads else None
        objects = desk_objects(source, api_url=api_url, site_url=site_url, uploads_url=uploads_url)
        stale = desk.publish(objects)
        logger.info("desk published", extra={"bucket": bucket, "objects": len(objects), "stale": stale})
        return physical_id

    return act


@logger.inject_lambda_context(clear_state=True)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any] | None:
    from functions.adapters.custom_resource import run_custom_resource

    action = desk_files_action(aws_client("s3"), Path(settings().desk_files_dir))
    return run_custom_resource(event, context, action)
