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


def _status(stack: RunningStack) -> dict[str, object]:
    result = stack.cli("moderate", "--status", "--json")
    assert result.returncode == 0, result.stderr
    status: dict[str, object] = json.loads(result.stdout)
    return status


def test_status_shows_what_waits_and_how_old_the_oldest_is(local_stack: RunningStack) -> None:
    import time

    # Given an empty queue, then two releases waiting
    _drain(local_stack, "--decision", "approve")
    for _ in range(2):
        assert local_stack.request("POST", "/releases", json_body=personnel_release()).status == 202

    # When the moderator asks for the queue at a glance
    status = _status(local_stack)

    # Then it counts them, and within one round of the local metric (15 s) says how old they are
    assert (status["waiting"], status["in_review"], status["dead_letters"]) == (2, 0, 0)
    deadline = time.monotonic() + 25
    while not (isinstance(status["oldest_age_seconds"], int) and status["oldest_age_seconds"] > 0):
        assert time.monotonic() < deadline, status
        time.sleep(1)
        status = _status(local_stack)
    assert status["approximate"] is True
    _drain(local_stack, "--decision", "approve")


def test_a_published_release_killed_with_a_note(local_stack: RunningStack) -> None:
    import time

    # Given a published release
    _drain(local_stack, "--decision", "approve")
    release_id = local_stack.request("POST", "/releases", json_body=personnel_release()).json()["id"]
    _drain(local_stack, "--decision", "approve")
    deadline = time.monotonic() + 20
    while local_stack.request("GET", f"/releases/{release_id}").json()["status"] != "published":
        assert time.monotonic() < deadline, "not published"
        time.sleep(0.3)

    # When a moderator kills it with a reason and a note
    result = local_stack.cli(
        "moderate", "kill", release_id, "--reason", "other", "--note", "Withdrawn at the court's request.",
        "--moderator", "it",
    )  # fmt: skip

    # Then the submitter sees it killed, with the reason and the note
    assert result.returncode == 0, result.stderr
    view = local_stack.request("GET", f"/releases/{release_id}").json()
    assert view["status"] == "killed"
    assert view["decision"]["reason_codes"] == ["other"]
    assert view["decision"]["note"] == "Withdrawn at the court's request."
    # and a second kill has nothing to do; an unknown release is a usage error
    again = local_stack.cli("moderate", "kill", release_id, "--reason", "duplicate")
    assert again.returncode == 0
    assert "nothing to do" in again.stdout
    unknown = local_stack.cli(
        "moderate", "kill", "7d0f4f5e-8f57-4c5c-9a39-2fbb1f7e2a10", "--reason", "duplicate"
    )
    assert unknown.returncode == 2
