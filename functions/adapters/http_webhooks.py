"""Webhook deliveries over HTTP(S): one POST to an address the SSRF policy already checked.

``UrllibSender.post`` connects to ``Target.addresses`` (in order, until one answers), never
resolving the host again, so a DNS answer cannot change between the check and the connection.
Over TLS the server name (SNI) and the certificate's name are the URL's host, verified against
the CA bundle, and the ``Host`` header is the URL's too. Redirects are not followed (a 3xx is
an answer like any other: not a delivery), nothing is retried here, and the whole exchange has
``timeout`` seconds (5 by default).

``resolve_host`` is the resolver the functions use (the system's, through ``getaddrinfo``).
"""

from __future__ import annotations

import socket
import ssl
import time
from collections.abc import Sequence
from typing import Any

from functions.domain.egress import Target
from functions.domain.ports import HttpOutcome

DEFAULT_TIMEOUT = 5.0
_ANSWER_READ = 4096  # of the receiver's body, read and dropped (we keep only the status)


def resolve_host(host: str, port: int) -> Sequence[str]:
    """Every address ``host`` resolves to (IPv4 and IPv6), as numeric strings."""
    found = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return [str(entry[4][0]) for entry in found]


def default_tls() -> ssl.SSLContext:
    """Certificate verification against the CA bundle botocore uses (certifi's, or its own)."""
    from botocore.httpsession import where

    context = ssl.create_default_context(cafile=where())
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    return context


def _reason(error: BaseException) -> str:
    from urllib3 import exceptions

    if isinstance(error, exceptions.TimeoutError | TimeoutError | socket.timeout):
        return "timeout"
    if isinstance(error, exceptions.SSLError | ssl.SSLError):
        return f"TLS: {error}"[:300]
    if isinstance(error, exceptions.NewConnectionError | ConnectionError):
        return "connection failed"
    return f"{type(error).__name__}: {error}"[:300]


class UrllibSender:
    def __init__(self, *, timeout: float = DEFAULT_TIMEOUT, tls: ssl.SSLContext | None = None) -> None:
        self._timeout = timeout
        self._tls = tls

    def _pool(self, target: Target, address: str, timeout: Any) -> Any:
        import urllib3

        if target.scheme == "https":
            return urllib3.HTTPSConnectionPool(
                address,
                target.port,
                timeout=timeout,
                retries=False,
                maxsize=1,
                ssl_context=self._tls or default_tls(),
                cert_reqs="CERT_REQUIRED",
                server_hostname=target.host,
                assert_hostname=target.host,
            )
        return urllib3.HTTPConnectionPool(address, target.port, timeout=timeout, retries=False, maxsize=1)

    def post(self, target: Target, body: bytes, headers: dict[str, str]) -> HttpOutcome:
        import urllib3
        from urllib3 import exceptions

        started = time.perf_counter()
        deadline = started + self._timeout
        error: BaseException | None = None
        for address in target.addresses:
            remaining = deadline - time.perf_counter()
            if remaining <= 0:
                break
            timeout = urllib3.Timeout(total=remaining)
            pool = self._pool(target, address, timeout)
            try:
                response = pool.urlopen(
                    "POST",
                    target.path,
                    body=body,
                    headers={**headers, "Host": target.host_header, "Content-Length": str(len(body))},
                    redirect=False,
                    retries=False,
                    assert_same_host=False,
                    preload_content=False,
                    timeout=timeout,
                )
                try:
                    response.read(_ANSWER_READ)
                except (exceptions.HTTPError, OSError):
                    pass  # the status arrived; a body cut short does not change it
                finally:
                    response.release_conn()
                return {"status": int(response.status), "latency_ms": _elapsed(started), "error": None}
            except exceptions.NewConnectionError as failure:  # this address is down: try the next
                error = failure
            except (exceptions.HTTPError, OSError) as failure:
                return {"status": None, "latency_ms": _elapsed(started), "error": _reason(failure)}
            finally:
                pool.close()
        reason = _reason(error) if error is not None else "timeout"
        return {"status": None, "latency_ms": _elapsed(started), "error": reason}


def _elapsed(started: float) -> int:
    return int((time.perf_counter() - started) * 1000)
