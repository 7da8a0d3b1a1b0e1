"""The API function (``ApiFunction``): its Lambda handler and its wiring.

The handler is Powertools' decorators plus one call: ``functions.api.app.handle`` answers the
request, given this function's ``Wiring``. The wiring (settings, the CORS origins, boto3
clients, adapters, the intake and webhook services, Powertools idempotency) is built on first
use, once per execution environment, never at import time, so that importing this module stays
cheap (the cold start) and a request that needs no storage (``GET /openapi.json``, ``OPTIONS``,
a 404) creates no client at all.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from functools import cached_property
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from functions.api.app import handle
from functions.cold_start import aws_client, once
from functions.observability import logger, metrics, traced_handler

if TYPE_CHECKING:
    from collections.abc import Sequence

    from aws_lambda_powertools.event_handler.api_gateway import CORSConfig
    from aws_lambda_powertools.utilities.idempotency import IdempotencyConfig

    from functions.domain.intake import IntakeService
    from functions.domain.media_service import MediaService
    from functions.domain.models import AnyRelease
    from functions.domain.records import Caller, ReleaseRecord
    from functions.domain.webhooks import WebhookService
    from functions.settings.api import ApiSettings


def resolve_host(host: str, port: int) -> Sequence[str]:
    """How webhook URLs are resolved for the SSRF check (looked up on every use: tests set another)."""
    from functions.adapters.http_webhooks import resolve_host as system_resolver

    return system_resolver(host, port)


def accepted(record: ReleaseRecord) -> dict[str, Any]:
    return {"id": record.release_id, "status": record.status.value, "version": record.version}


class Wiring:
    """What the API's routes use (``functions.api.app.Intake``), built on first use."""

    @cached_property
    def settings(self) -> ApiSettings:
        import os

        from functions.settings.api import ApiSettings

        return ApiSettings.from_env(os.environ)

    @cached_property
    def cors(self) -> CORSConfig | None:
        """Which browser origins may read the answers (``DESK_ORIGINS``, the web desk's); None: no
        browser origin. Its own settings model: a preflight needs nothing else."""
        import os

        from functions.api.cors import cors_config
        from functions.settings.api import CorsSettings

        return cors_config(CorsSettings.from_env(os.environ).desk_origins)

    @cached_property
    def service(self) -> IntakeService:
        from functions.adapters.dynamodb_state import DynamoStateRepository
        from functions.adapters.s3_releases import S3ReleaseStore
        from functions.adapters.sqs_moderation import SqsModerationQueue
        from functions.domain.intake import IntakeService

        current = self.settings
        return IntakeService(
            store=S3ReleaseStore(aws_client("s3"), current.releases_bucket),
            states=DynamoStateRepository(
                aws_client("dynamodb"),
                current.releases_table,
                org_index=current.org_index,
                org_status_index=current.org_status_index,
            ),
            queue=SqsModerationQueue(aws_client("sqs"), current.moderation_queue_url),
            clock=lambda: datetime.now(UTC),
            cancel_schedule=self.cancel_schedule,
            media=lambda: self.media,  # built for the first release that names media
        )

    @cached_property
    def media(self) -> MediaService:
        from functions.adapters.dynamodb_media import DynamoMediaRepository
        from functions.adapters.s3_media import S3MediaObjects
        from functions.domain.media_service import MediaService

        current = self.settings
        return MediaService(
            repository=DynamoMediaRepository(aws_client("dynamodb"), current.media_table),
            objects=S3MediaObjects(aws_client("s3"), current.media_bucket),
            clock=lambda: datetime.now(UTC),
        )

    @cached_property
    def webhooks(self) -> WebhookService:
        from functions.adapters.dynamodb_webhooks import DynamoDeliveryLog, DynamoWebhooks
        from functions.adapters.kms_secrets import KmsSecretBox
        from functions.adapters.sqs_events import SqsEventsQueue
        from functions.domain.webhooks import WebhookService

        current = self.settings
        return WebhookService(
            hooks=DynamoWebhooks(aws_client("dynamodb"), current.webhooks_table),
            log=DynamoDeliveryLog(aws_client("dynamodb"), current.webhooks_table),
            box=KmsSecretBox(aws_client("kms"), current.webhook_secrets_key),
            queue=SqsEventsQueue(aws_client("sqs"), current.events_queue_url),
            resolve=lambda host, port: resolve_host(host, port),  # noqa: PLW0108 - tests set another
            clock=lambda: datetime.now(UTC),
            allow_loopback=current.webhooks_allow_loopback,
        )

    def cancel_schedule(self, name: str) -> None:
        """Withdrawing a scheduled release deletes its schedule; the client is created only then."""
        from functions.adapters.scheduler import EventBridgeSchedules

        group = self.settings.schedule_group
        if group:
            EventBridgeSchedules(aws_client("scheduler"), group=group).delete(name)

    @cached_property
    def _idempotent_submit(self) -> tuple[Callable[..., dict[str, Any]], IdempotencyConfig]:
        from aws_lambda_powertools.utilities.idempotency import (
            DynamoDBPersistenceLayer,
            IdempotencyConfig,
            idempotent_function,
        )

        current = self.settings
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
            return accepted(self.service.submit(caller, release, release_id=command["release_id"]))

        wrapped = idempotent_function(
            submit_once, data_keyword_argument="command", persistence_store=persistence, config=config
        )
        return wrapped, config

    def submit(
        self, caller: Caller, release: AnyRelease, *, idempotency_key: str | None, lambda_context: Any
    ) -> dict[str, Any]:
        """Submit, through Powertools idempotency when the client sent an ``Idempotency-Key``."""
        from functions.domain import errors
        from functions.domain.records import release_id_for_key

        if not idempotency_key:
            return accepted(self.service.submit(caller, release, release_id=None))

        from aws_lambda_powertools.utilities.idempotency.exceptions import (
            IdempotencyAlreadyInProgressError,
            IdempotencyPersistenceLayerError,
            IdempotencyValidationError,
        )

        function, config = self._idempotent_submit
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


@once
def wiring() -> Wiring:
    return Wiring()


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST, clear_state=True)
@metrics.log_metrics(capture_cold_start_metric=True)
@traced_handler
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return handle(event, context, wiring())
