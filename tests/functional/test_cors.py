"""CORS: the web desk's origins may call the API from a browser, and read every answer, errors
included; other origins get no CORS header. Preflights need no API key."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest

from functions.api.app import ROUTES
from infra.apigateway.gateway import ApiGateway
from infra.apigateway.routes import api_routes
from infra.bootstrap import LocalStack
from tests.functional.conftest import issue_key, reset_function_caches, stack_with, template
from tests.helpers import ApiClient, GatewayClient, personnel_release

SITE_ORIGIN = "https://site.local.invalid"  # the local stand-in of the distribution's domain
DESK = "https://desk.example.org"
OTHER = "https://evil.example"
EXPOSED = {"Location", "ETag", "Retry-After"}


def _listed(value: str | None) -> set[str]:
    return {part.strip() for part in (value or "").split(",") if part.strip()}


@pytest.fixture
def desk_stack(aws: None, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[LocalStack, ApiGateway, str]]:
    """The template deployed with one more desk origin (DeskOrigins), a key and its gateway."""
    stack, gateway = stack_with(monkeypatch, {"DeskOrigins": f"{DESK}, http://localhost:8080"})
    _, token = issue_key(stack, "org-acme", "Acme")
    yield stack, gateway, token
    reset_function_caches()


# -- the template --------------------------------------------------------------------------------


def test_the_site_origin_is_always_allowed_and_desk_origins_adds_more(
    stack: LocalStack, desk_stack: tuple[LocalStack, ApiGateway, str]
) -> None:
    assert _listed(stack.function_environment("ApiFunction")["DESK_ORIGINS"]) == {SITE_ORIGIN}
    extra, _, _ = desk_stack
    assert _listed(extra.function_environment("ApiFunction")["DESK_ORIGINS"]) == {
        SITE_ORIGIN,
        DESK,
        "http://localhost:8080",
    }
    parameter = template()["Parameters"]["DeskOrigins"]
    assert parameter["Default"] == ""
    pattern = re.compile(parameter["AllowedPattern"])
    assert pattern.match("")
    assert pattern.match("https://a.example,https://b.example:8443")
    for wrong in ("https://a.example/", "https://a.example/desk", "desk.example.org", "*"):
        assert not pattern.match(wrong), wrong


def test_with_a_custom_domain_the_site_origin_is_that_domain(
    aws: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    stack, _ = stack_with(
        monkeypatch,
        {"SiteDomainName": "news.example.org", "SiteCertificateArn": "arn:aws:acm:us-east-1:1:certificate/x"},
    )
    assert _listed(stack.function_environment("ApiFunction")["DESK_ORIGINS"]) == {"https://news.example.org"}
    reset_function_caches()


def test_every_gateway_response_carries_cors_headers() -> None:
    responses = template()["Resources"]["ReleasesApi"]["Properties"]["GatewayResponses"]
    for name, spec in responses.items():
        headers = spec["ResponseParameters"]["Headers"]
        assert headers["Access-Control-Allow-Origin"] == "method.request.header.Origin", name
        assert "Retry-After" in headers["Access-Control-Expose-Headers"], name
        assert headers["Vary"] == "'Origin'", name


# -- the function's answers ------------------------------------------------------------------------


def test_an_allowed_origin_may_read_the_answer_and_its_headers(api: ApiClient) -> None:
    submitted = api.post("/releases", personnel_release(), headers={"Origin": SITE_ORIGIN})

    assert submitted.status == 202
    assert submitted.header("Access-Control-Allow-Origin") == SITE_ORIGIN
    assert _listed(submitted.header("Access-Control-Expose-Headers")) >= EXPOSED
    assert "Origin" in _listed(submitted.header("Vary"))
    assert submitted.header("Access-Control-Allow-Credentials") is None  # a key, never cookies
    # errors too: the desk shows a 422's field errors
    invalid = api.post("/releases", {"category": "sports"}, headers={"Origin": SITE_ORIGIN})
    assert invalid.status == 422
    assert invalid.header("Access-Control-Allow-Origin") == SITE_ORIGIN
    # and the refusals made before validation (here 415)
    refused = api.request(
        "POST", "/releases", body="x", headers={"Origin": SITE_ORIGIN, "Content-Type": "text/plain"}
    )
    assert refused.status == 415
    assert refused.header("Access-Control-Allow-Origin") == SITE_ORIGIN
    # and the OpenAPI document, where the desk reads the limits
    document = api.get("/openapi.json", headers={"Origin": SITE_ORIGIN})
    assert document.header("Access-Control-Allow-Origin") == SITE_ORIGIN


def test_another_origin_gets_no_cors_header(api: ApiClient) -> None:
    response = api.get("/releases", headers={"Origin": OTHER})

    assert response.status == 200  # CORS is the browser's business: the API answers as always
    assert response.header("Access-Control-Allow-Origin") is None
    assert response.header("Access-Control-Expose-Headers") is None
    assert "Origin" in _listed(response.header("Vary"))
    without_origin = api.get("/releases")
    assert without_origin.header("Access-Control-Allow-Origin") is None
    assert without_origin.header("Vary") is None


def test_a_malformed_desk_origins_fails_loudly(api: ApiClient, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DESK_ORIGINS", "https://ok.example,not an origin")
    reset_function_caches()

    response = api.get("/releases", headers={"Origin": "https://ok.example"})

    assert response.status == 500
    assert response.json()["type"] == "https://localhost/v1/problems/internal-error"  # absolute: it resolves


# -- preflights, through the gateway ---------------------------------------------------------------


def _preflight(gateway: ApiGateway, path: str, origin: str, method: str = "POST") -> Any:
    return GatewayClient(gateway).request(
        "OPTIONS",
        path,
        token=None,
        headers={
            "Origin": origin,
            "Access-Control-Request-Method": method,
            "Access-Control-Request-Headers": "authorization,content-type,idempotency-key",
        },
    )


@pytest.mark.parametrize(
    ("path", "method", "allowed"),
    [
        ("/releases", "POST", {"GET", "HEAD", "POST", "OPTIONS"}),
        (
            "/releases/0b7e6f3c-4a4b-4c5d-9e8f-0123456789ab",
            "PUT",
            {"GET", "HEAD", "PUT", "DELETE", "OPTIONS"},
        ),
        ("/previews", "POST", {"POST", "OPTIONS"}),
        ("/openapi.json", "GET", {"GET", "HEAD", "OPTIONS"}),
        ("/webhooks", "POST", {"GET", "HEAD", "POST", "OPTIONS"}),
        ("/webhooks/wh_0123456789abcdef", "DELETE", {"GET", "HEAD", "DELETE", "OPTIONS"}),
        ("/webhooks/wh_0123456789abcdef/test", "POST", {"POST", "OPTIONS"}),
        ("/webhooks/wh_0123456789abcdef/rotate-secret", "POST", {"POST", "OPTIONS"}),
        ("/webhooks/wh_0123456789abcdef/enable", "POST", {"POST", "OPTIONS"}),
        ("/webhooks/wh_0123456789abcdef/deliveries", "GET", {"GET", "HEAD", "OPTIONS"}),
        ("/media", "POST", {"POST", "OPTIONS"}),
        ("/media/0b7e6f3c-4a4b-4c5d-9e8f-0123456789ab", "DELETE", {"GET", "HEAD", "DELETE", "OPTIONS"}),
    ],
)
def test_a_preflight_needs_no_key_and_names_what_the_path_takes(
    desk_stack: tuple[LocalStack, ApiGateway, str], path: str, method: str, allowed: set[str]
) -> None:
    _, gateway, _ = desk_stack

    answer = _preflight(gateway, path, DESK, method)

    assert answer.status == 204, answer.body
    assert answer.header("Access-Control-Allow-Origin") == DESK
    assert _listed(answer.header("Access-Control-Allow-Methods")) == allowed
    assert {h.lower() for h in _listed(answer.header("Access-Control-Allow-Headers"))} >= {
        "authorization",
        "content-type",
        "idempotency-key",
        "if-match",
    }
    assert int(answer.header("Access-Control-Max-Age") or 0) > 0


def test_every_path_of_the_api_takes_a_preflight_without_a_key() -> None:
    # Given every path the API function serves, as the template routes it to the function
    routes = [r for r in api_routes(template()) if r.function == "ApiFunction"]
    paths = {r.path for r in routes}
    assert paths == set(ROUTES), "the template and the function disagree on the API's paths"
    # Then each has an OPTIONS event that neither the authorizer nor a usage plan stands in front of
    for path in sorted(paths):
        preflights = [r for r in routes if r.path == path and r.method == "OPTIONS"]
        public = [r for r in routes if r.path == path and not r.authorized and not r.api_key_required]
        assert preflights or public, f"{path}: a browser's preflight would meet the authorizer"
        for route in preflights:
            assert not route.authorized, path
            assert not route.api_key_required, path


def test_a_preflight_from_another_origin_is_not_granted(
    desk_stack: tuple[LocalStack, ApiGateway, str],
) -> None:
    _, gateway, _ = desk_stack

    answer = _preflight(gateway, "/releases", OTHER)

    assert answer.status == 204
    assert answer.header("Access-Control-Allow-Origin") is None
    assert answer.header("Access-Control-Allow-Methods") is None


def test_preflights_never_use_up_the_organisations_limits(aws: None, monkeypatch: pytest.MonkeyPatch) -> None:
    # Given an organisation allowed 2 requests in a burst
    stack, gateway = stack_with(monkeypatch, {"OrgRateLimit": "1", "OrgBurstLimit": "2"})
    _, token = issue_key(stack, "org-acme", "Acme")
    # When its desk sends many preflights
    for _ in range(5):
        assert _preflight(gateway, "/releases", SITE_ORIGIN).status == 204
    # Then its own requests still get through
    assert GatewayClient(gateway, token).request("GET", "/releases").status == 200
    reset_function_caches()


# -- API Gateway's own errors ----------------------------------------------------------------------


def test_the_gateways_own_errors_are_readable_by_the_desk(
    desk_stack: tuple[LocalStack, ApiGateway, str],
) -> None:
    _, gateway, token = desk_stack

    unauthenticated = GatewayClient(gateway, "pik_wrong").request(
        "GET", "/releases", headers={"Origin": DESK}
    )
    unknown = GatewayClient(gateway, token).request("GET", "/nothing", headers={"Origin": DESK})

    for response, status in ((unauthenticated, 401), (unknown, 404)):
        assert response.status == status
        assert response.header("Access-Control-Allow-Origin") == DESK
        assert "Retry-After" in _listed(response.header("Access-Control-Expose-Headers"))
        assert response.header("Content-Type") == "application/problem+json"
    # without an Origin (curl, scripts) no Access-Control-Allow-Origin at all
    plain = GatewayClient(gateway, "pik_wrong").request("GET", "/releases")
    assert plain.status == 401
    assert plain.header("Access-Control-Allow-Origin") is None


def test_a_throttled_desk_can_read_retry_after(aws: None, monkeypatch: pytest.MonkeyPatch) -> None:
    stack, gateway = stack_with(monkeypatch, {"OrgRateLimit": "1", "OrgBurstLimit": "1"})
    _, token = issue_key(stack, "org-acme", "Acme")
    client = GatewayClient(gateway, token)
    statuses = [client.request("GET", "/releases", headers={"Origin": SITE_ORIGIN}) for _ in range(3)]

    throttled = [r for r in statuses if r.status == 429]
    assert throttled
    assert throttled[0].header("Access-Control-Allow-Origin") == SITE_ORIGIN
    assert throttled[0].header("Retry-After") == "1"
    reset_function_caches()
