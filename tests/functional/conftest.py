"""Functional tier: handlers and adapters against moto resources created from template.yaml."""

from __future__ import annotations

from collections.abc import Iterator
from functools import cache
from typing import Any

import boto3
import pytest
from moto import mock_aws

from infra.apigw import api_routes
from infra.bootstrap import LocalStack, bootstrap
from infra.template import load_template
from tests.helpers import ApiClient


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


@pytest.fixture
def api(stack: LocalStack, monkeypatch: pytest.MonkeyPatch) -> Iterator[ApiClient]:
    from functions import runtime
    from functions.api import deps
    from functions.handlers.api import lambda_handler

    use_function_environment(stack, "ApiFunction", monkeypatch)
    deps.reset()
    runtime.aws_client.cache_clear()
    yield ApiClient(lambda_handler, api_routes(template()))
    deps.reset()
    runtime.aws_client.cache_clear()


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
    """Inject failures at the AWS call boundary (botocore's before-call events), no patching."""

    def __init__(self) -> None:
        self._registered: list[tuple[Any, str, Any]] = []

    def fail(
        self, client: Any, operation: str, *, times: int = 1, error: BaseException | None = None
    ) -> None:
        from botocore.exceptions import ClientError

        remaining = {"n": times}
        service = client.meta.service_model.service_name
        event = f"before-call.{service}.{operation}"

        def raise_once(**_: Any) -> None:
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
    from functions import runtime

    return {name: runtime.aws_client(name) for name in ("s3", "dynamodb", "sqs")}


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
