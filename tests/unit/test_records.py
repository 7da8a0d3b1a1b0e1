"""The canonical JSON behind a submission's payload hash (functions/domain/records.py)."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from functions.domain.records import canonical_json, payload_hash


def reference(payload: Any) -> bytes:
    """What the hash was always taken of (an earlier deployment's retries compare with it)."""
    return json.dumps(
        payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str
    ).encode()


# Text of every kind a submission can hold and some it cannot: controls, quotes and backslashes,
# non-ASCII, astral characters, line and paragraph separators, DEL (lone surrogates are below).
TEXT = st.text(alphabet=st.characters(exclude_categories=["Cs"]), max_size=30)
JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | TEXT,
    lambda children: st.lists(children, max_size=5) | st.dictionaries(TEXT, children, max_size=5),
    max_leaves=30,
)


@settings(max_examples=500, deadline=None)
@given(st.dictionaries(TEXT, JSON_VALUES, max_size=8))
def test_canonical_json_is_what_the_canonical_encoder_writes(payload: dict[str, Any]) -> None:
    # Given any JSON document of the kinds a submission dumps to
    # Then its canonical JSON is byte for byte what json.dumps writes, sorted and compact
    assert canonical_json(payload) == reference(payload)


@pytest.mark.parametrize(
    "payload",
    [
        {"ratio": 0.1, "big": 1e16, "small": 5e-324},  # floats: the canonical encoder's spelling
        {"when": datetime(2026, 12, 1, tzinfo=UTC)},  # anything else: as str
        {"b": [1, {"z": "Zo\u00eb", "a": None}], "a": "ASCII"},
        {1: "an int key"},
        {"tuple": (1, 2)},
    ],
)
def test_other_values_are_written_by_the_canonical_encoder(payload: dict[Any, Any]) -> None:
    assert canonical_json(payload) == reference(payload)


def test_a_lone_surrogate_fails_as_it_always_did() -> None:
    # Validation refuses them before any hash is taken; the hash itself keeps failing loudly
    with pytest.raises(UnicodeEncodeError):
        payload_hash({"headline": "\ud800"})


def test_the_hash_is_the_sha256_of_the_canonical_json() -> None:
    payload = {"headline": "Acme \u00e9", "body": 'He said "no"\n\tthen\\left', "n": 3, "ok": True}
    assert payload_hash(payload) == hashlib.sha256(reference(payload)).hexdigest()
