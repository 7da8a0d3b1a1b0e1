"""The authorizer function (``AuthorizerFunction``): API key -> organisation, or 401.

A REQUEST authorizer. API Gateway caches each answer, keyed on the ``Authorization`` header,
for the API's ``ReauthorizeEvery`` seconds; the policy therefore allows every route of the
stage, and the API function scopes each route to the organisation passed in the context. The
answer's ``usageIdentifierKey`` is the organisation's usage key (from the same key record): API
Gateway throttles each organisation by that key's usage plan.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.data_classes import event_source
from aws_lambda_powertools.utilities.data_classes.api_gateway_authorizer_event import (
    APIGatewayAuthorizerRequestEvent,
    APIGatewayAuthorizerResponse,
)
from aws_lambda_powertools.utilities.typing import LambdaContext

from functions.cold_start import aws_client, once
from functions.domain import keys
from functions.observability import logger, metrics, traced_handler
from functions.settings.authorizer import AuthorizerSettings

if TYPE_CHECKING:
    from functions.adapters.dynamodb_keys import DynamoKeyRepository

UNAUTHORIZED = "Unauthorized"  # the exact message API Gateway turns into a 401


@once
def settings() -> AuthorizerSettings:
    return AuthorizerSettings.from_env(os.environ)


@once
def repository() -> DynamoKeyRepository:
    from functions.adapters.dynamodb_keys import DynamoKeyRepository

    return DynamoKeyRepository(aws_client("dynamodb"), settings().keys_table)


def _deny(reason: str) -> Exception:
    logger.info("API key refused", extra={"reason": reason})
    metrics.add_metric(name="KeyRefused", unit="Count", value=1)
    return Exception(UNAUTHORIZED)


def authorize(event: APIGatewayAuthorizerRequestEvent) -> dict[str, Any]:
    header = event.headers.get("Authorization") or event.headers.get("authorization")
    presented = keys.parse_authorization(header)
    if presented is None:
        raise _deny("missing or malformed Authorization header")
    repo = repository()
    record = repo.get(presented.key_id)
    if record is None:
        keys.verify(presented, None)  # same work as a wrong secret: no timing hint
        raise _deny("unknown key")
    if not keys.verify(presented, record):
        raise _deny(f"{record.status} key or wrong secret")
    now = datetime.now(UTC)
    if keys.needs_touch(record, now):
        try:
            repo.touch(record.key_id, now)
        except Exception:  # last-used is a hint: never refuse a valid key over it
            logger.warning("could not record key use", exc_info=True)
    logger.append_keys(org_id=record.org_id, key_id=record.key_id)
    if record.usage_key is None:  # API Gateway will answer 403: the key has no usage plan
        logger.warning("key has no usage key; issue a new one with press-intake keys create")
    response = APIGatewayAuthorizerResponse.from_route_arn(
        event.method_arn,
        principal_id=record.org_id,
        context={
            "org_id": record.org_id,
            "org_name": record.org_name,
            "key_id": record.key_id,
            "role": record.role,
        },
        usage_identifier_key=record.usage_key.value if record.usage_key else None,
    )
    response.allow_all_routes()
    return response.asdict()


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST, clear_state=True)
@metrics.log_metrics
@traced_handler
@event_source(data_class=APIGatewayAuthorizerRequestEvent)
def lambda_handler(event: APIGatewayAuthorizerRequestEvent, context: LambdaContext) -> dict[str, Any]:
    return authorize(event)
