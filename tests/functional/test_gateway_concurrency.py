"""Many requests at once through the gateway: each function serves one request at a time, as in
one Lambda execution environment, so module-level state (the Powertools resolver) never races."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from infra.apigateway.gateway import ApiGateway
from tests.helpers import GatewayClient


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
