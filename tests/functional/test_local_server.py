"""The local stack's HTTP server, started in-process on a free port, used with raw sockets.

Every method on every path answers problem+json, framing is checked before the body is read,
slow clients time out, 200 connections at once are served, and stop() does not wait for clients.
"""

from __future__ import annotations

import http.client
import json
import socket
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from infra.apigateway.gateway import ApiGateway
from infra.apigateway.server import LocalHttpServer
from infra.apigateway.site import SiteReader
from infra.bootstrap import LocalStack

PROBLEM = "application/problem+json"
RELEASE = "/releases/7d0f4f5e-8f57-4c5c-9a39-2fbb1f7e2a10"
READ_TIMEOUT = 0.5


def _start(gateway: ApiGateway, site: SiteReader, read_timeout: float = READ_TIMEOUT) -> LocalHttpServer:
    server = LocalHttpServer("127.0.0.1", 0, gateway, site, read_timeout=read_timeout)
    server.start()
    return server


@pytest.fixture
def site(stack: LocalStack, s3: Any) -> SiteReader:
    bucket = stack.ref("SiteBucket")
    s3.put_object(Bucket=bucket, Key="index.html", Body=b"<h1>Newsroom</h1>", ContentType="text/html")
    return SiteReader(s3, bucket)


@pytest.fixture
def server(gateway: ApiGateway, site: SiteReader) -> Iterator[LocalHttpServer]:
    running = _start(gateway, site)
    yield running
    running.stop()


def _raw(server: LocalHttpServer, data: bytes, *, timeout: float = 3.0) -> tuple[int, dict[str, str], bytes]:
    """Send bytes as they are, read the answer until the server closes the connection."""
    with socket.create_connection(("127.0.0.1", server.port), timeout=timeout) as connection:
        connection.sendall(data)
        received = b""
        while chunk := connection.recv(65536):
            received += chunk
    head, _, body = received.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    while lines[0].startswith("HTTP/1.1 100"):  # an interim "100 Continue"
        lines = lines[2:]
    headers = dict(line.split(": ", 1) for line in lines[1:] if ": " in line)
    return int(lines[0].split()[1]), {k.lower(): v for k, v in headers.items()}, body


def _request(
    server: LocalHttpServer, method: str, path: str, body: bytes | None = None, **headers: str
) -> tuple[int, dict[str, str], bytes]:
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=5)
    try:
        connection.request(
            method, path, body=body, headers={k.replace("_", "-"): v for k, v in headers.items()}
        )
        response = connection.getresponse()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()
    finally:
        connection.close()


def _problem(answer: tuple[int, dict[str, str], bytes], status: int) -> dict[str, Any]:
    code, headers, body = answer
    assert code == status, body
    assert headers["content-type"] == PROBLEM
    document: dict[str, Any] = json.loads(body)
    assert document["status"] == status
    assert document["title"]
    assert document["detail"]
    return document


# -- methods ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "path", ["/releases", RELEASE, "/openapi.json", "/nothing", "/site/", "/site/x.html"]
)
@pytest.mark.parametrize("method", ["TRACE", "CONNECT"])
def test_trace_and_connect_are_405_problems_with_allow(
    server: LocalHttpServer, method: str, path: str
) -> None:
    answer = _raw(server, f"{method} {path} HTTP/1.1\r\nHost: local\r\n\r\n".encode())
    _problem(answer, 405)
    assert "GET" in answer[1]["allow"]
    assert "TRACE" not in answer[1]["allow"]


