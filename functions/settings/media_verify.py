"""The media verification function's settings (``functions.handlers.media_verify``)."""

from typing import Annotated

from pydantic import Field

from functions.settings import FunctionSettings


class MediaVerifySettings(FunctionSettings):
    media_table: Annotated[str, Field(min_length=3)]
    media_bucket: Annotated[str, Field(min_length=3, description="The private uploads bucket.")]
    # media.ready / media.rejected to the organisation's webhooks; without both, none are sent.
    webhooks_table: Annotated[str | None, Field(min_length=3)] = None
    events_queue_url: Annotated[str | None, Field(min_length=8, description="Where delivery jobs go.")] = None
