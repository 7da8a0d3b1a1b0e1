"""The local stack's HTTP server: werkzeug's threaded server in front of the gateway and the site.

``/site`` and ``/site/...`` serve the site bucket read-only (``infra.apigateway.site``), ``/desk/``
the web desk from it (``infra.apigateway.desk``), ``/mail`` and ``/mail/...`` the local stack's
captured e-mail (``infra.local.mail``, when given); every other path goes to ``ApiGateway``
exactly as API Gateway would take it. What a robust edge does
before any of that happens here, each answer ``application/problem+json``:

- methods: ``GET HEAD POST PUT DELETE PATCH OPTIONS`` are served; ``TRACE`` and ``CONNECT`` are
  405 with ``Allow``; anything else is 501. ``OPTIONS *`` lists the server's methods. ``HEAD``
  answers never carry a body.
- framing, checked before a byte of the body is read: a ``Content-Length`` that is not a plain
  non-negative number, several that differ, or one beside ``Transfer-Encoding`` is 400; one over
  API Gateway's 10 MB is the template's 413 at once. ``Transfer-Encoding: chunked`` bodies are
  read (10 MB at most, else 413); other transfer codings are 501.
- slow clients: a connection has ``read_timeout`` seconds (default 5) from being accepted to
  deliver its whole request; after that it gets 408 and is closed, however it trickles bytes.
- load: a listen backlog of ``LISTEN_BACKLOG`` connections and a thread per connection; each
  connection carries one request (werkzeug closes it after the answer).
- ``stop()`` closes every open connection, so it returns at once even with clients connected.
"""

from __future__ import annotations

import contextlib
import http
import io
import logging
import re
import socket
import threading
import time
import uuid
from collections.abc import Callable, Iterable
from typing import Any, Protocol
from urllib.parse import parse_qsl, urlsplit

from werkzeug.serving import ThreadedWSGIServer, WSGIRequestHandler

from infra.apigateway.gateway import MAX_PAYLOAD_BYTES, ApiGateway, HttpResponse, problem, with_absolute_type
from infra.apigateway.site import SITE_PREFIX, SiteReader

log = logging.getLogger("press_intake.local")

LISTEN_BACKLOG = 1024  # connections the kernel queues before accept(); 200 at once must all get in
DEFAULT_READ_TIMEOUT = 5.0
SERVED_METHODS = ("GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS")
REFUSED_METHODS = ("TRACE", "CONNECT")
_DIGITS = re.compile(r"^[0-9]{1,20}$")
_HOP_BY_HOP = frozenset({"connection", "keep-alive", "transfer-encoding", "content-length", "upgrade"})

StartResponse = Callable[[str, list[tuple[str, str]]], Any]
MAIL_PREFIX = "/mail/"


class PathReader(Protocol):
    """A read-only part of the server outside the API (the captured mail)."""

    def respond(self, method: str, path: str) -> HttpResponse: ...


class _DeadlineReader(io.RawIOBase):
    """The socket's input, but every read ends by a deadline (slow clients cannot hold it open)."""

    def __init__(self, connection: socket.socket, deadline: float) -> None:
        self._connection = connection
        self.deadline = deadline

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        remaining = self.deadline - time.monotonic()
        if remaining <= 0:
            raise TimeoutError("the request did not arrive in time")
        self._connection.settimeout(remaining)
        return self._connection.recv_into(buffer)


def _status_line(status: int) -> str:
    try:
        return f"{status} {http.HTTPStatus(status).phrase}"
    except ValueError:
        return f"{status} Unknown"


def _timed_out() -> HttpResponse:
    return problem(
        408,
        "request-timeout",
        "Request timeout",
        "The request did not arrive in time; the connection is closed.",
    )


def _log_request(method: str, target: str, status: int, started: float) -> None:
    log.info("%s %s %d %.0f ms", method, target, status, (time.perf_counter() - started) * 1000)


