"""The uploads bucket's CORS rules on the answer to a browser's form upload, as S3 gives them.

A browser that POSTs a file to a presigned upload form (the web desk does) may read the answer
only when it carries ``Access-Control-Allow-Origin`` for the page's origin. S3 adds it from the
bucket's CORS rules (the template's ``CorsConfiguration``); moto's server applies those rules to
a preflight and to object GET/PUT/HEAD answers, but not to the answer of a form POST to a bucket.
``with_upload_cors`` wraps moto's WSGI app and adds the headers the bucket's rules grant to that
answer (and to nothing else), so the local stack answers the browser as S3 does: the desk's
origins get them, any other origin gets none.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from infra.local.persistence import ACCOUNT

WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


def cors_headers(bucket: Any, origin: str, method: str) -> list[tuple[str, str]]:
    """The headers ``bucket``'s first CORS rule matching ``origin`` and ``method`` grants (moto's
    bucket model: ``cors`` rules with ``allowed_origins`` and ``allowed_methods``)."""
    from moto.s3.utils import cors_matches_origin

    for rule in getattr(bucket, "cors", None) or []:
        origins = list(rule.allowed_origins or [])
        methods = [m.upper() for m in (rule.allowed_methods or [])]
        if method.upper() in methods and cors_matches_origin(origin, origins):
            headers = [("Access-Control-Allow-Origin", origin), ("Vary", "Origin")]
            if rule.exposed_headers:
                headers.append(("Access-Control-Expose-Headers", ", ".join(rule.exposed_headers)))
            return headers
    return []


def _bucket(name: str) -> Any:
    from moto.backends import get_backend
    from moto.s3.exceptions import MissingBucket

    try:
        return get_backend("s3")[ACCOUNT]["aws"].get_bucket(name)
    except MissingBucket:
        return None


def with_upload_cors(app: WsgiApp, find_bucket: Callable[[str], Any] = _bucket) -> WsgiApp:
    """``app`` with the bucket's CORS headers on the answer to a cross-origin form POST to a
    path-style bucket URL (``POST /{bucket}``)."""

    def middleware(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        origin = environ.get("HTTP_ORIGIN")
        path = str(environ.get("PATH_INFO") or "/").strip("/")
        if not origin or environ.get("REQUEST_METHOD") != "POST" or not path or "/" in path:
            return app(environ, start_response)

        def start(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            if not any(name.lower() == "access-control-allow-origin" for name, _ in headers):
                bucket = find_bucket(path)
                if bucket is not None:
                    headers = [*headers, *cors_headers(bucket, str(origin), "POST")]
            return start_response(status, headers, exc_info)

        return app(environ, start)

    return middleware
