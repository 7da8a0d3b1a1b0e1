"""API key format, hashing and parsing (functions/domain/keys.py)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from functions.domain import keys

NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)


def _record(issued: keys.IssuedKey, **changes: object) -> keys.KeyRecord:
    record = keys.KeyRecord(
        key_id=issued.key_id,
        org_id="org-acme",
        org_name="Acme",
        role="submitter",
        status=keys.ACTIVE,
        secret_hash=keys.hash_secret(issued.secret),
        created_at=NOW,
    )
    return replace(record, **changes)  # type: ignore[arg-type]


def test_issued_keys_are_unique_high_entropy_and_carry_their_id() -> None:
    issued = [keys.issue() for _ in range(200)]
    tokens = {k.token for k in issued}
    assert len(tokens) == 200
    for key in issued:
        assert key.token.startswith("pik_")
        assert keys.parse_token(key.token) == key
        assert len(key.secret) == 43  # 32 random bytes
        assert keys.KEY_ID.match(key.key_id)


def test_only_a_hash_of_the_secret_is_kept() -> None:
    key = keys.issue()
    record = _record(key)
    assert key.secret not in record.secret_hash
    assert record.secret_hash == keys.hash_secret(key.secret)
    assert len(record.secret_hash) == 64


@pytest.mark.parametrize(
    "header",
    [
        "Bearer {token}",
        "bearer {token}",
        "BEARER   {token}  ",
        "\tBearer {token}",
    ],
)
def test_bearer_header_forms_are_accepted(header: str) -> None:
    key = keys.issue()
    assert keys.parse_authorization(header.format(token=key.token)) == key


@pytest.mark.parametrize(
    "header",
    [
        None,
        "",
        "Bearer",
        "Bearer ",
        "Basic dXNlcjpwYXNz",
        "{token}",  # no scheme
        "Bearer {token} extra",
        "Bearer {token},Bearer {token}",
        "Bearer pik_{key_id}",  # no secret
        "Bearer xyz_{key_id}_{secret}",  # not our prefix
        "Bearer pik_{key_id}_{secret}x",  # secret too long
        "Bearer pik_{key_id}x_{secret}",  # id too long
        "Bearer pik_{upper_id}_{secret}",  # ids are lowercase
        "Bearer pik_{key_id}_{secret}\u00e9",
        "Bearer " + "a" * 600,
    ],
)
def test_odd_authorization_headers_are_refused(header: str | None) -> None:
    key = keys.issue()
    if header is not None:
        header = header.format(
            token=key.token, key_id=key.key_id, secret=key.secret, upper_id=key.key_id.upper()
        )
    assert keys.parse_authorization(header) is None


def test_verify_accepts_only_the_active_matching_key() -> None:
    key = keys.issue()
    other = keys.issue()
    assert keys.verify(key, _record(key))
    assert not keys.verify(key, None)
    assert not keys.verify(key, _record(key, status=keys.REVOKED))
    assert not keys.verify(keys.IssuedKey(key.key_id, other.secret), _record(key))
    assert not keys.verify(key, _record(other))  # another key's record


def test_last_used_is_written_at_most_hourly() -> None:
    key = keys.issue()
    assert keys.needs_touch(_record(key), NOW)
    assert not keys.needs_touch(_record(key, last_used_at=NOW - timedelta(minutes=59)), NOW)
    assert keys.needs_touch(_record(key, last_used_at=NOW - timedelta(hours=1)), NOW)


@pytest.mark.parametrize(
    ("org_id", "ok"),
    [("acme", True), ("acme-2", True), ("a", False), ("Acme", False), ("-x", False), ("a b", False)],
)
def test_organisation_ids(org_id: str, ok: bool) -> None:
    assert bool(keys.ORG_ID.match(org_id)) is ok
