"""The REQUEST authorizer, alone and in front of the API (authorizer context -> API handler)."""

from __future__ import annotations

from typing import Any

import boto3
import pytest

from functions.adapters.dynamodb_keys import DynamoKeyRepository
from infra.apigateway.gateway import ApiGateway
from infra.bootstrap import LocalStack, bootstrap
from infra.lambdas import LocalFunctions
from tests.functional.conftest import FakeClock, issue_key
from tests.helpers import GatewayClient, personnel_release

PROBLEM = "application/problem+json"


def _authorizer_event(header: str | None) -> dict[str, Any]:
    headers = {"Authorization": header} if header is not None else {}
    return {
        "type": "REQUEST",
        "methodArn": "arn:aws:execute-api:us-east-1:123456789012:abc123/v1/GET/releases",
        "resource": "/releases",
        "path": "/releases",
        "httpMethod": "GET",
        "headers": headers,
        "multiValueHeaders": {k: [v] for k, v in headers.items()},
        "queryStringParameters": None,
        "pathParameters": None,
        "stageVariables": None,
        "requestContext": {"requestId": "req-1", "stage": "v1", "httpMethod": "GET", "path": "/v1/releases"},
    }


def test_a_valid_key_allows_every_route_with_the_organisation_in_context(
    stack: LocalStack, functions_env: LocalFunctions
) -> None:
    key_id, token = issue_key(stack, "org-acme", "Acme Corporation")
    result = functions_env.invoke("AuthorizerFunction", _authorizer_event(f"Bearer {token}"))
    assert result["principalId"] == "org-acme"
    assert result["context"] == {
        "org_id": "org-acme",
        "org_name": "Acme Corporation",
        "key_id": key_id,
        "role": "submitter",
    }
    statements = result["policyDocument"]["Statement"]
    assert [s["Effect"] for s in statements] == ["Allow"]
    assert statements[0]["Resource"] == ["arn:aws:execute-api:us-east-1:123456789012:abc123/v1/*/*"]


@pytest.mark.parametrize(
    "header",
    [None, "", "Bearer", "Basic dXNlcjpwYXNz", "Bearer pik_aaaaaaaaaaaaaaaa_" + "A" * 43, "Bearer garbage"],
)
def test_missing_malformed_and_unknown_keys_are_unauthorized(
    stack: LocalStack, functions_env: LocalFunctions, header: str | None
) -> None:
    with pytest.raises(Exception, match=r"^Unauthorized$"):
        functions_env.invoke("AuthorizerFunction", _authorizer_event(header))


def test_a_wrong_secret_for_a_real_key_id_is_unauthorized(
    stack: LocalStack, functions_env: LocalFunctions
) -> None:
    key_id, _ = issue_key(stack, "org-acme", "Acme")
    forged = f"pik_{key_id}_{'B' * 43}"
    with pytest.raises(Exception, match=r"^Unauthorized$"):
        functions_env.invoke("AuthorizerFunction", _authorizer_event(f"Bearer {forged}"))


def test_a_revoked_key_is_unauthorized(
    stack: LocalStack, functions_env: LocalFunctions, dynamodb: Any
) -> None:
    from datetime import UTC, datetime

    key_id, token = issue_key(stack, "org-acme", "Acme")
    DynamoKeyRepository(dynamodb, stack.ref("KeysTable")).revoke(key_id, datetime.now(UTC))
    with pytest.raises(Exception, match=r"^Unauthorized$"):
        functions_env.invoke("AuthorizerFunction", _authorizer_event(f"Bearer {token}"))


def test_last_used_is_recorded_without_a_write_per_request(
    stack: LocalStack, functions_env: LocalFunctions, dynamodb: Any
) -> None:
    from functions.cold_start import aws_client

    key_id, token = issue_key(stack, "org-acme", "Acme")
    writes: list[str] = []
    aws_client("dynamodb").meta.events.register(
        "before-call.dynamodb.UpdateItem", lambda **_: writes.append("update")
    )
    for _ in range(3):
        functions_env.invoke("AuthorizerFunction", _authorizer_event(f"Bearer {token}"))
    record = DynamoKeyRepository(dynamodb, stack.ref("KeysTable")).get(key_id)
    assert record is not None
    assert record.last_used_at is not None
    assert writes == ["update"]


