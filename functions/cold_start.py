"""What a function builds once per execution environment and keeps between invocations.

Lambda imports a function's module once per execution environment (its cold start), then calls
its handler for every invocation. What the handler builds on first use and reuses after (boto3
clients, the settings validated from the environment, services with their adapters) is cached
by ``once``; ``reset_all()`` forgets all of it, as a new execution environment would (tests do
it after changing the environment). Nothing is built at import time.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from typing import Any, ParamSpec, TypeVar, cast

P = ParamSpec("P")
R = TypeVar("R")

_CACHES: list[Any] = []


def once(build: Callable[P, R]) -> Callable[P, R]:
    """``build``, run once per execution environment (per distinct arguments) and then reused."""
    cached = cache(build)
    _CACHES.append(cached)
    return cast(Callable[P, R], cached)


def reset_all() -> None:
    """Forget everything every function built (a fresh execution environment)."""
    for cached in _CACHES:
        cached.cache_clear()


@once
def aws_client(service_name: str) -> Any:
    """The function's one client for an AWS service, with bounded retries and timeouts."""
    import boto3
    from botocore.config import Config

    config = Config(retries={"mode": "standard", "max_attempts": 3}, connect_timeout=3, read_timeout=10)
    return boto3.client(service_name, config=config)  # type: ignore[call-overload]
