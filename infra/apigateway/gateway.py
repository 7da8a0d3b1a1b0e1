"""API Gateway (REST, Lambda proxy) as the template configures it, minus the network.

``ApiGateway.handle`` takes a raw HTTP request and does what API Gateway does before and after
the function: the 10 MB limit, route matching against the template's ``Api`` events, the
REQUEST authorizer with its result cache (``ReauthorizeEvery``, keyed on the identity headers),
the API key of methods that require one (``ApiKeySourceType: AUTHORIZER``: the authorizer's
``usageIdentifierKey``) throttled by its usage plan, the stage throttle, the proxy event, and
the template's gateway responses for every error it answers itself. Per-key limits come first,
so that one organisation's rejected flood never uses up the stage's tokens. The local stack's
HTTP server and the tests call it alike.
"""

from __future__ import annotations

import base64
import json
import logging
import re
import threading
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from infra.apigateway.events import proxy_event
from infra.apigateway.routes import ApiRoute, api_routes, match_route
from infra.apigateway.throttling import Admission, KeyThrottle, TokenBucket, UsagePlans
from infra.bootstrap import LocalStack

log = logging.getLogger("press_intake.gateway")

PROBLEM_JSON = "application/problem+json"
MAX_PAYLOAD_BYTES = 10 * 1024 * 1024  # API Gateway's hard limit for a request payload
Invoke = Callable[[str, dict[str, Any]], Any]

_DEFAULT_STATUS = {
    "UNAUTHORIZED": 401,
    "ACCESS_DENIED": 403,
    "INVALID_API_KEY": 403,
    "THROTTLED": 429,
    "QUOTA_EXCEEDED": 429,
    "API_CONFIGURATION_ERROR": 500,
    "MISSING_AUTHENTICATION_TOKEN": 403,
    "RESOURCE_NOT_FOUND": 404,
    "REQUEST_TOO_LARGE": 413,
    "AUTHORIZER_FAILURE": 500,
    "AUTHORIZER_CONFIGURATION_ERROR": 500,
    "INTEGRATION_FAILURE": 504,
    "INTEGRATION_TIMEOUT": 504,
}
_FALLBACK = {
    "UNAUTHORIZED": "DEFAULT_4XX",
    "ACCESS_DENIED": "DEFAULT_4XX",
    "INVALID_API_KEY": "DEFAULT_4XX",
    "THROTTLED": "DEFAULT_4XX",
    "QUOTA_EXCEEDED": "DEFAULT_4XX",
}


@dataclass
class HttpResponse:
    status: int
    headers: list[tuple[str, str]]
    body: bytes

    def header(self, name: str) -> str | None:
        return next((v for k, v in self.headers if k.lower() == name.lower()), None)


@dataclass(frozen=True)
class AuthorizerConfig:
    function: str
    identity_headers: tuple[str, ...]
    ttl_seconds: int


@dataclass(frozen=True)
class Authorized:
    """What the authorizer's answer gives the request: its context and the usage key."""

    context: dict[str, Any]
    usage_identifier_key: str | None


def _apigateway_client() -> Any:
    import boto3

    return boto3.client("apigateway")


