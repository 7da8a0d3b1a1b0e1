"""The web desk as objects of the site bucket, under ``desk/``.

The desk is a static application (``desk/`` in the repository). It learns where the API is from
``desk/config.json``, written next to it, and its ``index.html`` gets a
``Content-Security-Policy`` ``<meta>`` whose ``connect-src`` names exactly the API's origin and
the media uploads bucket's form URL (where the browser POSTs an attachment). The CloudFront
response headers policy cannot name them: the API's and the bucket's allowed origins name the
distribution, so the distribution cannot refer to either without a dependency cycle.

``desk_objects`` reads the desk's files from a folder and returns every object to put; the S3
adapter (``functions.adapters.s3_desk``) writes them. Two callers: the ``DeskFiles`` custom
resource (``functions.handlers.desk``) on every deploy, and the local stack at its start.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

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
_CHARSET_META = '<meta charset="utf-8">'
_CSP_SAFE = re.compile(r"[A-Za-z0-9.:\[\]_~/-]+")  # host[:port][/path]: nothing that ends a source
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


def upload_source(uploads_url: str) -> str:
    """The CSP source of the uploads bucket's form URL: its origin, with its path when the bucket
    is in the path (``http://127.0.0.1:5000/bucket``; a virtual-hosted bucket's origin is its own)."""
    parts = urlsplit(uploads_url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise DeskFilesError(f"the uploads URL {uploads_url!r} is not an http(s) URL")
    if not _CSP_SAFE.fullmatch(parts.netloc + parts.path):
        raise DeskFilesError(f"the uploads URL {uploads_url!r} cannot be named in a CSP")
    path = parts.path if parts.path not in ("", "/") else ""
    return f"{parts.scheme}://{parts.netloc}{path}"


def connect_sources(api_url: str, uploads_url: str | None = None) -> str:
    """What the desk may connect to besides itself: the API, and the uploads bucket's form URL."""
    sources = ["'self'", api_origin(api_url)]
    if uploads_url:
        sources.append(upload_source(uploads_url))
    return " ".join(sources)


def render_index(html: str, api_url: str, uploads_url: str | None = None) -> str:
    """``index.html`` with a CSP ``<meta>`` limiting ``connect-src`` to the page, the API and the
    uploads bucket."""
    if _CHARSET_META not in html:
        raise DeskFilesError(f"index.html must start its <head> with {_CHARSET_META}")
    meta = (
        '<meta http-equiv="Content-Security-Policy" '
        f'content="connect-src {connect_sources(api_url, uploads_url)}">'
    )
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


def desk_objects(
    source: Path, *, api_url: str, site_url: str | None = None, uploads_url: str | None = None
) -> list[DeskObject]:
    """Every object the desk needs in the site bucket, from its files in ``source``;
    ``uploads_url`` is where the browser POSTs attachments (the uploads bucket's form URL)."""
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
            body = render_index(body.decode("utf-8"), api_url, uploads_url).encode()
            objects.append(DeskObject(FOLDER_KEY, body, content_type))
        objects.append(DeskObject(PREFIX + relative, body, content_type))
    objects.append(
        DeskObject(PREFIX + "config.json", config_document(api_url, site_url), CONTENT_TYPES[".json"])
    )
    objects.append(DeskObject(BARE_KEY, _REDIRECT_PAGE.encode(), CONTENT_TYPES[".html"]))
    return objects
