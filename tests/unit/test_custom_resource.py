"""CloudFormation custom resources (functions/custom_resource.py): exactly one answer per request,
whatever the action does, so a deploy never waits an hour for one."""

from __future__ import annotations

import threading
from collections.abc import Mapping
from typing import Any

from functions.custom_resource import run_custom_resource

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