class ApiGateway:
    def __init__(
        self,
        stack: LocalStack,
        invoke: Invoke,
        *,
        api_logical_id: str = "ReleasesApi",
        domain_name: str = "localhost",
        scheme: str = "http",
        clock: Callable[[], float] = time.monotonic,
        base_path: str | None = None,
        apigateway: Callable[[], Any] = _apigateway_client,
    ) -> None:
        self._invoke = invoke
        self._clock = clock
        self._domain = domain_name
        self._scheme = scheme
        self.routes: list[ApiRoute] = api_routes(stack.template)
        api = stack.template["Resources"][api_logical_id]
        props = stack.resolver.resolve(api.get("Properties") or {})
        self.stage = str(props.get("StageName", "v1"))
        # execute-api URLs carry the stage as their first segment; a custom domain may not.
        self.base_path = f"/{self.stage}" if base_path is None else base_path
        self.api_id = stack.ref(api_logical_id)
        self._responses: dict[str, dict[str, Any]] = props.get("GatewayResponses") or {}
        self.authorizer = self._authorizer_config(api.get("Properties") or {})
        settings = (props.get("MethodSettings") or [{}])[0]
        rate, burst = settings.get("ThrottlingRateLimit"), settings.get("ThrottlingBurstLimit")
        self._bucket = TokenBucket(float(rate), float(burst), clock()) if rate and burst else None
        self.api_key_source = str(props.get("ApiKeySourceType", "HEADER"))
        self._keys = KeyThrottle(UsagePlans(apigateway, self.api_id, self.stage, clock), clock)
        self._cache: dict[tuple[str, ...], tuple[float, dict[str, Any]]] = {}
        self._cache_lock = threading.Lock()

    @staticmethod
    def _authorizer_config(props: Mapping[str, Any]) -> AuthorizerConfig | None:
        auth = props.get("Auth") or {}
        name = auth.get("DefaultAuthorizer")
        if not name:
            return None
        spec = auth["Authorizers"][name]
        function_arn = spec["FunctionArn"]
        function = function_arn["Fn::GetAtt"][0] if isinstance(function_arn, dict) else str(function_arn)
        identity = spec.get("Identity") or {}
        return AuthorizerConfig(
            function=function,
            identity_headers=tuple(identity.get("Headers") or ["Authorization"]),
            ttl_seconds=int(identity.get("ReauthorizeEvery", 300)),
        )

    # -- the request path -----------------------------------------------------------------------

    def handle(
        self,
        method: str,
        path: str,
        *,
        headers: Sequence[tuple[str, str]] = (),
        query: Sequence[tuple[str, str]] = (),
        body: bytes = b"",
        source_ip: str = "127.0.0.1",
    ) -> HttpResponse:
        request_id = str(uuid.uuid4())
        if len(body) > MAX_PAYLOAD_BYTES:
            return self.gateway_response("REQUEST_TOO_LARGE", request_id, headers)
        matched = match_route(self.routes, method, path)
        if matched is None:
            return self.gateway_response("MISSING_AUTHENTICATION_TOKEN", request_id, headers)
        route, path_parameters = matched
        forwarded = [("X-Forwarded-For", source_ip), ("X-Forwarded-Proto", self._scheme)]
        event = proxy_event(
            method=method,
            path=path,
            resource=route.path,
            path_parameters=path_parameters,
            headers=[*[(k, v) for k, v in headers if not k.lower().startswith("x-forwarded-")], *forwarded],
            query=query,
            body=body if body else None,
            binary=not _is_text(headers, body),
            stage=self.stage,
            base_path=self.base_path,
            source_ip=source_ip,
            domain_name=self._domain,
            request_id=request_id,
        )
        usage_key = None
        if route.authorized and self.authorizer is not None:
            outcome = self._authorize(event, route)
            if isinstance(outcome, HttpResponse):
                return outcome
            event["requestContext"]["authorizer"] = outcome.context
            usage_key = outcome.usage_identifier_key
        refused = self._throttle(route, event, usage_key)
        if refused is not None:
            return refused
        return self._integrate(route, event)

    def _throttle(self, route: ApiRoute, event: dict[str, Any], usage_key: str | None) -> HttpResponse | None:
        """The usage plan of the request's API key (when the method needs one), then the stage."""
        request_id = event["requestContext"]["requestId"]
        if route.api_key_required:
            if self.api_key_source != "AUTHORIZER":
                usage_key = _header(event, "x-api-key")
            refused = self._admit_key(usage_key)
            if refused is not None:
                return self.gateway_response(refused, request_id, _headers(event))
        if self._bucket is not None and not self._bucket.take(self._clock()):
            return self.gateway_response("THROTTLED", request_id, _headers(event))
        return None

    def _admit_key(self, usage_key: str | None) -> str | None:
        """None when the key's usage plan admits the request, else the gateway response type."""
        try:
            admission = self._keys.admit(usage_key)
        except Exception:
            log.exception("usage plans could not be read")
            return "API_CONFIGURATION_ERROR"
        return {Admission.INVALID_API_KEY: "INVALID_API_KEY", Admission.THROTTLED: "THROTTLED"}.get(admission)

    def _authorize(self, event: dict[str, Any], route: ApiRoute) -> Authorized | HttpResponse:
        config = self.authorizer
        if config is None:  # handle() only calls this with an authorizer configured
            raise RuntimeError("no authorizer configured")
        request_id = event["requestContext"]["requestId"]
        identity = tuple(_header(event, name) or "" for name in config.identity_headers)
        if not all(identity):
            return self.gateway_response("UNAUTHORIZED", request_id, _headers(event))  # no authorizer call
        method_arn = (
            f"arn:aws:execute-api:us-east-1:123456789012:{self.api_id}/{self.stage}/"
            f"{event['httpMethod']}{event['path']}"
        )
        result = self._authorizer_answer(config, identity, event, method_arn)
        if isinstance(result, str):
            return self.gateway_response(result, request_id, _headers(event))
        if not _allows(result["policyDocument"], method_arn):
            return self.gateway_response("ACCESS_DENIED", request_id, _headers(event))
        context = {k: str(v) for k, v in (result.get("context") or {}).items()}
        usage_key = result.get("usageIdentifierKey")
        return Authorized(
            context={**context, "principalId": str(result.get("principalId", "")), "integrationLatency": 0},
            usage_identifier_key=str(usage_key) if usage_key else None,
        )

    def _authorizer_answer(
        self, config: AuthorizerConfig, identity: tuple[str, ...], event: dict[str, Any], method_arn: str
    ) -> dict[str, Any] | str:
        """The authorizer's answer for this identity (cached ``ReauthorizeEvery`` seconds), or the
        gateway response type when it refused or failed."""
        now = self._clock()
        with self._cache_lock:
            cached = self._cache.get(identity)
        if cached and cached[0] > now:
            return cached[1]
        authorizer_event = {
            **{k: v for k, v in event.items() if k not in ("body", "isBase64Encoded")},
            "type": "REQUEST",
            "methodArn": method_arn,
        }
        try:
            result = self._invoke(config.function, authorizer_event)
        except Exception as error:
            if str(error) == "Unauthorized":
                return "UNAUTHORIZED"
            log.exception("authorizer failed")
            return "AUTHORIZER_FAILURE"
        if not isinstance(result, dict) or "policyDocument" not in result:
            return "AUTHORIZER_CONFIGURATION_ERROR"
        if config.ttl_seconds > 0:
            with self._cache_lock:
                self._cache[identity] = (now + config.ttl_seconds, result)
        return result

    def _integrate(self, route: ApiRoute, event: dict[str, Any]) -> HttpResponse:
        request_id = event["requestContext"]["requestId"]
        try:
            result = self._invoke(route.function, event)
        except Exception:
            log.exception("function %s failed", route.function)
            return self.gateway_response("INTEGRATION_FAILURE", request_id, _headers(event))
        if not isinstance(result, dict) or not isinstance(result.get("statusCode"), int):
            log.error("function %s returned a malformed proxy response", route.function)
            return self.gateway_response("INTEGRATION_FAILURE", request_id, _headers(event))
        raw = result.get("body") or ""
        body = base64.b64decode(raw) if result.get("isBase64Encoded") else str(raw).encode()
        return HttpResponse(status=result["statusCode"], headers=_response_headers(result), body=body)

    # -- gateway responses ----------------------------------------------------------------------

    def gateway_response(
        self, response_type: str, request_id: str, request_headers: Sequence[tuple[str, str]] = ()
    ) -> HttpResponse:
        """The template's gateway response of this type; its header values are static (``'...'``)
        or the request's own (``method.request.header.NAME``, left out when the request has none)."""
        spec = self._responses.get(response_type)
        if spec is None:
            default = "DEFAULT_5XX" if _DEFAULT_STATUS.get(response_type, 500) >= 500 else "DEFAULT_4XX"
            spec = self._responses.get(_FALLBACK.get(response_type, default), {})
            status = _DEFAULT_STATUS.get(response_type, 500)
        else:
            status = int(spec.get("StatusCode", _DEFAULT_STATUS.get(response_type, 500)))
        headers = []
        for name, value in ((spec.get("ResponseParameters") or {}).get("Headers") or {}).items():
            resolved = _mapped_value(str(value), request_headers)
            if resolved is not None:
                headers.append((name, resolved))
        template = (spec.get("ResponseTemplates") or {}).get("application/json")
        if template is None:
            body = json.dumps({"message": response_type.replace("_", " ").title()})
            headers.append(("Content-Type", "application/json"))
        else:
            body = self._render_template(template, request_id)
        return HttpResponse(status=int(status), headers=headers, body=body.encode())

    def _render_template(self, template: str, request_id: str) -> str:
        """A gateway response template with the ``$context`` variables it uses. The API's root as
        the template writes it on AWS (``https://$context.domainName/$context.stage``, for the
        problems' ``type`` URIs) is this gateway's root: its scheme and base path here."""
        root = f"{self._scheme}://{self._domain}{self.base_path}"
        return (
            template.replace("https://$context.domainName/$context.stage", root)
            .replace("$context.domainName", self._domain)
            .replace("$context.stage", self.stage)
            .replace("$context.requestId", request_id)
        )

    def clear_authorizer_cache(self) -> None:
        with self._cache_lock:
            self._cache.clear()


