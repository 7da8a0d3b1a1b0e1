"""Cheaper equivalents of four of moto's hot spots, for the local stack's moto server.

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
- DynamoDB items in answers. moto writes every answer by walking botocore's model of it, and
  for each attribute value of an item it asks for each of the ten members of
  ``AttributeValue`` through its generic attribute picker: about 1.5 ms per release state item,
  for every item a ``GetItem``, ``BatchGetItem``, ``Query`` or stream ``GetRecords`` (old and
  new image) returns. Its items are already in the wire form (``{"S": ...}``), so
  ``make_item_answers_cheaper()`` writes an attribute value as moto's walk would, directly;
  anything it is not sure of (binary values, keys that are not ``AttributeValue`` members, a
  response transformer) is left to moto's walk.
- DynamoDB update expressions. moto parses an ``UpdateItem``'s ``UpdateExpression`` twice: to
  check the placeholders it names (only reading the tree), then again in the backend, which
  fills the tree in as it applies it. ``make_updates_parse_once()`` hands the backend the tree
  the check parsed, in the same request thread, for the same expression; any other expression
  is parsed as before. (About a quarter of an ``UpdateItem``'s CPU: every moderation decision
  is one.)

The local stack applies all four (``infra.local.stack``, through ``make_moto_cheaper()`` but for
the Dispatcher, which wraps its app); they never run in Lambda.
"""

from __future__ import annotations

import threading
from enum import Enum
from typing import Any

from moto import backends
from moto.core.serialize import SERVICE_SPECIFIC_SERIALIZERS, JSONSerializer
from moto.core.utils import unix_time
from moto.moto_server.werkzeug_app import DomainDispatcherApplication

_APPLIED = threading.Event()
_ITEMS_APPLIED = threading.Event()
_PARSE_ONCE_APPLIED = threading.Event()
_PARSED = threading.local()  # the update expression the check parsed last in this thread
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


_SHAPE = "AttributeValue"


class _LeftToMoto(Exception):
    """An attribute value this module does not write itself (moto's walk does)."""


def _string(value: Any) -> Any:
    # As moto's JSON serializer writes a string member (_serialize_type_string).
    if isinstance(value, Enum):
        value = value.value
    return str(value) if value not in [None, {}, []] else value


def _of_type(value: Any, kind: type) -> Any:
    if type(value) is not kind:
        raise _LeftToMoto
    return value


def _map(value: Any, members: tuple[str, ...]) -> dict[str, Any]:
    written = {}
    for name, entry in _of_type(value, dict).items():
        if not name or not isinstance(name, str):
            raise _LeftToMoto
        if entry is not None:  # moto's walk leaves a None entry out
            written[name] = _attribute_value(entry, members)
    return written


def _member(member: str, inner: Any, members: tuple[str, ...]) -> Any:
    if member in ("S", "N"):
        return _string(inner)
    if member in ("SS", "NS"):
        return [_string(one) for one in _of_type(inner, list)]
    if member in ("NULL", "BOOL"):
        return inner
    if member == "M":
        return _map(inner, members)
    if member == "L":
        return [None if one is None else _attribute_value(one, members) for one in _of_type(inner, list)]
    raise _LeftToMoto  # B, BS (base64) and any member a later model adds


def _attribute_value(value: Any, members: tuple[str, ...]) -> dict[str, Any]:
    """What moto's walk writes for one ``AttributeValue`` (the dict of DynamoDB's wire form);
    raises ``_LeftToMoto`` where that is not certain."""
    if not _of_type(value, dict).keys() <= set(members):
        raise _LeftToMoto
    # In the model's order, as moto's walk goes; a member set to None is left out, as there.
    return {m: _member(m, value[m], members) for m in members if value.get(m) is not None}


class ItemAnswersSerializer(JSONSerializer):
    """moto's JSON serializer, writing DynamoDB attribute values without its generic walk."""

    def _serialize_type_structure(self, serialized: Any, value: Any, shape: Any, key: str) -> None:
        if shape.name == _SHAPE and key and value is not None and not self._transforms():
            try:
                written = _attribute_value(value, tuple(shape.members))
            except _LeftToMoto:
                pass
            else:
                serialized[self.get_serialized_name(shape, key)] = written
                return
        super()._serialize_type_structure(serialized, value, shape, key)

    def _transforms(self) -> bool:
        return bool(getattr(self._value_picker, "response_transformers", None))


def make_item_answers_cheaper() -> None:
    """Idempotent: DynamoDB's and DynamoDB Streams' answers are written by ``ItemAnswersSerializer``."""
    with _LOCK:
        if _ITEMS_APPLIED.is_set():
            return
        for service in ("dynamodb", "dynamodbstreams"):
            SERVICE_SPECIFIC_SERIALIZERS.setdefault(service, {})["json"] = ItemAnswersSerializer
        _ITEMS_APPLIED.set()


class _ParsedForTheCheck:
    """``UpdateExpressionParser`` as ``moto.dynamodb.responses`` sees it: the tree it parses
    (and only reads) is kept for the backend's parse of the same expression."""

    def __init__(self, parser: Any) -> None:
        self._parser = parser

    def make(self, expression: str) -> Any:
        tree = self._parser.make(expression)
        _PARSED.last = (expression, tree)
        return tree


class _ParsedForTheWrite:
    """``UpdateExpressionParser`` as the DynamoDB backend sees it: the tree the check parsed for
    this very expression, taken (never handed out twice), else a parse of its own."""

    def __init__(self, parser: Any) -> None:
        self._parser = parser

    def make(self, expression: str) -> Any:
        last = getattr(_PARSED, "last", None)
        _PARSED.last = None
        if last is not None and last[0] == expression:
            return last[1]
        return self._parser.make(expression)


def make_updates_parse_once() -> None:
    """Idempotent: an ``UpdateItem``'s expression is parsed once, not twice."""
    with _LOCK:
        if _PARSE_ONCE_APPLIED.is_set():
            return
        from moto.dynamodb import models, responses
        from moto.dynamodb.parsing.expressions import UpdateExpressionParser  # type: ignore[attr-defined]

        responses.UpdateExpressionParser = _ParsedForTheCheck(UpdateExpressionParser)  # type: ignore[attr-defined]
        models.UpdateExpressionParser = _ParsedForTheWrite(UpdateExpressionParser)  # type: ignore[attr-defined]
        _PARSE_ONCE_APPLIED.set()


def make_moto_cheaper() -> None:
    """Idempotent: every speed-up above, as the local stack's moto server (and the functional
    tests' moto) runs with them."""
    make_receives_cheaper()
    make_item_answers_cheaper()
    make_updates_parse_once()
