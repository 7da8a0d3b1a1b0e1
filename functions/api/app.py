"""The submitters' HTTP API: Powertools REST resolver with validation and OpenAPI.

``handle(event, context, intake)`` is the one call the Lambda handler makes
(``functions/handlers/api.py``, which hands over its wiring as ``intake``). It first applies the
request-level checks that must come before body validation (size 413, content type 415,
nesting deeper than ``MAX_JSON_DEPTH`` and malformed JSON 400), then lets the resolver route
and validate. ``HEAD`` is answered as ``GET`` without a body, ``OPTIONS`` with the path's
``Allow``. Every error leaves as ``application/problem+json`` whose ``type`` resolves to a page
describing it (``GET /problems/{slug}``); nothing a client sends makes it raise. Every answer
carries the CORS headers its ``Origin`` is entitled to (``functions.api.cors``).

The status view's ``ETag`` is a digest of the view (it changes whenever the view does);
``If-None-Match`` with it is answered ``304``. ``If-Match`` on ``PUT`` takes that ETag or the
version alone (``"2"``).
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Iterator
from datetime import datetime
from functools import cache
from typing import TYPE_CHECKING, Annotated, Any, Protocol, cast

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response
from aws_lambda_powertools.event_handler.exceptions import NotFoundError
from aws_lambda_powertools.event_handler.openapi.exceptions import (
    RequestValidationError,
    ResponseValidationError,
)
from aws_lambda_powertools.event_handler.openapi.params import Body, Header, Path, Query
from pydantic import TypeAdapter, ValidationError

from functions.api import problems
from functions.api.cors import with_cors
from functions.api.problems import PROBLEM_JSON
from functions.api.views import (
    DeliveryList,
    MediaCreated,
    MediaView,
    ReleaseAccepted,
    ReleaseList,
    ReleasePreview,
    ReleaseView,
    WebhookCreated,
    WebhookList,
    WebhookSecret,
    WebhookTestQueued,
    WebhookView,
    view_etag,
)
from functions.domain import errors
from functions.domain.models import (
    CATEGORIES,
    MAX_JSON_DEPTH,
    MAX_REQUEST_BYTES,
    AnyRelease,
    MediaUpload,
    ReleaseSubmission,
)
from functions.domain.records import Caller, is_release_id
from functions.domain.states import Status
from functions.domain.subscriptions import WebhookSubscription
from functions.observability import logger, metrics

if TYPE_CHECKING:
    from aws_lambda_powertools.event_handler.api_gateway import CORSConfig

    from functions.domain.intake import IntakeService
    from functions.domain.media_service import MediaService
    from functions.domain.webhooks import WebhookService


class Intake(Protocol):
    """What the routes need from the API function's wiring (``functions.handlers.api.Wiring``)."""

    @property
    def service(self) -> IntakeService: ...

    @property
    def media(self) -> MediaService: ...

    @property
    def cors(self) -> CORSConfig | None:
        """Which browser origins may read the answers; None: no browser origin."""

    @property
    def webhooks(self) -> WebhookService: ...

    def submit(
        self, caller: Caller, release: AnyRelease, *, idempotency_key: str | None, lambda_context: Any
    ) -> dict[str, Any]: ...


API_TITLE = "Press-release intake API"
API_VERSION = "1.1.0"
API_LICENSE = {"name": "MIT", "identifier": "MIT"}

# Every route and its methods: 405 (with Allow) for a known path and another method. Every
# path also answers HEAD (as GET, without the body) and OPTIONS (its Allow).
ROUTES: dict[str, tuple[str, ...]] = {
    "/releases": ("GET", "HEAD", "POST", "OPTIONS"),
    "/releases/{id}": ("GET", "HEAD", "PUT", "DELETE", "OPTIONS"),
    "/previews": ("POST", "OPTIONS"),
    "/webhooks": ("GET", "HEAD", "POST", "OPTIONS"),
    "/webhooks/{id}": ("GET", "HEAD", "DELETE", "OPTIONS"),
    "/webhooks/{id}/test": ("POST", "OPTIONS"),
    "/webhooks/{id}/rotate-secret": ("POST", "OPTIONS"),
    "/webhooks/{id}/enable": ("POST", "OPTIONS"),
    "/webhooks/{id}/deliveries": ("GET", "HEAD", "OPTIONS"),
    "/media": ("POST", "OPTIONS"),
    "/media/{id}": ("GET", "HEAD", "DELETE", "OPTIONS"),
    "/openapi.json": ("GET", "HEAD", "OPTIONS"),
    "/problems/{slug}": ("GET", "HEAD", "OPTIONS"),
}
# Served without an API key (the template says so too).
PUBLIC_PATHS = ("/openapi.json", "/problems/{slug}")
# What the API answers with an HTML page (a problem's): nothing on it may load or run anything.
PAGE_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Cache-Control": "public, max-age=3600",
}
# If-Match: "*", a version ("2") or the status view's ETag ("2-<16 hex>"), optionally weak.
IF_MATCH_PATTERN = r'^\s*(\*|(W/)?"?[0-9]{1,9}(-[0-9a-f]{16})?"?)\s*$'
CURSOR_PATTERN = r"^[A-Za-z0-9_-]{1,2048}$"
_ROUTE_PATTERNS = [
    (re.compile("^" + re.sub(r"\{[^}]+\}", "[^/]+", path) + "/?$"), methods)
    for path, methods in ROUTES.items()
]
_BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})
_JSON_MEDIA = re.compile(r"^application/(?:[\w.+-]+\+)?json$", re.IGNORECASE)
# What nesting depth depends on: brackets, and the quotes and escapes of strings they may hide in.
_JSON_STRUCTURE = re.compile(r'[][{}"\\]')