@pytest.mark.parametrize("method", ["FOO", "PROPFIND", "BREW"])
@pytest.mark.parametrize("path", ["/releases", "/site/", "/"])
def test_unknown_methods_are_501_problems(server: LocalHttpServer, method: str, path: str) -> None:
    _problem(_raw(server, f"{method} {path} HTTP/1.1\r\nHost: local\r\n\r\n".encode()), 501)


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [
        ("GET", "/nothing", 404),
        ("POST", "/nothing", 404),
        ("DELETE", "/releases", 401),  # the authorizer runs first; no key
        ("PATCH", RELEASE, 401),
        ("POST", "/site/index.html", 405),
        ("PUT", "/site/", 405),
        ("DELETE", "/site", 405),
        ("GET", "/site/missing.html", 404),
        ("GET", "/site/../etc/passwd", 404),
    ],
)
def test_every_error_on_every_path_is_problem_json(
    server: LocalHttpServer, method: str, path: str, status: int
) -> None:
    _problem(
        _request(server, method, path, body=b"x" if method in ("POST", "PUT", "PATCH") else None), status
    )


def test_site_errors_say_what_happened(server: LocalHttpServer) -> None:
    not_found = _problem(_request(server, "GET", "/site/releases/nope.html"), 404)
    assert not_found["detail"] == "Nothing is published at /site/releases/nope.html (yet)."
    refused = _request(server, "POST", "/site/index.html", body=b"{}")
    assert "read-only" in _problem(refused, 405)["detail"]
    assert refused[1]["allow"] == "GET, HEAD, OPTIONS"


def test_head_is_get_without_a_body(server: LocalHttpServer) -> None:
    get = _request(server, "GET", "/site/index.html")
    head = _raw(server, b"HEAD /site/index.html HTTP/1.1\r\nHost: local\r\n\r\n")
    assert (head[0], head[1]["content-type"], head[1]["content-length"]) == (
        200,
        "text/html",
        str(len(get[2])),
    )
    assert head[2] == b""
    api_head = _raw(server, b"HEAD /openapi.json HTTP/1.1\r\nHost: local\r\n\r\n")
    assert (api_head[0], api_head[1]["content-type"], api_head[2]) == (200, "application/json", b"")
    missing = _raw(server, b"HEAD /nothing HTTP/1.1\r\nHost: local\r\n\r\n")
    assert (missing[0], missing[1]["content-type"], missing[2]) == (404, PROBLEM, b"")


def test_options_lists_methods(server: LocalHttpServer) -> None:
    everything = _raw(server, b"OPTIONS * HTTP/1.1\r\nHost: local\r\n\r\n")
    assert everything[0] == 204
    assert everything[1]["allow"] == "GET, HEAD, POST, PUT, DELETE, PATCH, OPTIONS"
    site = _request(server, "OPTIONS", "/site/")
    assert (site[0], site[1]["allow"]) == (204, "GET, HEAD, OPTIONS")
    api = _request(server, "OPTIONS", "/openapi.json")
    assert (api[0], api[1]["allow"]) == (204, "GET, HEAD, OPTIONS")


def test_a_malformed_request_line_is_a_400_problem(server: LocalHttpServer) -> None:
    _problem(_raw(server, b"GET /releases HTTP/9.9 extra\r\n\r\n"), 400)
    _problem(_raw(server, b"GET /" + b"a" * 70_000 + b" HTTP/1.1\r\n\r\n"), 414)


# -- framing: refused before a byte of the body is read -------------------------------------------


@pytest.mark.parametrize(
    ("content_length", "status"),
    [
        ("-1", 400),
        ("ten", 400),
        ("1e3", 400),
        ("0x10", 400),
        ("99999999999999999999999", 400),
        ("10485761", 413),  # one byte over API Gateway's 10 MB
        ("5, 6", 400),
    ],
)
def test_a_bad_content_length_is_answered_at_once_without_reading_the_body(
    server: LocalHttpServer, content_length: str, status: int
) -> None:
    # Given a request whose body never comes (the server must not wait for it)
    request = (
        f"POST /releases HTTP/1.1\r\nHost: local\r\nContent-Type: application/json\r\n"
        f"Content-Length: {content_length}\r\n\r\n"
    ).encode()
    # When it is sent, Then the answer comes before the read timeout would expire
    _problem(_raw(server, request, timeout=READ_TIMEOUT / 2), status)


