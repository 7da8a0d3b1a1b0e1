"""The web desk's files into the site bucket, under ``desk/``.

The desk is a static application (``desk/`` in the repository). It learns where the API is from
``desk/config.json``, written here next to it, and its ``index.html`` gets a
``Content-Security-Policy`` ``<meta>`` whose ``connect-src`` names exactly the API's origin (the
CloudFront response headers policy cannot name it: the API's allowed origins name the
distribution, so the distribution cannot refer to the API without a dependency cycle).

Two callers: the ``DeskFiles`` CloudFormation custom resource (``functions.handlers.desk``) on
every deploy, and the local stack at its start. ``publish`` is idempotent: it writes every file
and removes what an earlier version left under ``desk/``. ``run_custom_resource`` answers
CloudFormation on every path, failures and a looming timeout included, so a deploy never hangs.
"""

from __future__ import annotations

import json
import logging
import threading
import urllib.request
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

log = logging.getLogger(__name__)

PREFIX = "desk/"
# The folder URL /desk/ is the object "desk/" (CloudFront asks S3 for the key as written); the
# bare /desk is a small page sending the browser on to /desk/, so relative links resolve.
FOLDER_KEY = "desk/"
BARE_KEY = "desk"
CONTENT_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".json": "application/json",
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".ico": "image/x-icon",
    ".txt": "text/plain; charset=utf-8",
}
NOT_SERVED = frozenset({"Makefile"})  # the layer's build file
# Every response revalidates (ETag), so a deploy is seen at once and module files never mix versions.
CACHE_CONTROL = "no-cache"
_CHARSET_META = '<meta charset="utf-8">'
_REDIRECT_PAGE = (
    '<!doctype html>\n<html lang="en"><head><meta charset="utf-8">'
    '<meta http-equiv="refresh" content="0; url=desk/"><title>Submitters\' desk</title></head>'
    '<body><p><a href="desk/">Open the submitters\' desk</a></p></body></html>\n'
)


class DeskFilesError(ValueError):
    """The desk's files cannot be published as they are (the message says why)."""


@dataclass(frozen=True)
class DeskObject:
    key: str
    body: bytes
    content_type: str


