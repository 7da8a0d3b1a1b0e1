"""Test helpers shared by the tiers: sample releases and an API Gateway-shaped client."""

from __future__ import annotations

import copy
import json
import socket
import subprocess
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from infra.apigateway.events import proxy_event
from infra.apigateway.routes import ApiRoute, match_route
from infra.lambda_context import LocalLambdaContext

BODY_TEXT = (
    "Acme Corporation today announced that Jane Doe will join the company as chief financial officer "
    "on January 1, 2027. Doe joins from Example Industries, where she led the finance team for eight "
    "years and oversaw the company's listing on the stock exchange. She succeeds John Roe, who retires "
    'after twenty years with Acme. "Jane brings deep experience of public markets and a steady hand," '
    "said Acme's chief executive. Doe will be based at the company's headquarters in St Petersburg and "
    "will report to the chief executive. The board thanked Roe for his long service to the company."
)


def personnel_release(**overrides: Any) -> dict[str, Any]:
    """A valid personnel release, as a client would send it."""
    release: dict[str, Any] = {
        "category": "personnel",
        "headline": "Acme names Jane Doe chief financial officer",
        "subheadline": "Finance veteran joins from Example Industries",
        "summary": "Acme appoints Jane Doe as CFO from January.",
        "body": BODY_TEXT,
        "body_format": "text",
        "dateline": "ST PETERSBURG, Florida",
        "language": "en",
        "contact": {"name": "Press Office", "email": "press@acme.example", "phone": "+1 555 0100"},
        "boilerplate": "About Acme: Acme makes everything.",
        "links": [{"url": "https://acme.example/news", "title": "Newsroom"}],
        "tags": ["finance"],
        "details": {"person": "Jane Doe", "role": "Chief Financial Officer", "effective_date": "2027-01-01"},
    }
    release.update(copy.deepcopy(overrides))
    return release


def in_days(days: float) -> str:
    return (datetime.now(UTC) + timedelta(days=days)).isoformat()


@dataclass
class ApiResponse:
    status: int
    headers: dict[str, str]
    body: str

    def header(self, name: str) -> str | None:
        return next((v for k, v in self.headers.items() if k.lower() == name.lower()), None)

    def json(self) -> Any:
        return json.loads(self.body)

    @property
    def content_type(self) -> str:
        return (self.header("content-type") or "").split(";")[0].strip()


@dataclass
class ApiClient:
    """Calls a Lambda handler with realistic API Gateway REST proxy events."""

    handler: Callable[[dict[str, Any], Any], dict[str, Any]]
    routes: Sequence[ApiRoute]
    org_id: str | None = "org-acme"
    org_name: str = "Acme Corporation"
    function_name: str = "ApiFunction"
    timeout_seconds: float = 10.0
    last_event: dict[str, Any] = field(default_factory=dict)

    def request(
        self,
        method: str,
        path: str,
        *,
        json_body: Any = None,
        body: str | bytes | None = None,
        headers: Mapping[str, str] | None = None,
        query: Mapping[str, str] | Sequence[tuple[str, str]] | None = None,
        org_id: str | None = "__default__",
        binary: bool = False,
    ) -> ApiResponse:
        all_headers = {"Accept": "application/json", "User-Agent": "pytest"}
        if json_body is not None:
            body = json.dumps(json_body)
            all_headers["Content-Type"] = "application/json"
        all_headers.update(headers or {})
        matched = match_route(self.routes, method, path)
        resource, params = (matched[0].path, matched[1]) if matched else (path, {})
        org = self.org_id if org_id == "__default__" else org_id
        authorizer = (
            {"org_id": org, "org_name": self.org_name, "key_id": "key-test", "principalId": org}
            if org
            else None
        )
        event = proxy_event(
            method=method,
            path=path,
            resource=resource,
            path_parameters=params,
            headers=all_headers,
            query=query,
            body=body,
            binary=binary,
            authorizer=authorizer,
        )
        self.last_event = event
        context = LocalLambdaContext(function_name=self.function_name, timeout_seconds=self.timeout_seconds)
        result = self.handler(event, context)
        headers_out = dict(result.get("headers") or {})
        for name, values in (result.get("multiValueHeaders") or {}).items():
            headers_out[name] = ", ".join(values)
        return ApiResponse(status=result["statusCode"], headers=headers_out, body=result.get("body") or "")

    def post(self, path: str, json_body: Any = None, **kwargs: Any) -> ApiResponse:
        return self.request("POST", path, json_body=json_body, **kwargs)

    def put(self, path: str, json_body: Any = None, **kwargs: Any) -> ApiResponse:
        return self.request("PUT", path, json_body=json_body, **kwargs)

    def get(self, path: str, **kwargs: Any) -> ApiResponse:
        return self.request("GET", path, **kwargs)

    def delete(self, path: str, **kwargs: Any) -> ApiResponse:
        return self.request("DELETE", path, **kwargs)

    def as_org(self, org_id: str | None, org_name: str = "Other Org") -> ApiClient:
        return ApiClient(self.handler, self.routes, org_id, org_name, self.function_name)


