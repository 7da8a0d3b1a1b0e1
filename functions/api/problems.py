"""RFC 9457 problem details: the only shape an error ever has on this API.

``PROBLEMS`` is the single table from domain exceptions (and request-level failures) to HTTP:
status, ``type`` and ``title``. ``type`` values are relative URI references documented in the
README ("Errors").
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel

from functions.domain import errors

if TYPE_CHECKING:
    from aws_lambda_powertools.event_handler.openapi.types import OpenAPIResponse

PROBLEM_JSON = "application/problem+json"


class ProblemFieldError(BaseModel):
    field: str
    message: str
    code: str


class Problem(BaseModel):
    """An error (RFC 9457 problem details)."""

    type: str
    title: str
    status: int
    detail: str
    request_id: str | None = None
    errors: list[ProblemFieldError] | None = None


# slug -> (status, title)
KINDS: dict[str, tuple[int, str]] = {
    "malformed-request": (400, "Malformed request"),
    "invalid-cursor": (400, "Invalid cursor"),
    "unauthenticated": (401, "Authentication required"),
    "not-found": (404, "Not found"),
    "method-not-allowed": (405, "Method not allowed"),
    "state-conflict": (409, "Conflict with the release's current state"),
    "idempotency-conflict": (409, "Idempotency-Key reused"),
    "request-in-flight": (409, "Request already in progress"),
    "payload-too-large": (413, "Request too large"),
    "unsupported-media-type": (415, "Unsupported media type"),
    "throttled": (429, "Too many requests"),
    "validation-error": (422, "Invalid release"),
    "dependency-unavailable": (503, "Temporarily unavailable"),
    "internal-error": (500, "Internal error"),
}

EXCEPTION_KINDS: dict[type[errors.DomainError], str] = {
    errors.ValidationFailed: "validation-error",
    errors.ReleaseNotFound: "not-found",
    errors.MediaNotFound: "not-found",
    errors.StateConflict: "state-conflict",
    errors.IdempotencyConflict: "idempotency-conflict",
    errors.RequestInFlight: "request-in-flight",
    errors.InvalidCursor: "invalid-cursor",
    errors.Unauthenticated: "unauthenticated",
    errors.DependencyFailure: "dependency-unavailable",
}


def problem_document(
    kind: str,
    detail: str,
    *,
    request_id: str | None = None,
    field_errors: list[errors.FieldError] | None = None,
) -> dict[str, Any]:
    status, title = KINDS[kind]
    document: dict[str, Any] = {
        "type": f"/problems/{kind}",
        "title": title,
        "status": status,
        "detail": detail,
    }
    if request_id:
        document["request_id"] = request_id
    if field_errors is not None:
        document["errors"] = [{"field": e.field, "message": e.message, "code": e.code} for e in field_errors]
    return document


def for_exception(error: errors.DomainError) -> tuple[str, dict[str, str]]:
    """(kind, extra headers) for a domain exception."""
    for cls in type(error).__mro__:
        if cls in EXCEPTION_KINDS:
            kind = EXCEPTION_KINDS[cls]
            break
    else:
        kind = "internal-error"
    headers: dict[str, str] = {}
    if isinstance(error, errors.RequestInFlight):
        headers["Retry-After"] = str(error.retry_after_seconds)
    if isinstance(error, errors.DependencyFailure):
        headers["Retry-After"] = "5"
    if isinstance(error, errors.Unauthenticated):
        headers["WWW-Authenticate"] = 'Bearer realm="press-intake"'
    return kind, headers


def proxy_response(document: dict[str, Any], headers: dict[str, str] | None = None) -> dict[str, Any]:
    """An API Gateway proxy response for a problem produced outside the resolver."""
    return {
        "statusCode": document["status"],
        "headers": {"Content-Type": PROBLEM_JSON, **(headers or {})},
        "multiValueHeaders": {},
        "body": json.dumps(document),
        "isBase64Encoded": False,
    }


def openapi_responses(*statuses: int) -> dict[int, OpenAPIResponse]:
    """OpenAPI ``responses`` entries for the given error statuses."""
    described: dict[int, list[str]] = {}
    for status, title in KINDS.values():
        described.setdefault(status, []).append(title)
    return {
        status: {
            "description": "; ".join(described[status]) + " (problem+json)",
            "content": {PROBLEM_JSON: {"model": Problem}},
        }
        for status in statuses
    }
