"""Per-organisation limits: usage plans keyed by the authorizer, enforced by the gateway.

Each organisation's usage key (an API Gateway API key, created with its first key) is in the
default usage plan (OrgRateLimit/OrgBurstLimit) or in a plan of its own; the authorizer hands it
to API Gateway as usageIdentifierKey; the gateway throttles each key by its plan, then the stage.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import boto3
import pytest

from functions.adapters.apigateway_usage_plans import ApiGatewayUsagePlans
from functions.adapters.dynamodb_keys import DynamoKeyRepository
from functions.domain import keys
from infra.apigateway.gateway import ApiGateway
from infra.apigateway.routes import api_routes
from infra.bootstrap import LocalStack, bootstrap
from infra.lambdas import LocalFunctions
from infra.template import load_template
from tests.functional.conftest import FakeClock, issue_key, stack_with
from tests.helpers import ApiResponse, GatewayClient

PROBLEM = "application/problem+json"


def _plans(stack: LocalStack) -> ApiGatewayUsagePlans:
    return ApiGatewayUsagePlans(boto3.client("apigateway"), stack.ref("OrganisationsUsagePlan"))


def _statuses(client: GatewayClient, count: int) -> list[int]:
    return [client.request("GET", "/releases").status for _ in range(count)]


def _throttled(response: ApiResponse) -> None:
    assert response.status == 429
    assert response.content_type == PROBLEM
    assert response.json()["type"] == "http://localhost/v1/problems/throttled"
    assert response.header("Retry-After") == "1"


# -- the template ---------------------------------------------------------------------------------


def test_every_method_but_the_public_documents_and_cors_preflights_needs_the_organisations_usage_key() -> (
    None
):
    # The OpenAPI document and the problem pages (what a problem's type URI resolves to) are public
    template = load_template()
    api = template["Resources"]["ReleasesApi"]["Properties"]
    assert api["ApiKeySourceType"] == "AUTHORIZER"
    assert api["Auth"]["ApiKeyRequired"] is True
    required = {(r.path, r.method): r.api_key_required for r in api_routes(template)}
    assert required == {
        ("/releases", "ANY"): True,
        ("/releases/{id}", "ANY"): True,
        ("/previews", "ANY"): True,
        ("/webhooks", "ANY"): True,
        ("/webhooks/{id}", "ANY"): True,
        ("/webhooks/{id}/test", "ANY"): True,
        ("/webhooks/{id}/rotate-secret", "ANY"): True,
        ("/webhooks/{id}/enable", "ANY"): True,
        ("/webhooks/{id}/deliveries", "ANY"): True,
        ("/media", "ANY"): True,
        ("/media/{id}", "ANY"): True,
        ("/openapi.json", "ANY"): False,
        ("/problems/{slug}", "ANY"): False,
        # a browser's CORS preflight carries no key (the function answers it, see test_cors.py)
        ("/releases", "OPTIONS"): False,
        ("/releases/{id}", "OPTIONS"): False,
        ("/previews", "OPTIONS"): False,
        ("/media", "OPTIONS"): False,
        ("/media/{id}", "OPTIONS"): False,
        ("/webhooks", "OPTIONS"): False,
        ("/webhooks/{id}", "OPTIONS"): False,
        ("/webhooks/{id}/test", "OPTIONS"): False,
        ("/webhooks/{id}/rotate-secret", "OPTIONS"): False,
        ("/webhooks/{id}/enable", "OPTIONS"): False,
        ("/webhooks/{id}/deliveries", "OPTIONS"): False,
    }
    authorized = {(r.path, r.method) for r in api_routes(template) if r.authorized}
    assert authorized == {
        ("/releases", "ANY"),
        ("/releases/{id}", "ANY"),
        ("/previews", "ANY"),
        ("/webhooks", "ANY"),
        ("/webhooks/{id}", "ANY"),
        ("/webhooks/{id}/test", "ANY"),
        ("/webhooks/{id}/rotate-secret", "ANY"),
        ("/webhooks/{id}/enable", "ANY"),
        ("/webhooks/{id}/deliveries", "ANY"),
        ("/media", "ANY"),
        ("/media/{id}", "ANY"),
    }


def test_the_default_organisation_limits_are_below_the_stage_limits() -> None:
    parameters = load_template()["Parameters"]
    assert parameters["OrgRateLimit"]["Default"] < parameters["ThrottlingRateLimit"]["Default"]
    assert parameters["OrgBurstLimit"]["Default"] < parameters["ThrottlingBurstLimit"]["Default"]


@pytest.mark.parametrize("response_type", ["THROTTLED", "QUOTA_EXCEEDED"])
def test_throttled_and_quota_exceeded_are_429_problems_with_retry_after(response_type: str) -> None:
    spec = load_template()["Resources"]["ReleasesApi"]["Properties"]["GatewayResponses"][response_type]
    assert spec["StatusCode"] == 429
    headers = spec["ResponseParameters"]["Headers"]
    assert headers["Content-Type"] == "'application/problem+json'"
    assert int(headers["Retry-After"].strip("'")) > 0


def test_the_default_usage_plan_is_created_in_moto_from_the_template(aws: None) -> None:
    stack = bootstrap(boto3.client, parameters={"OrgRateLimit": "7", "OrgBurstLimit": "9"})
    plan = boto3.client("apigateway").get_usage_plan(usagePlanId=stack.ref("OrganisationsUsagePlan"))
    assert plan["name"] == "press-intake-local-organisations"
    assert plan["apiStages"] == [{"apiId": stack.ref("ReleasesApi"), "stage": "v1"}]
    assert plan["throttle"] == {"rateLimit": 7.0, "burstLimit": 9}


# -- usage keys -----------------------------------------------------------------------------------


def test_an_organisation_gets_one_usage_key_in_the_default_plan_shared_by_its_keys(
    stack: LocalStack, dynamodb: Any
) -> None:
    first, _ = issue_key(stack, "org-acme", "Acme")
    second, _ = issue_key(stack, "org-acme", "Acme")
    issue_key(stack, "org-rovers", "Rovers")
    repo = DynamoKeyRepository(dynamodb, stack.ref("KeysTable"))
    records = [repo.get(first), repo.get(second)]
    usage_keys = {r.usage_key for r in records if r is not None}
    assert len(usage_keys) == 1
    (usage_key,) = usage_keys
    assert usage_key is not None
    apigateway = boto3.client("apigateway")
    names = sorted(k["name"] for k in apigateway.get_api_keys()["items"])
    assert names == [
        "press-intake-local-organisations/org-acme",
        "press-intake-local-organisations/org-rovers",
    ]
    plans = apigateway.get_usage_plans(keyId=usage_key.key_id)["items"]
    assert [p["id"] for p in plans] == [stack.ref("OrganisationsUsagePlan")]


def test_the_authorizer_returns_the_organisations_usage_key(
    stack: LocalStack, functions_env: LocalFunctions, dynamodb: Any
) -> None:
    key_id, token = issue_key(stack, "org-acme", "Acme")
    event = {
        "type": "REQUEST",
        "methodArn": "arn:aws:execute-api:us-east-1:123456789012:abc123/v1/GET/releases",
        "headers": {"Authorization": f"Bearer {token}"},
        "requestContext": {"requestId": "r"},
    }
    result = functions_env.invoke("AuthorizerFunction", event)
    record = DynamoKeyRepository(dynamodb, stack.ref("KeysTable")).get(key_id)
    assert record is not None
    assert record.usage_key is not None
    assert result["usageIdentifierKey"] == record.usage_key.value
    assert record.usage_key.value not in str(result["context"])  # never passed on to the API function


def test_a_key_without_a_usage_key_is_refused_with_403(
    stack: LocalStack, gateway: ApiGateway, dynamodb: Any
) -> None:
    # Given a key record without a usage key (issued before per-organisation limits existed)
    issued = keys.issue()
    DynamoKeyRepository(dynamodb, stack.ref("KeysTable")).create(
        keys.KeyRecord(
            key_id=issued.key_id,
            org_id="org-old",
            org_name="Old",
            role="submitter",
            status=keys.ACTIVE,
            secret_hash=keys.hash_secret(issued.secret),
            created_at=datetime.now(UTC),
        )
    )
    response = GatewayClient(gateway, token=issued.token).request("GET", "/releases")
    assert response.status == 403
    assert response.content_type == PROBLEM
    assert "usage plan" in response.json()["detail"]


def test_a_disabled_usage_key_is_refused_with_403(
    stack: LocalStack, gateway: ApiGateway, dynamodb: Any
) -> None:
    key_id, token = issue_key(stack, "org-acme", "Acme")
    record = DynamoKeyRepository(dynamodb, stack.ref("KeysTable")).get(key_id)
    assert record is not None
    assert record.usage_key is not None
    boto3.client("apigateway").update_api_key(
        apiKey=record.usage_key.key_id,
        patchOperations=[{"op": "replace", "path": "/enabled", "value": "false"}],
    )
    assert GatewayClient(gateway, token=token).request("GET", "/releases").status == 403


# -- throttling -----------------------------------------------------------------------------------


def test_a_flood_from_one_organisation_is_throttled_while_another_keeps_getting_2xx(
    stack: LocalStack, gateway: ApiGateway, clock: FakeClock
) -> None:
    _, acme_token = issue_key(stack, "org-acme", "Acme")
    _, rovers_token = issue_key(stack, "org-rovers", "Rovers")
    acme, rovers = GatewayClient(gateway, token=acme_token), GatewayClient(gateway, token=rovers_token)

    # When Acme sends 30 requests at one instant (default plan: 10/s, bursts of 20)
    flood = _statuses(acme, 30)
    # Then its burst passes and the rest is throttled
    assert flood == [200] * 20 + [429] * 10
    _throttled(acme.request("GET", "/releases"))
    # While Rovers, in the same instant, is served as if Acme were not there
    assert _statuses(rovers, 15) == [200] * 15
    # And a second later Acme has 10 more
    clock.now += 1
    assert _statuses(acme, 11) == [200] * 10 + [429]


def test_the_stage_limit_still_caps_all_organisations_together(
    aws: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a stage allowing bursts of 5, and organisations allowed 20 each
    stack, gateway = stack_with(monkeypatch, {"ThrottlingRateLimit": "1", "ThrottlingBurstLimit": "5"})
    _, a = issue_key(stack, "org-a", "A")
    _, b = issue_key(stack, "org-b", "B")
    statuses = _statuses(GatewayClient(gateway, token=a), 3) + _statuses(GatewayClient(gateway, token=b), 3)
    assert statuses == [200] * 5 + [429]


def test_an_organisations_own_limits_replace_the_default(
    stack: LocalStack, gateway: ApiGateway, clock: FakeClock
) -> None:
    _, token = issue_key(stack, "org-acme", "Acme")
    client = GatewayClient(gateway, token=token)
    assert _statuses(client, 3) == [200] * 3  # the default plan (bursts of 20)
    # When the operator gives Acme 1 request/s with bursts of 2
    plan = _plans(stack).set_limits("org-acme", keys.org_limits(1, 2))
    assert plan.dedicated
    # Then it applies once the gateway's view of the plans is refreshed (a few seconds)
    clock.now += 5
    assert _statuses(client, 3) == [200, 200, 429]
    clock.now += 1
    assert _statuses(client, 2) == [200, 429]
    # And back to the default plan, its own plan is gone
    _plans(stack).reset_limits("org-acme")
    clock.now += 5
    assert _statuses(client, 10) == [200] * 10
    names = [p["name"] for p in boto3.client("apigateway").get_usage_plans()["items"]]
    assert names == ["press-intake-local-organisations"]


def test_limits_change_in_place_for_an_organisation_with_its_own_plan(stack: LocalStack) -> None:
    issue_key(stack, "org-acme", "Acme")
    plans = _plans(stack)
    first = plans.set_limits("org-acme", keys.org_limits(3, 6))
    second = plans.set_limits("org-acme", keys.org_limits(4, 8))
    assert first.plan_id == second.plan_id
    current = plans.plan_of("org-acme")
    assert current is not None
    assert current.limits == keys.OrgLimits(rate=4, burst=8)
    assert plans.plan_of("org-nobody") is None


@pytest.mark.parametrize(("rate", "burst"), [(0, 1), (-1, 5), (10_001, 5), (5, 0), (5, 5_001)])
def test_limits_out_of_range_are_refused(rate: float, burst: int) -> None:
    with pytest.raises(ValueError, match=r"rate|burst"):
        keys.org_limits(rate, burst)
