"""CORS for the web desk: which origins may read the API's answers from a browser.

Every answer of the API function (the resolver's, the request-level refusals', the preflight's)
passes through ``with_cors``: a request whose ``Origin`` is one of the configured origins gets
``Access-Control-Allow-Origin`` with that origin and the headers the desk reads
(``Access-Control-Expose-Headers``); any other origin gets no CORS header at all, so the browser
keeps the answer from the page. A preflight (``OPTIONS`` with ``Access-Control-Request-Method``)
also gets the methods of its path and the request headers the API takes. Powertools'
``CORSConfig`` decides the origin and builds the headers.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from aws_lambda_powertools.event_handler.api_gateway import CORSConfig

# Request headers the desk sends beyond the ones CORSConfig always allows (Authorization,
# Content-Type, ...), and response headers it reads.
ALLOW_HEADERS = ["Idempotency-Key", "If-Match"]
EXPOSE_HEADERS = ["Location", "ETag", "Retry-After"]
PREFLIGHT_MAX_AGE = 600  # seconds a browser may reuse a preflight's answer


def cors_config(origins: tuple[str, ...]) -> CORSConfig | None:
    """The configuration for these origins; None when no origin is allowed."""
    if not origins:
        return None
    from aws_lambda_powertools.event_handler.api_gateway import CORSConfig

    return CORSConfig(
        allow_origin=origins[0],
        extra_origins=list(origins[1:]),
        allow_headers=ALLOW_HEADERS,
        expose_headers=EXPOSE_HEADERS,
        max_age=PREFLIGHT_MAX_AGE,
    )


def _header(headers: Any, name: str) -> str | None:
    if not isinstance(headers, dict):
        return None
    for key, value in headers.items():
        if isinstance(key, str) and key.lower() == name:
            return str(value) if value is not None else None
    return None


def with_cors(
    event: Any, response: dict[str, Any], config: CORSConfig | None, methods: tuple[str, ...] | None = None
) -> dict[str, Any]:
    """``response`` with the CORS headers ``event``'s origin is entitled to (``methods``: a
    preflight's allowed methods)."""
    if config is None or not isinstance(event, dict):
        return response
    origin = _header(event.get("headers"), "origin")
    if not origin:
        return response
    headers = dict(response.get("headers") or {})
    vary = headers.get("Vary")
    headers["Vary"] = f"{vary}, Origin" if vary else "Origin"  # the answer depends on the origin
    return {**response, "headers": {**headers, **_allowed(event, config.to_dict(origin), methods)}}


def _allowed(event: dict[str, Any], cors: dict[str, str], methods: tuple[str, ...] | None) -> dict[str, str]:
    """The CORS headers for an allowed origin (``cors``, empty for another origin), trimmed to
    what the request is: a preflight's answer also names its path's methods."""
    if not cors:
        return cors
    preflight = str(event.get("httpMethod") or "").upper() == "OPTIONS" and _header(
        event.get("headers"), "access-control-request-method"
    )
    if not preflight:  # these two only mean something on a preflight's answer
        cors.pop("Access-Control-Allow-Headers", None)
        cors.pop("Access-Control-Max-Age", None)
    elif methods:
        cors["Access-Control-Allow-Methods"] = ", ".join(methods)
    return cors
