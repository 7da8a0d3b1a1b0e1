"""The moderators' queue consumer against moto: decisions, holds, races, stale items, recovery."""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console
from typer.testing import CliRunner

from cli.common import Options
from cli.main import app
from cli.moderate import Desk, Hold, apply, changes_since, next_item, open_desk, render
from functions.adapters.dynamodb_state import DynamoStateRepository
from functions.domain.moderation import Decision, DecisionAction, Outcome
from infra.bootstrap import LocalStack
from tests.functional.conftest import Faults, receive_all
from tests.functional.test_reliability import _sweep
from tests.helpers import ApiClient, personnel_release

runner = CliRunner()
APPROVE = Decision(DecisionAction.APPROVE, moderator="alice")


@pytest.fixture
def desk(local_info: Path, api: ApiClient) -> Desk:
    return open_desk(Options(local=True), "alice")


def _submit(api: ApiClient, **overrides: Any) -> str:
    response = api.post("/releases", personnel_release(**overrides))
    assert response.status == 202, response.body
    return str(response.json()["id"])


def _publish_messages(stack: LocalStack, sqs: Any) -> list[dict[str, Any]]:
    return [m["json"] for m in receive_all(sqs, stack.ref("PublishQueue"))]


def _queue_depth(sqs: Any, url: str) -> int:
    attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    return int(attributes["ApproximateNumberOfMessages"]) + int(
        attributes["ApproximateNumberOfMessagesNotVisible"]
    )


# -- decisions ------------------------------------------------------------------------------------


def test_approval_queues_publication_and_removes_the_item(
    desk: Desk, api: ApiClient, stack: LocalStack, sqs: Any
) -> None:
    release_id = _submit(api)
    item = next_item(desk, wait=0, hold=30)
    assert item is not None
    assert (item.release_id, item.version) == (release_id, 1)

    result = apply(desk, item, APPROVE)

    assert result.outcome is Outcome.DECIDED
    assert _publish_messages(stack, sqs) == [{"release_id": release_id, "version": 1, "action": "publish"}]
    assert _queue_depth(sqs, stack.ref("ModerationQueue")) == 0
    view = api.get(f"/releases/{release_id}").json()
    assert view["status"] == "approved"
    assert view["decision"]["action"] == "approve"
    assert "alice" not in json.dumps(view)  # the moderator's identity stays internal


def test_rejection_shows_reasons_and_note_to_the_submitter(
    desk: Desk, api: ApiClient, stack: LocalStack, sqs: Any, dynamodb: Any
) -> None:
    release_id = _submit(api)
    item = next_item(desk, wait=0, hold=30)
    assert item is not None
    decision = Decision(
        DecisionAction.REJECT,
        moderator="alice",
        reason_codes=("promotional_tone", "unverifiable"),
        note="Please cite a source.",
    )
    assert apply(desk, item, decision).outcome is Outcome.DECIDED
    view = api.get(f"/releases/{release_id}").json()
    assert view["status"] == "rejected"
    assert view["decision"]["reason_codes"] == ["promotional_tone", "unverifiable"]
    assert view["decision"]["note"] == "Please cite a source."
    assert _publish_messages(stack, sqs) == []
    stored = dynamodb.get_item(
        TableName=stack.ref("ReleasesTable"), Key={"pk": {"S": f"release#{release_id}"}}
    )
    assert stored["Item"]["decision"]["M"]["moderator"]["S"] == "alice"  # audit keeps who decided
    assert stored["Item"]["history"]["L"][-1]["M"]["actor"]["S"] == "moderator:alice"


