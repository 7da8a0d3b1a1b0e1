"""What ``POST /webhooks`` takes: where to deliver, and which events.

Apart from the webhook service (``functions.domain.webhooks``), so that the API function's
routes can name it without loading that service, its SSRF policy and its ports: a submission's
cold start never needs them.
"""

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, field_validator

from functions.domain.events import EventType


class WebhookSubscription(BaseModel):
    """``POST /webhooks``: where to deliver, and which events (built on first use, off the
    submission's cold start)."""

    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)

    url: Annotated[
        str,
        Field(
            min_length=1,
            max_length=2048,
            description="An https URL on the public internet (no private, loopback or metadata address).",
            examples=["https://hooks.example.org/press-intake"],
        ),
    ]
    events: Annotated[
        list[EventType],
        Field(min_length=1, max_length=len(EventType), description="The events to deliver (each once)."),
    ]

    @field_validator("events")
    @classmethod
    def _unique(cls, value: list[EventType]) -> list[EventType]:
        if len(set(value)) != len(value):
            raise ValueError("each event may be listed once")
        return value