class _Application:
    """The WSGI application: a well-framed request with a served method, to the site or the API."""

    def __init__(
        self,
        gateway: ApiGateway,
        site: SiteReader,
        write_timeout: float,
        desk: SiteReader | None = None,
        mail: PathReader | None = None,
    ) -> None:
        self.gateway = gateway
        self.site = site
        self.desk = desk
        self.mail = mail
        self._write_timeout = write_timeout

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        started = time.perf_counter()
        method = str(environ["REQUEST_METHOD"]).upper()
        # The request target as sent (werkzeug's RAW_URI, undoing the WSGI latin-1 encoding).
        target = str(environ.get("RAW_URI") or "/").encode("latin-1").decode("utf-8", "replace")
        try:
            response = self._respond(environ, method, target)
        except Exception:
            log.exception("request failed")
            response = problem(
                500, "internal-error", "Internal error", "The local gateway failed; see its log."
            )
        _log_request(method, target, response.status, started)
        host = str(environ.get("HTTP_HOST") or f"{environ.get('SERVER_NAME')}:{environ.get('SERVER_PORT')}")
        return self._send(with_absolute_type(response, f"http://{host}"), method, start_response)

    def _respond(self, environ: dict[str, Any], method: str, target: str) -> HttpResponse:
        split = urlsplit(target)
        path = split.path or "/"
        body = self._read_body(environ)
        if isinstance(body, HttpResponse):
            return body
        if target == "*":
            allow = [("Allow", ", ".join(SERVED_METHODS))]
            if method == "OPTIONS":
                return HttpResponse(status=204, headers=allow, body=b"")
            return problem(400, "malformed-request", "Malformed request", "Only OPTIONS may target *.")
        if (served := self._static(method, path)) is not None:
            return served
        return self.gateway.handle(
            method,
            path,
            headers=_request_headers(environ),
            query=parse_qsl(split.query, keep_blank_values=True),
            body=body,
            source_ip=str(environ.get("REMOTE_ADDR") or "127.0.0.1"),
        )

    def _static(self, method: str, path: str) -> HttpResponse | None:
        """The site, the desk or the captured mail, when ``path`` is theirs; None: the API's."""
        if path == SITE_PREFIX.rstrip("/") or path.startswith(SITE_PREFIX):
            return self.site.respond(method, path)
        if self.desk is not None and self.desk.serves(path):
            return self.desk.respond(method, path)
        if self.mail is not None and (path == MAIL_PREFIX.rstrip("/") or path.startswith(MAIL_PREFIX)):
            return self.mail.respond(method, path)
        return None

    def _read_body(self, environ: dict[str, Any]) -> bytes | HttpResponse:
        stream = environ["wsgi.input"]
        try:
            if environ.get("wsgi.input_terminated"):  # chunked: read to its end, 10 MB at most
                body = stream.read(MAX_PAYLOAD_BYTES + 1)
                if len(body) > MAX_PAYLOAD_BYTES:
                    return self.gateway.gateway_response(
                        "REQUEST_TOO_LARGE", str(uuid.uuid4()), _request_headers(environ)
                    )
            else:
                length = int(environ.get("CONTENT_LENGTH") or 0)  # checked by the handler
                body = stream.read(length) if length else b""
                if len(body) < length:
                    return problem(
                        400,
                        "malformed-request",
                        "Malformed request",
                        f"The body ended after {len(body)} of the {length} bytes Content-Length announced.",
                    )
        except TimeoutError:
            return _timed_out()
        except OSError as error:  # werkzeug's chunked decoder: a malformed chunk
            return problem(
                400, "malformed-request", "Malformed request", f"The chunked body is malformed: {error}."
            )
        socket_ = environ.get("werkzeug.socket")
        if socket_ is not None:
            socket_.settimeout(self._write_timeout)  # writing the answer gets its own time
        return bytes(body)

    @staticmethod
    def _send(response: HttpResponse, method: str, start_response: StartResponse) -> Iterable[bytes]:
        headers = _response_headers(response)
        if method == "HEAD":
            # The length a GET would get, when known (the site's objects); never a body.
            known = response.header("Content-Length")
            start_response(
                _status_line(response.status), headers + ([("Content-Length", known)] if known else [])
            )
            return [b""]
        if response.status in (204, 304):  # no body, and no Content-Length either
            start_response(_status_line(response.status), headers)
            return [b""]
        start_response(_status_line(response.status), [*headers, ("Content-Length", str(len(response.body)))])
        return [response.body]