def with_absolute_type(response: HttpResponse, root: str) -> HttpResponse:
    """``response`` with a problem's relative ``type`` (``/problems/...``, the emulation's own)
    made absolute under ``root``, as the API's are: it resolves to the problem's page there."""
    if not (response.header("Content-Type") or "").startswith(PROBLEM_JSON):
        return response
    try:
        document = json.loads(response.body)
    except ValueError:
        return response
    if not isinstance(document, dict) or not str(document.get("type", "")).startswith("/problems/"):
        return response
    document["type"] = root.rstrip("/") + document["type"]
    return HttpResponse(response.status, response.headers, json.dumps(document).encode())


def problem(
    status: int, slug: str, title: str, detail: str, headers: Sequence[tuple[str, str]] = ()
) -> HttpResponse:
    """An ``application/problem+json`` answer of the emulation itself (not one of the template's);
    the server makes its ``type`` absolute (``with_absolute_type``)."""
    document = {"type": f"/problems/{slug}", "title": title, "status": status, "detail": detail}
    return HttpResponse(
        status=status,
        headers=[("Content-Type", PROBLEM_JSON), *headers],
        body=json.dumps(document).encode(),
    )


_REQUEST_HEADER = "method.request.header."


def _mapped_value(value: str, request_headers: Sequence[tuple[str, str]]) -> str | None:
    """A gateway response parameter's value: a quoted literal, or a request header's value."""
    if value.startswith(_REQUEST_HEADER):
        wanted = value[len(_REQUEST_HEADER) :].lower()
        return next((v for k, v in request_headers if k.lower() == wanted), None)
    return value.strip("'")