def test_request_changes_then_revision_shows_what_changed(desk: Desk, api: ApiClient) -> None:
    release_id = _submit(api)
    item = next_item(desk, wait=0, hold=30)
    assert item is not None
    changes = Decision(DecisionAction.REQUEST_CHANGES, moderator="alice", note="Add a phone number.")
    assert apply(desk, item, changes).outcome is Outcome.DECIDED
    assert api.get(f"/releases/{release_id}").json()["decision"]["note"] == "Add a phone number."

    revised = personnel_release(headline="Acme names Jane Doe as its new finance chief")
    assert api.put(f"/releases/{release_id}", revised).status == 200

    item = next_item(desk, wait=0, hold=30)
    assert item is not None
    assert item.version == 2
    diff = changes_since(item.previous, item.document)
    assert any(line.startswith("headline:") and "new finance chief" in line for line in diff)
    shown = Console(record=True, width=120)
    shown.print(render(item))
    text = shown.export_text()
    assert "Changed since version 1" in text
    assert "Acme names Jane Doe as its new finance chief" in text


def test_the_console_shows_what_a_moderator_needs(desk: Desk, api: ApiClient) -> None:
    _submit(
        api,
        headline="ACME ANNOUNCES REVOLUTIONARY WIDGET",
        contact={"name": "Press Office", "email": "press@acme.example"},
    )
    item = next_item(desk, wait=0, hold=30)
    assert item is not None
    shown = Console(record=True, width=120)
    shown.print(render(item))
    text = shown.export_text()
    for expected in (
        "ACME ANNOUNCES REVOLUTIONARY WIDGET",
        "Finance veteran joins from Example Industries",  # subheadline
        "ST PETERSBURG, Florida",
        "personnel",
        "Jane Doe",  # details
        "Acme Corporation (org-acme)",
        "press@acme.example",
        "https://acme.example/news",
        "hype_words",
        "promotional_tone",  # the flag's explanation points at the reason code
        "all_caps_headline",
        "waiting",
    ):
        assert expected in text, expected
    assert "Acme Corporation today announced" in text  # the body as readable text
    assert "<p>" not in text


# -- exactly one decision ---------------------------------------------------------------------------