def test_two_different_content_lengths_are_refused(server: LocalHttpServer) -> None:
    request = b"POST /releases HTTP/1.1\r\nHost: local\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\n{}"
    _problem(_raw(server, request, timeout=READ_TIMEOUT / 2), 400)


def test_a_body_shorter_than_its_content_length_is_400(server: LocalHttpServer) -> None:
    with socket.create_connection(("127.0.0.1", server.port), timeout=3) as connection:
        connection.sendall(b"POST /releases HTTP/1.1\r\nHost: local\r\nContent-Length: 100\r\n\r\n{}")
        connection.shutdown(socket.SHUT_WR)  # the client is done sending
        answer = b""
        while chunk := connection.recv(65536):
            answer += chunk
    assert answer.startswith(b"HTTP/1.1 400")
    assert b"ended after 2 of the 100 bytes" in answer


def test_chunked_bodies_are_read(server: LocalHttpServer, stack: LocalStack) -> None:
    from tests.functional.conftest import issue_key
    from tests.helpers import personnel_release

    _, token = issue_key(stack, "org-acme", "Acme")
    body = json.dumps(personnel_release()).encode()
    chunks = b"".join(f"{len(part):x}\r\n".encode() + part + b"\r\n" for part in (body[:100], body[100:]))
    request = (
        b"POST /releases HTTP/1.1\r\nHost: local\r\nContent-Type: application/json\r\n"
        b"Authorization: Bearer "
        + token.encode()
        + b"\r\nTransfer-Encoding: chunked\r\n\r\n"
        + chunks
        + b"0\r\n\r\n"
    )
    status, _, answer = _raw(server, request)
    assert status == 202, answer


@pytest.mark.parametrize(
    ("headers", "body", "status"),
    [
        ("Transfer-Encoding: chunked\r\n", b"zz\r\nnot hex\r\n0\r\n\r\n", 400),
        ("Transfer-Encoding: chunked\r\nContent-Length: 5\r\n", b"5\r\nhello\r\n0\r\n\r\n", 400),
        ("Transfer-Encoding: gzip, chunked\r\n", b"", 501),
    ],
)
def test_chunked_bodies_that_cannot_be_read_are_refused_clearly(
    server: LocalHttpServer, headers: str, body: bytes, status: int
) -> None:
    request = f"POST /nothing HTTP/1.1\r\nHost: local\r\n{headers}\r\n".encode() + body
    _problem(_raw(server, request), status)


