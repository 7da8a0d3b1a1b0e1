"""CloudFormation custom resources run by our own functions: do the work, and always answer.

CloudFormation sends a custom resource's Lambda a ``Create``, ``Update`` or ``Delete`` request
and waits (up to an hour) for an answer PUT to the request's pre-signed ``ResponseURL``.
``run_custom_resource(event, context, action)`` calls ``action(request_type, properties)`` and
answers on every path: ``SUCCESS`` with the action's physical resource id, ``FAILED`` with the
error's message when the action raises, and ``FAILED`` shortly before Lambda would end the
invocation when the action is still running, so a deploy never hangs. Exactly one answer is sent
per request, and only to an ``https://`` ``ResponseURL`` (CloudFormation's are; anything else is
refused, never sent to).

Used by ``functions.handlers.site_files`` (the ``SiteFiles`` resource) and
``functions.handlers.desk`` (``DeskFiles``); both import it when a request comes, not at a cold
start.
"""

from __future__ import annotations

import json
import logging
import threading
import urllib.request
from collections.abc import Callable, Mapping
from typing import Any

log = logging.getLogger(__name__)

REQUEST_TYPES = ("Create", "Update", "Delete")
Sender = Callable[[str, dict[str, Any]], None]
# Opens a prepared request (``urllib.request.urlopen``'s shape): the network edge of an answer.
Opener = Callable[..., Any]
# What a request does: (request type, its properties) -> physical resource id.
Action = Callable[[str, Mapping[str, Any]], str]
TIMEOUT_MARGIN_SECONDS = 5.0  # answer FAILED this long before Lambda would end the invocation


class CustomResourceError(ValueError):
    """A request the resource cannot carry out as asked (the message says why)."""


def send_response(url: str, body: dict[str, Any], *, opener: Opener = urllib.request.urlopen) -> None:
    """PUT the answer to CloudFormation's pre-signed URL (no content type: the URL is signed
    without); a URL that is not ``https://`` is refused before anything is sent."""
    if not url.startswith("https://"):
        raise CustomResourceError("the ResponseURL is not an https URL")
    data = json.dumps(body).encode()
    request = urllib.request.Request(  # noqa: S310 - CloudFormation's own https URL, checked above
        url, data=data, method="PUT", headers={"Content-Type": "", "Content-Length": str(len(data))}
    )
    with opener(request, timeout=30) as answer:
        answer.read()


class _Responder:
    """Sends exactly one answer per request, whichever of the work and the watchdog comes first."""

    def __init__(self, event: Mapping[str, Any], send: Sender, fallback_id: str) -> None:
        self._event = event
        self._send = send
        self._fallback_id = fallback_id
        self._lock = threading.Lock()
        self.sent: dict[str, Any] | None = None

    def answer(self, status: str, reason: str, physical_id: str | None = None) -> None:
        with self._lock:
            if self.sent is not None:
                return
            event = self._event
            body: dict[str, Any] = {
                "Status": status,
                "Reason": reason[:1000],
                "PhysicalResourceId": physical_id
                or str(event.get("PhysicalResourceId") or "")
                or self._fallback_id,
                "StackId": event.get("StackId"),
                "RequestId": event.get("RequestId"),
                "LogicalResourceId": event.get("LogicalResourceId"),
                "NoEcho": False,
                "Data": {},
            }
            self.sent = body
            try:
                self._send(str(event.get("ResponseURL") or ""), body)
            except Exception:
                log.exception("the answer to CloudFormation could not be sent")


def run_custom_resource(
    event: Mapping[str, Any],
    context: Any,
    action: Action,
    *,
    send: Sender | None = None,
    margin_seconds: float = TIMEOUT_MARGIN_SECONDS,
) -> dict[str, Any] | None:
    """Do ``action`` for a CloudFormation custom resource request and answer it, always.

    Success answers ``SUCCESS`` with the action's physical id; any exception answers ``FAILED``
    with its message; if the action is still running ``margin_seconds`` before the invocation
    would time out, ``FAILED`` goes first. ``send`` delivers the answer (default
    ``send_response``: a PUT to the request's ``ResponseURL``). Returns the answer sent.
    """
    log_stream = str(getattr(context, "log_stream_name", "") or "custom-resource")
    responder = _Responder(event, send or send_response, fallback_id=log_stream)
    remaining = float(context.get_remaining_time_in_millis()) / 1000 if context is not None else 60.0
    watchdog = threading.Timer(
        max(0.0, remaining - margin_seconds),
        responder.answer,
        args=("FAILED", f"Timed out; see CloudWatch log stream {log_stream}."),
    )
    watchdog.daemon = True
    watchdog.start()
    try:
        request_type = str(event.get("RequestType") or "")
        if request_type not in REQUEST_TYPES:
            raise CustomResourceError(f"unknown RequestType {request_type!r}")
        physical_id = action(request_type, event.get("ResourceProperties") or {})
        responder.answer("SUCCESS", f"{request_type} done", physical_id)
    except Exception as error:
        log.exception("custom resource request failed")
        responder.answer("FAILED", f"{type(error).__name__}: {error} (log stream {log_stream})")
    finally:
        watchdog.cancel()
    return responder.sent
