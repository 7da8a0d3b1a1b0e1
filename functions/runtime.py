"""Shared by the composition roots: boto3 clients (one per service, reused across invocations)."""

from __future__ import annotations

from datetime import UTC, datetime
from functools import cache
from typing import Any


@cache
def aws_client(service_name: str) -> Any:
    import boto3
    from botocore.config import Config

    config = Config(retries={"mode": "standard", "max_attempts": 3}, connect_timeout=3, read_timeout=10)
    return boto3.client(service_name, config=config)  # type: ignore[call-overload]


def utc_now() -> datetime:
    return datetime.now(UTC)
