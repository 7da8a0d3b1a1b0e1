"""The delivery function's settings (``functions.handlers.deliver``)."""

from typing import Annotated

from pydantic import Field

from functions.settings import FunctionSettings


class DeliverySettings(FunctionSettings):
    """The delivery function: the events queue -> webhooks and e-mail."""

    webhooks_table: Annotated[str, Field(min_length=3)]
    events_queue_url: Annotated[str, Field(min_length=8)]
    events_dead_letter_queue_url: Annotated[str, Field(min_length=8)]
    webhook_secrets_key: Annotated[str, Field(min_length=1)]
    mail_from: str = ""
    mail_configuration_set: str = ""
    site_name: Annotated[str, Field(min_length=1, max_length=80)] = "Newsroom"
    webhooks_allow_loopback: bool = False
    webhook_timeout_seconds: Annotated[float, Field(gt=0, le=30)] = 5.0
