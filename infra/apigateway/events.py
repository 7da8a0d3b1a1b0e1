"""Lambda proxy integration events (REST API, payload v1), built the way API Gateway builds them.

Used by the gateway and by the tests, so that handlers always see the same shape: resource and
path parameters, single- and multi-value headers and query strings, and a ``requestContext``
with request id, source IP, stage and the authorizer's context.
"""

from __future__ import annotations

import base64
import time
import uuid
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

Pairs = Sequence[tuple[str, str]] | Mapping[str, str] | None


def _pairs(values: Pairs) -> list[tuple[str, str]]:
    return list(values.items()) if isinstance(values, Mapping) else list(values or [])


def _multi(pairs: list[tuple[str, str]]) -> dict[str, list[str]]:
    grouped: dict[str, list[str]] = {}
    for name, value in pairs:
        grouped.setdefault(name, []).append(value)
    return grouped


def _last_values(grouped: dict[str, list[str]]) -> dict[str, str] | None:
    """API Gateway's single-value view: the last value of each name (None when there are none)."""
    return {name: values[-1] for name, values in grouped.items()} or None


def _body_text(body: bytes | str | None, binary: bool) -> str | None:
    """Text bodies as text, binary ones base64-encoded (``isBase64Encoded``)."""
    if not isinstance(body, bytes):
        return body
    return base64.b64encode(body).decode() if binary else body.decode("utf-8", errors="replace")


def _request_context(
    *, method: str, full_path: str, resource: str, stage: str, source_ip: str, domain_name: str,
    request_id: str, user_agent: str | None,
) -> dict[str, Any]:  # fmt: skip
    now = datetime.now(UTC)
    return {
        "accountId": "123456789012",
        "apiId": "local",
        "domainName": domain_name,
        "domainPrefix": domain_name.split(".", 1)[0],
        "extendedRequestId": request_id,
        "httpMethod": method,
        "identity": {"sourceIp": source_ip, "userAgent": user_agent},
        "path": full_path,
        "protocol": "HTTP/1.1",
        "requestId": request_id,
        "requestTime": now.strftime("%d/%b/%Y:%H:%M:%S +0000"),
        "requestTimeEpoch": int(time.time() * 1000),
        "resourceId": "local",
        "resourcePath": resource,
        "stage": stage,
    }


def proxy_event(
    *,
    method: str,
    path: str,
    resource: str,
    path_parameters: Mapping[str, str] | None = None,
    headers: Pairs = None,
    query: Pairs = None,
    body: bytes | str | None = None,
    binary: bool = False,
    stage: str = "v1",
    base_path: str | None = None,
    authorizer: Mapping[str, Any] | None = None,
    source_ip: str = "127.0.0.1",
    domain_name: str = "localhost",
    request_id: str | None = None,
) -> dict[str, Any]:
    """An API Gateway REST (v1) proxy integration event."""
    header_pairs = _pairs(headers)
    multi_headers, multi_query = _multi(header_pairs), _multi(_pairs(query))
    context = _request_context(
        method=method.upper(),
        full_path=(f"/{stage}" if base_path is None else base_path) + path,
        resource=resource,
        stage=stage,
        source_ip=source_ip,
        domain_name=domain_name,
        request_id=request_id or str(uuid.uuid4()),
        user_agent=next((v for k, v in header_pairs if k.lower() == "user-agent"), None),
    )
    if authorizer is not None:
        context["authorizer"] = dict(authorizer)
    return {
        "resource": resource,
        "path": path,
        "httpMethod": method.upper(),
        "headers": _last_values(multi_headers),
        "multiValueHeaders": multi_headers or None,
        "queryStringParameters": _last_values(multi_query),
        "multiValueQueryStringParameters": multi_query or None,
        "pathParameters": dict(path_parameters) if path_parameters else None,
        "stageVariables": None,
        "requestContext": context,
        "body": _body_text(body, binary),
        "isBase64Encoded": bool(binary and body is not None),
    }
