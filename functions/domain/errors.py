"""Domain exceptions. The API maps each one to an HTTP problem in exactly one place."""

from __future__ import annotations

from typing import NamedTuple


class DomainError(Exception):
    """Base of every error the domain raises on purpose."""

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


class FieldError(NamedTuple):
    """One invalid field: a dotted path (``details.role``, ``links.0.url``), a message and a code."""

    field: str
    message: str
    code: str


class ValidationFailed(DomainError):
    """Input that is well-formed JSON but breaks a rule (HTTP 422)."""

    def __init__(self, errors: list[FieldError], detail: str = "The release is not valid.") -> None:
        super().__init__(detail)
        self.errors = errors


class ReleaseNotFound(DomainError):
    """Unknown release, or one that belongs to another organisation (HTTP 404, never 403)."""

    def __init__(self, release_id: str) -> None:
        super().__init__(f"No release {release_id!r} was found.")
        self.release_id = release_id


class MediaNotFound(DomainError):
    """Unknown media, or another organisation's (HTTP 404, never 403)."""

    def __init__(self, media_id: str) -> None:
        super().__init__(f"No media {media_id!r} was found.")
        self.media_id = media_id


class StateConflict(DomainError):
    """The release is not in a state that allows the action, or changed meanwhile (HTTP 409)."""

    def __init__(self, detail: str, *, status: str | None = None, version: int | None = None) -> None:
        super().__init__(detail)
        self.status = status
        self.version = version


class IdempotencyConflict(DomainError):
    """An ``Idempotency-Key`` reused with another payload (HTTP 409)."""


class RequestInFlight(DomainError):
    """The same ``Idempotency-Key`` is being processed right now (HTTP 409 + ``Retry-After``)."""

    def __init__(self, retry_after_seconds: int = 2) -> None:
        super().__init__("A request with this Idempotency-Key is still being processed; retry shortly.")
        self.retry_after_seconds = retry_after_seconds


class InvalidCursor(DomainError):
    """A pagination cursor that this API did not issue for this caller (HTTP 400)."""

    def __init__(self) -> None:
        super().__init__("The cursor is not valid; start again without it.")


class Unauthenticated(DomainError):
    """No organisation in the request context (HTTP 401)."""


class DependencyFailure(DomainError):
    """An AWS dependency failed before the release was durably stored (HTTP 503, safe to retry)."""


class WebhookNotFound(DomainError):
    """Unknown webhook, or one of another organisation (HTTP 404, never 403)."""

    def __init__(self, webhook_id: str) -> None:
        super().__init__(f"No webhook {webhook_id!r} was found.")
        self.webhook_id = webhook_id
