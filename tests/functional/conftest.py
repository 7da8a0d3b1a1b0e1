"""Functional tier: handlers and adapters against moto resources created from template.yaml."""

from __future__ import annotations

from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws

from infra.apigateway.gateway import ApiGateway
from infra.apigateway.routes import api_routes
from infra.bootstrap import LocalStack, bootstrap
from infra.lambdas import LocalFunctions, local_functions
from infra.moto_atomic import make_conditional_writes_atomic
from infra.moto_speed import make_moto_cheaper
from infra.template import load_template
from tests.helpers import ApiClient

make_conditional_writes_atomic()  # as the local stack does: moto's conditional writes are not atomic
make_moto_cheaper()  # as the local stack does (the same answers, at less CPU)


@cache
def template() -> dict[str, Any]:
    return load_template()


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_REGION": "us-east-1",
    }.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    with mock_aws():
        yield


@pytest.fixture
def stack(aws: None) -> LocalStack:
    return bootstrap(boto3.client, template=template())


def use_function_environment(stack: LocalStack, logical_id: str, monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in stack.function_environment(logical_id).items():
        monkeypatch.setenv(name, value)


def reset_function_caches() -> None:
    """Forget what every function built and kept: settings, clients, services (a fresh execution
    environment)."""
    from functions import cold_start

    cold_start.reset_all()


@pytest.fixture
def api(stack: LocalStack, monkeypatch: pytest.MonkeyPatch) -> Iterator[ApiClient]:
    from functions.handlers.api import lambda_handler

    use_function_environment(stack, "ApiFunction", monkeypatch)
    reset_function_caches()
    yield ApiClient(lambda_handler, api_routes(template()))
    reset_function_caches()


@pytest.fixture
def local_info(stack: LocalStack, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A local stack info file in the working directory, as `press-intake local` writes it
    (no endpoint: the CLI's clients then reach moto's in-process mock)."""
    import json

    from cli import target

    info = tmp_path / ".press-intake" / "local.json"
    info.parent.mkdir()
    info.write_text(json.dumps({"region": "us-east-1", "resources": stack.outputs()}))
    monkeypatch.chdir(tmp_path)
    target._client.cache_clear()
    yield info
    target._client.cache_clear()


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def functions_env(stack: LocalStack, monkeypatch: pytest.MonkeyPatch) -> Iterator[LocalFunctions]:
    """Every function of the template, runnable in-process with the template's environment."""
    functions = local_functions(stack)
    for name, value in functions.environment.items():
        monkeypatch.setenv(name, value)
    reset_function_caches()
    yield functions
    reset_function_caches()


@pytest.fixture
def gateway(stack: LocalStack, functions_env: LocalFunctions, clock: FakeClock) -> ApiGateway:
    """API Gateway as the template configures it: authorizer, caching, gateway responses."""
    return ApiGateway(stack, functions_env.invoke, clock=clock)


def stack_with(
    monkeypatch: pytest.MonkeyPatch, parameters: dict[str, str], clock: FakeClock | None = None
) -> tuple[LocalStack, ApiGateway]:
    """Another stack of the template, deployed with these parameters, its functions' environment
    applied, and its gateway (call inside the ``aws`` fixture)."""
    stack = bootstrap(boto3.client, stack_name="with-parameters", parameters=parameters)
    functions = local_functions(stack)
    for name, value in functions.environment.items():
        monkeypatch.setenv(name, value)
    reset_function_caches()
    return stack, ApiGateway(stack, functions.invoke, clock=clock or FakeClock())


@pytest.fixture
def unthrottled(aws: None, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[ApiGateway, str]]:
    """The template's gateway with limits far above what a test sends (nothing is throttled),
    and a key for it."""
    limits = {"ThrottlingRateLimit": "10000", "ThrottlingBurstLimit": "5000"}
    stack, gateway = stack_with(monkeypatch, {**limits, "OrgRateLimit": "10000", "OrgBurstLimit": "5000"})
    _, token = issue_key(stack, "org-acme", "Acme")
    yield gateway, token
    reset_function_caches()


def issue_key(stack: LocalStack, org_id: str, org_name: str) -> tuple[str, str]:
    """Create an active key the way `press-intake keys create` does; returns (key id, token)."""
    from datetime import UTC, datetime

    from functions.adapters.apigateway_usage_plans import ApiGatewayUsagePlans
    from functions.adapters.dynamodb_keys import DynamoKeyRepository
    from functions.domain import keys

    repo = DynamoKeyRepository(boto3.client("dynamodb"), stack.ref("KeysTable"))
    plans = ApiGatewayUsagePlans(boto3.client("apigateway"), stack.ref("OrganisationsUsagePlan"))
    issued = keys.create_key(repo, plans, org_id=org_id, org_name=org_name, now=datetime.now(UTC))
    return issued.key_id, issued.token


@pytest.fixture
def sqs(aws: None) -> Any:
    return boto3.client("sqs")


@pytest.fixture
def s3(aws: None) -> Any:
    return boto3.client("s3")


@pytest.fixture
def dynamodb(aws: None) -> Any:
    return boto3.client("dynamodb")


class Faults:
    """Inject failures at the AWS call boundary (botocore events), no patching."""

    def __init__(self) -> None:
        self._registered: list[tuple[Any, str, Any]] = []

    def fail(
        self,
        client: Any,
        operation: str,
        *,
        times: int = 1,
        error: BaseException | None = None,
        when: Any = None,
    ) -> None:
        """Make the next ``times`` calls of ``operation`` fail (those whose params match ``when``)."""
        from botocore.exceptions import ClientError

        remaining = {"n": times}
        service = client.meta.service_model.service_name
        event = f"before-parameter-build.{service}.{operation}"  # params are the API parameters

        def raise_once(params: dict[str, Any], **_: Any) -> None:
            if when is not None and not when(params):
                return
            if remaining["n"] > 0:
                remaining["n"] -= 1
                raise error or ClientError(
                    {"Error": {"Code": "InternalError", "Message": f"injected failure in {operation}"}},
                    operation,
                )

        client.meta.events.register(event, raise_once)
        self._registered.append((client, event, raise_once))

    def clear(self) -> None:
        for client, event, handler in self._registered:
            client.meta.events.unregister(event, handler)
        self._registered.clear()


@pytest.fixture
def faults() -> Iterator[Faults]:
    injected = Faults()
    yield injected
    injected.clear()


@pytest.fixture
def lambda_clients(api: ApiClient) -> dict[str, Any]:
    """The boto3 clients the functions use (shared per service, as in one Lambda environment)."""
    from functions.cold_start import aws_client

    return {name: aws_client(name) for name in ("s3", "dynamodb", "sqs")}


def receive_all(sqs: Any, queue_url: str, wait: int = 0) -> list[dict[str, Any]]:
    """Every message currently visible on a queue (received, so hidden afterwards)."""
    import json

    messages: list[dict[str, Any]] = []
    while True:
        batch = sqs.receive_message(
            QueueUrl=queue_url, MaxNumberOfMessages=10, MessageAttributeNames=["All"], WaitTimeSeconds=wait
        ).get("Messages", [])
        if not batch:
            return messages
        for message in batch:
            messages.append({**message, "json": json.loads(message["Body"])})