class _ParsedBody:
    """The one JSON parse of a request body: ``precheck`` parses it (it must, to refuse what the
    resolver must not see), keeps the document here, and the resolver, given this as its JSON
    deserializer, takes it instead of parsing the body again. The text is matched by identity,
    so a document is only ever handed out for the very string it was parsed from (and only once);
    any other text is parsed as usual. For a submission (``POST /releases``) the document kept is
    the validated release itself (``_valid_submission``), which the resolver's own validation
    then takes as it is."""

    def __init__(self) -> None:
        self._text: str | None = None
        self._document: Any = None

    def keep(self, text: str, document: Any) -> None:
        self._text, self._document = text, document

    def __call__(self, text: str) -> Any:
        if self._text is not None and text is self._text:
            document, self._text, self._document = self._document, None, None
            return document
        return json.loads(text)


_parsed_body = _ParsedBody()

# Response validation guards our own contract: a mismatch is our bug, so it is a 500, never a 422.
app = APIGatewayRestResolver(
    enable_validation=True, response_validation_error_http_code=500, json_body_deserializer=_parsed_body
)


# ---------------------------------------------------------------------------------------------
# Request helpers
# ---------------------------------------------------------------------------------------------


def _mapping(value: Any) -> dict[str, Any]:
    """``value`` if it is a JSON object, else empty: API Gateway's own fields are objects."""
    return value if isinstance(value, dict) else {}


def _request_id(event: dict[str, Any] | None = None) -> str | None:
    raw = event if event is not None else app.current_event.raw_event
    value = _mapping(_mapping(raw).get("requestContext")).get("requestId")
    return str(value) if value else None


def _intake() -> Intake:
    """The wiring ``handle`` was given for this request."""
    return cast(Intake, app.context["intake"])


def _caller() -> Caller:
    authorizer = _mapping(_mapping(app.current_event.raw_event.get("requestContext")).get("authorizer"))
    org_id = authorizer.get("org_id")
    if not isinstance(org_id, str) or not org_id:
        raise errors.Unauthenticated("No organisation is associated with this request.")
    return Caller(
        org_id=org_id,
        org_name=str(authorizer.get("org_name") or ""),
        key_id=str(authorizer.get("key_id") or ""),
    )


class NotModified(Exception):
    """``If-None-Match`` names the current ETag: answered ``304`` (outside the response model)."""

    def __init__(self, etag: str) -> None:
        super().__init__(etag)
        self.etag = etag


def _api_root() -> str:
    """Absolute base URL of the API as the client called it (stage or base path included)."""
    return api_root(app.current_event.raw_event)


def api_root(event: Any) -> str:
    """``_api_root`` of a raw proxy event (also before and outside the resolver)."""
    raw = _mapping(event)
    context = _mapping(raw.get("requestContext"))
    resource_path = raw.get("path") or ""
    full_path = context.get("path") or resource_path
    if not isinstance(resource_path, str) or not isinstance(full_path, str):
        return ""  # a mangled event: a relative type rather than no answer
    prefix = full_path[: len(full_path) - len(resource_path)] if full_path.endswith(resource_path) else ""
    domain = context.get("domainName")
    headers = {str(k).lower(): v for k, v in _mapping(raw.get("headers")).items()}
    scheme = headers.get("x-forwarded-proto")
    scheme = scheme if scheme in ("http", "https") else "https"
    return f"{scheme}://{domain}{prefix}" if isinstance(domain, str) and domain else prefix


def _self_link(release_id: str) -> str:
    return f"{_api_root()}/releases/{release_id}"


def _problem(kind: str, detail: str, headers: dict[str, str] | None = None, **extra: Any) -> Response[Any]:
    document = problems.problem_document(
        kind, detail, request_id=_request_id(), api_root=_api_root(), **extra
    )
    return Response(
        status_code=document["status"],
        content_type=PROBLEM_JSON,
        body=json.dumps(document),
        headers=headers or {},
    )


def _json(status: int, payload: dict[str, Any], headers: dict[str, str] | None = None) -> Response[Any]:
    return Response(status_code=status, content_type="application/json", body=payload, headers=headers or {})


def _checked_id(release_id: str) -> str:
    if not is_release_id(release_id):
        raise errors.ReleaseNotFound(release_id)
    return release_id.lower()


def _decode_cursor(cursor: str | None) -> dict[str, Any] | None:
    if not cursor:
        return None
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        value = json.loads(base64.urlsafe_b64decode(padded.encode()))
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise errors.InvalidCursor from None
    if (
        not isinstance(value, dict)
        or set(value) != {"id", "created_at"}
        or not is_release_id(str(value["id"]))
        or not isinstance(value["created_at"], str)
    ):
        raise errors.InvalidCursor
    try:
        datetime.fromisoformat(value["created_at"].replace("Z", "+00:00"))
    except ValueError:
        raise errors.InvalidCursor from None
    return value


