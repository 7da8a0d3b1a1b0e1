"""Python values to DynamoDB attribute values and back, for every DynamoDB adapter.

What boto3's ``TypeSerializer`` and ``TypeDeserializer`` give, faster for what the adapters store
nearly always: strings, integers, booleans, null, lists and maps of those. boto3's serializer
asks each value a chain of ``isinstance`` questions and looks its method up by name (about 1.5 us
a value: a release's state item, ~15 attributes and its history, took ~22 us to serialize, now
~5 us); here those exact types are answered at once, and anything else (``Decimal``, sets, bytes,
tuples, subclasses such as ``StrEnum`` members, floats, integers beyond DynamoDB's 38 digits)
goes to boto3's own, with its result or its error. Reading is the same: the six common tags are
read here as boto3 reads them (a number as ``Decimal`` through boto3's own decimal context), the
rest by boto3. tests/unit/test_dynamodb_values.py holds both directions against boto3's.

Times are stored as ``timestamp`` writes them: UTC, fixed width, so that they sort in time order
as text (the indexes' sort keys).
"""

from __future__ import annotations

from datetime import UTC, datetime
from functools import cache
from typing import Any, NamedTuple

_NUMBER_LIMIT = 10**38  # DynamoDB numbers have at most 38 digits: longer integers are boto3's to refuse


class _Boto3(NamedTuple):
    """boto3's own (typed loosely: boto3-stubs' TypedDicts of attribute values say no more here)."""

    serialize: Any
    deserialize: Any
    read_number: Any  # its decimal context's create_decimal: how boto3 reads a number


@cache
def _boto3() -> _Boto3:
    """Loaded on first use: a function that only writes times (the authorizer, through the keys
    table) never imports boto3's DynamoDB types."""
    from boto3.dynamodb.types import DYNAMODB_CONTEXT, TypeDeserializer, TypeSerializer

    return _Boto3(TypeSerializer().serialize, TypeDeserializer().deserialize, DYNAMODB_CONTEXT.create_decimal)


def to_attribute(value: Any) -> dict[str, Any]:  # noqa: PLR0911 - one test per type, cheapest first
    """``TypeSerializer().serialize(value)``."""
    kind = type(value)
    if kind is str:
        return {"S": value}
    if kind is int and -_NUMBER_LIMIT < value < _NUMBER_LIMIT:
        return {"N": str(value)}
    if kind is bool:
        return {"BOOL": value}
    if value is None:
        return {"NULL": True}
    if kind is dict:
        return {"M": {key: to_attribute(item) for key, item in value.items()}}
    if kind is list:
        return {"L": [to_attribute(item) for item in value]}
    return _boto3().serialize(value)  # type: ignore[no-any-return]


def to_item(values: dict[str, Any]) -> dict[str, Any]:
    """An item of ``values``, leaving out the attributes whose value is None."""
    return {key: to_attribute(value) for key, value in values.items() if value is not None}


def from_attribute(value: dict[str, Any]) -> Any:
    """``TypeDeserializer().deserialize(value)``."""
    if len(value) == 1:
        ((tag, inner),) = value.items()
        if tag in {"S", "BOOL"}:
            return inner
        if tag == "N":
            return _boto3().read_number(inner)
        if tag == "M":
            return {key: from_attribute(item) for key, item in inner.items()}
        if tag == "L":
            return [from_attribute(item) for item in inner]
        if tag == "NULL":
            return None
    return _boto3().deserialize(value)


def from_item(item: dict[str, Any]) -> dict[str, Any]:
    """The values of ``item``'s attributes."""
    return {key: from_attribute(value) for key, value in item.items()}


def timestamp(value: datetime) -> str:
    """``value`` in UTC as ``YYYY-MM-DDTHH:MM:SS.ffffffZ``: fixed width (years 1000-9999), so it
    sorts in time order.

    The same text as ``strftime("%Y-%m-%dT%H:%M:%S.%fZ")`` of it in UTC, which the tables have
    always held, in about half the time (an item holds several: a state item's creation, change
    and history times)."""
    utc = value if value.tzinfo is UTC else value.astimezone(UTC)
    if utc.year < 1000:  # strftime writes such a year without leading zeros: as ever, its way
        return utc.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    return utc.isoformat(timespec="microseconds")[:-6] + "Z"  # "+00:00" written as "Z"
