"""The desk files function's settings (``functions.handlers.desk``)."""

from typing import Annotated

from pydantic import Field

from functions.settings import FunctionSettings


class DeskFilesSettings(FunctionSettings):
    # Where the DeskFilesLayer puts the desk's files (Lambda unpacks layers under /opt).
    desk_files_dir: Annotated[str, Field(min_length=1)] = "/opt/desk"
