"""DeskFiles custom resource Lambda: the web desk into the site bucket on every deploy.

CloudFormation calls it on Create, Update and Delete of the ``DeskFiles`` resource; it always
answers (``functions.desk.run_custom_resource``), so a deploy never waits for a timeout.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from functions.desk import desk_files_action, run_custom_resource
from functions.observability import logger
from functions.runtime import aws_client
from functions.settings import DeskFilesSettings


@logger.inject_lambda_context(clear_state=True)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any] | None:
    settings = DeskFilesSettings.from_env(os.environ)
    action = desk_files_action(aws_client("s3"), Path(settings.desk_files_dir))
    return run_custom_resource(event, context, action)
