"""RFC 9457 problem details: the only shape an error ever has on this API.

``KINDS`` is the single table of problems (status, title, and what the problem's page says),
``EXCEPTION_KINDS`` the one from domain exceptions to them. A problem's ``type`` is an absolute
URI, ``{api root}/problems/{slug}``, that resolves: ``GET /problems/{slug}`` answers an HTML page
describing the problem (``problem_page``), without authentication. The gateway's own errors
(template.yaml, ``GatewayResponses``) use the same URIs.
"""

from __future__ import annotations

import html
import json
from typing import TYPE_CHECKING, Any, NamedTuple

from pydantic import BaseModel, ConfigDict

from functions.domain import errors

if TYPE_CHECKING:
    from aws_lambda_powertools.event_handler.openapi.types import OpenAPIResponse

PROBLEM_JSON = "application/problem+json"


class ProblemFieldError(BaseModel):
    # Both models only describe the problem documents in the OpenAPI document: built on first use.
    model_config = ConfigDict(defer_build=True)

    field: str
    message: str
    code: str


class Problem(BaseModel):
    """An error (RFC 9457 problem details)."""

    model_config = ConfigDict(defer_build=True)

    type: str
    title: str
    status: int
    detail: str
    request_id: str | None = None
    errors: list[ProblemFieldError] | None = None


class Kind(NamedTuple):
    status: int
    title: str
    when: str  # what its page says: when a client gets it
    fix: str  # and what to do about it


KINDS: dict[str, Kind] = {
    "malformed-request": Kind(
        400,
        "Malformed request",
        "The body is not JSON, not a JSON object, nested deeper than 64 levels, or bad base64.",
        "Send one JSON object, encoded as UTF-8.",
    ),
    "invalid-cursor": Kind(
        400, "Invalid cursor", "The cursor was not issued by this API for you.", "List again without it."
    ),
    "unauthenticated": Kind(
        401,
        "Authentication required",
        "The request carries no valid, active API key.",
        "Send Authorization: Bearer <api key> with a key issued by press-intake keys create.",
    ),
    "forbidden": Kind(
        403,
        "Forbidden",
        "The key has no usage plan for this API (it was issued before per-organisation limits), or "
        "API Gateway refused the request.",
        "Ask the operator for a new key.",
    ),
    "not-found": Kind(
        404,
        "Not found",
        "Nothing is served at this path, or the release is unknown or another organisation's.",
        "Check the path and the release id; your releases are listed by GET /releases.",
    ),
    "method-not-allowed": Kind(
        405,
        "Method not allowed",
        "The path exists but does not take this method.",
        "Use one of the methods its Allow header lists.",
    ),
    "state-conflict": Kind(
        409,
        "Conflict with the release's current state",
        "The release's status does not allow this (revised only under review, corrected only once "
        "published, withdrawn only before publication), or If-Match names a version or ETag it no "
        "longer has.",
        "Fetch the release (GET /releases/{id}) and act on what it says now.",
    ),
    "idempotency-conflict": Kind(
        409,
        "Idempotency-Key reused",
        "This Idempotency-Key was already used with a different release.",
        "Use a new key for a new release; repeat a request only with the same body.",
    ),
    "request-in-flight": Kind(
        409,
        "Request already in progress",
        "A request with the same Idempotency-Key is still being processed.",
        "Retry after the seconds Retry-After says.",
    ),
    "request-timeout": Kind(
        408,
        "Request timeout",
        "The whole request did not arrive in time (the local stack's --read-timeout).",
        "Send the request again, in one go.",
    ),
    "payload-too-large": Kind(
        413, "Request too large", "The request body is over 256 KiB.", "Shorten the release."
    ),
    "uri-too-long": Kind(414, "URI too long", "The request line is over 64 KiB.", "Shorten the URL."),
    "unsupported-media-type": Kind(
        415,
        "Unsupported media type",
        "The body is not sent as Content-Type: application/json.",
        "Send JSON with Content-Type: application/json.",
    ),
    "validation-error": Kind(
        422,
        "Invalid request",
        "The request (a release, a webhook) breaks a rule of the contract; errors lists every field "
        "with a message and a code.",
        "Fix each field listed (the OpenAPI document gives every limit) and send it again.",
    ),
    "throttled": Kind(
        429,
        "Too many requests",
        "Your organisation (or the whole API) sent more requests per second than it accepts.",
        "Retry after the seconds Retry-After says, and slow down.",
    ),
    "quota-exceeded": Kind(
        429,
        "Quota exceeded",
        "Your organisation used up the requests its usage plan allows in this period.",
        "Retry after the seconds Retry-After says, or ask the operator for a larger quota.",
    ),
    "internal-error": Kind(
        500,
        "Internal error",
        "Something went wrong on our side.",
        "Retry later; request_id identifies the request for the operator.",
    ),
    "not-implemented": Kind(
        501,
        "Not implemented",
        "The method or transfer coding is not one this server supports.",
        "Use GET, HEAD, POST, PUT, DELETE or OPTIONS, and a body with Content-Length or chunked.",
    ),
    "dependency-unavailable": Kind(
        503,
        "Temporarily unavailable",
        "Storage failed before anything was promised: nothing was stored.",
        "Retry after Retry-After with the same Idempotency-Key.",
    ),
    "timeout": Kind(
        504,
        "Timeout",
        "The request took too long.",
        "Retry with the same Idempotency-Key: a submission is never stored twice.",
    ),
}