def _headers(event: Mapping[str, Any]) -> list[tuple[str, str]]:
    """A proxy event's request headers as (name, value) pairs."""
    return [(str(k), str(v)) for k, v in (event.get("headers") or {}).items() if v is not None]


def _header(event: Mapping[str, Any], name: str) -> str | None:
    """A request header of a proxy event, by case-insensitive name."""
    return next((str(v) for k, v in (event.get("headers") or {}).items() if k.lower() == name.lower()), None)


def _response_headers(result: Mapping[str, Any]) -> list[tuple[str, str]]:
    """A proxy response's headers: multi-value ones win over single-value ones of the same name."""
    multi = result.get("multiValueHeaders") or {}
    headers = [
        (name, str(value)) for name, value in (result.get("headers") or {}).items() if name not in multi
    ]
    for name, values in multi.items():
        headers.extend((name, str(v)) for v in values)
    return headers


def _is_text(headers: Sequence[tuple[str, str]], body: bytes) -> bool:
    """API Gateway passes text bodies as text and binary ones base64-encoded."""
    if not body:
        return True
    content_type = next((v for k, v in headers if k.lower() == "content-type"), "")
    if content_type.startswith(("multipart/", "application/octet-stream", "image/")):
        return False
    try:
        body.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def _allows(policy: Mapping[str, Any], method_arn: str) -> bool:
    """IAM-style evaluation of an authorizer policy for one method ARN: an explicit Deny wins."""
    statements = policy.get("Statement") or []
    if isinstance(statements, dict):
        statements = [statements]
    allowed = False
    for statement in statements:
        resources = statement.get("Resource") or []
        if isinstance(resources, str):
            resources = [resources]
        if not any(_arn_matches(pattern, method_arn) for pattern in resources):
            continue
        if statement.get("Effect") == "Deny":
            return False
        if statement.get("Effect") == "Allow":
            allowed = True
    return allowed


def _arn_matches(pattern: str, arn: str) -> bool:
    regex = "^" + ".*".join(re.escape(part) for part in pattern.split("*")) + "$"
    return re.match(regex, arn) is not None