def _response_headers(response: HttpResponse) -> list[tuple[str, str]]:
    """The answer's headers minus hop-by-hop ones (the server sets those) and any with a line break."""
    headers = [
        (name, value)
        for name, value in response.headers
        if name.lower() not in _HOP_BY_HOP and not any(c in name + value for c in "\r\n")
    ]
    if response.body and not any(name.lower() == "content-type" for name, _ in headers):
        headers.append(("Content-Type", "application/octet-stream"))
    return headers


def _request_headers(environ: dict[str, Any]) -> list[tuple[str, str]]:
    headers = []
    for key, value in environ.items():
        if key.startswith("HTTP_"):
            headers.append((key[5:].replace("_", "-").title(), str(value)))
        elif key in ("CONTENT_TYPE", "CONTENT_LENGTH") and value:
            headers.append((key.replace("_", "-").title(), str(value)))
    return headers


class _RequestHandler(WSGIRequestHandler):
    """One connection: the request line and headers by the deadline, framing checked, then WSGI."""

    protocol_version = "HTTP/1.1"
    # Headers and body go out in separate writes; without this the body would wait for the
    # client's delayed ACK.
    disable_nagle_algorithm = True
    read_timeout = DEFAULT_READ_TIMEOUT
    server: _Server

    def version_string(self) -> str:
        return "press-intake-local"  # not werkzeug's and Python's versions

    def setup(self) -> None:
        super().setup()
        self.connection.settimeout(self.read_timeout)
        self.rfile = io.BufferedReader(
            _DeadlineReader(self.connection, time.monotonic() + self.read_timeout), 64 * 1024
        )

    def handle_one_request(self) -> None:
        self.close_connection = True  # one request per connection (werkzeug closes after it)
        self.requestline, self.request_version, self.command = "", "", ""
        started = time.perf_counter()
        try:
            self.raw_requestline = self.rfile.readline(65537)
            if not self.raw_requestline:
                return  # the client connected and left (or stop() closed the connection)
            if len(self.raw_requestline) > 65536:
                self._refuse(problem(414, "uri-too-long", "URI too long", "The request line is over 64 KiB."))
                return
            if not self.parse_request():
                return  # send_error answered
        except TimeoutError:
            self._refuse(_timed_out())
            return
        refusal = self._refusal()
        if refusal is not None:
            _log_request(self.command, self.path, refusal.status, started)
            self._refuse(refusal)
            return
        try:
            self.run_wsgi()
            self.wfile.flush()
        except TimeoutError:
            pass  # draining what the client still sends after its answer ran out of time

    def handle_expect_100(self) -> bool:
        return True  # werkzeug sends "100 Continue", and only for a request it will read

    def _refusal(self) -> HttpResponse | None:
        """The answer to a request refused before its body is read, or None."""
        return _method_refusal(self.command.upper()) or self._framing_refusal()

    def _framing_refusal(self) -> HttpResponse | None:
        lengths = [value.strip() for value in self.headers.get_all("Content-Length") or []]
        codings = _codings(self.headers.get_all("Transfer-Encoding") or [])
        if codings:
            return _coding_refusal(codings, lengths)
        refusal = _length_refusal(lengths)
        if refusal is None and lengths and int(lengths[0]) > MAX_PAYLOAD_BYTES:
            return self.server.app.gateway.gateway_response(
                "REQUEST_TOO_LARGE", str(uuid.uuid4()), list(self.headers.items())
            )
        return refusal

    def _refuse(self, response: HttpResponse) -> None:
        """Answer and close without reading the body; let the client see the answer before the close."""
        host, port = self.server.server_address[:2]
        name = host.decode() if isinstance(host, bytes) else str(host)
        response = with_absolute_type(response, f"http://{name}:{port}")
        try:
            self.connection.settimeout(DEFAULT_READ_TIMEOUT)
            self.send_response(response.status)
            for name, value in response.headers:
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(response.body)))
            self.send_header("Connection", "close")
            self.end_headers()
            if (self.command or "").upper() != "HEAD":
                self.wfile.write(response.body)
            self.wfile.flush()
            self.connection.shutdown(socket.SHUT_WR)
            self._drain_briefly()
        except OSError:
            pass  # the client is gone

    def _drain_briefly(self) -> None:
        """Read (and drop) what the client is still sending for a moment, so closing does not
        reset the connection before it read the answer."""
        self.connection.settimeout(0.2)
        deadline = time.monotonic() + 1.0
        while time.monotonic() < deadline:
            try:
                if not self.connection.recv(65536):
                    return
            except OSError:
                return

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        """http.server's own errors (malformed request line, too many headers...) as problem+json."""
        status = int(code)
        phrase = _status_line(status).split(" ", 1)[1]
        self.request_version = self.protocol_version  # HTTP/0.9 would get no status line at all
        self._refuse(problem(status, "malformed-request", phrase, message or explain or phrase))

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        pass  # the application logs one line per request itself

    def log_error(self, format: str, *args: Any) -> None:
        log.debug("http: " + format, *args)

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("http: " + format, *args)


