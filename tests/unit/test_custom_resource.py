"""CloudFormation custom resources (functions/adapters/custom_resource.py): exactly one answer per request,
whatever the action does, so a deploy never waits an hour for one."""

from __future__ import annotations

import threading
from collections.abc import Mapping
from typing import Any

import pytest

from functions.adapters.custom_resource import CustomResourceError, run_custom_resource, send_response

EVENT = {
    "RequestType": "Create",
    "ResponseURL": "https://example.invalid/answer",
    "StackId": "stack",
    "RequestId": "request-1",
    "LogicalResourceId": "SiteFiles",
    "ResourceProperties": {"Bucket": "site"},
}


class Context:
    log_stream_name = "stream-1"

    def __init__(self, remaining_ms: int) -> None:
        self.remaining_ms = remaining_ms

    def get_remaining_time_in_millis(self) -> int:
        return self.remaining_ms


def _run(
    action: Any, *, event: Mapping[str, Any] = EVENT, remaining_ms: int = 60_000, margin: float = 5.0
) -> list[dict[str, Any]]:
    sent: list[dict[str, Any]] = []
    run_custom_resource(
        event, Context(remaining_ms), action, send=lambda _url, body: sent.append(body), margin_seconds=margin
    )
    return sent


def test_success_answers_with_the_actions_physical_id() -> None:
    seen: list[tuple[str, Mapping[str, Any]]] = []

    def action(kind: str, properties: Mapping[str, Any]) -> str:
        seen.append((kind, properties))
        return "site-files:site"

    [answer] = _run(action)
    assert seen == [("Create", {"Bucket": "site"})]
    assert (answer["Status"], answer["PhysicalResourceId"], answer["RequestId"]) == (
        "SUCCESS",
        "site-files:site",
        "request-1",
    )


def test_an_error_answers_failed_with_its_message() -> None:
    def action(kind: str, properties: Mapping[str, Any]) -> str:
        raise RuntimeError("the bucket is gone")

    [answer] = _run(action)
    assert answer["Status"] == "FAILED"
    assert "the bucket is gone" in answer["Reason"]
    assert "stream-1" in answer["Reason"]


def test_an_unknown_request_type_is_failed() -> None:
    [answer] = _run(lambda kind, properties: "id", event={**EVENT, "RequestType": "Explode"})
    assert answer["Status"] == "FAILED"
    assert "Explode" in answer["Reason"]


def test_the_watchdog_answers_failed_before_the_timeout_and_only_once() -> None:
    # Given an action still running when the invocation is about to end
    release = threading.Event()

    def action(kind: str, properties: Mapping[str, Any]) -> str:
        release.wait(2)  # until the watchdog has answered
        return "late"

    def watched(kind: str, properties: Mapping[str, Any]) -> str:
        threading.Timer(0.2, release.set).start()
        return action(kind, properties)

    answers = _run(watched, remaining_ms=100, margin=0.05)

    # Then CloudFormation got one answer, FAILED, and the late success was not sent after it
    assert [a["Status"] for a in answers] == ["FAILED"]
    assert "Timed out" in answers[0]["Reason"]


def test_an_answer_goes_only_to_an_https_response_url() -> None:
    # Given a ResponseURL that is not https (CloudFormation's always are)
    opened: list[Any] = []

    # When the answer is sent
    with pytest.raises(CustomResourceError, match="not an https URL"):
        send_response(
            "http://127.0.0.1:9/answer", {"Status": "SUCCESS"}, opener=lambda *a, **k: opened.append(a)
        )

    # Then nothing was opened
    assert opened == []


def test_a_refused_response_url_still_returns_the_answer_it_meant() -> None:
    # Given a request whose ResponseURL is plain http, sent with the default sender
    answer = run_custom_resource(
        {**EVENT, "ResponseURL": "http://example.invalid/answer"},
        Context(60_000),
        lambda kind, properties: "id",
    )

    # Then the work was done and its answer is returned, though it was never sent
    assert answer is not None
    assert answer["Status"] == "SUCCESS"
