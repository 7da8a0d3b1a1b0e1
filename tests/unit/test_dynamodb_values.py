"""DynamoDB attribute values (functions/adapters/dynamodb_values.py) are exactly boto3's."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from enum import StrEnum
from typing import Any

import pytest
from boto3.dynamodb.types import Binary, TypeDeserializer, TypeSerializer
from hypothesis import given, settings
from hypothesis import strategies as st

from functions.adapters.dynamodb_values import from_attribute, from_item, timestamp, to_attribute, to_item

BOTO_SERIALIZE = TypeSerializer().serialize
BOTO_DESERIALIZE = TypeDeserializer().deserialize


class Colour(StrEnum):
    RED = "red"


# What the adapters store (text of every kind, integers up to and beyond DynamoDB's 38 digits,
# booleans, null, lists and maps of them) and what they store more rarely or never: Decimal,
# sets, bytes, tuples, StrEnum members.
SCALARS = (
    st.text()
    | st.integers()
    | st.integers(min_value=10**37, max_value=10**39)
    | st.integers(min_value=-(10**39), max_value=-(10**37))
    | st.booleans()
    | st.none()
    | st.decimals(allow_nan=False, allow_infinity=False, places=4, max_value=10**20, min_value=-(10**20))
    | st.binary(max_size=8)
    | st.just(Colour.RED)
)
VALUES = st.recursive(
    SCALARS | st.frozensets(st.text(max_size=5), min_size=1, max_size=3).map(set),
    lambda children: (
        st.lists(children, max_size=4)
        | st.tuples(children, children)
        | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=20,
)


def outcome(function: Any, value: Any) -> tuple[str, Any]:
    """What ``function(value)`` gives: ("value", its result) or ("error", the exception's type and text)."""
    try:
        return "value", function(value)
    except Exception as error:  # the very error boto3 raises is part of the contract
        return "error", (type(error), str(error))


@settings(max_examples=600, deadline=None)
@given(VALUES)
def test_to_attribute_is_what_boto3_serializes(value: Any) -> None:
    # Given any value an adapter might store, common or not, valid for DynamoDB or not
    # When it is serialized here and by boto3's TypeSerializer
    # Then both give the same attribute value, or the same error
    assert outcome(to_attribute, value) == outcome(BOTO_SERIALIZE, value)


@settings(max_examples=600, deadline=None)
@given(VALUES)
def test_from_attribute_reads_what_boto3_reads(value: Any) -> None:
    # Given an attribute value as DynamoDB returns one (boto3 wrote it)
    try:
        attribute = BOTO_SERIALIZE(value)
    except (TypeError, ArithmeticError):  # a float, NaN, more than 38 digits
        return  # not storable: nothing to read back
    # When it is read here and by boto3's TypeDeserializer
    mine, boto = from_attribute(attribute), BOTO_DESERIALIZE(attribute)
    # Then both give equal values of the same types (numbers as Decimal)
    assert mine == boto
    assert repr(mine) == repr(boto)


@pytest.mark.parametrize(
    "attribute",
    [
        {"N": "1.50"},  # boto3 keeps the spelling's exponent: Decimal("1.50")
        {"N": "1" + "0" * 40},  # more digits than DynamoDB's 38: boto3's context refuses them
        {"s": "lower-case tag"},  # boto3 looks its method up case-insensitively
        {"B": b"\x00\x01"},
        {"NS": ["1", "2"]},
        {"S": "a", "N": "1"},  # two tags: boto3 reads the first
        {},
        {"X": 1},
    ],
)
def test_from_attribute_leaves_the_rare_shapes_to_boto3(attribute: dict[str, Any]) -> None:
    # Given an attribute value of a shape the adapters never write
    # Then reading it gives what boto3 gives, or the same error
    assert outcome(from_attribute, attribute) == outcome(BOTO_DESERIALIZE, attribute)


def test_an_item_leaves_out_null_attributes_and_round_trips() -> None:
    # Given an item's values, one of them None
    values = {"pk": "release#1", "version": 3, "published": False, "note": None, "tags": ["a", "b"]}
    # When it is written as an item and read back
    item = to_item(values)
    # Then the None attribute is left out (as the adapters always did), the rest round-trips
    assert item == {
        "pk": {"S": "release#1"},
        "version": {"N": "3"},
        "published": {"BOOL": False},
        "tags": {"L": [{"S": "a"}, {"S": "b"}]},
    }
    assert from_item(item) == {
        "pk": "release#1",
        "version": Decimal(3),
        "published": False,
        "tags": ["a", "b"],
    }


def test_binary_values_stay_boto3_binaries() -> None:
    # Given bytes stored and read back (a webhook's encrypted secret)
    read = from_attribute(to_attribute(b"secret"))
    # Then they come back as boto3's Binary, as the adapters expect
    assert isinstance(read, Binary)
    assert bytes(read) == b"secret"


ZONES = st.just(UTC) | st.builds(
    timezone, st.timedeltas(min_value=timedelta(hours=-23), max_value=timedelta(hours=23))
)


@settings(max_examples=600, deadline=None)
@given(st.datetimes(timezones=ZONES) | st.datetimes(max_value=datetime(1200, 1, 1), timezones=ZONES))
def test_timestamps_are_the_utc_text_the_tables_always_held(value: datetime) -> None:
    # Given any aware time, in UTC or at any offset, in any year (years before 1000 too, which
    # strftime writes without leading zeros)
    def written_before(moment: datetime) -> str:  # what the adapters wrote until 2026-12-04
        return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")

    # Then its timestamp is that text, character for character (or the same error, out of range)
    assert outcome(timestamp, value) == outcome(written_before, value)


def test_timestamps_sort_in_time_order() -> None:
    # Given times across a second, a year and an offset
    times = [
        datetime(2026, 12, 4, 9, 0, 0, 1, tzinfo=UTC),
        datetime(2026, 12, 4, 10, 30, tzinfo=timezone(timedelta(hours=1))),  # 09:30 UTC
        datetime(2026, 12, 4, 9, 59, 59, 999999, tzinfo=UTC),
        datetime(2027, 1, 1, tzinfo=UTC),
    ]
    # Then their texts sort as the times do
    assert sorted(times, key=timestamp) == sorted(times)
    assert timestamp(times[0]) == "2026-12-04T09:00:00.000001Z"