def _encode_cursor(cursor: dict[str, Any] | None) -> str | None:
    if not cursor:
        return None
    raw = json.dumps(cursor, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _if_match(value: str | None) -> tuple[int | None, str | None]:
    """(version, the whole ETag when one was given) of an ``If-Match``; (None, None) for ``*``."""
    if value is None or value.strip() in ("", "*"):
        return None, None
    match = re.fullmatch(r'\s*(?:W/)?"?(\d{1,9})(-[0-9a-f]{16})?"?\s*', value)
    if not match:
        raise errors.ValidationFailed(
            [
                errors.FieldError(
                    "If-Match",
                    'If-Match must be the status view\'s ETag or the release version as one, e.g. "2".',
                    "format",
                )
            ],
            detail="The If-Match header is not valid.",
        )
    version = int(match.group(1))
    return version, f'"{version}{match.group(2)}"' if match.group(2) else None


def _none_match(value: str | None, etag: str) -> bool:
    """Whether ``If-None-Match`` names ``etag`` (weak comparison, as RFC 9110 asks for GET)."""
    if not value:
        return False
    tags = [tag.strip().removeprefix("W/") for tag in value.split(",")]
    return "*" in tags or etag in tags


# ---------------------------------------------------------------------------------------------
# Routes
# ---------------------------------------------------------------------------------------------

_SUBMIT_ERRORS = problems.openapi_responses(400, 401, 409, 413, 415, 422, 429, 503)


@app.post(
    "/releases",
    operation_id="submitRelease",
    summary="Submit a press release",
    description=(
        "Validates, sanitises and stores the release, then queues it for moderation. A `202` means the "
        "release is durably stored and will reach the moderators. Send an `Idempotency-Key` to retry "
        "safely: the same key with the same body returns the same release; with another body, `409`."
    ),
    tags=["releases"],
    responses={
        202: {
            "description": "Accepted for moderation; `Location` points to the status view.",
            "content": {"application/json": {"model": ReleaseAccepted}},
        },
        **_SUBMIT_ERRORS,
    },
)
def submit_release(
    release: Annotated[ReleaseSubmission, Body(description="The press release.")],
    idempotency_key: Annotated[
        str | None,
        Header(
            alias="idempotency-key",
            min_length=1,
            max_length=128,
            pattern=r"^[\x21-\x7e]+$",
            description="Client-chosen key (1-128 visible ASCII characters): retries are safe for 24 hours.",
        ),
    ] = None,
) -> Response[ReleaseAccepted]:
    caller = _caller()
    accepted = _intake().submit(
        caller, release, idempotency_key=idempotency_key, lambda_context=app.lambda_context
    )
    metrics.add_metric(name="ReleaseSubmitted", unit="Count", value=1)
    link = _self_link(accepted["id"])
    body = {**accepted, "links": {"self": link}}
    return _json(202, body, headers={"Location": link})


@app.get(
    "/releases",
    operation_id="listReleases",
    summary="List your releases, newest first",
    tags=["releases"],
    responses={
        200: {"description": "A page of releases.", "content": {"application/json": {"model": ReleaseList}}},
        **problems.openapi_responses(400, 401, 422, 429),
    },
)
def list_releases(
    status: Annotated[Status | None, Query(description="Only releases in this status.")] = None,
    limit: Annotated[int, Query(ge=1, le=100, description="Page size, 1-100.")] = 20,
    cursor: Annotated[
        str | None,
        Query(
            min_length=1,
            max_length=2048,
            pattern=CURSOR_PATTERN,
            description="`next_cursor` from the previous page (URL-safe base64, as issued).",
        ),
    ] = None,
) -> Response[ReleaseList]:
    from functions.api.views import view_of

    records, next_cursor = _intake().service.list(
        _caller(), status=status.value if status else None, limit=limit, cursor=_decode_cursor(cursor)
    )
    root = _api_root()
    payload = {
        "items": [view_of(r, root).model_dump(mode="json") for r in records],
        "next_cursor": _encode_cursor(next_cursor),
    }
    return _json(200, payload)


_ID = Annotated[str, Path(description="Release id (UUID); anything else is 404.")]


@app.get(
    "/releases/<id>",
    operation_id="getRelease",
    summary="Status of one of your releases",
    description=(
        "Status, versions (the newest, and the one readers see), decision, prescreen flags, public URL "
        "once published, corrections. `ETag` changes whenever the view does; send it back as "
        "`If-None-Match` to get `304` while nothing changed."
    ),
    tags=["releases"],
    responses={
        200: {
            "description": "The release's status view.",
            "content": {"application/json": {"model": ReleaseView}},
        },
        304: {"description": "Not modified: the view still has the `ETag` sent in `If-None-Match`."},
        **problems.openapi_responses(401, 404, 422, 429),
    },
)
def get_release(
    id: _ID,
    if_none_match: Annotated[
        str | None,
        Header(
            alias="if-none-match",
            max_length=512,
            description="`ETag`s of views you have (or `*`): `304` while the view is one of them.",
        ),
    ] = None,
) -> Response[ReleaseView]:
    from functions.api.views import view_of

    record = _intake().service.get(_caller(), _checked_id(id))
    view = view_of(record, _api_root())
    etag = view_etag(view)
    if _none_match(if_none_match, etag):
        raise NotModified(etag)
    return _json(200, view.model_dump(mode="json"), headers={"ETag": etag})


@app.put(
    "/releases/<id>",
    operation_id="reviseRelease",
    summary="Revise a release under review, or correct a published one",
    description=(
        "Replaces the content with a new version (version + 1) for the moderators.\n\n"
        "- **Revision**, while the release is `pending_review` or `changes_requested`: it goes back to "
        "review (`pending_review`).\n"
        "- **Correction**, once it is `published` (or while a correction is `correction_review` or "
        "`correction_changes_requested`): `correction_note` is required and shown to readers; the "
        "category and `release_at` stay the release's. Version n stays public while version n+1 is "
        '`correction_review`; approved, it is published with a "Corrected on ..." notice (status '
        "`published` again, `public_version` n+1); refused, version n stays and the decision says why.\n\n"
        '`409` in any other state. Send `If-Match` (the status view\'s `ETag`, or the version as `"2"`) '
        "to refuse a stale revision."
    ),
    tags=["releases"],
    responses={
        200: {
            "description": "Stored as the new version and queued for review; `ETag` is the new view's.",
            "content": {"application/json": {"model": ReleaseAccepted}},
        },
        **problems.openapi_responses(400, 401, 404, 409, 413, 415, 422, 429, 503),
    },
)
def revise_release(
    id: _ID,
    release: Annotated[
        ReleaseSubmission, Body(description="The complete release (with `correction_note` to correct one).")
    ],
    if_match: Annotated[
        str | None,
        Header(
            alias="if-match",
            max_length=32,
            pattern=IF_MATCH_PATTERN,
            description='The status view\'s `ETag`, or the version you revised as `"2"`, or `*`.',
        ),
    ] = None,
) -> Response[ReleaseAccepted]:
    from functions.api.views import view_of

    caller, release_id = _caller(), _checked_id(id)
    expected, etag = _if_match(if_match)
    if etag is not None:
        current = view_etag(view_of(_intake().service.get(caller, release_id), _api_root()))
        if current != etag:
            raise errors.StateConflict(
                "The release changed since you fetched it (its ETag is no longer the one you sent); "
                "fetch it again before revising."
            )
    record = _intake().service.revise(caller, release_id, release, expected_version=expected)
    if record.correction_note:  # a correction submitted (the publisher counts ReleaseCorrected)
        metrics.add_metric(name="CorrectionSubmitted", unit="Count", value=1)
    else:
        metrics.add_metric(name="ReleaseRevised", unit="Count", value=1)
    link = _self_link(record.release_id)
    body = {
        "id": record.release_id,
        "status": record.status,
        "version": record.version,
        "links": {"self": link},
    }
    return _json(200, body, headers={"ETag": view_etag(view_of(record, _api_root()))})


@app.delete(
    "/releases/<id>",
    operation_id="withdrawRelease",
    summary="Withdraw a release before publication",
    tags=["releases"],
    responses={
        200: {"description": "Withdrawn.", "content": {"application/json": {"model": ReleaseView}}},
        **problems.openapi_responses(401, 404, 409, 429),
    },
)
def withdraw_release(id: _ID) -> Response[ReleaseView]:
    from functions.api.views import view_of

    record = _intake().service.withdraw(_caller(), _checked_id(id))
    metrics.add_metric(name="ReleaseWithdrawn", unit="Count", value=1)
    return _json(200, view_of(record, _api_root()).model_dump(mode="json"))


@app.post(
    "/previews",
    operation_id="previewRelease",
    summary="Preview a release: validated, sanitised and prescreened, stored nowhere",
    description=(
        "Runs exactly what `POST /releases` runs before it stores anything: the same validation (the same "
        "`422` problems), the same sanitiser and the same prescreen flags (including `duplicate_content` "
        "against your earlier releases). Nothing is stored, queued or counted as a submission."
    ),
    tags=["releases"],
    responses={
        200: {
            "description": "The sanitised body as it would be published, and the prescreen flags.",
            "content": {"application/json": {"model": ReleasePreview}},
        },
        **problems.openapi_responses(400, 401, 413, 415, 422, 429),
    },
)
def preview_release(
    release: Annotated[ReleaseSubmission, Body(description="The press release, as it would be submitted.")],
    revises: Annotated[
        str | None,
        Query(
            max_length=64,
            description="The id of your release this is a revision of: it is not a duplicate of itself.",
        ),
    ] = None,
) -> Response[ReleasePreview]:
    from functions.api.views import preview_of

    prepared, flags = _intake().service.preview(_caller(), release, revises=revises)
    metrics.add_metric(name="ReleasePreviewed", unit="Count", value=1)
    return _json(200, preview_of(prepared.body_html, flags).model_dump(mode="json"))


# -- webhooks -------------------------------------------------------------------------------------

_WEBHOOK_ID = Annotated[str, Path(description="Webhook id (`wh_...`); anything else is 404.")]


def _now() -> datetime:
    from datetime import UTC

    return datetime.now(UTC)


def _webhook(hook: Any) -> dict[str, Any]:
    from functions.api.views import webhook_view

    return webhook_view(hook, _api_root(), now=_now()).model_dump(mode="json")


@app.post(
    "/webhooks",
    operation_id="createWebhook",
    summary="Register a webhook",
    description=(
        "Events of your releases are POSTed to `url`, signed per the Standard Webhooks specification "
        "(`webhook-id`, `webhook-timestamp`, `webhook-signature`). The answer carries the signing secret "
        "(`whsec_...`) this once: keep it. The URL must be `https` on the public internet: private, "
        "loopback, link-local and cloud metadata addresses are refused (`422`), when it is registered "
        "and at every delivery."
    ),
    tags=["webhooks"],
    responses={
        201: {
            "description": "Registered; `Location` is the webhook. `secret` is shown only here.",
            "content": {"application/json": {"model": WebhookCreated}},
        },
        **problems.openapi_responses(400, 401, 413, 415, 422, 429),
    },
)
def create_webhook(
    subscription: Annotated[WebhookSubscription, Body(description="Where to deliver, and which events.")],
) -> Response[WebhookCreated]:
    hook, secret = _intake().webhooks.register(_caller(), subscription)
    metrics.add_metric(name="WebhookRegistered", unit="Count", value=1)
    body = {**_webhook(hook), "secret": secret}
    return _json(201, body, headers={"Location": body["links"]["self"]})


@app.get(
    "/webhooks",
    operation_id="listWebhooks",
    summary="List your webhooks",
    tags=["webhooks"],
    responses={
        200: {
            "description": "Your webhooks, oldest first.",
            "content": {"application/json": {"model": WebhookList}},
        },
        **problems.openapi_responses(401, 429),
    },
)
def list_webhooks() -> Response[WebhookList]:
    hooks = _intake().webhooks.list_for(_caller())
    return _json(200, {"items": [_webhook(hook) for hook in hooks]})


@app.get(
    "/webhooks/<id>",
    operation_id="getWebhook",
    summary="One of your webhooks",
    tags=["webhooks"],
    responses={
        200: {"description": "The webhook.", "content": {"application/json": {"model": WebhookView}}},
        **problems.openapi_responses(401, 404, 429),
    },
)
def get_webhook(id: _WEBHOOK_ID) -> Response[WebhookView]:
    return _json(200, _webhook(_intake().webhooks.get(_caller(), id)))


@app.delete(
    "/webhooks/<id>",
    operation_id="deleteWebhook",
    summary="Delete a webhook",
    description="Nothing more is delivered to it; deliveries already under way may still arrive.",
    tags=["webhooks"],
    responses={204: {"description": "Deleted."}, **problems.openapi_responses(401, 404, 429)},
)
def delete_webhook(id: _WEBHOOK_ID) -> Response[Any]:
    _intake().webhooks.delete(_caller(), id)
    metrics.add_metric(name="WebhookDeleted", unit="Count", value=1)
    return Response(status_code=204, body="")


@app.post(
    "/webhooks/<id>/test",
    operation_id="testWebhook",
    summary="Send a test event to a webhook",
    description="Queues a `webhook.test` event, delivered (and retried) like any other.",
    tags=["webhooks"],
    responses={
        202: {"description": "Queued.", "content": {"application/json": {"model": WebhookTestQueued}}},
        **problems.openapi_responses(401, 404, 429),
    },
)
def test_webhook(id: _WEBHOOK_ID) -> Response[WebhookTestQueued]:
    from functions.api.views import webhook_links

    service = _intake().webhooks
    caller = _caller()
    event = service.test(caller, id)
    links = webhook_links(service.get(caller, id), _api_root())
    body = {"id": event.id, "type": event.type, "links": links.model_dump(mode="json")}
    return _json(202, body, headers={"Location": links.deliveries})


@app.post(
    "/webhooks/<id>/rotate-secret",
    operation_id="rotateWebhookSecret",
    summary="Rotate a webhook's signing secret",
    description=(
        "A new secret, shown this once. For 24 hours deliveries carry two signatures, one with the new "
        "secret and one with the previous, so receivers can switch without losing an event."
    ),
    tags=["webhooks"],
    responses={
        200: {"description": "The new secret.", "content": {"application/json": {"model": WebhookSecret}}},
        **problems.openapi_responses(401, 404, 429),
    },
)
def rotate_webhook_secret(id: _WEBHOOK_ID) -> Response[WebhookSecret]:
    hook, secret = _intake().webhooks.rotate(_caller(), id)
    metrics.add_metric(name="WebhookSecretRotated", unit="Count", value=1)
    body = {"id": hook.webhook_id, "secret": secret, "previous_secret_expires_at": hook.previous_until}
    return _json(200, WebhookSecret.model_validate(body).model_dump(mode="json"))


@app.post(
    "/webhooks/<id>/enable",
    operation_id="enableWebhook",
    summary="Enable a disabled webhook again",
    description="A webhook that failed for 3 days is disabled; this delivers to it again.",
    tags=["webhooks"],
    responses={
        200: {"description": "The webhook, active.", "content": {"application/json": {"model": WebhookView}}},
        **problems.openapi_responses(401, 404, 429),
    },
)
def enable_webhook(id: _WEBHOOK_ID) -> Response[WebhookView]:
    return _json(200, _webhook(_intake().webhooks.enable(_caller(), id)))


@app.get(
    "/webhooks/<id>/deliveries",
    operation_id="listWebhookDeliveries",
    summary="Recent delivery attempts of a webhook",
    description="Newest first, with the receiver's status code and the latency; kept for 7 days.",
    tags=["webhooks"],
    responses={
        200: {"description": "The attempts.", "content": {"application/json": {"model": DeliveryList}}},
        **problems.openapi_responses(401, 404, 422, 429),
    },
)
def list_webhook_deliveries(
    id: _WEBHOOK_ID,
    limit: Annotated[int, Query(ge=1, le=100, description="How many, 1-100.")] = 20,
) -> Response[DeliveryList]:
    from functions.api.views import delivery_view

    attempts = _intake().webhooks.deliveries(_caller(), id, limit=limit)
    return _json(200, {"items": [delivery_view(a).model_dump(mode="json") for a in attempts]})


# -- media (README, "Media") ------------------------------------------------------------------


def _checked_media_id(media_id: str) -> str:
    from functions.domain.media import is_media_id

    if not is_media_id(media_id):
        raise errors.MediaNotFound(media_id)
    return media_id.lower()


@app.post(
    "/media",
    operation_id="createMedia",
    summary="Declare an image or a PDF and get a form to upload it with",
    description=(
        "Declares a file (`filename`, `content_type`, exact `bytes`) and answers `201` with an S3 "
        "presigned POST (`upload.url`, `upload.fields`, valid 15 minutes) for exactly that key, type and "
        "size, into a private bucket under your organisation's prefix. Send a `multipart/form-data` POST to "
        "the URL with every field, then the file as `file`. Verification then reads the bytes (never "
        "trusting the declared type or name): follow `GET /media/{id}` until `ready` (with renditions) or "
        "`rejected` (with a reason). Images: `image/jpeg`, `image/png`, `image/webp`, at most 10 MiB and "
        "40 megapixels; PDFs at most 20 MiB."
    ),
    tags=["media"],
    responses={
        201: {
            "description": "Declared; `Location` is its status view, `upload` the form to send it with.",
            "content": {"application/json": {"model": MediaCreated}},
        },
        **problems.openapi_responses(400, 401, 413, 415, 422, 429, 503),
    },
)
def create_media(
    upload: Annotated[MediaUpload, Body(description="The file to upload.")],
) -> Response[MediaCreated]:
    from functions.api.views import UploadForm, media_view_of

    record, form = _intake().media.create(_caller(), upload)
    metrics.add_metric(name="MediaDeclared", unit="Count", value=1)
    view = media_view_of(record, _api_root())
    created = MediaCreated(
        **view.model_dump(), upload=UploadForm(url=form.url, fields=form.fields, expires_at=form.expires_at)
    )
    return _json(201, created.model_dump(mode="json"), headers={"Location": view.links.self})


_MEDIA_ID = Annotated[str, Path(description="Media id (UUID); anything else is 404.")]


@app.get(
    "/media/<id>",
    operation_id="getMedia",
    summary="Status of one of your media: verifying, ready (with renditions) or rejected (with a reason)",
    tags=["media"],
    responses={
        200: {"description": "The media's view.", "content": {"application/json": {"model": MediaView}}},
        **problems.openapi_responses(401, 404, 429),
    },
)
def get_media(id: _MEDIA_ID) -> Response[MediaView]:
    from functions.api.views import media_view_of

    record = _intake().media.get(_caller(), _checked_media_id(id))
    return _json(200, media_view_of(record, _api_root()).model_dump(mode="json"))


@app.delete(
    "/media/<id>",
    operation_id="deleteMedia",
    summary="Delete one of your media while no release names it",
    tags=["media"],
    responses={
        204: {"description": "Deleted: its record, its upload and its renditions."},
        **problems.openapi_responses(401, 404, 409, 429),
    },
)
def delete_media(id: _MEDIA_ID) -> Response[None]:
    _intake().media.delete(_caller(), _checked_media_id(id))
    metrics.add_metric(name="MediaDeleted", unit="Count", value=1)
    return Response(status_code=204, body=None)


@app.get(
    "/openapi.json",
    operation_id="getOpenApiDocument",
    summary="This API's OpenAPI 3.1 document (no authentication)",
    tags=["meta"],
    responses={200: {"description": "The OpenAPI document.", "content": {"application/json": {}}}},
)
def openapi_document() -> Response[Any]:
    return Response(status_code=200, content_type="application/json", body=openapi_json())


@app.get(
    "/problems/<slug>",
    operation_id="getProblem",
    summary="What a problem type means (the page its `type` URI resolves to; no authentication)",
    tags=["meta"],
    responses={
        200: {"description": "An HTML page describing the problem.", "content": {"text/html": {}}},
        **problems.openapi_responses(404),
    },
)
def problem_type(
    slug: Annotated[str, Path(description="The problem's slug, e.g. `not-found`.")],
) -> Response[Any]:
    if slug not in problems.KINDS:
        return _problem("not-found", f"There is no problem type {slug!r}; the document lists them all.")
    return Response(
        status_code=200,
        content_type="text/html; charset=utf-8",
        body=problems.problem_page(slug, _api_root()),
        headers=PAGE_HEADERS,
    )


@cache
def openapi_json() -> str:
    """The OpenAPI document, generated once per execution environment."""
    from aws_lambda_powertools.event_handler.openapi.compat import model_json
    from aws_lambda_powertools.event_handler.openapi.models import HTTPBearer, Server

    schema = app.get_openapi_schema(
        title=API_TITLE,
        version=API_VERSION,
        description=(
            "Organisations submit press releases for moderation and publication. Authenticate with "
            "`Authorization: Bearer <api key>`. Errors are `application/problem+json` (RFC 9457). "
            f"Requests are limited to {MAX_REQUEST_BYTES // 1024} KiB."
        ),
        servers=[Server(url="/")],
        security_schemes={"bearerAuth": HTTPBearer(bearerFormat="press-intake API key")},
        security=[{"bearerAuth": []}],
    )
    # Powertools drops an empty per-operation security list; the document itself needs no key.
    for path in PUBLIC_PATHS:
        item = (schema.paths or {}).get(path)
        if item is not None and item.get is not None:
            item.get.security = []
    document = json.loads(model_json(schema, by_alias=True, exclude_none=True))
    return json.dumps(true_to_the_api(document), indent=2)


# Response headers the API sends, by status (documented on every operation that answers it).
_STATUS_HEADERS: dict[str, dict[str, dict[str, Any]]] = {
    "401": {
        "WWW-Authenticate": {"description": '`Bearer realm="press-intake"`.', "schema": {"type": "string"}}
    },
    "405": {"Allow": {"description": "The methods this path takes.", "schema": {"type": "string"}}},
    "409": {
        "Retry-After": {
            "description": "Seconds to wait (only for `request-in-flight`).",
            "schema": {"type": "integer", "minimum": 1},
        }
    },
    "429": {"Retry-After": {"description": "Seconds to wait.", "schema": {"type": "integer", "minimum": 1}}},
    "503": {"Retry-After": {"description": "Seconds to wait.", "schema": {"type": "integer", "minimum": 1}}},
}
_ETAG = {
    "ETag": {
        "description": 'The status view\'s entity tag (`"<version>-<digest>"`).',
        "schema": {"type": "string"},
    }
}
_POWERTOOLS_LEFTOVERS = ("HTTPValidationError", "ValidationError", "ResponseValidationError")


def true_to_the_api(document: dict[str, Any]) -> dict[str, Any]:
    """The generated document as the API behaves: Powertools' own 422 and 500 schemas (never sent:
    every error is a problem) replaced, the headers the API sends, ``405`` on every operation,
    the problem ``type`` URIs, a licence."""
    document["info"]["license"] = dict(API_LICENSE)
    document["info"]["description"] += (
        " A problem's `type` is an absolute URI under this API (`/problems/{slug}`) that answers a page "
        "describing it."
    )
    for path, item in document.get("paths", {}).items():
        for method, operation in item.items():
            _true_responses(path, method, operation)
    schemas = document.get("components", {}).get("schemas", {})
    for name in _POWERTOOLS_LEFTOVERS:
        schemas.pop(name, None)
    problem_type = schemas.get("Problem", {}).get("properties", {}).get("type")
    if problem_type is not None:
        problem_type.update(
            format="uri",
            description="Absolute URI of a page describing the problem (`GET /problems/{slug}`).",
        )
    return document


def _true_responses(path: str, method: str, operation: dict[str, Any]) -> None:
    problem_content = {PROBLEM_JSON: {"schema": {"$ref": "#/components/schemas/Problem"}}}
    responses = operation.setdefault("responses", {})
    for status in list(responses):
        content = (responses[status].get("content") or {}).get("application/json") or {}
        if (content.get("schema") or {}).get("$ref", "").rsplit("/", 1)[-1] not in _POWERTOOLS_LEFTOVERS:
            continue
        if status == "422" and not _declares(operation, "422"):
            del responses[status]  # Powertools adds one to every route; this one refuses nothing as 422
        else:
            responses[status] = {"description": responses[status]["description"], "content": problem_content}
    responses.setdefault("500", {"description": "Internal error (problem+json)", "content": problem_content})
    responses["405"] = {
        "description": f"Method not allowed: {path} takes {', '.join(ROUTES.get(path, ()))} (problem+json)",
        "content": problem_content,
    }
    for status, headers in _STATUS_HEADERS.items():
        if status in responses and (status != "409" or operation.get("operationId") == "submitRelease"):
            responses[status]["headers"] = dict(headers)
    if method == "post" and "202" in responses:
        responses["202"]["headers"] = {
            "Location": {
                "description": "The release's status view.",
                "schema": {"type": "string", "format": "uri"},
            }
        }
    if operation.get("operationId") in ("getRelease", "reviseRelease"):
        responses["200"]["headers"] = dict(_ETAG)
    if "304" in responses:
        responses["304"]["headers"] = dict(_ETAG)


def _declares(operation: dict[str, Any], status: str) -> bool:
    """Whether the route itself lists ``status`` (Powertools adds a 422 to every validated route)."""
    return status in _DECLARED.get(str(operation.get("operationId")), ())


# The error statuses each route declares (what it can answer besides the success).
_DECLARED: dict[str, tuple[str, ...]] = {
    "submitRelease": ("422",),
    "listReleases": ("422",),
    "getRelease": ("422",),  # an If-None-Match over its limit
    "reviseRelease": ("422",),
}


# ---------------------------------------------------------------------------------------------
# Errors: one place from exceptions to problems
# ---------------------------------------------------------------------------------------------


@app.exception_handler(NotModified)
def _not_modified(answer: NotModified) -> Response[Any]:
    return Response(status_code=304, content_type=None, body="", headers={"ETag": answer.etag})


@app.exception_handler(errors.DomainError)
def _domain_error(error: errors.DomainError) -> Response[Any]:
    kind, headers = problems.for_exception(error)
    field_errors = error.errors if isinstance(error, errors.ValidationFailed) else None
    return _problem(kind, error.detail, headers=headers, field_errors=field_errors)


_SOURCES = ("body", "query", "path", "header", "headers")


def _field_path(loc: tuple[Any, ...] | list[Any]) -> str:
    parts = list(loc)
    if parts and parts[0] in _SOURCES:
        parts = parts[1:]
    if parts and parts[0] in ("release", "subscription"):  # the body parameter's name, when embedded
        parts = parts[1:]
    # A discriminated union puts the tag first: ('personnel', 'details', 'role').
    if parts and parts[0] in CATEGORIES:
        parts = parts[1:]
    cleaned = [str(p) for p in parts if not str(p).startswith(("function-after[", "function-before["))]
    return ".".join(cleaned) or "body"


def field_errors_of(raw_errors: list[dict[str, Any]]) -> list[errors.FieldError]:
    result = []
    for item in raw_errors:
        field = _field_path(item.get("loc", ()))
        code = str(item.get("type", "invalid"))
        message = str(item.get("msg", "Invalid value."))
        if code == "union_tag_invalid" or (code == "union_tag_not_found" and field == "body"):
            field = "category"
            message = f"category must be one of {', '.join(CATEGORIES)}"
        if code == "missing" and tuple(item.get("loc", ())) == ("body",):  # the request body itself
            message = "A JSON body is required."
        result.append(errors.FieldError(field, message.removeprefix("Value error, "), code))
    return result


@app.exception_handler(RequestValidationError)
def _validation_error(error: RequestValidationError) -> Response[Any]:
    raw = list(error.errors())
    if any(item.get("type") == "json_invalid" for item in raw):
        return _problem("malformed-request", "The body is not valid JSON.")
    return _problem(
        "validation-error",
        "The request does not match the API's schema; see errors.",
        field_errors=field_errors_of(raw),
    )


@app.exception_handler(ResponseValidationError)
def _response_invalid(error: ResponseValidationError) -> Response[Any]:
    logger.error("Response does not match the OpenAPI model", extra={"errors": error.errors()})
    return _problem("internal-error", "Something went wrong on our side; the request id identifies it.")


@app.not_found
def _not_found(_: NotFoundError) -> Response[Any]:
    path = app.current_event.path
    methods = _route_methods(path)
    if methods is not None:
        return _problem(
            "method-not-allowed",
            f"{app.current_event.http_method} is not supported on {path}; use {', '.join(methods)}.",
            headers={"Allow": ", ".join(methods)},
        )
    return _problem("not-found", f"Nothing is served at {path}.")


@app.exception_handler(Exception)
def _unexpected(error: Exception) -> Response[Any]:
    from botocore.exceptions import BotoCoreError, ClientError

    if isinstance(error, (ClientError, BotoCoreError)):
        logger.exception("AWS dependency failed")
        return _problem(
            "dependency-unavailable",
            "A storage dependency failed; nothing was published. Retry with the same Idempotency-Key.",
            headers={"Retry-After": "5"},
        )
    logger.exception("Unhandled error")
    return _problem("internal-error", "Something went wrong on our side; the request id identifies it.")


# ---------------------------------------------------------------------------------------------
# Entry point
# ---------------------------------------------------------------------------------------------


def _header(event: dict[str, Any], name: str) -> str | None:
    for key, value in (event.get("headers") or {}).items():
        if key.lower() == name:
            return str(value) if value is not None else None
    return None


def precheck(event: dict[str, Any]) -> dict[str, Any] | None:
    """Checks that must happen before the resolver parses the body. A problem response, or None.

    The body is parsed here, once: the resolver gets the document (``_ParsedBody``)."""
    if str(event.get("httpMethod", "")).upper() not in _BODY_METHODS:
        return None
    body = event.get("body")
    if body is None or body == "":
        return None  # validation reports the missing body as 422
    encoded = bool(event.get("isBase64Encoded"))
    raw = _raw_body(body, encoded)
    if raw is None:
        return _precheck_problem(event, "malformed-request", "The body is not valid base64.")
    refused = _refused_body(event, raw)
    if refused is not None:
        return _precheck_problem(event, *refused)
    if encoded:
        # Hand the resolver plain JSON text so that it never decodes twice.
        text = event["body"] = raw.decode("utf-8")
        event["isBase64Encoded"] = False
    else:
        text = body if isinstance(body, str) else str(body)
        event["body"] = text
    refused = _refused_json(text, submission=_is_submission(event))
    if refused is not None:
        return _precheck_problem(event, *refused)
    return None


def _is_submission(event: dict[str, Any]) -> bool:
    """Whether the resolver routes ``event`` to ``submit_release`` (whose body is a release)."""
    return event.get("path") == "/releases" and str(event.get("httpMethod", "")).upper() == "POST"


@cache
def _submission_adapter() -> TypeAdapter[AnyRelease]:
    return TypeAdapter(ReleaseSubmission)


def _valid_submission(text: str) -> AnyRelease | None:
    """The release in JSON ``text``, validated in one pass from the text (pydantic's own JSON
    parser, about twice as fast as ``json.loads`` and validating the document); None when it is
    not valid, for the usual path to parse it and report exactly what is wrong (as 400 or 422).

    The same models validate either way, and pydantic's parser refuses what ``json.loads``
    refuses (tests/unit/test_api_precheck.py compares them), so a valid release is the same
    release either way."""
    try:
        return _submission_adapter().validate_json(text)
    except ValidationError:
        return None


def _refused_body(event: dict[str, Any], raw: bytes) -> tuple[str, str] | None:
    """(problem kind, detail) for a body the resolver must not see, in the order clients fix them."""
    if len(raw) > MAX_REQUEST_BYTES:
        detail = (
            f"The request body is {len(raw):,} bytes; the limit is {MAX_REQUEST_BYTES:,} bytes (256 KiB)."
        )
        return "payload-too-large", detail
    media_type = (_header(event, "content-type") or "").split(";", 1)[0].strip()
    if not _JSON_MEDIA.match(media_type):
        detail = f"Send the release as JSON with Content-Type: application/json (got {media_type or 'none'})."
        return "unsupported-media-type", detail
    if not raw.isascii():
        try:
            raw.decode("utf-8")
        except UnicodeDecodeError:
            return "malformed-request", "The body is not valid UTF-8 JSON."
    return None


def _refused_json(text: str, *, submission: bool = False) -> tuple[str, str] | None:
    """(problem kind, detail) for JSON text that is too deep, invalid or not an object; the
    document of any other is kept for the resolver (a ``submission``'s: the release, when valid)."""
    if nests_deeper_than(text, MAX_JSON_DEPTH):
        return "malformed-request", f"The body nests arrays and objects deeper than {MAX_JSON_DEPTH} levels."
    if submission and (release := _valid_submission(text)) is not None:
        _parsed_body.keep(text, release)
        return None
    try:
        document = json.loads(text)
    except ValueError:
        return "malformed-request", "The body is not valid UTF-8 JSON."
    if not isinstance(document, dict):
        return "malformed-request", "The body must be a JSON object."
    _parsed_body.keep(text, document)
    return None


def _raw_body(body: Any, base64_encoded: bool) -> bytes | None:
    """The body's bytes; None when it claims base64 and is not."""
    if not base64_encoded:
        return str(body).encode()
    try:
        return base64.b64decode(body, validate=True)
    except (binascii.Error, ValueError):
        return None


def _precheck_problem(event: dict[str, Any], kind: str, detail: str) -> dict[str, Any]:
    document = problems.problem_document(
        kind, detail, request_id=_request_id(event), api_root=api_root(event)
    )
    return problems.proxy_response(document)


def _depth_changes(text: str) -> Iterator[int]:
    """+1 for each ``[``/``{`` and -1 for each ``]``/``}`` of JSON ``text``, outside its strings."""
    in_string = False
    escaped = -1  # index of the character a backslash escapes
    for match in _JSON_STRUCTURE.finditer(text):
        char, index = match.group(), match.start()
        if in_string:
            if index != escaped:
                escaped, in_string = (index + 1, True) if char == "\\" else (escaped, char != '"')
        elif char == '"':
            in_string = True
        elif char != "\\":
            yield 1 if char in "[{" else -1


def nests_deeper_than(text: str, limit: int) -> bool:
    """Whether JSON ``text`` nests arrays/objects deeper than ``limit``, measured without recursion.

    Brackets inside strings do not count. Linear in the number of brackets, quotes and
    backslashes; text with at most ``limit`` brackets is answered without a scan.
    """
    if text.count("[") + text.count("{") <= limit:
        return False
    depth = 0
    for change in _depth_changes(text):
        depth += change
        if depth > limit:
            return True
    return False


def _route_methods(path: str) -> tuple[str, ...] | None:
    for pattern, methods in _ROUTE_PATTERNS:
        if pattern.match(path):
            return methods
    return None


def _options(event: dict[str, Any]) -> dict[str, Any]:
    """``OPTIONS``: the methods of a known path (204 with ``Allow``), else 404."""
    path = str(event.get("path") or "")
    methods = _route_methods(path)
    if methods is None:
        document = problems.problem_document(
            "not-found",
            f"Nothing is served at {path}.",
            request_id=_request_id(event),
            api_root=api_root(event),
        )
        return problems.proxy_response(document)
    allow = ", ".join(methods)
    return {
        "statusCode": 204,
        "headers": {"Allow": allow},
        "multiValueHeaders": {},
        "body": "",
        "isBase64Encoded": False,
    }


def _resolve(event: dict[str, Any], context: Any, intake: Intake) -> dict[str, Any]:
    early = precheck(event)
    if early is not None:
        return early
    app.context["intake"] = intake  # cleared by resolve() when it is done
    return app.resolve(event, context)


def _answer(event: dict[str, Any], context: Any, intake: Intake) -> dict[str, Any]:
    method = str(event.get("httpMethod") or "").upper()
    if method == "OPTIONS":
        return _options(event)
    if method == "HEAD":
        # As GET, without the body (RFC 9110): the status and headers a GET would get.
        response = _resolve(
            {**event, "httpMethod": "GET", "body": None, "isBase64Encoded": False}, context, intake
        )
        return {**response, "body": "", "isBase64Encoded": False}
    return _resolve(event, context, intake)


def handle(event: dict[str, Any], context: Any, intake: Intake) -> dict[str, Any]:
    """Answer one API Gateway REST proxy event, the routes using ``intake``, with the CORS
    headers its origin is entitled to. Never raises."""
    config = None
    try:
        config = intake.cors  # a malformed DESK_ORIGINS fails here, loudly, on the first request
        response = _answer(event, context, intake)
    except Exception:
        logger.exception("Request failed outside the resolver")
        request_id = _request_id(event) if isinstance(event, dict) else None
        document = problems.problem_document(
            "internal-error",
            "Something went wrong on our side; the request id identifies it.",
            request_id=request_id,
            api_root=api_root(event) if isinstance(event, dict) else None,
        )
        response = problems.proxy_response(document)
    # The path's methods are for a preflight's answer only (with_cors reads them for OPTIONS only).
    preflight = isinstance(event, dict) and str(event.get("httpMethod") or "").upper() == "OPTIONS"
    methods = _route_methods(str(event.get("path") or "")) if preflight else None
    return with_cors(event, response, config, methods)
