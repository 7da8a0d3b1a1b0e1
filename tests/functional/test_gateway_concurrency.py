"""Many requests at once through the gateway: each function serves one request at a time, as in
one Lambda execution environment, so module-level state (the Powertools resolver) never races."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import boto3
import pytest

from infra.apigateway.gateway import ApiGateway
from infra.bootstrap import bootstrap
from infra.lambdas import LocalFunctions, local_functions
from tests.functional.conftest import issue_key, reset_function_caches
from tests.helpers import GatewayClient


@pytest.fixture
def unthrottled(aws: None, monkeypatch: pytest.MonkeyPatch) -> tuple[ApiGateway, str]:
    """The template's gateway with limits far above what the test sends (nothing is throttled)."""
    stack = bootstrap(
        boto3.client,
        parameters={"ThrottlingRateLimit": "100000", "ThrottlingBurstLimit": "100000"},
    )
    functions: LocalFunctions = local_functions(stack)
    for name, value in functions.environment.items():
        monkeypatch.setenv(name, value)
    reset_function_caches()
    _, token = issue_key(stack, "org-acme", "Acme")
    return ApiGateway(stack, functions.invoke), token


def test_200_concurrent_requests_get_no_5xx(unthrottled: tuple[ApiGateway, str]) -> None:
    gateway, token = unthrottled
    client = GatewayClient(gateway, token=token)
    paths = ["/releases", "/openapi.json", "/releases/7d0f4f5e-8f57-4c5c-9a39-2fbb1f7e2a10", "/nothing"]

    def call(index: int) -> int:
        return client.request("GET", paths[index % len(paths)]).status

    # When 200 requests arrive at once
    with ThreadPoolExecutor(max_workers=50) as pool:
        statuses = list(pool.map(call, range(200)))
    # Then every one is answered as it would be alone
    assert sorted(set(statuses)) == [200, 404]
    assert statuses.count(200) == 100