def type_uri(kind: str, api_root: str | None) -> str:
    """A problem's ``type``: absolute under the API's root (``https://host/v1/problems/not-found``)."""
    return f"{api_root or ''}/problems/{kind}"


EXCEPTION_KINDS: dict[type[errors.DomainError], str] = {
    errors.ValidationFailed: "validation-error",
    errors.ReleaseNotFound: "not-found",
    errors.WebhookNotFound: "not-found",
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
    api_root: str | None = None,
) -> dict[str, Any]:
    found = KINDS[kind]
    document: dict[str, Any] = {
        "type": type_uri(kind, api_root),
        "title": found.title,
        "status": found.status,
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
    for kind in KINDS.values():
        described.setdefault(kind.status, []).append(kind.title)
    return {
        status: {
            "description": "; ".join(described[status]) + " (problem+json)",
            "content": {PROBLEM_JSON: {"model": Problem}},
        }
        for status in statuses
    }


def problem_page(kind: str, api_root: str) -> str:
    """The HTML page a problem's ``type`` resolves to (``GET /problems/{slug}``)."""
    found = KINDS[kind]
    title, when, fix = (html.escape(value) for value in (found.title, found.when, found.fix))
    uri = html.escape(type_uri(kind, api_root))
    others = "".join(
        f'<li><a href="{html.escape(type_uri(slug, api_root))}">{html.escape(other.title)}</a> '
        f"({other.status})</li>\n"
        for slug, other in KINDS.items()
        if slug != kind
    )
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{title} ({found.status}) · Press-release intake API</title>\n"
        "</head>\n<body>\n<main>\n"
        f"<h1>{title}</h1>\n"
        f"<p>HTTP status <strong>{found.status}</strong>, problem type <code>{uri}</code>.</p>\n"
        f"<h2>When</h2>\n<p>{when}</p>\n"
        f"<h2>What to do</h2>\n<p>{fix}</p>\n"
        "<p>Every error of this API is <code>application/problem+json</code> (RFC 9457): "
        "<code>type</code> (this page), <code>title</code>, <code>status</code>, <code>detail</code>, "
        "<code>request_id</code>, and for an invalid release <code>errors</code>.</p>\n"
        f"<h2>Other problems</h2>\n<ul>\n{others}</ul>\n"
        "</main>\n</body>\n</html>\n"
    )