def test_two_moderators_racing_yield_exactly_one_decision(
    local_info: Path, api: ApiClient, stack: LocalStack, sqs: Any
) -> None:
    release_id = _submit(api)
    # SQS delivers at least once: the same claim check twice
    sqs.send_message(
        QueueUrl=stack.ref("ModerationQueue"),
        MessageBody=json.dumps({"release_id": release_id, "version": 1}),
    )
    desks = [open_desk(Options(local=True), name) for name in ("alice", "bob")]
    items = [next_item(d, wait=0, hold=30) for d in desks]
    assert all(items)
    barrier = threading.Barrier(2)
    results: dict[str, Any] = {}

    def decide(index: int) -> None:
        barrier.wait()
        decision = Decision(
            DecisionAction.APPROVE if index == 0 else DecisionAction.REJECT,
            moderator=desks[index].moderator,
            reason_codes=() if index == 0 else ("duplicate",),
        )
        results[desks[index].moderator] = apply(desks[index], items[index], decision)  # type: ignore[arg-type]

    threads = [threading.Thread(target=decide, args=(i,)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)

    outcomes = sorted(r.outcome.value for r in results.values())
    assert outcomes == ["already_decided", "decided"]
    status = api.get(f"/releases/{release_id}").json()["status"]
    winner = next(name for name, r in results.items() if r.outcome is Outcome.DECIDED)
    assert status == ("approved" if winner == "alice" else "rejected")
    assert len(_publish_messages(stack, sqs)) == (1 if winner == "alice" else 0)
    assert _queue_depth(sqs, stack.ref("ModerationQueue")) == 0


def test_a_stale_version_is_dropped(desk: Desk, api: ApiClient, stack: LocalStack, sqs: Any) -> None:
    release_id = _submit(api)
    api.put(f"/releases/{release_id}", personnel_release(summary="Second version."))
    item = next_item(desk, wait=0, hold=30)  # the version 1 message is skipped and deleted
    assert item is not None
    assert item.version == 2
    assert apply(desk, item, APPROVE).outcome is Outcome.DECIDED
    assert _queue_depth(sqs, stack.ref("ModerationQueue")) == 0


def test_a_release_withdrawn_meanwhile_is_reported_and_skipped(
    desk: Desk, api: ApiClient, stack: LocalStack, sqs: Any
) -> None:
    release_id = _submit(api)
    item = next_item(desk, wait=0, hold=30)
    assert item is not None
    api.delete(f"/releases/{release_id}")  # the submitter withdraws while the moderator reads

    result = apply(desk, item, APPROVE)

    assert result.outcome is Outcome.WITHDRAWN
    assert api.get(f"/releases/{release_id}").json()["status"] == "withdrawn"
    assert _publish_messages(stack, sqs) == []
    assert _queue_depth(sqs, stack.ref("ModerationQueue")) == 0


# -- holding an item ----------------------------------------------------------------------------------


def test_an_item_whose_console_died_returns_to_the_queue(local_info: Path, api: ApiClient) -> None:
    _submit(api)
    crashed = open_desk(Options(local=True), "alice")
    assert next_item(crashed, wait=0, hold=1) is not None  # ... and the console dies: no heartbeat
    other = open_desk(Options(local=True), "bob")
    assert next_item(other, wait=0, hold=30) is None  # hidden while held
    time.sleep(1.3)
    assert next_item(other, wait=0, hold=30) is not None  # back after the hold


def test_the_heartbeat_keeps_an_item_while_the_moderator_reads(local_info: Path, api: ApiClient) -> None:
    _submit(api)
    reader = open_desk(Options(local=True), "alice")
    other = open_desk(Options(local=True), "bob")
    item = next_item(reader, wait=0, hold=3)
    assert item is not None
    with Hold(reader, item.receipt, 3):  # beats every second, each renewing 3 s
        time.sleep(4.5)  # longer than the hold: only the heartbeat keeps it
        assert next_item(other, wait=0, hold=30) is None
    assert apply(reader, item, APPROVE).outcome is Outcome.DECIDED


# -- recovery ----------------------------------------------------------------------------------------


def test_publish_send_failure_after_the_decision_is_recovered(
    desk: Desk,
    api: ApiClient,
    stack: LocalStack,
    sqs: Any,
    faults: Faults,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    release_id = _submit(api)
    item = next_item(desk, wait=0, hold=1)
    assert item is not None
    faults.fail(desk.sqs, "SendMessage", times=5)

    result = apply(desk, item, APPROVE)

    assert result.outcome is Outcome.PUBLISH_DEFERRED
    assert api.get(f"/releases/{release_id}").json()["status"] == "approved"
    assert _publish_messages(stack, sqs) == []
    faults.clear()
    # The outbox sweep sends the approved release's publish message, once
    assert _sweep(stack, monkeypatch)["releases"] == [{"id": release_id, "version": 1, "queue": "publish"}]
    assert _sweep(stack, monkeypatch)["sent"] == 0
    assert _publish_messages(stack, sqs) == [{"release_id": release_id, "version": 1, "action": "publish"}]
    # The moderation message was kept; when it comes back it is recognised as decided and dropped
    time.sleep(1.2)
    assert next_item(desk, wait=0, hold=30) is None
    assert _queue_depth(sqs, stack.ref("ModerationQueue")) == 0


# -- the command line ----------------------------------------------------------------------------------


def _cli(*args: str, **kwargs: Any) -> Any:
    return runner.invoke(app, list(args), **kwargs)


def test_once_approve_prints_json_with_the_release_id(
    local_info: Path, api: ApiClient, stack: LocalStack, sqs: Any
) -> None:
    release_id = _submit(api)
    result = _cli(
        "moderate", "--once", "--decision", "approve", "--json", "--moderator", "carol", "--wait", "0"
    )
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    assert payload["release_id"] == release_id
    assert payload["outcome"] == "decided"
    assert payload["status"] == "approved"
    assert payload["moderator"] == "carol"


def test_once_on_an_empty_queue_exits_3(local_info: Path, api: ApiClient) -> None:
    result = _cli("moderate", "--once", "--decision", "approve", "--wait", "0")
    assert result.exit_code == 3
    assert "empty" in result.output


def test_max_decides_several(local_info: Path, api: ApiClient) -> None:
    ids = {_submit(api, headline=f"Acme release number {n}") for n in range(3)}
    result = _cli(
        "moderate", "--once", "--decision", "reject", "--reason", "not_newsworthy,formatting",
        "--note", "Not for us.", "--max", "5", "--json", "--wait", "0",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert {line["release_id"] for line in lines} == ids
    assert all(line["reason_codes"] == ["not_newsworthy", "formatting"] for line in lines)


def test_local_moderator_defaults_to_the_local_user(local_info: Path, api: ApiClient) -> None:
    _submit(api)
    result = _cli("moderate", "--once", "--decision", "approve", "--json", "--wait", "0")
    assert json.loads(result.stdout)["moderator"].startswith("local:")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--once", "--decision", "reject"], "at least one reason code"),
        (["--once", "--decision", "request-changes"], "needs a note"),
        (["--once", "--decision", "reject", "--reason", "boring"], "unknown reason code"),
        (["--once", "--decision", "reject", "--reason", "other"], "reason 'other' needs a note"),
        (["--once", "--decision", "maybe"], "--decision must be one of"),
        (["--decision", "approve"], "--decision needs --once"),
        (["--once"], "--once needs --decision"),
        (["--max", "3"], "go with --once"),
        (["--once", "--decision", "approve", "--moderator", " "], "identity is required"),
        (["--once", "--decision", "approve", "--max", "0"], "Invalid value"),
        (["kill", "not-an-id", "--reason", "inappropriate"], "is not a release id"),
        (["kill", "7d0f4f5e-8f57-4c5c-9a39-2fbb1f7e2a10", "--reason", "boring"], "--reason must be one of"),
        (["kill", "7d0f4f5e-8f57-4c5c-9a39-2fbb1f7e2a10"], "Missing option '--reason'"),
    ],
)
def test_usage_errors_exit_2_and_consume_nothing(
    local_info: Path, api: ApiClient, stack: LocalStack, sqs: Any, args: list[str], message: str
) -> None:
    _submit(api)
    result = _cli("moderate", *args)
    assert result.exit_code == 2, result.output
    assert message in result.output
    assert "Traceback" not in result.output
    assert _queue_depth(sqs, stack.ref("ModerationQueue")) == 1


def test_kill_queues_a_kill_for_a_published_release_only(
    local_info: Path, api: ApiClient, stack: LocalStack, sqs: Any, dynamodb: Any
) -> None:
    from tests.functional.test_api_releases import _force_status

    release_id = _submit(api)
    result = _cli("moderate", "kill", release_id, "--reason", "inappropriate")
    assert result.exit_code == 1
    assert "only published releases can be killed" in result.output
    _force_status(stack, dynamodb, release_id, "approved", "published")

    result = _cli("moderate", "kill", release_id, "--reason", "inappropriate")

    assert result.exit_code == 0, result.output
    assert _publish_messages(stack, sqs) == [
        {"release_id": release_id, "version": 1, "action": "kill", "reason": "inappropriate"}
    ]
    unknown = _cli("moderate", "kill", "7d0f4f5e-8f57-4c5c-9a39-2fbb1f7e2a10", "--reason", "other")
    assert unknown.exit_code == 1
    assert "no release" in unknown.output


def test_reasons_are_listed(local_info: Path) -> None:
    result = _cli("moderate", "reasons")
    assert result.exit_code == 0
    for code in ("promotional_tone", "not_newsworthy", "missing_contact", "duplicate", "wrong_category"):
        assert code in result.stdout


def test_interactive_console_approves_and_quits(
    local_info: Path, api: ApiClient, stack: LocalStack, sqs: Any
) -> None:
    first = _submit(api, headline="First release for the console")
    second = _submit(api, headline="Second release for the console")
    result = _cli("moderate", "--moderator", "dave", "--wait", "0", input="a\nq\n")
    assert result.exit_code == 0, result.output
    assert "First release for the console" in result.output
    assert "approved" in result.output
    assert api.get(f"/releases/{first}").json()["status"] == "approved"
    assert api.get(f"/releases/{second}").json()["status"] == "pending_review"
    # quitting put the second item straight back
    assert next_item(open_desk(Options(local=True), "erin"), wait=0, hold=30) is not None


def test_interactive_reject_and_request_changes(local_info: Path, api: ApiClient) -> None:
    first = _submit(api, headline="A release to reject in the console")
    second = _submit(api, headline="A release to send back in the console")
    _submit(api, headline="A release left for later in the console")
    answers = "r\nsix\n2,formatting\nToo thin.\nc\n\nPlease add quotes.\n"
    result = _cli("moderate", "--moderator", "dave", "--wait", "0", input=answers + "q\n")
    assert result.exit_code == 0, result.output
    assert "'six' is not one of the reasons" in result.output
    assert "A note is required." in result.output
    first_view = api.get(f"/releases/{first}").json()
    assert first_view["status"] == "rejected"
    assert first_view["decision"]["reason_codes"] == ["not_newsworthy", "formatting"]
    assert first_view["decision"]["note"] == "Too thin."
    second_view = api.get(f"/releases/{second}").json()
    assert second_view["status"] == "changes_requested"
    assert second_view["decision"]["note"] == "Please add quotes."


# -- hostile submitter text -------------------------------------------------------------------------

# Rich markup that crashes (an unmatched closing tag), links, hides text, fakes a style; terminal
# control sequences (ESC/CSI, C1 CSI, BEL, backspace, carriage return) and a bidi override.
MARKUP = ("[/bold] LONDON", "[link=https://evil.example]official[/link]", "[black on black]hidden[/]")
CONTROLS = ("\x1b[2J\x1b[H", "\x9b31m", "\x07\x08\r", "\u202egnp.exe")
RAW_CONTROLS = ("\x1b", "\x9b", "\x07", "\x08", "\r", "\u202e")


def _hostile(label: str, index: int) -> str:
    """A distinct hostile string per field: markup, then control characters, then a marker."""
    return f"{MARKUP[index % 3]} {CONTROLS[index % 4]}{label}"


def _store_hostile_document(
    stack: LocalStack, s3: Any, object_key: str, *, revision: str = ""
) -> dict[str, str]:
    """Overwrite a stored version with hostile text in every field the console shows (as a
    release stored before intake refused control characters would be); returns marker -> field."""
    bucket = stack.ref("ReleasesBucket")
    document = json.loads(s3.get_object(Bucket=bucket, Key=object_key)["Body"].read())
    fields = [
        "headline", "subheadline", "dateline", "summary", "boilerplate", "language", "release_at",
        "contact.name", "contact.email", "contact.phone", "link.title", "link.url", "tag",
        "details.key", "details.value", "details.list", "body", "flag.message",
    ]  # fmt: skip
    value = {name: _hostile(f"MARK-{name}{revision}", i) for i, name in enumerate(fields)}
    content = document["content"]
    for name in ("headline", "subheadline", "dateline", "summary", "boilerplate", "language", "release_at"):
        content[name] = value[name]
    content["contact"] = {key: value[f"contact.{key}"] for key in ("name", "email", "phone")}
    content["links"] = [{"title": value["link.title"], "url": value["link.url"]}]
    content["tags"] = [value["tag"]]
    content["details"] = {
        value["details.key"]: value["details.value"],
        "teams": [value["details.list"]],
    }
    content["body"] = f"<p>{value['body']}</p>"
    document["prescreen"] = [{"code": "hype_words", "message": value["flag.message"]}]
    s3.put_object(Bucket=bucket, Key=object_key, Body=json.dumps(document).encode())
    return {f"MARK-{name}{revision}": name for name in fields}


def _assert_shown_inert(output: str, markers: dict[str, str]) -> None:
    for marker, field in markers.items():
        assert marker in output, f"{field} is not shown"
    for text in MARKUP:
        assert text in output, f"markup {text!r} was interpreted instead of shown"
    for raw in RAW_CONTROLS:
        assert raw not in output, f"raw control {raw!r} reached the terminal"
    for visible in ("\\x1b", "\\x9b", "\\x07", "\\x08", "\\r", "\\u202e"):
        assert visible in output, f"{visible} is not shown as an escape"


def test_the_console_shows_hostile_submitter_text_literally_and_inert(
    local_info: Path, api: ApiClient, stack: LocalStack, s3: Any, dynamodb: Any
) -> None:
    # Given a revised release whose organisation name, both versions and every field are hostile
    api.org_name = f"{MARKUP[2]} {CONTROLS[0]}MARK-org"
    release_id = _submit(api)
    first = next_item(open_desk(Options(local=True), "alice"), wait=0, hold=30)
    assert first is not None
    changes = Decision(DecisionAction.REQUEST_CHANGES, moderator="alice", note="Add quotes.")
    assert apply(open_desk(Options(local=True), "alice"), first, changes).outcome is Outcome.DECIDED
    assert api.put(f"/releases/{release_id}", personnel_release(summary="Second version.")).status == 200
    markers = _store_hostile_document(stack, s3, first.record.object_key, revision="-v1")
    record = DynamoStateRepository(dynamodb, stack.ref("ReleasesTable")).get(release_id)
    assert record is not None
    assert record.object_key != first.record.object_key
    markers |= _store_hostile_document(stack, s3, record.object_key)

    # When a moderator opens the console, reads it and quits
    result = _cli("moderate", "--moderator", "dave", "--wait", "0", input="q\n")

    # Then it did not crash, shows every string as typed and no control character got through
    assert result.exit_code == 0, result.output
    assert "MarkupError" not in result.output
    output = result.output
    _assert_shown_inert(output, {k: v for k, v in markers.items() if not k.endswith("-v1")})
    assert "MARK-org" in output
    assert "Changed since version 1" in output
    assert "MARK-headline-v1" in output  # the change list quotes the previous version, inert too
    # And the key legend is readable
    assert "[a]pprove  [r]eject  request [c]hanges  [s]kip  [q]uit" in output


def test_once_mode_prints_a_hostile_headline_inert(
    local_info: Path, api: ApiClient, stack: LocalStack, s3: Any, dynamodb: Any
) -> None:
    release_id = _submit(api)
    repo = DynamoStateRepository(dynamodb, stack.ref("ReleasesTable"))
    dynamodb.update_item(
        TableName=stack.ref("ReleasesTable"),
        Key={"pk": {"S": f"release#{release_id}"}},
        UpdateExpression="SET headline = :h",
        ExpressionAttributeValues={":h": {"S": f"{MARKUP[0]} {CONTROLS[0]}{CONTROLS[3]}"}},
    )
    assert repo.get(release_id) is not None

    result = _cli("moderate", "--once", "--decision", "approve", "--wait", "0")

    assert result.exit_code == 0, result.output
    assert MARKUP[0] in result.output
    assert "\x1b" not in result.output
    assert "\u202e" not in result.output


def test_usage_errors_quote_what_was_typed_without_markup(local_info: Path) -> None:
    result = _cli("moderate", "kill", "[/bold]\x1b[2J", "--reason", "other")
    assert result.exit_code == 2
    assert "[/bold]\\x1b[2J" in result.output
    assert "\x1b" not in result.output
