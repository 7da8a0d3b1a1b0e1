"""The one observability module: Logger, Metrics and a lazily created Tracer.

Service name and metrics namespace come from the template's Globals
(``POWERTOOLS_SERVICE_NAME``, ``POWERTOOLS_METRICS_NAMESPACE``). The X-Ray SDK costs a few
hundred milliseconds to import, so the Tracer is created on first use, never at import time.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from functools import cache, wraps
from typing import TYPE_CHECKING, Any, TypeVar

from aws_lambda_powertools import Logger, Metrics

if TYPE_CHECKING:
    from aws_lambda_powertools import Tracer

logger = Logger()
metrics = Metrics()

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
