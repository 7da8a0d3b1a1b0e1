"""E-mail through SES (API v2 ``SendEmail``), from the template's sender identity and through
its configuration set. The message goes as built (raw MIME: a text and an HTML part)."""

from __future__ import annotations

from email.message import EmailMessage
from typing import Any


class SesMailer:
    def __init__(self, client: Any, *, sender: str, configuration_set: str | None) -> None:
        self._ses = client
        self._sender = sender
        self._configuration_set = configuration_set

    def send(self, message: EmailMessage) -> str:
        request: dict[str, Any] = {
            "FromEmailAddress": self._sender,
            "Destination": {"ToAddresses": [str(message["To"])]},
            "Content": {"Raw": {"Data": message.as_bytes()}},
        }
        if self._configuration_set:
            request["ConfigurationSetName"] = self._configuration_set
        response = self._ses.send_email(**request)
        return str(response["MessageId"])