# -- the chain: gateway -> authorizer -> API handler ---------------------------------------------


def test_requests_without_a_key_get_the_templates_problem_document(gateway: ApiGateway) -> None:
    client = GatewayClient(gateway)
    response = client.request("GET", "/releases", token=None)
    assert response.status == 401
    assert response.content_type == PROBLEM
    assert response.header("WWW-Authenticate")
    body = response.json()
    assert body["type"] == "http://localhost/v1/problems/unauthenticated"
    assert body["request_id"]


def test_a_bad_key_is_401_problem_json(gateway: ApiGateway) -> None:
    response = GatewayClient(gateway, token="not-a-key").request("GET", "/releases")
    assert response.status == 401
    assert response.json()["status"] == 401


def test_the_openapi_document_needs_no_key(gateway: ApiGateway) -> None:
    response = GatewayClient(gateway).request("GET", "/openapi.json", token=None)
    assert response.status == 200
    assert response.json()["openapi"].startswith("3.1")


def test_the_organisation_from_the_key_reaches_the_api(
    stack: LocalStack, gateway: ApiGateway, dynamodb: Any
) -> None:
    key_id, token = issue_key(stack, "org-acme", "Acme Corporation")
    client = GatewayClient(gateway, token=token)
    accepted = client.request("POST", "/releases", json_body=personnel_release())
    assert accepted.status == 202, accepted.body
    item = dynamodb.get_item(
        TableName=stack.ref("ReleasesTable"), Key={"pk": {"S": f"release#{accepted.json()['id']}"}}
    )["Item"]
    assert item["org_id"]["S"] == "org-acme"
    assert item["org_name"]["S"] == "Acme Corporation"
    assert item["history"]["L"][0]["M"]["actor"]["S"] == f"org:org-acme/key:{key_id}"


def test_revocation_takes_effect_when_the_cached_answer_expires(
    stack: LocalStack, gateway: ApiGateway, clock: FakeClock, dynamodb: Any
) -> None:
    from datetime import UTC, datetime

    key_id, token = issue_key(stack, "org-acme", "Acme")
    client = GatewayClient(gateway, token=token)
    assert client.request("GET", "/releases").status == 200
    DynamoKeyRepository(dynamodb, stack.ref("KeysTable")).revoke(key_id, datetime.now(UTC))

    clock.now += 59  # within ReauthorizeEvery (60 s) the cached Allow still applies
    assert client.request("GET", "/releases").status == 200
    clock.now += 2
    assert client.request("GET", "/releases").status == 401


def test_stage_throttling_answers_429_problem_json(functions_env: LocalFunctions) -> None:
    # Given a stack deployed with a stage limit of 1 request/s and a burst of 2
    throttled_stack = bootstrap(
        boto3.client,
        stack_name="throttled",
        parameters={"ThrottlingRateLimit": "1", "ThrottlingBurstLimit": "2"},
    )
    gateway = ApiGateway(throttled_stack, functions_env.invoke)
    client = GatewayClient(gateway)
    statuses = [client.request("GET", "/openapi.json", token=None).status for _ in range(4)]
    assert statuses[:2] == [200, 200]
    assert 429 in statuses[2:]
    response = client.request("GET", "/openapi.json", token=None)
    assert response.status == 429
    assert response.content_type == PROBLEM
    assert response.json()["type"] == "http://localhost/v1/problems/throttled"
    assert response.header("Retry-After")


def test_unknown_paths_are_404_problem_json(gateway: ApiGateway) -> None:
    response = GatewayClient(gateway).request("GET", "/admin", token=None)
    assert response.status == 404
    assert response.content_type == PROBLEM
