"""Idempotent submissions and "no release lost": failures injected between every step.

The steps of a submission are (1) the version object in the releases bucket, (2) the state
item in the table (the commit point, carrying an outbox mark), (3) the moderation message.
For each failure point the client either gets a 5xx and a retry with the same key yields
exactly one release, or gets 202 and the release still reaches the moderation queue.
"""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest

from functions.handlers.outbox_sweep import lambda_handler as outbox_sweep_handler
from infra.bootstrap import LocalStack
from infra.lambda_context import LocalLambdaContext
from tests.functional.conftest import Faults, receive_all, reset_function_caches, use_function_environment
from tests.helpers import ApiClient, personnel_release


class SimulatedCrash(BaseException):
    """The execution environment dies (timeout, out of memory): nothing after it runs."""


def _release_items(stack: LocalStack, dynamodb: Any) -> list[dict[str, Any]]:
    items = dynamodb.scan(TableName=stack.ref("ReleasesTable"))["Items"]
    return [i for i in items if i["pk"]["S"].startswith("release#")]


def _sweep(stack: LocalStack, monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """Run the outbox sweep Lambda once, with the template's environment and no grace period."""
    use_function_environment(stack, "OutboxSweepFunction", monkeypatch)
    monkeypatch.setenv("OUTBOX_GRACE_SECONDS", "0")
    reset_function_caches()
    result: dict[str, Any] = outbox_sweep_handler({}, LocalLambdaContext(function_name="OutboxSweepFunction"))
    return result


# -- Idempotency-Key --------------------------------------------------------------------------------


def test_same_key_same_payload_is_the_same_release(
    api: ApiClient, stack: LocalStack, sqs: Any, dynamodb: Any
) -> None:
    headers = {"Idempotency-Key": "press-2026-001"}
    first = api.post("/releases", personnel_release(), headers=headers)
    second = api.post("/releases", personnel_release(), headers=headers)
    assert first.status == second.status == 202
    assert first.json() == second.json()
    assert first.header("Location") == second.header("Location")
    assert len(_release_items(stack, dynamodb)) == 1
    assert len(receive_all(sqs, stack.ref("ModerationQueue"))) == 1


def test_same_key_another_payload_is_409(api: ApiClient, stack: LocalStack, dynamodb: Any) -> None:
    headers = {"Idempotency-Key": "press-2026-002"}
    assert api.post("/releases", personnel_release(), headers=headers).status == 202
    reused = api.post(
        "/releases", personnel_release(headline="A different release entirely"), headers=headers
    )
    assert reused.status == 409
    assert reused.content_type == "application/problem+json"
    assert reused.json()["type"] == "https://localhost/v1/problems/idempotency-conflict"
    assert len(_release_items(stack, dynamodb)) == 1


def test_keys_are_scoped_to_the_organisation(api: ApiClient, stack: LocalStack, dynamodb: Any) -> None:
    headers = {"Idempotency-Key": "shared-key"}
    mine = api.post("/releases", personnel_release(), headers=headers).json()
    theirs = api.as_org("org-other").post("/releases", personnel_release(), headers=headers).json()
    assert mine["id"] != theirs["id"]
    assert len(_release_items(stack, dynamodb)) == 2


def test_invalid_key_is_422(api: ApiClient) -> None:
    response = api.post("/releases", personnel_release(), headers={"Idempotency-Key": "x" * 129})
    assert response.status == 422
    assert response.json()["errors"][0]["field"] == "idempotency-key"


def test_concurrent_duplicate_in_flight_is_409_with_retry_after(
    api: ApiClient, lambda_clients: dict[str, Any]
) -> None:
    # Given a first request that is still storing its release
    entered, release = threading.Event(), threading.Event()

    def hold(**_: Any) -> None:
        entered.set()
        release.wait(10)

    lambda_clients["s3"].meta.events.register_first("before-call.s3.PutObject", hold)
    headers = {"Idempotency-Key": "in-flight"}
    results: dict[str, Any] = {}
    worker = threading.Thread(
        target=lambda: results.setdefault(
            "first", api.post("/releases", personnel_release(), headers=headers)
        )
    )
    worker.start()
    assert entered.wait(10)
    lambda_clients["s3"].meta.events.unregister("before-call.s3.PutObject", hold)

    # When the same request arrives meanwhile
    duplicate = api.post("/releases", personnel_release(), headers=headers)

    # Then it is told to retry, not failed
    assert duplicate.status == 409
    assert duplicate.json()["type"] == "https://localhost/v1/problems/request-in-flight"
    assert int(duplicate.header("Retry-After") or 0) >= 1
    release.set()
    worker.join(10)
    assert results["first"].status == 202
    # And a retry after completion returns the same release
    again = api.post("/releases", personnel_release(), headers=headers)
    assert again.json()["id"] == results["first"].json()["id"]


# -- fault injection between the steps ----------------------------------------------------------------


def test_failure_writing_the_version_object_is_5xx_and_retry_is_one_release(
    api: ApiClient, stack: LocalStack, lambda_clients: dict[str, Any], faults: Faults, sqs: Any, dynamodb: Any
) -> None:
    headers = {"Idempotency-Key": "fault-step-1"}
    faults.fail(lambda_clients["s3"], "PutObject")
    assert api.post("/releases", personnel_release(), headers=headers).status == 503
    assert _release_items(stack, dynamodb) == []

    retry = api.post("/releases", personnel_release(), headers=headers)

    assert retry.status == 202
    assert len(_release_items(stack, dynamodb)) == 1
    assert [m["json"]["release_id"] for m in receive_all(sqs, stack.ref("ModerationQueue"))] == [
        retry.json()["id"]
    ]


def test_failure_after_the_bucket_write_is_5xx_and_retry_is_one_release(
    api: ApiClient, stack: LocalStack, lambda_clients: dict[str, Any], faults: Faults, sqs: Any, dynamodb: Any
) -> None:
    # Given the version object is written but the state item is not
    headers = {"Idempotency-Key": "fault-step-2"}
    releases_table = stack.ref("ReleasesTable")
    faults.fail(
        lambda_clients["dynamodb"],
        "PutItem",
        when=lambda params: params.get("TableName") == releases_table and "ConditionExpression" in params,
    )
    failed = api.post("/releases", personnel_release(), headers=headers)
    assert failed.status == 503
    assert _release_items(stack, dynamodb) == []
    assert receive_all(sqs, stack.ref("ModerationQueue")) == []

    # When the client retries with the same key
    retry = api.post("/releases", personnel_release(), headers=headers)

    # Then exactly one release exists and is queued once
    assert retry.status == 202
    assert len(_release_items(stack, dynamodb)) == 1
    messages = receive_all(sqs, stack.ref("ModerationQueue"))
    assert [m["json"] for m in messages] == [{"release_id": retry.json()["id"], "version": 1}]


def test_queue_send_failure_still_202_and_the_outbox_sweep_queues_it(
    api: ApiClient,
    stack: LocalStack,
    lambda_clients: dict[str, Any],
    faults: Faults,
    sqs: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Given the queue rejects the send (retries exhausted)
    faults.fail(lambda_clients["sqs"], "SendMessage", times=10)

    # When a release is submitted
    response = api.post("/releases", personnel_release())

    # Then the client is told it is accepted (it is durably stored)
    assert response.status == 202
    assert receive_all(sqs, stack.ref("ModerationQueue")) == []
    faults.clear()

    # And the outbox sweep queues it, once
    assert _sweep(stack, monkeypatch)["sent"] == 1
    assert _sweep(stack, monkeypatch)["sent"] == 0
    messages = receive_all(sqs, stack.ref("ModerationQueue"))
    assert [m["json"] for m in messages] == [{"release_id": response.json()["id"], "version": 1}]


def test_crash_after_commit_before_answer_is_recovered_and_retry_is_the_same_release(
    api: ApiClient,
    stack: LocalStack,
    lambda_clients: dict[str, Any],
    faults: Faults,
    sqs: Any,
    dynamodb: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Given the function dies right after the state item is written (the client sees a 5xx from
    # API Gateway, and Powertools never got to record a result)
    headers = {"Idempotency-Key": "fault-crash"}
    faults.fail(lambda_clients["sqs"], "SendMessage", error=SimulatedCrash())
    api.timeout_seconds = 0.2  # the dying invocation's in-flight window ends with its timeout
    with pytest.raises(SimulatedCrash):
        api.post("/releases", personnel_release(), headers=headers)
    api.timeout_seconds = 10.0
    faults.clear()
    assert len(_release_items(stack, dynamodb)) == 1

    # When the outbox sweep runs, Then the stored release reaches moderation
    assert _sweep(stack, monkeypatch)["sent"] == 1

    # And when the client retries after the in-flight window, it gets the same release back
    reset_function_caches()  # a new execution environment picks up the retry
    time.sleep(0.3)
    retry = api.post("/releases", personnel_release(), headers=headers)
    assert retry.status == 202
    assert len(_release_items(stack, dynamodb)) == 1
    assert len(receive_all(sqs, stack.ref("ModerationQueue"))) == 1


def test_outbox_sweep_leaves_fresh_entries_to_the_request_in_flight(
    api: ApiClient,
    stack: LocalStack,
    lambda_clients: dict[str, Any],
    faults: Faults,
    sqs: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    faults.fail(lambda_clients["sqs"], "SendMessage", times=10)
    api.post("/releases", personnel_release())
    faults.clear()
    use_function_environment(stack, "OutboxSweepFunction", monkeypatch)
    reset_function_caches()  # the template's grace period (60 s) applies
    result = outbox_sweep_handler({}, LocalLambdaContext(function_name="OutboxSweepFunction"))
    assert result["sent"] == 0
    assert receive_all(sqs, stack.ref("ModerationQueue")) == []


def test_only_a_keyed_release_keeps_the_payload_hash_its_retries_compare(
    api: ApiClient, stack: LocalStack, dynamodb: Any, s3: Any
) -> None:
    # Given one release sent with an Idempotency-Key and one without
    keyed = api.post("/releases", personnel_release(), headers={"Idempotency-Key": "hash-kept"})
    unkeyed = api.post("/releases", personnel_release(headline="Acme opens a plant in Tampa"))
    assert keyed.status == unkeyed.status == 202
    items = {item["release_id"]["S"]: item for item in _release_items(stack, dynamodb)}

    def stored_hash(release_id: str) -> str | None:
        head = s3.head_object(Bucket=stack.ref("ReleasesBucket"), Key=items[release_id]["object_key"]["S"])
        return head["Metadata"].get("payload-hash")

    # Then the keyed one's state item and version object carry the same SHA-256 of the payload
    digest = items[keyed.json()["id"]]["payload_hash"]["S"]
    assert len(digest) == 64
    assert stored_hash(keyed.json()["id"]) == digest
    # And the other, whose new id no retry can name, carries none
    assert "payload_hash" not in items[unkeyed.json()["id"]]
    assert stored_hash(unkeyed.json()["id"]) is None
