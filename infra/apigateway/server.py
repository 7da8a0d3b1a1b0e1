"""The local stack's HTTP front door: the API (through ``ApiGateway``) and the site bucket.

``/site/...`` serves the site bucket read-only (``/site/`` is ``index.html``), with the
object's content type; every other path goes to the API exactly as API Gateway would take it.
"""

from __future__ import annotations

import json
import logging
import mimetypes
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

from infra.apigateway.gateway import MAX_PAYLOAD_BYTES, ApiGateway, HttpResponse

log = logging.getLogger("press_intake.local")

SITE_PREFIX = "/site/"


class SiteReader:
    """Read-only view of the site bucket (none until the template declares one)."""

    def __init__(self, s3: Any, bucket: str | None) -> None:
        self._s3 = s3
        self._bucket = bucket

    def get(self, path: str, head: bool = False) -> HttpResponse:
        key = unquote(path[len(SITE_PREFIX) :])
        if key == "" or key.endswith("/"):
            key += "index.html"
        if self._bucket is None:
            return _text(404, "This template declares no site bucket yet.")
        if any(part in ("", ".", "..") for part in key.split("/")):
            return _text(404, "Not found.")
        from botocore.exceptions import ClientError

        try:
            if head:
                found = self._s3.head_object(Bucket=self._bucket, Key=key)
                body = b""
            else:
                found = self._s3.get_object(Bucket=self._bucket, Key=key)
                body = found["Body"].read()
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") in ("NoSuchKey", "404", "NotFound"):
                return _text(404, f"Nothing is published at {path} (yet).")
            raise
        content_type = found.get("ContentType")
        if not content_type or content_type == "binary/octet-stream":
            content_type = mimetypes.guess_type(key)[0] or "application/octet-stream"
        headers = [("Content-Type", content_type), ("Cache-Control", "no-cache")]
        if head:
            headers.append(("Content-Length", str(found.get("ContentLength", 0))))
        return HttpResponse(status=200, headers=headers, body=body)


def _text(status: int, message: str) -> HttpResponse:
    return HttpResponse(
        status=status, headers=[("Content-Type", "text/plain; charset=utf-8")], body=message.encode()
    )


def _problem(status: int, title: str, detail: str) -> HttpResponse:
    body = json.dumps(
        {"type": "/problems/malformed-request", "title": title, "status": status, "detail": detail}
    )
    return HttpResponse(
        status=status, headers=[("Content-Type", "application/problem+json")], body=body.encode()
    )


def make_handler(gateway: ApiGateway, site: SiteReader) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        server_version = "press-intake-local"
        # Headers and body go out in two writes; with Nagle's algorithm the body would wait
        # for the client's delayed ACK (40 ms) on every keep-alive request.
        disable_nagle_algorithm = True

        def do_GET(self) -> None:
            self._handle()

        def do_HEAD(self) -> None:
            self._handle()

        def do_POST(self) -> None:
            self._handle()

        def do_PUT(self) -> None:
            self._handle()

        def do_DELETE(self) -> None:
            self._handle()

        def do_PATCH(self) -> None:
            self._handle()

        def do_OPTIONS(self) -> None:
            self._handle()

        def _handle(self) -> None:
            started = time.perf_counter()
            try:
                response = self._respond()
            except Exception:
                log.exception("request failed")
                response = HttpResponse(
                    status=500,
                    headers=[("Content-Type", "application/problem+json")],
                    body=b'{"type": "/problems/internal-error", "title": "Internal error", "status": 500, '
                    b'"detail": "The local gateway failed; see its log."}',
                )
            self._write(response)
            log.info(
                "%s %s %d %.0f ms",
                self.command,
                self.path,
                response.status,
                (time.perf_counter() - started) * 1000,
            )

        def _respond(self) -> HttpResponse:
            split = urlsplit(self.path)
            if split.path.startswith(SITE_PREFIX) or split.path == SITE_PREFIX.rstrip("/"):
                self._discard_body()
                if self.command not in ("GET", "HEAD"):
                    return _text(405, "The site is read-only.")
                return site.get(
                    split.path if split.path != "/site" else SITE_PREFIX, head=self.command == "HEAD"
                )
            body = self._read_body()
            if isinstance(body, HttpResponse):
                return body
            return gateway.handle(
                self.command,
                split.path,
                headers=list(self.headers.items()),
                query=parse_qsl(split.query, keep_blank_values=True),
                body=body,
                source_ip=self.client_address[0],
            )

        def _read_body(self) -> bytes | HttpResponse:
            if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
                self.close_connection = True
                return _problem(
                    411, "Length required", "Send a Content-Length; chunked bodies are not accepted."
                )
            try:
                length = int(self.headers.get("Content-Length") or 0)
            except ValueError:
                self.close_connection = True
                return _problem(400, "Malformed request", "Content-Length is not a number.")
            if length > MAX_PAYLOAD_BYTES:
                self.close_connection = True  # do not read 10 MB+ we would refuse anyway
                return gateway.gateway_response("REQUEST_TOO_LARGE", "local")
            return self.rfile.read(length) if length else b""

        def _discard_body(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            if 0 < length <= MAX_PAYLOAD_BYTES:
                self.rfile.read(length)
            elif length:
                self.close_connection = True

        def _write(self, response: HttpResponse) -> None:
            self.send_response(response.status)
            names = {name.lower() for name, _ in response.headers}
            for name, value in response.headers:
                if name.lower() not in ("content-length", "connection", "transfer-encoding"):
                    self.send_header(name, value)
            if "content-type" not in names and response.body:
                self.send_header("Content-Type", "application/octet-stream")
            length = next((v for k, v in response.headers if k.lower() == "content-length"), None)
            self.send_header(
                "Content-Length", length if self.command == "HEAD" and length else str(len(response.body))
            )
            if self.close_connection:
                self.send_header("Connection", "close")
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(response.body)

        def log_message(self, format: str, *args: Any) -> None:
            log.debug("http: " + format, *args)

    return Handler


class LocalHttpServer:
    def __init__(self, host: str, port: int, handler: type[BaseHTTPRequestHandler]) -> None:
        self._server = ThreadingHTTPServer((host, port), handler)  # raises OSError if the port is taken
        self._server.daemon_threads = True
        self._thread: Any = None

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    def start(self, thread_factory: Callable[..., Any]) -> None:
        self._thread = thread_factory(
            target=lambda: self._server.serve_forever(poll_interval=0.1), name="http", daemon=True
        )
        self._thread.start()

    def stop(self) -> None:
        if self._thread is not None and self._thread.is_alive():
            self._server.shutdown()  # would wait forever for a loop that never ran
            self._thread.join(5)
        self._server.server_close()
