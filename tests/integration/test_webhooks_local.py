"""Webhooks and e-mail on the real local stack: the stream, the events queue and the delivery
function run in the background as on AWS, a receiver on 127.0.0.1 verifies every delivery with
the ``standardwebhooks`` library, and the mail the stack sends is at ``/mail/`` and in
``.press-intake/mail/``."""

from __future__ import annotations

import email
import json
import time
from collections.abc import Callable, Iterator
from email.policy import default as default_policy
from pathlib import Path
from typing import Any

import pytest

from tests.functional.pipeline import Receiver
from tests.helpers import personnel_release
from tests.integration.conftest import RunningStack, start_stack, stop_stack

RELEASE_EVENTS = [
    "release.accepted",
    "release.changes_requested",
    "release.rejected",
    "release.approved",
    "release.published",
    "release.killed",
]


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    started = Receiver().start()
    yield started
    started.stop()


def _wait_for(what: str, found: Callable[[], bool], seconds: float = 45) -> None:
    deadline = time.monotonic() + seconds
    while not found():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.2)


def _decide(stack: RunningStack, release_id: str, *args: str) -> None:
    """Decide ``release_id`` (whatever waits ahead of it in the queue gets the same decision)."""
    for _ in range(20):
        result = stack.cli("moderate", "--once", "--json", "--wait", "1", "--moderator", "it-mod", *args)
        assert result.returncode in (0, 3), result.stderr
        decided = [json.loads(line)["release_id"] for line in result.stdout.splitlines() if line.strip()]
        if release_id in decided:
            return
        if decided:  # someone else's release was ahead: approve it and go on
            continue
        time.sleep(0.5)
    raise AssertionError(f"{release_id} never reached the moderation queue")


def _events_of(receiver: Receiver, release_id: str) -> list[str]:
    return [d.json()["type"] for d in receiver.deliveries if d.json()["data"].get("release_id") == release_id]


def _mail(stack: RunningStack) -> list[dict[str, Any]]:
    answer = stack.request("GET", f"{stack.info['mail_url']}index.json", key=None)
    assert answer.status == 200
    messages: list[dict[str, Any]] = answer.json()["messages"]
    return messages


