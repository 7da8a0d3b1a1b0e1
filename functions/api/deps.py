"""Composition root of the API function: settings, boto3 clients, adapters and the service.

Built once per execution environment, on first use (cold start), never at import time, so that
importing the handler stays cheap and tests can set the environment first (``reset()``).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from functools import cache
from typing import TYPE_CHECKING, Any

from functions.domain import errors
from functions.domain.intake import IntakeService
from functions.domain.models import AnyRelease
from functions.domain.records import Caller, ReleaseRecord, new_release_id, release_id_for_key
from functions.runtime import aws_client, utc_now
from functions.settings import ApiSettings, CorsSettings

if TYPE_CHECKING:
    from aws_lambda_powertools.event_handler.api_gateway import CORSConfig


@cache
def settings() -> ApiSettings:
    return ApiSettings.from_env(os.environ)


@cache
def cors() -> CORSConfig | None:
    """Which browser origins may read the answers (``DESK_ORIGINS``); None: no browser origin."""
    from functions.api.cors import cors_config

    return cors_config(CorsSettings.from_env(os.environ).desk_origins)


@cache
def service() -> IntakeService:
    from functions.adapters.dynamodb_state import DynamoStateRepository
    from functions.adapters.s3_releases import S3ReleaseStore
    from functions.adapters.sqs_moderation import SqsModerationQueue

    current = settings()
    return IntakeService(
        store=S3ReleaseStore(aws_client("s3"), current.releases_bucket),
        states=DynamoStateRepository(aws_client("dynamodb"), current.releases_table),
        queue=SqsModerationQueue(aws_client("sqs"), current.moderation_queue_url),
        clock=utc_now,
        cancel_schedule=cancel_schedule,
    )


def cancel_schedule(name: str) -> None:
    """Withdrawing a scheduled release deletes its schedule; the client is created only then."""
    from functions.adapters.scheduler import EventBridgeSchedules

    group = settings().schedule_group
    if group:
        EventBridgeSchedules(aws_client("scheduler"), group=group).delete(name)


def accepted(record: ReleaseRecord) -> dict[str, Any]:
    return {"id": record.release_id, "status": record.status, "version": record.version}


@cache
def _idempotent_submit() -> tuple[Callable[..., dict[str, Any]], Any]:
    from aws_lambda_powertools.utilities.idempotency import (
        DynamoDBPersistenceLayer,
        IdempotencyConfig,
        idempotent_function,
    )

    current = settings()
    persistence = DynamoDBPersistenceLayer(
        table_name=current.idempotency_table, boto3_client=aws_client("dynamodb")
    )
    config = IdempotencyConfig(
        event_key_jmespath="[org_id, key]",
        payload_validation_jmespath="payload",
        raise_on_no_idempotency_key=True,
        expires_after_seconds=current.idempotency_ttl_seconds,
    )

    def submit_once(command: dict[str, Any], caller: Caller, release: AnyRelease) -> dict[str, Any]:
        return accepted(service().submit(caller, release, release_id=command["release_id"]))

    wrapped = idempotent_function(
        submit_once, data_keyword_argument="command", persistence_store=persistence, config=config
    )
    return wrapped, config


def submit(
    caller: Caller, release: AnyRelease, *, idempotency_key: str | None, lambda_context: Any
) -> dict[str, Any]:
    """Submit, through Powertools idempotency when the client sent an ``Idempotency-Key``."""
    if not idempotency_key:
        return accepted(service().submit(caller, release, release_id=new_release_id()))

    from aws_lambda_powertools.utilities.idempotency.exceptions import (
        IdempotencyAlreadyInProgressError,
        IdempotencyPersistenceLayerError,
        IdempotencyValidationError,
    )

    function, config = _idempotent_submit()
    if lambda_context is not None:
        config.register_lambda_context(lambda_context)
    command = {
        "org_id": caller.org_id,
        "key": idempotency_key,
        "release_id": release_id_for_key(caller.org_id, idempotency_key),
        "payload": release.model_dump(mode="json"),
    }
    try:
        return function(command=command, caller=caller, release=release)
    except IdempotencyValidationError:
        raise errors.IdempotencyConflict(
            "This Idempotency-Key was already used with a different release."
        ) from None
    except IdempotencyAlreadyInProgressError:
        raise errors.RequestInFlight() from None
    except IdempotencyPersistenceLayerError as failure:
        raise errors.DependencyFailure(
            "The idempotency store is unavailable; nothing was stored. Retry shortly."
        ) from failure


def reset() -> None:
    """Forget every cached object (tests change the environment between cases)."""
    for cached in (settings, cors, aws_client, service, _idempotent_submit):
        cached.cache_clear()