def test_a_chunked_body_over_10_mb_is_413(server: LocalHttpServer) -> None:
    chunk = b"x" * (1024 * 1024)
    with socket.create_connection(("127.0.0.1", server.port), timeout=5) as connection:
        connection.sendall(b"POST /nothing HTTP/1.1\r\nHost: local\r\nTransfer-Encoding: chunked\r\n\r\n")
        for _ in range(11):
            connection.sendall(f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n")
        connection.sendall(b"0\r\n\r\n")
        answer = connection.recv(65536)
    assert answer.startswith(b"HTTP/1.1 413")


# -- slow clients -----------------------------------------------------------------------------------


def test_a_client_that_stops_sending_gets_408_and_is_closed(server: LocalHttpServer) -> None:
    with socket.create_connection(("127.0.0.1", server.port), timeout=5) as connection:
        connection.sendall(b"GET /openapi.json HTTP/1.1\r\nHost: loc")  # and then nothing
        answer = b""
        # the answer may arrive in several segments; the server then closes (recv gives b""
        # before the 5 s socket timeout, which would raise instead)
        while chunk := connection.recv(65536):
            answer += chunk
    assert answer.startswith(b"HTTP/1.1 408")
    assert b"application/problem+json" in answer


def test_a_client_trickling_bytes_cannot_hold_a_connection_beyond_the_read_timeout(
    server: LocalHttpServer,
) -> None:
    # Given a client sending one header byte every 50 ms (each read would succeed on its own)
    started = time.monotonic()
    with socket.create_connection(("127.0.0.1", server.port), timeout=5) as connection:
        connection.sendall(b"GET /openapi.json HTTP/1.1\r\n")
        answer = b""
        for _ in range(int(4 * READ_TIMEOUT / 0.05)):
            try:
                connection.sendall(b"X")
            except OSError:
                break  # the server closed the connection
            time.sleep(0.05)
        answer = connection.recv(65536)
    # Then the whole request had READ_TIMEOUT seconds, not each read
    assert answer.startswith(b"HTTP/1.1 408")
    assert time.monotonic() - started < 4 * READ_TIMEOUT


def test_a_body_that_never_completes_gets_408(server: LocalHttpServer) -> None:
    with socket.create_connection(("127.0.0.1", server.port), timeout=5) as connection:
        connection.sendall(b"POST /nothing HTTP/1.1\r\nHost: local\r\nContent-Length: 10\r\n\r\n12345")
        answer = connection.recv(65536)
    assert answer.startswith(b"HTTP/1.1 408")


# -- load and shutdown ------------------------------------------------------------------------------


def test_200_concurrent_connections_are_all_served_without_a_5xx(
    unthrottled: tuple[ApiGateway, str], site: SiteReader
) -> None:
    gateway, token = unthrottled
    server = LocalHttpServer("127.0.0.1", 0, gateway, site, read_timeout=30)
    paths = ["/releases", "/openapi.json", RELEASE, "/site/index.html"]
    try:
        # Given 200 clients connecting before the server accepts any: the listen backlog holds
        # them all (with a backlog of 128 the 130th connect would hang)
        connections = [socket.create_connection(("127.0.0.1", server.port), timeout=2) for _ in range(200)]
        for index, connection in enumerate(connections):
            connection.settimeout(30)
            connection.sendall(
                f"GET {paths[index % len(paths)]} HTTP/1.1\r\nHost: local\r\n"
                f"Authorization: Bearer {token}\r\n\r\n".encode()
            )

        def answer(connection: socket.socket) -> int:
            received = b""
            while chunk := connection.recv(65536):
                received += chunk
            connection.close()
            return int(received.split(b" ", 2)[1])

        # When the server starts accepting
        server.start()
        with ThreadPoolExecutor(max_workers=200) as pool:
            statuses = list(pool.map(answer, connections))
    finally:
        server.stop()
    # Then every one is answered as it would be alone, none with a 5xx
    assert sorted(set(statuses)) == [200, 404]
    assert statuses.count(200) == 150


def test_stop_returns_at_once_with_idle_and_half_sent_connections_open(
    gateway: ApiGateway, site: SiteReader
) -> None:
    running = _start(gateway, site, read_timeout=60)
    idle = [socket.create_connection(("127.0.0.1", running.port), timeout=5) for _ in range(10)]
    half = socket.create_connection(("127.0.0.1", running.port), timeout=5)
    half.sendall(b"POST /releases HTTP/1.1\r\nHost: local\r\nContent-Length: 1000\r\n\r\n{")
    time.sleep(0.2)  # the server has accepted them and is reading
    started = time.monotonic()
    running.stop()
    # Then stop() did not wait for the 60 s read timeout, and the clients see the connection end
    assert time.monotonic() - started < 2
    for connection in [*idle, half]:
        with connection:
            assert _closed(connection)
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(("127.0.0.1", running.port), timeout=1)


def _closed(connection: socket.socket) -> bool:
    try:
        return connection.recv(65536) == b""
    except ConnectionResetError:
        return True


def test_a_taken_port_is_an_os_error(server: LocalHttpServer, gateway: ApiGateway, site: SiteReader) -> None:
    with pytest.raises(OSError, match="in use"):
        LocalHttpServer("127.0.0.1", server.port, gateway, site)


def test_the_server_does_not_advertise_its_software_versions(server: LocalHttpServer) -> None:
    assert _request(server, "GET", "/openapi.json")[1]["server"] == "press-intake-local"
