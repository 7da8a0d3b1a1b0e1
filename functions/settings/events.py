"""The events function's settings (``functions.handlers.events``)."""

from typing import Annotated

from pydantic import Field

from functions.settings import FunctionSettings


class EventsSettings(FunctionSettings):
    """The events function: the releases table's stream -> delivery jobs."""

    releases_bucket: Annotated[str, Field(min_length=3, description="Where a release's contact is read.")]
    webhooks_table: Annotated[str, Field(min_length=3)]
    events_queue_url: Annotated[str, Field(min_length=8)]
    mail_from: Annotated[str, Field(description="The sender address; empty: no e-mail at all.")] = ""
