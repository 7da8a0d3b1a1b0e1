"""The local stack's answer to a browser's form upload carries the uploads bucket's CORS headers,
as S3's does (moto's server leaves them off a form POST's answer): the template's origins get
them, any other origin none."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from infra.bootstrap import LocalStack
from infra.local.upload_cors import with_upload_cors

SITE_ORIGIN = "https://site.local.invalid"  # the template's desk origin, as the local stack resolves it


class Upstream:
    """moto's WSGI app as the middleware sees it: an answer with the headers it was given."""

    def __init__(self, headers: list[tuple[str, str]] | None = None) -> None:
        self.headers = headers or [("Content-Type", "text/plain")]
        self.calls = 0

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        self.calls += 1
        start_response("204 No Content", list(self.headers))
        return [b""]


def _answer(app: Any, method: str, path: str, origin: str | None) -> dict[str, str]:
    environ: dict[str, Any] = {"REQUEST_METHOD": method, "PATH_INFO": path}
    if origin:
        environ["HTTP_ORIGIN"] = origin
    seen: dict[str, str] = {}

    def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> None:
        seen.update({"status": status, **{name.lower(): value for name, value in headers}})

    list(app(environ, start_response))
    return seen


def test_a_form_post_from_the_desks_origin_gets_the_buckets_cors_headers(stack: LocalStack) -> None:
    bucket = stack.ref("MediaUploadsBucket")
    app = with_upload_cors(Upstream())

    answer = _answer(app, "POST", f"/{bucket}", SITE_ORIGIN)

    assert answer["status"] == "204 No Content"
    assert answer["access-control-allow-origin"] == SITE_ORIGIN
    assert answer["vary"] == "Origin"


def test_another_origin_gets_none_and_other_requests_are_untouched(stack: LocalStack) -> None:
    bucket = stack.ref("MediaUploadsBucket")
    app = with_upload_cors(Upstream())

    assert "access-control-allow-origin" not in _answer(
        app, "POST", f"/{bucket}", "https://elsewhere.example"
    )
    assert "access-control-allow-origin" not in _answer(app, "POST", f"/{bucket}", None)  # not a browser's
    assert "access-control-allow-origin" not in _answer(app, "PUT", f"/{bucket}/key", SITE_ORIGIN)
    # a bucket without CORS rules (the site's) grants nothing, nor does one that does not exist
    assert "access-control-allow-origin" not in _answer(
        app, "POST", f"/{stack.ref('SiteBucket')}", SITE_ORIGIN
    )
    assert "access-control-allow-origin" not in _answer(app, "POST", "/no-such-bucket", SITE_ORIGIN)


def test_an_answer_that_has_cors_headers_keeps_its_own(stack: LocalStack) -> None:
    bucket = stack.ref("MediaUploadsBucket")
    app = with_upload_cors(Upstream([("Access-Control-Allow-Origin", "https://other.example")]))

    answer = _answer(app, "POST", f"/{bucket}", SITE_ORIGIN)

    assert answer["access-control-allow-origin"] == "https://other.example"
