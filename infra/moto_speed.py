"""Cheaper equivalents of two of moto's hot spots, for the local stack's moto server.

Neither changes what moto answers, only the CPU an answer costs (the local stack serves every
AWS call of the pipeline from one process, so this is its throughput):

- Routing. For every request, moto's server finds the service by listing its own package
  folder (about 150 ``stat`` calls) and then trying the URL patterns of every service in turn,
  under a lock all requests share. Both depend only on the installed moto: ``Dispatcher`` lists
  the folder once and remembers the backend found for each host.
- SQS receives. For every message it returns, moto checks the queue's retention period by
  computing all of the queue's attributes, among them the counts of its messages (two clock
  reads per message held), so a receive costs time in proportion to the queue's length for
  each message it returns. ``make_receives_cheaper()`` reads the retention period from the
  queue itself; the check (sent time + retention period, against the clock) is moto's.

The local stack applies both (``infra.local.stack``); they never run in Lambda.
"""

from __future__ import annotations

import threading
from typing import Any

from moto import backends
from moto.core.utils import unix_time
from moto.moto_server.werkzeug_app import DomainDispatcherApplication

_APPLIED = threading.Event()
_LOCK = threading.Lock()
moto_retention_check: Any = None  # moto's own check, kept once replaced (the tests compare both)


class Dispatcher(DomainDispatcherApplication):
    """moto's dispatcher (``DomainDispatcherApplication``) with its host lookup remembered."""

    def __init__(self, create_app: Any) -> None:
        super().__init__(create_app)
        self._modules = frozenset(backends.list_of_moto_modules())
        self._found: dict[str, Any] = {}

    def get_backend_for_host(self, host: str | None) -> Any:
        # Called under ``self.lock`` (moto's get_application), like the method it replaces.
        if host is None:
            return None
        if host == "moto_api" or host in self._modules:
            return host
        if host not in self._found:
            self._found[host] = super().get_backend_for_host(host)
        return self._found[host]


def _message_within_retention(self: Any, queue_name: str, message: Any) -> bool:
    """moto's ``is_message_valid_based_on_retention_period``, reading only the attribute it uses."""
    retention_period = self.get_queue(queue_name).message_retention_period
    retain_until = int(retention_period) + message.sent_timestamp / 1000
    return bool(retain_until > unix_time())


def make_receives_cheaper() -> None:
    """Idempotent: replaces moto's retention check of received SQS messages once."""
    with _LOCK:
        if _APPLIED.is_set():
            return
        from moto.sqs.models import SQSBackend

        global moto_retention_check  # noqa: PLW0603 - set once, under the lock
        moto_retention_check = SQSBackend.is_message_valid_based_on_retention_period
        SQSBackend.is_message_valid_based_on_retention_period = _message_within_retention  # type: ignore[method-assign]
        _APPLIED.set()
