"""The moderators' consumer, as a real CLI process, against the running local stack."""

from __future__ import annotations

import json

from tests.helpers import personnel_release
from tests.integration.conftest import RunningStack


def _drain(stack: RunningStack, *args: str) -> list[dict[str, object]]:
    result = stack.cli(
        "moderate", "--once", "--max", "50", "--json", "--wait", "1", "--moderator", "it", *args
    )
    assert result.returncode in (0, 3), result.stderr
    return [json.loads(line) for line in result.stdout.splitlines() if line.strip()]


def test_submit_moderate_and_see_the_decision(local_stack: RunningStack) -> None:
    # Given two releases waiting for moderation (and whatever other tests left)
    _drain(local_stack, "--decision", "approve")
    approved = local_stack.request("POST", "/releases", json_body=personnel_release()).json()["id"]

    # When a moderator approves from the command line
    results = _drain(local_stack, "--decision", "approve")

    # Then the release is approved (and the local publisher soon publishes it)
    assert [r["release_id"] for r in results] == [approved]
    assert results[0]["status"] == "approved"
    view = local_stack.request("GET", f"/releases/{approved}").json()
    assert view["status"] in ("approved", "published")
    assert view["decision"]["action"] == "approve"
    assert "moderator" not in view["decision"]  # who decided stays internal


def test_rejection_reasons_reach_the_submitter(local_stack: RunningStack) -> None:
    _drain(local_stack, "--decision", "approve")
    release_id = local_stack.request("POST", "/releases", json_body=personnel_release()).json()["id"]
    results = _drain(
        local_stack, "--decision", "reject", "--reason", "not_newsworthy", "--note", "Local news only."
    )
    assert [r["release_id"] for r in results] == [release_id]
    decision = local_stack.request("GET", f"/releases/{release_id}").json()["decision"]
    assert decision["action"] == "reject"
    assert decision["reason_codes"] == ["not_newsworthy"]
    assert decision["note"] == "Local news only."


def test_an_empty_queue_exits_3(local_stack: RunningStack) -> None:
    _drain(local_stack, "--decision", "approve")
    result = local_stack.cli("moderate", "--once", "--decision", "approve", "--wait", "0")
    assert result.returncode == 3
