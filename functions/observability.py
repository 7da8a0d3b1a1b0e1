"""The one observability module: Logger, Metrics and a lazily created Tracer.

Service name and metrics namespace come from the template's Globals
(``POWERTOOLS_SERVICE_NAME``, ``POWERTOOLS_METRICS_NAMESPACE``).

Tracing. Every function runs with Lambda's active tracing (``Tracing: Active``): Lambda itself
records each invocation's segment (initialisation, invocation, overhead) and API Gateway the
request's, with no code in the function. The X-Ray SDK adds a subsegment per AWS call, but its
import and patching add tens of milliseconds to a cold start, and every request pays for its
segment (README, "Observability"), so it is off unless the template's ``TraceAwsCalls`` parameter turns it on
(``POWERTOOLS_TRACE_DISABLED``). When on, the Tracer is created on the first invocation, never at
import time, patches botocore only (the one library whose calls the functions make) and records
no response bodies in traces (they hold submitters' contact details).

The domain and the adapters log with the standard library (``logging.getLogger(__name__)``,
so they depend on no framework). Those loggers are all below ``functions``, and that logger is
given the Powertools Logger's handler here, once: whatever they log reaches CloudWatch as the
same JSON lines as the handlers' own, with the Lambda context and the correlation id (the API
Gateway request id) of the invocation, at the Powertools log level (``POWERTOOLS_LOG_LEVEL``).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from functools import wraps
from typing import TYPE_CHECKING, Any, TypeVar

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.logging.utils import copy_config_to_registered_loggers

from functions.cold_start import once

if TYPE_CHECKING:
    from aws_lambda_powertools import Tracer

PACKAGE = "functions"  # the parent of every logger of the domain and the adapters
TRACED_MODULES = ("botocore",)  # what the X-Ray SDK patches when tracing is on

logger = Logger()
metrics = Metrics()

logging.getLogger(PACKAGE)  # registered, so that the bridge below finds it
copy_config_to_registered_loggers(source_logger=logger, include={PACKAGE})

F = TypeVar("F", bound=Callable[..., Any])


@once
def tracer() -> Tracer:
    """The Powertools Tracer (X-Ray SDK), patching ``TRACED_MODULES`` only; built on first use."""
    from aws_lambda_powertools import Tracer

    return Tracer(patch_modules=TRACED_MODULES)


def tracing_disabled() -> bool:
    """Powertools' own switch (``POWERTOOLS_TRACE_DISABLED``), read without importing the X-Ray SDK."""
    return os.environ.get("POWERTOOLS_TRACE_DISABLED", "").strip().lower() in ("1", "true", "yes", "on")


@once
def _traced(handler: Callable[..., Any]) -> Callable[..., Any]:
    """``handler`` as this execution environment runs it: through the Tracer when tracing is on."""
    if tracing_disabled():
        return handler
    return tracer().capture_lambda_handler(handler, capture_response=False)


def traced_handler(handler: F) -> F:
    """``Tracer.capture_lambda_handler``, decided on the first invocation (not at import time):
    with tracing off (the default, the local stack, tests) the X-Ray SDK is never imported."""

    @wraps(handler)
    def wrapper(event: Any, context: Any) -> Any:
        return _traced(handler)(event, context)

    return wrapper  # type: ignore[return-value]
