"""The one observability module: Logger, Metrics and a lazily created Tracer.

Service name and metrics namespace come from the template's Globals
(``POWERTOOLS_SERVICE_NAME``, ``POWERTOOLS_METRICS_NAMESPACE``). The X-Ray SDK costs a few
hundred milliseconds to import, so the Tracer is created on first use, never at import time.

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
from functools import cache, wraps
from typing import TYPE_CHECKING, Any, TypeVar

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.logging.utils import copy_config_to_registered_loggers

if TYPE_CHECKING:
    from aws_lambda_powertools import Tracer

PACKAGE = "functions"  # the parent of every logger of the domain and the adapters

logger = Logger()
metrics = Metrics()

logging.getLogger(PACKAGE)  # registered, so that the bridge below finds it
copy_config_to_registered_loggers(source_logger=logger, include={PACKAGE})

F = TypeVar("F", bound=Callable[..., Any])


@cache
def tracer() -> Tracer:
    from aws_lambda_powertools import Tracer

    return Tracer()


def tracing_disabled() -> bool:
    """Powertools' own switch (``POWERTOOLS_TRACE_DISABLED``), read without importing the X-Ray SDK."""
    return os.environ.get("POWERTOOLS_TRACE_DISABLED", "").strip().lower() in ("1", "true", "yes", "on")


def traced_handler(handler: F) -> F:
    """``Tracer.capture_lambda_handler``, with the Tracer built on the first invocation, and not
    at all when tracing is disabled (the local stack, tests)."""
    wrapped: dict[str, Callable[..., Any]] = {}

    @wraps(handler)
    def wrapper(event: Any, context: Any) -> Any:
        if "fn" not in wrapped:
            wrapped["fn"] = handler if tracing_disabled() else tracer().capture_lambda_handler(handler)
        return wrapped["fn"](event, context)

    return wrapper  # type: ignore[return-value]
