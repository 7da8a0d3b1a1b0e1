"""The moderators' queue consumer against moto: decisions, holds, skips, races, stale items,
recovery, the queue at a glance, kills."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console
from typer.testing import CliRunner

from cli.common import Options
from cli.main import app
from cli.moderate import Session, changes_since, open_session, render
from functions.adapters.dynamodb_state import DynamoStateRepository
from functions.domain.moderation import Decision, DecisionAction, Item, Outcome, Result
from infra.bootstrap import LocalStack
from tests.functional.conftest import Faults, receive_all
from tests.functional.test_reliability import _sweep
from tests.helpers import ApiClient, personnel_release

runner = CliRunner()
APPROVE = Decision(DecisionAction.APPROVE, moderator="alice")


_opened: list[Session] = []


@pytest.fixture(autouse=True)
def _stop_heartbeats(aws: None) -> Iterator[None]:
    """Every session a test opened stops beating before the emulated AWS goes away."""
    yield
    while _opened:
        _opened.pop().inbox.close()


def open_desk(options: Options, moderator: str, *, hold: int = 30) -> Session:
    session = open_session(options, moderator, hold=hold)
    _opened.append(session)
    return session


def next_item(session: Session, *, wait: int = 0) -> Item | None:
    return session.desk.next_item(wait=wait)


def apply(session: Session, item: Item, decision: Decision) -> Result:
    return session.desk.decide(item, decision)


def crash(session: Session) -> None:
    """The console dies: its heartbeat stops and nothing is handed back."""
    session.inbox.close()


@pytest.fixture
def desk(local_info: Path, api: ApiClient) -> Session:
    return open_desk(Options(local=True), "alice")


def _submit(api: ApiClient, **overrides: Any) -> str:
    response = api.post("/releases", personnel_release(**overrides))
    assert response.status == 202, response.body
    return str(response.json()["id"])


def _publish_messages(stack: LocalStack, sqs: Any) -> list[dict[str, Any]]:
    return [m["json"] for m in receive_all(sqs, stack.ref("PublishQueue"))]


def _attributes(sqs: Any, url: str) -> dict[str, str]:
    return dict(sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"])


def _queue_depth(sqs: Any, url: str) -> int:
    attributes = _attributes(sqs, url)
    return int(attributes["ApproximateNumberOfMessages"]) + int(
        attributes["ApproximateNumberOfMessagesNotVisible"]
    )


def _text(item: Item, **kwargs: Any) -> str:
    shown = Console(record=True, width=120)
    shown.print(render(item, **kwargs))
    return shown.export_text()


# -- decisions ------------------------------------------------------------------------------------


def test_approval_queues_publication_and_removes_the_item(
    desk: Session, api: ApiClient, stack: LocalStack, sqs: Any
) -> None:
    release_id = _submit(api)
    item = next_item(desk)
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
    desk: Session, api: ApiClient, stack: LocalStack, sqs: Any, dynamodb: Any
) -> None:
    release_id = _submit(api)
    item = next_item(desk)
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


def test_request_changes_then_revision_shows_what_changed(desk: Session, api: ApiClient) -> None:
    release_id = _submit(api)
    item = next_item(desk)
    assert item is not None
    changes = Decision(DecisionAction.REQUEST_CHANGES, moderator="alice", note="Add a phone number.")
    assert apply(desk, item, changes).outcome is Outcome.DECIDED
    assert api.get(f"/releases/{release_id}").json()["decision"]["note"] == "Add a phone number."

    revised = personnel_release(headline="Acme names Jane Doe as its new finance chief")
    assert api.put(f"/releases/{release_id}", revised).status == 200

    item = next_item(desk)
    assert item is not None
    assert item.version == 2
    diff = changes_since(item.previous, item.document)
    assert any(line.startswith("headline:") and "new finance chief" in line for line in diff)
    text = _text(item)
    assert "Changed since version 1" in text
    assert "Acme names Jane Doe as its new finance chief" in text


def test_the_console_shows_what_a_moderator_needs(desk: Session, api: ApiClient) -> None:
    _submit(
        api,
        headline="ACME ANNOUNCES REVOLUTIONARY WIDGET",
        contact={"name": "Press Office", "email": "press@acme.example"},
    )
    item = next_item(desk)
    assert item is not None
    text = _text(item)
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
    items = [next_item(d) for d in desks]
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


def test_a_stale_version_is_dropped(desk: Session, api: ApiClient, stack: LocalStack, sqs: Any) -> None:
    release_id = _submit(api)
    api.put(f"/releases/{release_id}", personnel_release(summary="Second version."))
    item = next_item(desk)  # the version 1 message is skipped and deleted
    assert item is not None
    assert item.version == 2
    assert apply(desk, item, APPROVE).outcome is Outcome.DECIDED
    assert _queue_depth(sqs, stack.ref("ModerationQueue")) == 0


def test_a_release_withdrawn_meanwhile_is_reported_and_skipped(
    desk: Session, api: ApiClient, stack: LocalStack, sqs: Any
) -> None:
    release_id = _submit(api)
    item = next_item(desk)
    assert item is not None
    api.delete(f"/releases/{release_id}")  # the submitter withdraws while the moderator reads

    result = apply(desk, item, APPROVE)

    assert result.outcome is Outcome.WITHDRAWN
    assert api.get(f"/releases/{release_id}").json()["status"] == "withdrawn"
    assert _publish_messages(stack, sqs) == []
    assert _queue_depth(sqs, stack.ref("ModerationQueue")) == 0


# -- holding an item ----------------------------------------------------------------------------------


def test_an_item_whose_console_died_returns_to_the_queue_within_the_hold(
    local_info: Path, api: ApiClient
) -> None:
    release_id = _submit(api)
    crashed = open_desk(Options(local=True), "alice", hold=2)
    assert next_item(crashed) is not None
    started = time.monotonic()
    crash(crashed)  # mid-review: no heartbeat any more, nothing handed back
    other = open_desk(Options(local=True), "bob")
    assert next_item(other) is None  # hidden while held
    item = None
    while item is None and time.monotonic() - started < 4:
        time.sleep(0.2)
        item = next_item(other)
    assert item is not None, "the item did not come back"
    assert time.monotonic() - started < 2 + 1  # back once the hold ended
    assert item.release_id == release_id


def test_crashed_consoles_never_move_a_release_to_the_dead_letter_queue(
    local_info: Path, api: ApiClient, stack: LocalStack, sqs: Any
) -> None:
    # Given more crashed consoles in a row than the queue's maxReceiveCount (5)
    release_id = _submit(api)
    for _ in range(6):
        crashed = open_desk(Options(local=True), "alice", hold=1)
        item = None
        while item is None:  # back within the hold of the console before
            item = next_item(crashed)
            time.sleep(0.1 if item is None else 0)
        crash(crashed)
    # Then the release is still there for the next moderator, and nothing was dead-lettered
    time.sleep(1.1)
    item = next_item(open_desk(Options(local=True), "bob"))
    assert item is not None
    assert item.release_id == release_id
    assert item.delivery.deliveries >= 3
    assert "Received" in _text(item)  # pointed out to the moderator
    assert _queue_depth(sqs, stack.ref("ModerationDeadLetterQueue")) == 0


def test_the_heartbeat_keeps_an_item_while_the_moderator_reads(local_info: Path, api: ApiClient) -> None:
    _submit(api)
    reader = open_desk(Options(local=True), "alice", hold=3)
    other = open_desk(Options(local=True), "bob")
    item = next_item(reader)  # held: the heartbeat beats every second, each renewing 3 s
    assert item is not None
    time.sleep(4.5)  # longer than the hold: only the heartbeat keeps it
    assert next_item(other) is None
    assert apply(reader, item, APPROVE).outcome is Outcome.DECIDED


# -- recovery ----------------------------------------------------------------------------------------


def test_publish_send_failure_after_the_decision_is_recovered(
    local_info: Path,
    api: ApiClient,
    stack: LocalStack,
    sqs: Any,
    faults: Faults,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    release_id = _submit(api)
    desk = open_desk(Options(local=True), "alice", hold=1)
    item = next_item(desk)
    assert item is not None
    faults.fail(desk.target.client("sqs"), "SendMessage", times=5)

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
    assert next_item(desk) is None
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


def _published(api: ApiClient, stack: LocalStack, dynamodb: Any) -> str:
    from tests.functional.test_api_releases import _force_status

    release_id = _submit(api)
    _force_status(stack, dynamodb, release_id, "approved", "published")
    return release_id


def _stored(stack: LocalStack, dynamodb: Any, release_id: str) -> dict[str, Any]:
    key = {"pk": {"S": f"release#{release_id}"}}
    return dict(dynamodb.get_item(TableName=stack.ref("ReleasesTable"), Key=key)["Item"])


def test_kill_with_a_note_records_who_why_and_the_note_and_queues_the_take_down(
    local_info: Path, api: ApiClient, stack: LocalStack, sqs: Any, dynamodb: Any
) -> None:
    release_id = _published(api, stack, dynamodb)

    result = _cli(
        "moderate", "kill", release_id, "--reason", "other", "--note", "Withdrawn at the court's request.",
        "--moderator", "mona",
    )  # fmt: skip

    assert result.exit_code == 0, result.output
    view = api.get(f"/releases/{release_id}").json()
    assert view["status"] == "killed"
    assert view["decision"]["action"] == "kill"
    assert view["decision"]["reason_codes"] == ["other"]
    assert view["decision"]["note"] == "Withdrawn at the court's request."
    assert "mona" not in json.dumps(view)  # the submitter never sees who
    stored = _stored(stack, dynamodb, release_id)
    assert stored["decision"]["M"]["moderator"]["S"] == "mona"
    assert stored["history"]["L"][-1]["M"]["actor"]["S"] == "moderator:mona"
    assert "outbox" not in stored  # the kill message was sent
    assert _publish_messages(stack, sqs) == [
        {"release_id": release_id, "version": 1, "action": "kill", "reason": "other"}
    ]


def test_kill_without_a_note(
    local_info: Path, api: ApiClient, stack: LocalStack, sqs: Any, dynamodb: Any
) -> None:
    release_id = _published(api, stack, dynamodb)

    result = _cli("moderate", "kill", release_id, "--reason", "inappropriate")

    assert result.exit_code == 0, result.output
    decision = api.get(f"/releases/{release_id}").json()["decision"]
    assert (decision["action"], decision["reason_codes"], decision["note"]) == (
        "kill",
        ["inappropriate"],
        None,
    )
    assert _stored(stack, dynamodb, release_id)["decision"]["M"]["moderator"]["S"].startswith("local:")
    assert len(_publish_messages(stack, sqs)) == 1
    again = _cli("moderate", "kill", release_id, "--reason", "inappropriate")  # harmless
    assert again.exit_code == 0, again.output
    assert "already killed" in again.output


def test_kill_send_failure_is_recovered_by_the_outbox_sweep(
    local_info: Path,
    api: ApiClient,
    stack: LocalStack,
    sqs: Any,
    dynamodb: Any,
    faults: Faults,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    release_id = _published(api, stack, dynamodb)
    from cli.target import resolve

    faults.fail(resolve(None, True, None).client("sqs"), "SendMessage", times=5)
    result = _cli("moderate", "kill", release_id, "--reason", "inappropriate")
    assert result.exit_code == 0, result.output
    assert "outbox sweep" in result.output
    faults.clear()
    assert api.get(f"/releases/{release_id}").json()["status"] == "killed"
    assert _sweep(stack, monkeypatch)["releases"] == [{"id": release_id, "version": 1, "queue": "kill"}]
    assert _publish_messages(stack, sqs) == [{"release_id": release_id, "version": 1, "action": "kill"}]


def test_kill_refuses_what_it_cannot_do(
    local_info: Path, api: ApiClient, stack: LocalStack, sqs: Any, dynamodb: Any
) -> None:
    pending = _submit(api)
    result = _cli("moderate", "kill", pending, "--reason", "inappropriate")
    assert result.exit_code == 1
    assert "only published releases can be killed" in result.output
    unknown = _cli("moderate", "kill", "7d0f4f5e-8f57-4c5c-9a39-2fbb1f7e2a10", "--reason", "duplicate")
    assert unknown.exit_code == 2  # a usage error: no such release
    assert "no release" in unknown.output
    published = _published(api, stack, dynamodb)
    without_note = _cli("moderate", "kill", published, "--reason", "other")
    assert without_note.exit_code == 2
    assert "reason 'other' needs a note" in without_note.output
    assert api.get(f"/releases/{published}").json()["status"] == "published"
    assert _publish_messages(stack, sqs) == []


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
    assert next_item(open_desk(Options(local=True), "erin")) is not None


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
    first = next_item(open_desk(Options(local=True), "alice"))
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


# -- skipping and quitting never count against a release ------------------------------------------


def _headlines_seen(output: str, headlines: list[str]) -> list[str]:
    """The headlines in the order the console showed them."""
    positions = sorted((output.index(h), h) for h in headlines if h in output)
    return [h for _, h in positions]


def test_skipping_twice_shows_three_different_releases(local_info: Path, api: ApiClient) -> None:
    headlines = [f"Release number {n} waiting for a moderator" for n in (1, 2, 3)]
    for headline in headlines:
        _submit(api, headline=headline)

    result = _cli("moderate", "--moderator", "dave", "--wait", "0", input="s\ns\nq\n")

    assert result.exit_code == 0, result.output
    assert _headlines_seen(result.output, headlines) == headlines  # each once, in queue order
    for headline in headlines:
        assert result.output.count(headline) == 1


def test_ten_skips_and_a_quit_leave_everything_pending_and_nothing_dead_lettered(
    local_info: Path, api: ApiClient, stack: LocalStack, sqs: Any
) -> None:
    ids = [_submit(api, headline=f"Release number {n} waiting for a moderator") for n in (1, 2, 3)]

    result = _cli("moderate", "--moderator", "dave", "--wait", "0", input="s\n" * 10 + "q\n")

    assert result.exit_code == 0, result.output
    assert result.output.count("Skipped") == 10
    for release_id in ids:
        assert api.get(f"/releases/{release_id}").json()["status"] == "pending_review"
    assert _queue_depth(sqs, stack.ref("ModerationDeadLetterQueue")) == 0
    queue = _attributes(sqs, stack.ref("ModerationQueue"))
    assert int(queue["ApproximateNumberOfMessages"]) == 3  # all back at once (the quit too)
    assert int(queue["ApproximateNumberOfMessagesNotVisible"]) == 0
    # and the next moderator gets each of them, counted from zero again
    messages = receive_all(sqs, stack.ref("ModerationQueue"))
    assert sorted(m["json"]["release_id"] for m in messages) == sorted(ids)


def test_a_skipped_release_comes_back_after_the_others_and_alone_at_once(
    local_info: Path, api: ApiClient
) -> None:
    first = _submit(api, headline="The release skipped first in this session")
    _submit(api, headline="The release shown after the skipped one")
    session = open_desk(Options(local=True), "alice")
    item = next_item(session)
    assert item is not None
    assert item.release_id == first
    session.desk.skip(item)
    other = next_item(session)
    assert other is not None
    assert other.release_id != first  # the others first
    assert apply(session, other, APPROVE).outcome is Outcome.DECIDED
    again = next_item(session)  # nothing else waits: the skipped one comes back
    assert again is not None
    assert again.release_id == first
    session.close()


# -- the queue at a glance --------------------------------------------------------------------------


def test_status_counts_waiting_in_review_dead_letters_and_the_oldest_age(
    local_info: Path, api: ApiClient, stack: LocalStack, sqs: Any
) -> None:
    import boto3

    from infra.bootstrap import LOCAL_ACCOUNT
    from infra.local.metrics import publish_queue_ages

    for n in range(3):
        _submit(api, headline=f"Release number {n} waiting for a moderator")
    holder = open_desk(Options(local=True), "bob")
    assert next_item(holder) is not None  # in review by bob
    sqs.send_message(QueueUrl=stack.ref("ModerationDeadLetterQueue"), MessageBody="{}")

    result = _cli("moderate", "--status", "--json")

    assert result.exit_code == 0, result.output
    status = json.loads(result.stdout)
    assert status == {
        "waiting": 2,
        "in_review": 1,
        "delayed": 0,
        "dead_letters": 1,
        "oldest_age_seconds": None,  # moto publishes no CloudWatch metrics by itself
        "oldest_age_as_of": None,
        "approximate": True,
    }
    # Given the metric SQS publishes (the local stack emulates it)
    publish_queue_ages(boto3.client("cloudwatch"), LOCAL_ACCOUNT, "us-east-1", now=_now())
    status = json.loads(_cli("moderate", "--status", "--json").stdout)
    assert isinstance(status["oldest_age_seconds"], int)
    assert 0 <= status["oldest_age_seconds"] < 60
    text = _cli("moderate", "--status").stdout
    for expected in ("waiting", "2", "in review", "oldest", "CloudWatch", "dead letters", "dlq list"):
        assert expected in text, expected
    holder.close()


def test_the_local_queue_age_metric_is_zero_for_an_empty_queue_as_on_aws(
    local_info: Path, api: ApiClient, stack: LocalStack, sqs: Any
) -> None:
    from datetime import timedelta

    import boto3

    from infra.bootstrap import LOCAL_ACCOUNT
    from infra.local.metrics import publish_queue_ages

    _submit(api)
    moderation = stack.ref("ModerationQueue").rsplit("/", 1)[-1]
    later = _now() + timedelta(seconds=90)

    ages = publish_queue_ages(boto3.client("cloudwatch"), LOCAL_ACCOUNT, "us-east-1", now=later)
    assert 89 <= ages[moderation] <= 92  # the oldest message's age, without receiving it
    for message in receive_all(sqs, stack.ref("ModerationQueue")):  # consumed: the queue is empty
        sqs.delete_message(QueueUrl=stack.ref("ModerationQueue"), ReceiptHandle=message["ReceiptHandle"])
    ages = publish_queue_ages(boto3.client("cloudwatch"), LOCAL_ACCOUNT, "us-east-1", now=later)
    assert ages[moderation] == 0


def test_the_console_shows_the_queue_at_a_glance(local_info: Path, api: ApiClient) -> None:
    for n in range(3):
        _submit(api, headline=f"Release number {n} waiting for a moderator")
    other = open_desk(Options(local=True), "bob")
    assert next_item(other) is not None

    result = _cli("moderate", "--moderator", "dave", "--wait", "0", input="q\n")

    assert "queue: 1 waiting · 1 in review by others" in result.output
    assert "0 dead letters" in result.output
    other.close()


# -- readable releases -------------------------------------------------------------------------------

MARKDOWN_BODY = """The club's season in numbers.

