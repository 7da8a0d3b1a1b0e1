"""The outbox sweep's settings (``functions.handlers.outbox_sweep``)."""

from typing import Annotated

from pydantic import Field

from functions.settings import FunctionSettings


class OutboxSweepSettings(FunctionSettings):
    releases_table: Annotated[str, Field(min_length=3)]
    moderation_queue_url: Annotated[str, Field(min_length=8)]
    publish_queue_url: Annotated[str, Field(min_length=8)]
    outbox_grace_seconds: Annotated[int, Field(ge=0, le=3600)] = 60
    outbox_batch: Annotated[int, Field(ge=1, le=1000)] = 200
