"""Throttling as API Gateway applies it: token buckets for the stage and for each API key.

- The stage limit (``MethodSettings`` of the API) is one bucket shared by every caller.
- A method that requires an API key admits a request only for a key that is enabled and in a
  usage plan of this API stage (else ``INVALID_API_KEY``, 403), and throttles it with one bucket
  per key, filled at its plan's rate up to its plan's burst (else ``THROTTLED``, 429). The keys
  and plans are read from API Gateway (moto, locally) and cached for a few seconds, so that
  ``press-intake keys limits`` takes effect as quickly as it does on AWS.

Usage plan quotas (requests per day, week or month) are not enforced here.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

PLAN_CACHE_SECONDS = 5.0


@dataclass
class TokenBucket:
    """``burst`` tokens at most, refilled at ``rate`` per second; a request takes one."""

    rate: float
    burst: float
    now: float
    tokens: float = field(init=False)
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def __post_init__(self) -> None:
        self.tokens = self.burst

    def take(self, now: float) -> bool:
        with self.lock:
            self.tokens = min(self.burst, self.tokens + max(0.0, now - self.now) * self.rate)
            self.now = now
            if self.tokens >= 1:
                self.tokens -= 1
                return True
            return False

    def retune(self, rate: float, burst: float) -> None:
        """New limits (the plan changed): the tokens on hand never exceed the new burst."""
        with self.lock:
            self.rate, self.burst = rate, burst
            self.tokens = min(self.tokens, burst)


@dataclass(frozen=True)
class PlanThrottle:
    """The throttle of the usage plan an API key is in (``None`` limits: the plan has none)."""

    plan_id: str
    rate: float | None
    burst: float | None


class Admission(Enum):
    ADMITTED = "admitted"
    INVALID_API_KEY = "invalid_api_key"
    THROTTLED = "throttled"


class UsagePlans:
    """Which usage plan of one API stage an API key (by its value) is in, read from API Gateway."""

    def __init__(
        self,
        client: Callable[[], Any],
        api_id: str,
        stage: str,
        clock: Callable[[], float],
        ttl: float = PLAN_CACHE_SECONDS,
    ) -> None:
        self._client_factory = client
        self._client: Any = None
        self._stage = (api_id, stage)
        self._clock = clock
        self._ttl = ttl
        self._lock = threading.Lock()
        self._keys: dict[str, tuple[str, bool]] = {}  # value -> (key id, enabled)
        self._keys_read: float | None = None
        self._plans: dict[str, tuple[float, PlanThrottle | None]] = {}  # key id -> (until, plan)

    def _api(self) -> Any:
        if self._client is None:
            self._client = self._client_factory()
        return self._client

    def _read_keys(self, now: float) -> None:
        keys: dict[str, tuple[str, bool]] = {}
        for page in self._api().get_paginator("get_api_keys").paginate(includeValues=True):
            for item in page.get("items", []):
                keys[item["value"]] = (item["id"], bool(item.get("enabled")))
        self._keys, self._keys_read = keys, now

    def _read_plan(self, key_id: str) -> PlanThrottle | None:
        for page in self._api().get_paginator("get_usage_plans").paginate(keyId=key_id):
            for plan in page.get("items", []):
                stages = {(s.get("apiId"), s.get("stage")) for s in plan.get("apiStages") or []}
                if self._stage in stages:
                    throttle = plan.get("throttle") or {}
                    rate, burst = throttle.get("rateLimit"), throttle.get("burstLimit")
                    return PlanThrottle(
                        plan_id=plan["id"],
                        rate=float(rate) if rate is not None else None,
                        burst=float(burst) if burst is not None else None,
                    )
        return None

    def plan_for(self, value: str) -> tuple[str, PlanThrottle] | None:
        """(key id, plan) for an enabled key in a plan of this stage; None otherwise."""
        now = self._clock()
        with self._lock:
            stale = self._keys_read is None or now - self._keys_read >= self._ttl
            if stale or value not in self._keys:  # a key created a moment ago is found at once
                self._read_keys(now)
            found = self._keys.get(value)
            if found is None or not found[1]:
                return None
            key_id = found[0]
            cached = self._plans.get(key_id)
            if cached is None or cached[0] <= now:
                cached = (now + self._ttl, self._read_plan(key_id))
                self._plans[key_id] = cached
            plan = cached[1]
        return (key_id, plan) if plan is not None else None


class KeyThrottle:
    """One token bucket per API key, with the limits of the key's usage plan."""

    def __init__(self, plans: UsagePlans, clock: Callable[[], float]) -> None:
        self._plans = plans
        self._clock = clock
        self._buckets: dict[str, TokenBucket] = {}
        self._lock = threading.Lock()

    def admit(self, value: str | None) -> Admission:
        found = self._plans.plan_for(value) if value else None
        if found is None:
            return Admission.INVALID_API_KEY
        key_id, plan = found
        if plan.rate is None or plan.burst is None:
            return Admission.ADMITTED  # a plan without a throttle: only the stage limit applies
        now = self._clock()
        with self._lock:
            bucket = self._buckets.get(key_id)
            if bucket is None:
                bucket = self._buckets[key_id] = TokenBucket(plan.rate, plan.burst, now)
            elif (bucket.rate, bucket.burst) != (plan.rate, plan.burst):
                bucket.retune(plan.rate, plan.burst)
        return Admission.ADMITTED if bucket.take(now) else Admission.THROTTLED