def test_a_release_is_announced_by_signed_webhooks_and_mailed_to_its_contact(
    local_stack: RunningStack, receiver: Receiver
) -> None:
    # Given a webhook of the demo organisation on a receiver on 127.0.0.1 (the local stack allows it)
    created = local_stack.request(
        "POST", "/webhooks", json_body={"url": receiver.url(), "events": RELEASE_EVENTS}
    )
    assert created.status == 201, created.body
    hook = created.json()
    receiver.secret = hook["secret"]
    assert receiver.secret.startswith("whsec_")
    try:
        # When a release is sent back for changes, another rejected, a third published and killed
        headline = f"Acme names a webhook officer {time.time_ns()}"
        decisions = (
            ("--decision", "request-changes", "--note", "Add the start date."),
            ("--decision", "reject", "--reason", "not_newsworthy"),
            ("--decision", "approve"),
        )
        ids = []
        for number, decision in enumerate(decisions):  # one at a time: the queue has no order
            body = personnel_release(headline=f"{headline} {number}")
            ids.append(local_stack.request("POST", "/releases", json_body=body).json()["id"])
            _decide(local_stack, ids[-1], *decision)
        _wait_for("the publication", lambda: "release.published" in _events_of(receiver, ids[2]))
        kill = local_stack.cli("moderate", "kill", ids[2], "--reason", "inappropriate")
        assert kill.returncode == 0, kill.stderr

        # Then the receiver got each change as its event, every delivery signed with the secret
        _wait_for("the kill", lambda: "release.killed" in _events_of(receiver, ids[2]))
        _wait_for("the rejection", lambda: "release.rejected" in _events_of(receiver, ids[1]))
        assert _events_of(receiver, ids[0])[:2] == ["release.accepted", "release.changes_requested"]
        assert _events_of(receiver, ids[2]) == [
            "release.accepted",
            "release.approved",
            "release.published",
            "release.killed",
        ]
        mine = [d for d in receiver.deliveries if d.json()["data"].get("release_id") in ids]
        assert all(d.verified for d in mine), [d.error for d in mine]
        assert len({d.headers["webhook-id"] for d in mine}) == len(mine)
        rejection = next(d.json() for d in mine if d.json()["type"] == "release.rejected")
        assert rejection["data"]["decision"] == {
            "action": "reject",
            "reason_codes": ["not_newsworthy"],
            "note": None,
        }
        assert "it-mod" not in b"".join(d.body for d in mine).decode()  # who decided stays internal

        # And the webhook lists its deliveries with status codes and latencies
        attempts = local_stack.request("GET", f"/webhooks/{hook['id']}/deliveries?limit=100").json()["items"]
        assert {a["status_code"] for a in attempts} == {204}
        assert all(isinstance(a["latency_ms"], int) for a in attempts)

        # And the contact got one e-mail per decision that concerns them, at /mail/ and as .eml files
        def subjects() -> list[str]:
            return sorted(m["subject"] for m in _mail(local_stack) if headline in m["subject"])

        _wait_for("four e-mails", lambda: len(subjects()) == 4)
        labels = sorted(s.split("] ", 1)[1].split(":", 1)[0] for s in subjects())
        assert labels == ["Changes requested", "Not accepted", "Published", "Taken down"]
        mails = [m for m in _mail(local_stack) if headline in m["subject"]]
        assert {m["to"] for m in mails} == {"press@acme.example"}
        page = local_stack.request("GET", str(local_stack.info["mail_url"]), key=None)
        assert page.status == 200
        assert headline.encode() in page.body
        folder = local_stack.cwd / ".press-intake" / "mail"
        kept = [
            email.message_from_bytes(path.read_bytes(), policy=default_policy)
            for path in sorted(folder.glob("*.eml"))
        ]
        assert sorted(str(m["Subject"]) for m in kept if headline in str(m["Subject"])) == subjects()
        assert (
            local_stack.request("DELETE", f"{local_stack.info['mail_url']}index.json", key=None).status == 405
        )
    finally:
        local_stack.request("DELETE", f"/webhooks/{hook['id']}")


def test_a_webhook_test_is_delivered_signed(local_stack: RunningStack, receiver: Receiver) -> None:
    hook = local_stack.request(
        "POST", "/webhooks", json_body={"url": receiver.url(), "events": ["release.published"]}
    ).json()
    receiver.secret = hook["secret"]
    try:
        queued = local_stack.request("POST", f"/webhooks/{hook['id']}/test")
        assert queued.status == 202
        _wait_for("the test event", lambda: bool(receiver.deliveries))
        (delivery,) = receiver.deliveries
        assert delivery.verified, delivery.error
        assert delivery.headers["webhook-id"] == queued.json()["id"]
        assert delivery.json()["type"] == "webhook.test"
    finally:
        local_stack.request("DELETE", f"/webhooks/{hook['id']}")


def test_a_webhook_and_its_secret_survive_a_restart(tmp_path: Path, receiver: Receiver) -> None:
    # Given a webhook registered before the stack stops (its secret sealed with the stack's KMS key)
    first = start_stack(tmp_path)
    try:
        hook = first.request(
            "POST", "/webhooks", json_body={"url": receiver.url(), "events": ["release.accepted"]}
        ).json()
    finally:
        assert stop_stack(first) == 0, first.log.read_text()
    receiver.secret = hook["secret"]
    # When it starts again on the same data
    again = start_stack(tmp_path)
    try:
        # Then the webhook is there and its deliveries are signed with the same secret
        assert again.request("GET", f"/webhooks/{hook['id']}").json()["status"] == "active"
        release = again.request("POST", "/releases", json_body=personnel_release()).json()["id"]
        _wait_for("the delivery", lambda: "release.accepted" in _events_of(receiver, release))
        assert all(d.verified for d in receiver.deliveries), [d.error for d in receiver.deliveries]
    finally:
        assert stop_stack(again) == 0, again.log.read_text()