def _malformed(detail: str) -> HttpResponse:
    return problem(400, "malformed-request", "Malformed request", detail)


def _method_refusal(method: str) -> HttpResponse | None:
    if method in REFUSED_METHODS:
        allow = [("Allow", ", ".join(SERVED_METHODS))]
        return problem(
            405, "method-not-allowed", "Method not allowed", f"{method} is not served here.", allow
        )
    if method not in SERVED_METHODS:
        return problem(501, "not-implemented", "Not implemented", f"The method {method!r} is not supported.")
    return None


def _codings(values: list[str]) -> list[str]:
    """The transfer codings of ``Transfer-Encoding`` headers, in order."""
    return [coding.strip().lower() for value in values for coding in value.split(",") if coding.strip()]


def _length_refusal(lengths: list[str]) -> HttpResponse | None:
    if len(set(lengths)) > 1:
        return _malformed("The request has several different Content-Length values.")
    if lengths and not _DIGITS.match(lengths[0]):
        return _malformed(f"Content-Length {lengths[0][:40]!r} is not a non-negative number of bytes.")
    return None


def _coding_refusal(codings: list[str], lengths: list[str]) -> HttpResponse | None:
    if codings != ["chunked"]:
        detail = f"Transfer-Encoding {', '.join(codings)} is not supported; send chunked or a Content-Length."
        return problem(501, "not-implemented", "Not implemented", detail)
    if lengths:
        return _malformed("Send Transfer-Encoding: chunked or a Content-Length, not both.")
    return None


class _Server(ThreadedWSGIServer):
    """werkzeug's threaded server that knows its open connections, so that stop() can close them."""

    request_queue_size = LISTEN_BACKLOG
    app: _Application

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self._open: set[socket.socket] = set()
        self._open_lock = threading.Lock()
        super().__init__(*args, **kwargs)

    def process_request(self, request: Any, client_address: Any) -> None:
        with self._open_lock:
            self._open.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request: Any) -> None:
        with self._open_lock:
            self._open.discard(request)
        super().shutdown_request(request)

    def close_connections(self) -> None:
        with self._open_lock:
            connections = list(self._open)
        for connection in connections:
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)  # a blocked read returns at once


class LocalHttpServer:
    """The local stack's HTTP endpoint: bound when constructed (``OSError`` if the port is taken)."""

    def __init__(
        self,
        host: str,
        port: int,
        gateway: ApiGateway,
        site: SiteReader,
        *,
        read_timeout: float = DEFAULT_READ_TIMEOUT,
        desk: SiteReader | None = None,
        mail: PathReader | None = None,
    ) -> None:
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        # Bound here, so a taken port is an OSError (werkzeug would print and exit instead).
        listener = socket.create_server((host, port), family=family, backlog=_Server.request_queue_size)
        handler = type("RequestHandler", (_RequestHandler,), {"read_timeout": read_timeout})
        app = _Application(gateway, site, write_timeout=max(read_timeout, 5.0), desk=desk, mail=mail)
        try:
            self._server = _Server(host, port, app, handler=handler, fd=listener.fileno())
        finally:
            listener.close()  # werkzeug holds its own duplicate of the socket
        self._thread: Any = None

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    def start(self, thread_factory: Callable[..., Any] = threading.Thread) -> None:
        self._thread = thread_factory(
            target=lambda: self._server.serve_forever(poll_interval=0.1), name="http", daemon=True
        )
        self._thread.start()

    def stop(self) -> None:
        if self._thread is not None and self._thread.is_alive():
            self._server.shutdown()  # would wait forever for a loop that never ran
            self._thread.join(5)
        self._server.close_connections()
        self._server.server_close()
