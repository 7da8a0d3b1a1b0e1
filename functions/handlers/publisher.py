"""Publisher Lambda (publish queue): Powertools batch processing with partial failures."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.typing import LambdaContext

from functions.observability import logger, metrics, traced_handler
from functions.publisher import handle_record


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
@traced_handler
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    # One processor per invocation: it keeps the batch's records and results on itself, so a
    # shared one would mix up two invocations running at once in one process (the local stack
    # and the tests run them in threads; Lambda never does).
    processor = BatchProcessor(event_type=EventType.SQS)
    return process_partial_response(
        event=event, record_handler=handle_record, processor=processor, context=context
    )