def api_origin(api_url: str) -> str:
    """``https://host[:port]`` of an API base URL."""
    parts = urlsplit(api_url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise DeskFilesError(f"ApiUrl {api_url!r} is not an http(s) URL")
    return f"{parts.scheme}://{parts.netloc}"


def render_index(html: str, api_url: str) -> str:
    """``index.html`` with a CSP ``<meta>`` limiting ``connect-src`` to the page and the API."""
    if _CHARSET_META not in html:
        raise DeskFilesError(f"index.html must start its <head> with {_CHARSET_META}")
    meta = f'<meta http-equiv="Content-Security-Policy" content="connect-src \'self\' {api_origin(api_url)}">'
    return html.replace(_CHARSET_META, f"{_CHARSET_META}\n  {meta}", 1)


def config_document(api_url: str, site_url: str | None) -> bytes:
    """``config.json``: where the desk finds the API (and the newsroom it links to)."""
    config: dict[str, str] = {"api_url": api_url.rstrip("/")}
    if site_url:
        config["site_url"] = site_url
    return (json.dumps(config, indent=2) + "\n").encode()


def _files(source: Path) -> Iterator[Path]:
    for path in sorted(source.rglob("*")):
        relative = path.relative_to(source)
        if path.is_dir() or any(part.startswith(".") for part in relative.parts):
            continue
        if relative.name in NOT_SERVED or relative.as_posix() == "config.json":
            continue
        yield path


def desk_objects(source: Path, *, api_url: str, site_url: str | None = None) -> list[DeskObject]:
    """Every object the desk needs in the site bucket, from its files in ``source``."""
    if not (source / "index.html").is_file():
        raise DeskFilesError(f"{source} holds no index.html: not the desk's files")
    objects = []
    for path in _files(source):
        relative = path.relative_to(source).as_posix()
        content_type = CONTENT_TYPES.get(path.suffix.lower())
        if content_type is None:
            raise DeskFilesError(f"{relative}: no content type for {path.suffix or 'a file without suffix'}")
        body = path.read_bytes()
        if relative == "index.html":
            body = render_index(body.decode("utf-8"), api_url).encode()
            objects.append(DeskObject(FOLDER_KEY, body, content_type))
        objects.append(DeskObject(PREFIX + relative, body, content_type))
    objects.append(
        DeskObject(PREFIX + "config.json", config_document(api_url, site_url), CONTENT_TYPES[".json"])
    )
    objects.append(DeskObject(BARE_KEY, _REDIRECT_PAGE.encode(), CONTENT_TYPES[".html"]))
    return objects


def _desk_keys(s3: Any, bucket: str) -> set[str]:
    keys: set[str] = set()
    paginator = s3.get_paginator("list_objects_v2")
    for page in paginator.paginate(Bucket=bucket, Prefix=PREFIX):
        keys.update(item["Key"] for item in page.get("Contents", []))
    return keys


def publish(s3: Any, bucket: str, objects: list[DeskObject]) -> list[str]:
    """Write ``objects`` and delete what an earlier version left under ``desk/``; the removed keys."""
    for item in objects:
        s3.put_object(
            Bucket=bucket,
            Key=item.key,
            Body=item.body,
            ContentType=item.content_type,
            CacheControl=CACHE_CONTROL,
        )
    stale = sorted(_desk_keys(s3, bucket) - {item.key for item in objects})
    for key in stale:
        s3.delete_object(Bucket=bucket, Key=key)
    return stale


def remove(s3: Any, bucket: str) -> int:
    """Delete the desk from the bucket (a bucket already gone is fine); how many objects went."""
    from botocore.exceptions import ClientError

    try:
        keys = [*sorted(_desk_keys(s3, bucket)), BARE_KEY]
        for key in keys:
            s3.delete_object(Bucket=bucket, Key=key)
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") == "NoSuchBucket":
            return 0
        raise
    return len(keys)


# ---------------------------------------------------------------------------------------------
# The CloudFormation custom resource
# ---------------------------------------------------------------------------------------------

Sender = Callable[[str, dict[str, Any]], None]
# What a request does: (request type, its properties) -> physical resource id.
Action = Callable[[str, Mapping[str, Any]], str]
TIMEOUT_MARGIN_SECONDS = 5.0  # answer FAILED this long before Lambda would end the invocation


def send_response(url: str, body: dict[str, Any]) -> None:
    """PUT the answer to CloudFormation's pre-signed URL (no content type: the URL is signed without)."""
    data = json.dumps(body).encode()
    request = urllib.request.Request(  # noqa: S310 - CloudFormation's own https URL
        url, data=data, method="PUT", headers={"Content-Type": "", "Content-Length": str(len(data))}
    )
    with urllib.request.urlopen(request, timeout=30) as answer:  # noqa: S310
        answer.read()


class _Responder:
    """Sends exactly one answer per request, whichever of the work and the watchdog comes first."""

    def __init__(self, event: Mapping[str, Any], send: Sender, fallback_id: str) -> None:
        self._event = event
        self._send = send
        self._fallback_id = fallback_id
        self._lock = threading.Lock()
        self.sent: dict[str, Any] | None = None

    def answer(self, status: str, reason: str, physical_id: str | None = None) -> None:
        with self._lock:
            if self.sent is not None:
                return
            event = self._event
            body: dict[str, Any] = {
                "Status": status,
                "Reason": reason[:1000],
                "PhysicalResourceId": physical_id
                or str(event.get("PhysicalResourceId") or "")
                or self._fallback_id,
                "StackId": event.get("StackId"),
                "RequestId": event.get("RequestId"),
                "LogicalResourceId": event.get("LogicalResourceId"),
                "NoEcho": False,
                "Data": {},
            }
            self.sent = body
            try:
                self._send(str(event.get("ResponseURL") or ""), body)
            except Exception:
                log.exception("the answer to CloudFormation could not be sent")


def run_custom_resource(
    event: Mapping[str, Any],
    context: Any,
    action: Action,
    *,
    send: Sender = send_response,
    margin_seconds: float = TIMEOUT_MARGIN_SECONDS,
) -> dict[str, Any] | None:
    """Do ``action`` for a CloudFormation custom resource request and answer it, always.

    Success answers ``SUCCESS`` with the action's physical id; any exception answers ``FAILED``
    with its message; if the action is still running ``margin_seconds`` before the invocation
    would time out, ``FAILED`` goes first. Returns the answer sent.
    """
    log_stream = str(getattr(context, "log_stream_name", "") or "desk-files")
    responder = _Responder(event, send, fallback_id=log_stream)
    remaining = float(context.get_remaining_time_in_millis()) / 1000 if context is not None else 60.0
    watchdog = threading.Timer(
        max(0.0, remaining - margin_seconds),
        responder.answer,
        args=("FAILED", f"Timed out; see CloudWatch log stream {log_stream}."),
    )
    watchdog.daemon = True
    watchdog.start()
    try:
        request_type = str(event.get("RequestType") or "")
        if request_type not in ("Create", "Update", "Delete"):
            raise DeskFilesError(f"unknown RequestType {request_type!r}")
        physical_id = action(request_type, event.get("ResourceProperties") or {})
        responder.answer("SUCCESS", f"{request_type} done", physical_id)
    except Exception as error:
        log.exception("custom resource request failed")
        responder.answer("FAILED", f"{type(error).__name__}: {error} (log stream {log_stream})")
    finally:
        watchdog.cancel()
    return responder.sent


def desk_files_action(s3: Any, source: Path) -> Action:
    """The ``DeskFiles`` resource: ``Bucket``, ``ApiUrl``, optional ``SiteUrl`` (and ``Files``, the
    layer version, which only makes CloudFormation send an update when the files change)."""

    def act(request_type: str, properties: Mapping[str, Any]) -> str:
        bucket = str(properties.get("Bucket") or "")
        if not bucket:
            raise DeskFilesError("the Bucket property is required")
        physical_id = f"desk-files:{bucket}"
        if request_type == "Delete":
            removed = remove(s3, bucket)
            log.info("desk removed from %s (%d objects)", bucket, removed)
            return physical_id
        api_url = str(properties.get("ApiUrl") or "")
        site_url = str(properties.get("SiteUrl") or "") or None
        objects = desk_objects(source, api_url=api_url, site_url=site_url)
        stale = publish(s3, bucket, objects)
        log.info("desk published to %s (%d objects, %d stale removed)", bucket, len(objects), len(stale))
        return physical_id

    return act