@dataclass
class GatewayClient:
    """Raw HTTP-shaped requests through ``infra.apigateway.gateway.ApiGateway`` (authorizer included)."""

    gateway: Any
    token: str | None = None

    def request(
        self,
        method: str,
        path: str,
        *,
        json_body: Any = None,
        token: str | None = "__default__",
        headers: Mapping[str, str] | None = None,
        query: Sequence[tuple[str, str]] = (),
    ) -> ApiResponse:
        all_headers = dict(headers or {})
        use = self.token if token == "__default__" else token
        if use is not None:
            all_headers["Authorization"] = f"Bearer {use}"
        body = b""
        if json_body is not None:
            body = json.dumps(json_body).encode()
            all_headers.setdefault("Content-Type", "application/json")
        response = self.gateway.handle(
            method, path, headers=list(all_headers.items()), query=query, body=body
        )
        return ApiResponse(
            status=response.status, headers=dict(response.headers), body=response.body.decode()
        )


def sqs_event(
    bodies: Sequence[str], *, queue_arn: str = "arn:aws:sqs:us-east-1:123456789012:publish"
) -> dict[str, Any]:
    """A Lambda SQS event with one record per body, shaped as the SQS event source sends them."""
    import hashlib
    import time
    import uuid

    now = str(int(time.time() * 1000))
    return {
        "Records": [
            {
                "messageId": str(uuid.uuid4()),
                "receiptHandle": f"handle-{index}",
                "body": body,
                "attributes": {
                    "ApproximateReceiveCount": "1",
                    "SentTimestamp": now,
                    "SenderId": "AIDAEXAMPLE",
                    "ApproximateFirstReceiveTimestamp": now,
                },
                "messageAttributes": {},
                "md5OfBody": hashlib.md5(body.encode(), usedforsecurity=False).hexdigest(),
                "eventSource": "aws:sqs",
                "eventSourceARN": queue_arn,
                "awsRegion": "us-east-1",
            }
            for index, body in enumerate(bodies)
        ]
    }


def free_ports(count: int) -> list[int]:
    """``count`` distinct loopback ports free right now (held open together while they are
    chosen, so two asks in a row can never be handed the same port)."""
    probes = [socket.socket() for _ in range(count)]
    try:
        for probe in probes:
            probe.bind(("127.0.0.1", 0))
        return [int(probe.getsockname()[1]) for probe in probes]
    finally:
        for probe in probes:
            probe.close()


def free_port() -> int:
    return free_ports(1)[0]


def build_function(target: str, artifacts: Path, **variables: str) -> subprocess.CompletedProcess[str]:
    """``make build-<target>`` of functions/Makefile into ``artifacts``, as ``sam build`` runs it
    (from the folder itself), with make ``variables`` set; output captured."""
    return subprocess.run(  # noqa: S603
        [  # noqa: S607 - make from PATH
            "make",
            "--no-print-directory",
            f"build-{target}",
            f"ARTIFACTS_DIR={artifacts}",
            *(f"{name}={value}" for name, value in variables.items()),
        ],
        cwd=Path(__file__).resolve().parents[1] / "functions",
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