## Results

| Team | Played | Won |
|------|-------:|----:|
| Rovers | 10 | 7 |
| United | 10 | 4 |

What changes next season:

- a new coach
- two new pitches
  - one of them floodlit

> "Our best season yet," said the chair.

Tickets at [the club shop](https://rovers.example/shop).
"""


def test_a_markdown_body_with_a_table_and_a_list_keeps_its_structure(
    local_info: Path, api: ApiClient
) -> None:
    _submit(api, body=MARKDOWN_BODY, body_format="markdown")
    item = next_item(open_desk(Options(local=True), "alice"))
    assert item is not None

    text = _text(item)

    lines = text.splitlines()
    row = next(line for line in lines if "Rovers" in line)
    assert "10" in row
    assert "7" in row  # one table row per line: team, played, won
    assert any("Team" in line and "Played" in line and "Won" in line for line in lines)
    assert any(line.strip(" │").startswith("• a new coach") for line in lines)
    assert any(line.strip(" │").startswith("• two new pitches") for line in lines)
    nested = next(line for line in lines if "one of them floodlit" in line)
    assert nested.index("◦") > next(line for line in lines if "a new coach" in line).index("•")
    assert any('│ "Our best season yet," said the chair.' in line for line in lines)
    assert "the club shop <https://rovers.example/shop>" in text
    body = text[text.index("season in numbers") :]
    assert "\n│" in body[: body.index("Results")]  # paragraphs separated by a blank line
    assert "<p>" not in text
    assert "<table>" not in text


def test_empty_fields_are_left_out_and_times_are_relative(local_info: Path, api: ApiClient) -> None:
    from datetime import timedelta
    from zoneinfo import ZoneInfo

    _submit(
        api,
        subheadline=None,
        boilerplate=None,
        tags=[],
        details={"person": "Jane Doe", "role": "CFO", "effective_date": "2027-01-01", "previous_role": None},
        release_at=(_now() + timedelta(days=3)).isoformat(),
    )
    item = next_item(open_desk(Options(local=True), "alice"))
    assert item is not None

    text = _text(item, now=_now() + timedelta(hours=2), zone=ZoneInfo("Europe/Berlin"))

    assert "None" not in text
    assert "[]" not in text
    assert "previous role" not in text
    assert "tags" not in text
    assert "(2 h ago)" in text  # submitted and waiting, relative to the moderator's now
    assert "(in 2 days)" in text  # release at, 3 days after submission
    assert "CET" in text or "CEST" in text  # in the moderator's zone
    assert "Fri 01 Jan 2027" in text  # a date with its weekday


def _now() -> Any:
    from datetime import UTC, datetime

    return datetime.now(UTC)
