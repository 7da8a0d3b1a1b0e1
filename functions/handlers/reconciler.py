"""Reconciler Lambda (scheduled): queue what the outbox still holds. Decorators plus one call."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from functions.observability import logger, metrics, traced_handler
from functions.reconcile import sweep


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
@traced_handler
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return sweep()
