"""API keys: format, hashing and verification (pure; storage is an adapter's job).

A key looks like ``pik_<key id>_<secret>``:

- ``pik_`` marks it as a press-intake key (secret scanners can match on it);
- the key id (16 lowercase base32 characters, 80 bits) is public: it names the key in logs and
  in ``press-intake keys list``, and lets the authorizer fetch the one record without a scan;
- the secret (43 base64url characters, 256 bits from ``secrets``) is shown once, never stored.

Only ``sha256(secret)`` is stored. The secret is random and high-entropy, so a fast hash is
enough (no dictionary to defend against); comparison is constant-time.

Each organisation also has one API Gateway API key, its *usage key*: API Gateway's usage plans
throttle per usage key, so every organisation gets its own rate and burst limits. Its value is
internal (the authorizer hands it to API Gateway as ``usageIdentifierKey``; clients never see
it) and is stored in each of the organisation's key records, so the authorizer's one read finds it.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from functions.domain.ports import KeyStore, UsageKeys

PREFIX = "pik"
_KEY = re.compile(r"^pik_(?P<key_id>[a-z2-7]{16})_(?P<secret>[A-Za-z0-9_-]{43})$")
KEY_ID = re.compile(r"^[a-z2-7]{16}$")
_BEARER = re.compile(r"^\s*bearer\s+(?P<token>\S+)\s*$", re.IGNORECASE)
ORG_ID = re.compile(r"^[a-z0-9][a-z0-9-]{1,62}$")
ROLES = ("submitter",)
ACTIVE = "active"
REVOKED = "revoked"
# last_used_at is a hint for operators, not an audit log: write it at most this often per key.
LAST_USED_GRANULARITY = timedelta(hours=1)


@dataclass(frozen=True)
class IssuedKey:
    key_id: str
    secret: str

    @property
    def token(self) -> str:
        return f"{PREFIX}_{self.key_id}_{self.secret}"


@dataclass(frozen=True)
class UsageKey:
    """An organisation's API key in API Gateway's usage plans (internal, never shown to clients)."""

    key_id: str
    value: str


@dataclass
class KeyRecord:
    key_id: str
    org_id: str
    org_name: str
    role: str
    status: str
    secret_hash: str
    created_at: datetime
    last_used_at: datetime | None = None
    revoked_at: datetime | None = None
    usage_key: UsageKey | None = None


@dataclass(frozen=True)
class OrgLimits:
    """An organisation's throttle: steady requests per second and the burst above it."""

    rate: float
    burst: int


# API Gateway's own account-level ceilings: no usage plan can allow more.
MAX_RATE = 10_000.0
MAX_BURST = 5_000


def org_limits(rate: float, burst: int) -> OrgLimits:
    """Validated limits; ``ValueError`` says which one is out of range."""
    if not 0 < rate <= MAX_RATE:
        raise ValueError(f"the rate must be more than 0 and at most {MAX_RATE:g} requests per second")
    if not 1 <= burst <= MAX_BURST:
        raise ValueError(f"the burst must be 1-{MAX_BURST} requests")
    return OrgLimits(rate=rate, burst=burst)


def create_key(
    store: KeyStore,
    usage_keys: UsageKeys,
    *,
    org_id: str,
    org_name: str,
    now: datetime,
    role: str = "submitter",
) -> IssuedKey:
    """Issue a key for an organisation and store its record (only the secret's hash, and the
    organisation's usage key, created with its first key)."""
    usage_key = usage_keys.for_organisation(org_id)
    issued = issue()
    store.create(
        KeyRecord(
            key_id=issued.key_id,
            org_id=org_id,
            org_name=org_name,
            role=role,
            status=ACTIVE,
            secret_hash=hash_secret(issued.secret),
            created_at=now,
            usage_key=usage_key,
        )
    )
    return issued


def issue() -> IssuedKey:
    key_id = base64.b32encode(secrets.token_bytes(10)).decode().lower()
    secret = secrets.token_urlsafe(32)
    return IssuedKey(key_id=key_id, secret=secret)


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def parse_token(token: str) -> IssuedKey | None:
    """Split a presented key into (key id, secret); ``None`` when it is not one of ours."""
    match = _KEY.match(token)
    if not match:
        return None
    return IssuedKey(key_id=match["key_id"], secret=match["secret"])


def parse_authorization(header: str | None) -> IssuedKey | None:
    """``Authorization: Bearer pik_...`` -> the key; ``None`` for anything else."""
    if not header or len(header) > 512:
        return None
    match = _BEARER.match(header)
    if not match:
        return None
    return parse_token(match["token"])


def verify(presented: IssuedKey, record: KeyRecord | None) -> bool:
    """True only for an active key whose secret matches, compared in constant time."""
    if record is None:
        # Compare anyway so that unknown and wrong keys take the same time.
        hmac.compare_digest(hash_secret(presented.secret), "0" * 64)
        return False
    matches = hmac.compare_digest(hash_secret(presented.secret), record.secret_hash)
    return matches and record.status == ACTIVE and record.key_id == presented.key_id


def needs_touch(record: KeyRecord, now: datetime) -> bool:
    return record.last_used_at is None or now - record.last_used_at >= LAST_USED_GRANULARITY
