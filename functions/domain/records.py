"""What the system keeps about a release, independent of where it is kept."""

from __future__ import annotations

import hashlib
import json
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any, NamedTuple

from pydantic_core import PydanticSerializationError, to_json

from functions.domain.prescreen import Flag
from functions.domain.states import Status

# Fixed namespace so that (organisation, Idempotency-Key) always maps to the same release id,
# even after the idempotency record has expired or a half-finished attempt is retried.
_RELEASE_NAMESPACE = uuid.UUID("6f1d7f43-5b0e-4c43-9f59-2f3c0e6f8a11")


class OutboxTarget(StrEnum):
    """The queue a state item's outbox mark says its next message goes to."""

    MODERATION = "moderation"  # after a submission or a revision
    PUBLISH = "publish"  # after an approval
    KILL = "kill"  # after a kill (a kill message to the publish queue)


def schedule_name(release_id: str, version: int) -> str:
    """The one-time schedule publishing a version at its release time (one per version)."""
    return f"release-{release_id}-v{version}"


def new_release_id() -> str:
    return str(uuid.uuid4())


def release_id_for_key(org_id: str, idempotency_key: str) -> str:
    return str(uuid.uuid5(_RELEASE_NAMESPACE, f"{org_id}\n{idempotency_key}"))


def is_release_id(value: str) -> bool:
    try:
        return str(uuid.UUID(value)) == value.lower()
    except ValueError:
        return False


# Canonical JSON: what json.dumps(payload, sort_keys=True, separators=(",", ":"),
# ensure_ascii=False, default=str) writes, with the encoder built once rather than per call.
_CANONICAL = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
_PLAIN_JSON = (str, int, bool, type(None))


class _NotPlain(Exception):
    """A value pydantic-core's encoder may write otherwise than the canonical encoder."""


def _key_sorted(payload: dict[str, Any]) -> dict[str, Any]:
    """``payload`` with every object's keys in sorted order; ``_NotPlain`` for anything but
    strings, integers, booleans, null, lists and objects with string keys (floats included:
    the two encoders may spell them differently). Scalars are checked where they are found,
    without a call each."""
    result: dict[str, Any] = {}
    for key in sorted(payload):  # keys of mixed types: TypeError, handled as _NotPlain is
        if type(key) is not str:
            raise _NotPlain
        item = payload[key]
        kind = type(item)
        if kind is dict:
            item = _key_sorted(item)
        elif kind is list:
            item = [_item_sorted(element) for element in item]
        elif kind not in _PLAIN_JSON:
            raise _NotPlain
        result[key] = item
    return result


def _item_sorted(item: Any) -> Any:
    kind = type(item)
    if kind is dict:
        return _key_sorted(item)
    if kind is list:
        return [_item_sorted(element) for element in item]
    if kind not in _PLAIN_JSON:
        raise _NotPlain
    return item


def canonical_json(payload: dict[str, Any]) -> bytes:
    """The canonical JSON of ``payload``, UTF-8. A submission (``model_dump(mode="json")``) holds
    only strings, integers, booleans, null, lists and objects: for those, pydantic-core's encoder
    given the keys in sorted order writes the very bytes the canonical encoder writes (compact, the
    same escapes, non-ASCII as is; tests/unit/test_records.py compares them), in less than half
    the time; anything else goes through the canonical encoder itself."""
    try:
        return to_json(_key_sorted(payload))
    except (_NotPlain, TypeError, PydanticSerializationError):  # a lone surrogate: fails below, as ever
        return _CANONICAL.encode(payload).encode()


def document_json(document: dict[str, Any]) -> bytes:
    """A version document as the releases bucket stores it: compact UTF-8 JSON, non-ASCII as is,
    keys in the document's own order (pydantic-core's encoder: about four times faster than
    ``json.dumps`` for a 5 KB body; ``canonical_json`` sorts keys, which only a hash needs)."""
    return to_json(document)


def payload_hash(payload: dict[str, Any]) -> str:
    """Hash of a submission as the client sent it (canonical JSON), for idempotent retries."""
    return hashlib.sha256(canonical_json(payload)).hexdigest()


class Caller(NamedTuple):
    """The organisation behind a request, as the authorizer established it."""

    org_id: str
    org_name: str = ""
    key_id: str = ""

    @property
    def actor(self) -> str:
        return f"org:{self.org_id}" + (f"/key:{self.key_id}" if self.key_id else "")


MAX_CORRECTIONS = 20  # published corrections per release (each is kept in its state item)


class Correction(NamedTuple):
    """A published correction: which version it made public, the note readers see, and when."""

    version: int
    note: str
    published_at: datetime

    def as_item(self) -> dict[str, Any]:
        return {"version": self.version, "note": self.note, "published_at": self.published_at.isoformat()}

    @classmethod
    def from_item(cls, item: dict[str, Any]) -> Correction:
        return cls(
            version=int(item["version"]),
            note=str(item["note"]),
            published_at=datetime.fromisoformat(str(item["published_at"])),
        )


@dataclass
class ReleaseRecord:
    """The state item of one release (the content itself lives in the releases bucket).

    ``version`` is the newest version (what a PUT, a moderator and a publish message act on);
    ``public_version`` the one on the site (None until published). They differ while a
    correction is on its way, and after one was refused. ``correction_note`` is the note of the
    newest version when it is a correction; ``corrections`` the published ones, oldest first.
    """

    release_id: str
    org_id: str
    org_name: str
    status: Status
    version: int
    category: str
    headline: str
    language: str
    created_at: datetime
    updated_at: datetime
    object_key: str
    payload_hash: str
    content_digest: str
    release_at: datetime | None = None
    published_at: datetime | None = None
    prescreen: list[Flag] = field(default_factory=list)
    decision: dict[str, Any] | None = None
    public_url: str | None = None
    outbox: OutboxTarget | None = None
    outbox_at: datetime | None = None
    public_version: int | None = None
    correction_note: str | None = None
    corrections: list[Correction] = field(default_factory=list)
    # The newest entries of the release's trail, oldest first, as its state item keeps them (at
    # most the repository's limit); None when not read with the record (a listing's). Not part
    # of a record's equality: the same release read two ways is the same record.
    history: list[dict[str, Any]] | None = field(default=None, compare=False)


class OutboxEntry(NamedTuple):
    """A release whose queue message may not have been sent yet."""

    release_id: str
    version: int
    target: OutboxTarget
    org_id: str
    category: str
