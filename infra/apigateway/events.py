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


def proxy_event(
    *,
    method: str,
    path: str,
    resource: str,
    path_parameters: Mapping[str, str] | None = None,
    headers: Sequence[tuple[str, str]] | Mapping[str, str] | None = None,
    query: Sequence[tuple[str, str]] | Mapping[str, str] | None = None,
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
    header_pairs = list(headers.items()) if isinstance(headers, Mapping) else list(headers or [])
    query_pairs = list(query.items()) if isinstance(query, Mapping) else list(query or [])
    multi_headers: dict[str, list[str]] = {}
    for name, value in header_pairs:
        multi_headers.setdefault(name, []).append(value)
    multi_query: dict[str, list[str]] = {}
    for name, value in query_pairs:
        multi_query.setdefault(name, []).append(value)
    if isinstance(body, bytes):
        if binary:
            body_text: str | None = base64.b64encode(body).decode()
        else:
            body_text = body.decode("utf-8", errors="replace")
    else:
        body_text = body
    now = datetime.now(UTC)
    request_id = request_id or str(uuid.uuid4())
    user_agent = next((v for k, v in header_pairs if k.lower() == "user-agent"), None)
    context: dict[str, Any] = {
        "accountId": "123456789012",
        "apiId": "local",
        "domainName": domain_name,
        "domainPrefix": domain_name.split(".", 1)[0],
        "extendedRequestId": request_id,
        "httpMethod": method.upper(),
        "identity": {"sourceIp": source_ip, "userAgent": user_agent},
        "path": f"{f'/{stage}' if base_path is None else base_path}{path}",
        "protocol": "HTTP/1.1",
        "requestId": request_id,
        "requestTime": now.strftime("%d/%b/%Y:%H:%M:%S +0000"),
        "requestTimeEpoch": int(time.time() * 1000),
        "resourceId": "local",
        "resourcePath": resource,
        "stage": stage,
    }
    if authorizer is not None:
        context["authorizer"] = dict(authorizer)
    return {
        "resource": resource,
        "path": path,
        "httpMethod": method.upper(),
        "headers": {name: values[-1] for name, values in multi_headers.items()} or None,
        "multiValueHeaders": multi_headers or None,
        "queryStringParameters": {name: values[-1] for name, values in multi_query.items()} or None,
        "multiValueQueryStringParameters": multi_query or None,
        "pathParameters": dict(path_parameters) if path_parameters else None,
        "stageVariables": None,
        "requestContext": context,
        "body": body_text,
        "isBase64Encoded": bool(binary and body is not None),
    }
