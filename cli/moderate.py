"""``press-intake moderate``: the moderators' queue consumer, interactive or scripted.

Each item is a claim-check message (``ModerationMessage``). While a moderator reads, the
message stays invisible to others (a heartbeat extends its visibility); quitting, skipping or
a crash puts it back. A decision is one conditional write, so two moderators never both decide
the same release; stale versions, releases already decided and releases withdrawn meanwhile
are reported and dropped.
"""

from __future__ import annotations

import difflib
import getpass
import json
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated, Any

import typer
from rich.console import Console, Group
from rich.panel import Panel
from rich.prompt import Prompt
from rich.table import Table
from rich.text import Text

from cli.common import EXIT_FAILED, Options, fail, target_from
from cli.target import Target
from cli.terminal import joined, shown
from functions.adapters.dynamodb_state import DynamoStateRepository
from functions.adapters.s3_releases import S3ReleaseStore
from functions.adapters.sqs_publish import SqsPublishQueue
from functions.domain.messages import ModerationMessage, PublishAction, PublishMessage
from functions.domain.moderation import (
    FLAG_EXPLANATIONS,
    REASON_CODES,
    Decision,
    DecisionAction,
    InvalidDecision,
    ModerationService,
    Outcome,
    Result,
    parse_reasons,
)
from functions.domain.records import ReleaseRecord
from functions.domain.sanitise import html_to_text
from functions.domain.states import Action, can

EXIT_EMPTY = 3
DECISIONS = {
    "approve": DecisionAction.APPROVE,
    "reject": DecisionAction.REJECT,
    "request-changes": DecisionAction.REQUEST_CHANGES,
}

# The keys in brackets, as plain text: a markup string would read "[a]" as a style tag.
LEGEND = Text.assemble(
    ("[a]", "bold"), "pprove  ", ("[r]", "bold"), "eject  request ", ("[c]", "bold"), "hanges  ",
    ("[s]", "bold"), "kip  ", ("[q]", "bold"), "uit",
)  # fmt: skip

app = typer.Typer(help="Work through the moderation queue.", invoke_without_command=True)
console = Console()
err = Console(stderr=True, soft_wrap=True)


# ---------------------------------------------------------------------------------------------
# Plumbing
# ---------------------------------------------------------------------------------------------


@dataclass
class Desk:
    """Everything a moderator's session needs, found from the stack outputs or the local info file."""

    target: Target
    sqs: Any
    queue_url: str
    states: DynamoStateRepository
    store: S3ReleaseStore
    publish: SqsPublishQueue
    service: ModerationService
    moderator: str


def _moderator(target: Target, given: str | None) -> str:
    if given is not None:
        if not given.strip():
            fail("--moderator must not be empty")
        return given.strip()
    if target.local:
        return f"local:{getpass.getuser()}"
    return str(target.client("sts").get_caller_identity()["Arn"])


def open_desk(options: Options | None, moderator: str | None) -> Desk:
    target = target_from(options)
    sqs = target.client("sqs")
    states = DynamoStateRepository(target.client("dynamodb"), target.output("ReleasesTableName"))
    publish = SqsPublishQueue(sqs, target.output("PublishQueueUrl"))
    return Desk(
        target=target,
        sqs=sqs,
        queue_url=target.output("ModerationQueueUrl"),
        states=states,
        store=S3ReleaseStore(target.client("s3"), target.output("ReleasesBucketName")),
        publish=publish,
        service=ModerationService(states=states, publish=publish, clock=lambda: datetime.now(UTC)),
        moderator=_moderator(target, moderator),
    )


@dataclass
class Item:
    message_id: str
    receipt: str
    release_id: str
    version: int
    record: ReleaseRecord
    document: dict[str, Any]
    previous: dict[str, Any] | None
    sent_at: datetime | None


class Hold:
    """Keeps a message invisible while a moderator reads it (a visibility heartbeat)."""

    def __init__(self, desk: Desk, receipt: str, seconds: int) -> None:
        self._desk = desk
        self._receipt = receipt
        self._seconds = seconds
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._beat, name="hold", daemon=True)

    def __enter__(self) -> Hold:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join(5)

    def _beat(self) -> None:
        while not self._stop.wait(max(1.0, self._seconds / 3)):
            try:
                self._desk.sqs.change_message_visibility(
                    QueueUrl=self._desk.queue_url,
                    ReceiptHandle=self._receipt,
                    VisibilityTimeout=self._seconds,
                )
            except Exception:  # the next beat tries again; a lost item simply returns to the queue
                err.print("[yellow]warning:[/] could not extend the hold on this item")


def release_now(desk: Desk, receipt: str) -> None:
    """Put an item back on the queue for someone else, now."""
    desk.sqs.change_message_visibility(QueueUrl=desk.queue_url, ReceiptHandle=receipt, VisibilityTimeout=0)


def _delete(desk: Desk, receipt: str) -> None:
    desk.sqs.delete_message(QueueUrl=desk.queue_url, ReceiptHandle=receipt)


def _report_skip(result: Result, as_json: bool) -> None:
    if as_json:
        typer.echo(json.dumps(_result_json(result)), err=True)  # JSON escapes control characters
    else:
        err.print(shown(f"skipped {result.release_id} v{result.version}: {result.detail}", style="dim"))


def next_item(desk: Desk, *, wait: int, hold: int, as_json: bool = False) -> Item | None:
    """The next release to moderate, or ``None`` when one long poll finds the queue empty.

    Messages for stale versions, decided or withdrawn releases are reported and deleted.
    """
    while True:
        response = desk.sqs.receive_message(
            QueueUrl=desk.queue_url,
            MaxNumberOfMessages=1,
            WaitTimeSeconds=wait,
            VisibilityTimeout=hold,
            AttributeNames=["SentTimestamp", "ApproximateReceiveCount"],
        )
        messages = response.get("Messages", [])
        if not messages:
            return None
        message = messages[0]
        try:
            claim = ModerationMessage.model_validate_json(message["Body"])
        except ValueError:
            # Not ours to drop: after maxReceiveCount SQS moves it to the dead-letter queue.
            name = message["MessageId"]
            err.print(
                joined(
                    Text("warning:", style="yellow"),
                    " message ",
                    shown(name),
                    " is not a moderation item; left for the DLQ",
                )
            )
            continue
        release_id, version = claim.release_id, claim.version
        record, skip = desk.service.triage(release_id, version)
        if skip is not None or record is None:
            _report_skip(skip or Result(Outcome.UNKNOWN, release_id, version), as_json)
            _delete(desk, message["ReceiptHandle"])
            continue
        document = desk.store.get_document(record.object_key)
        previous = None
        if version > 1:
            try:
                key = desk.store.version_key(org_id=record.org_id, release_id=release_id, version=version - 1)
                previous = desk.store.get_document(key)
            except Exception:
                previous = None
        sent = message.get("Attributes", {}).get("SentTimestamp")
        return Item(
            message_id=message["MessageId"],
            receipt=message["ReceiptHandle"],
            release_id=release_id,
            version=version,
            record=record,
            document=document,
            previous=previous,
            sent_at=datetime.fromtimestamp(int(sent) / 1000, UTC) if sent else None,
        )


def apply(desk: Desk, item: Item, decision: Decision) -> Result:
    """Record the decision; delete the message only once everything it implies is done."""
    result = desk.service.decide(item.release_id, item.version, decision)
    if result.done_with_message:
        _delete(desk, item.receipt)
    return result


def _result_json(result: Result, decision: Decision | None = None) -> dict[str, Any]:
    record = result.record
    payload: dict[str, Any] = {
        "release_id": result.release_id,
        "version": result.version,
        "outcome": result.outcome.value,
        "status": record.status if record else None,
        "headline": record.headline if record else None,
        "org_id": record.org_id if record else None,
    }
    if decision is not None and result.outcome in (Outcome.DECIDED, Outcome.PUBLISH_DEFERRED):
        payload.update(
            decision=decision.action.value,
            reason_codes=list(decision.reason_codes),
            note=decision.note,
            moderator=decision.moderator,
        )
    if result.detail:
        payload["detail"] = result.detail
    return payload


# ---------------------------------------------------------------------------------------------
# Rendering
# ---------------------------------------------------------------------------------------------


def _ago(moment: datetime | None) -> str:
    if moment is None:
        return "unknown"
    seconds = int((datetime.now(UTC) - moment).total_seconds())
    if seconds < 90:
        return f"{seconds} s"
    if seconds < 5400:
        return f"{seconds // 60} min"
    if seconds < 172800:
        return f"{seconds // 3600} h"
    return f"{seconds // 86400} days"


def changes_since(previous: dict[str, Any] | None, current: dict[str, Any]) -> list[str]:
    """Human-readable differences between two versions' content."""
    if previous is None:
        return []
    before, after = previous.get("content", {}), current.get("content", {})
    lines: list[str] = []
    for field in sorted(set(before) | set(after)):
        if field in ("body", "body_format") or before.get(field) == after.get(field):
            continue
        lines.append(f"{field}: {json.dumps(before.get(field))} -> {json.dumps(after.get(field))}")
    old_body = html_to_text(before.get("body", "")).splitlines()
    new_body = html_to_text(after.get("body", "")).splitlines()
    if old_body != new_body:
        diff = list(difflib.unified_diff(old_body, new_body, "before", "after", lineterm="", n=1))[2:]
        lines.append("body:")
        lines.extend("  " + line for line in diff[:40])
        if len(diff) > 40:
            lines.append(f"  ... {len(diff) - 40} more lines")
    return lines


def _header(content: dict[str, Any]) -> Text:
    header = shown(content.get("headline", ""), style="bold")
    if content.get("subheadline"):
        header.append("\n")
        header.append_text(shown(content["subheadline"], style="italic"))
    return header


def _shown_value(value: Any) -> Text:
    return shown(json.dumps(value, ensure_ascii=False) if isinstance(value, list | dict) else value)


def _meta(item: Item, content: dict[str, Any]) -> Table:
    """Who sent it, what it is about, when it may go out, how long it has waited, whom to ask."""
    record = item.record
    meta = Table.grid(padding=(0, 2))
    meta.add_column(style="dim")
    meta.add_column()
    meta.add_row("organisation", joined(shown(record.org_name), " (", shown(record.org_id), ")"))
    meta.add_row("category", shown(content.get("category", record.category)))
    for name, value in (content.get("details") or {}).items():
        meta.add_row(joined("  ", shown(name)), _shown_value(value))
    meta.add_row("dateline", shown(content.get("dateline") or "-"))
    meta.add_row("language", shown(content.get("language", "en")))
    meta.add_row("release at", shown(content.get("release_at") or "on approval"))
    correction = item.document.get("correction") or {}
    if correction:  # a published release's correction: its note is shown to readers
        meta.add_row(
            "version",
            f"{item.version} (correction of published version {correction.get('corrects_version')})",
        )
        meta.add_row("correction", shown(correction.get("note") or ""))
    else:
        meta.add_row("version", f"{item.version}" + (" (revision)" if item.version > 1 else ""))
    meta.add_row("waiting", _ago(item.sent_at or record.updated_at))
    _add_references(meta, content)
    return meta


def _add_references(meta: Table, content: dict[str, Any]) -> None:
    """The press contact, the links and the tags."""
    contact = content.get("contact") or {}
    reach = (contact.get("name"), contact.get("email"), contact.get("phone"))
    meta.add_row("contact", shown(" / ".join(str(v) for v in reach if v)))
    for link in content.get("links") or []:
        meta.add_row("link", shown(f"{link.get('title') or ''} {link.get('url', '')}".strip()))
    if content.get("tags"):
        meta.add_row("tags", shown(", ".join(str(tag) for tag in content["tags"])))


def _text(content: dict[str, Any]) -> list[Any]:
    """Summary, body and boilerplate, as plain text."""
    parts: list[Any] = []
    if content.get("summary"):
        parts += [shown(content["summary"], style="italic"), Text("")]
    parts.append(shown(html_to_text(content.get("body", ""))))
    if content.get("boilerplate"):
        parts += [Text(""), shown(content["boilerplate"], style="dim")]
    return parts


def _flags(item: Item) -> Text | None:
    """The prescreen flags, each with what it means for the decision."""
    flags = item.document.get("prescreen") or [
        {"code": f.code, "message": f.message} for f in item.record.prescreen
    ]
    if not flags:
        return None
    flag_text = Text("\nPrescreen flags\n", style="bold yellow")
    for flag in flags:
        flag_text.append_text(shown(f"  {flag.get('code')}: {flag.get('message')}", style="yellow"))
        explanation = FLAG_EXPLANATIONS.get(str(flag.get("code")))
        if explanation:
            flag_text.append(f" ({explanation})", style="dim")
        flag_text.append("\n")
    return flag_text


def render(item: Item) -> Panel:
    """The release as the moderator reads it. Every submitter string goes through ``shown``:
    never parsed as rich markup, control characters made visible (cli/terminal.py)."""
    content = item.document.get("content", {})
    parts: list[Any] = [_header(content), Text(""), _meta(item, content), Text(""), *_text(content)]
    if (flags := _flags(item)) is not None:
        parts.append(flags)
    changes = changes_since(item.previous, item.document)
    if changes:
        parts.append(Text("\nChanged since version " + str(item.version - 1) + "\n", style="bold cyan"))
        parts.append(shown("\n".join(changes), style="cyan"))
    return Panel(Group(*parts), title=shown(f"release {item.release_id}"), subtitle=shown(f"v{item.version}"))


# ---------------------------------------------------------------------------------------------
# Commands
# ---------------------------------------------------------------------------------------------


def _decision(action: DecisionAction, moderator: str, reasons: tuple[str, ...], note: str | None) -> Decision:
    try:
        return Decision(action=action, moderator=moderator, reason_codes=reasons, note=note)
    except InvalidDecision as error:
        fail(str(error))


@app.callback()
def moderate(
    ctx: typer.Context,
    once: Annotated[
        bool, typer.Option("--once", help="Non-interactive: decide the next item and exit.")
    ] = False,
    decision: Annotated[
        str | None, typer.Option("--decision", help="With --once: approve, reject or request-changes.")
    ] = None,
    reason: Annotated[
        list[str] | None, typer.Option("--reason", help="Reason code (repeatable); see `moderate reasons`.")
    ] = None,
    note: Annotated[str | None, typer.Option("--note", help="Note for the submitter.")] = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="With --once: print each result as a JSON line.")
    ] = False,
    max_items: Annotated[int, typer.Option("--max", min=1, help="With --once: decide up to N items.")] = 1,
    moderator: Annotated[
        str | None, typer.Option("--moderator", help="Who decides (default: your AWS identity).")
    ] = None,
    wait: Annotated[
        int, typer.Option("--wait", min=0, max=20, help="Long-poll seconds before 'empty'.")
    ] = 20,
    hold: Annotated[
        int, typer.Option("--hold", min=10, max=43200, help="Seconds an item stays yours between heartbeats.")
    ] = 120,
) -> None:
    """Moderate releases: interactive console by default; --once --decision ... for scripts."""
    if ctx.invoked_subcommand is not None:
        return
    reasons = parse_reasons(reason or [])
    if decision is not None and not once:
        fail("--decision needs --once (the interactive console asks for each decision)")
    if once:
        probe = _scripted_decision(decision, moderator, reasons, note)  # usage errors first
        desk = open_desk(ctx.obj, moderator)
        chosen = Decision(probe.action, desk.moderator, probe.reason_codes, probe.note)
        raise typer.Exit(_run_once(desk, chosen, max_items=max_items, wait=wait, hold=hold, as_json=as_json))
    if reasons or note or as_json or max_items != 1:
        fail("--reason, --note, --json and --max go with --once")
    _console(open_desk(ctx.obj, moderator), wait=wait, hold=hold)


def _scripted_decision(
    decision: str | None, moderator: str | None, reasons: tuple[str, ...], note: str | None
) -> Decision:
    """The decision ``--once`` applies, checked before any AWS call (the moderator comes later)."""
    if decision is None:
        fail("--once needs --decision approve|reject|request-changes")
    if decision not in DECISIONS:
        fail(f"--decision must be one of: {', '.join(DECISIONS)}")
    return _decision(DECISIONS[decision], moderator or "check", reasons, note)


def _run_once(desk: Desk, decision: Decision, *, max_items: int, wait: int, hold: int, as_json: bool) -> int:
    decided = 0
    for _ in range(max_items):
        item = next_item(desk, wait=wait, hold=hold, as_json=as_json)
        if item is None:
            break
        result = apply(desk, item, decision)
        if result.outcome in (Outcome.DECIDED, Outcome.PUBLISH_DEFERRED):
            decided += 1
        payload = _result_json(result, decision)
        if as_json:
            typer.echo(json.dumps(payload))
        else:
            verb = {"approve": "approved", "reject": "rejected", "request_changes": "sent back"}[
                decision.action
            ]
            said = verb if result.outcome is Outcome.DECIDED else result.outcome.value.replace("_", " ")
            console.print(shown(f"{said}: {result.release_id} v{result.version} {payload['headline']!r}"))
            if result.outcome is Outcome.PUBLISH_DEFERRED:
                console.print("[yellow]the publish message will be sent by the outbox sweep[/]")
    if decided == 0:
        if not as_json:
            err.print("The moderation queue is empty.")
        return EXIT_EMPTY
    return 0


def _ask_reasons() -> tuple[str, ...]:
    codes = list(REASON_CODES)
    for number, code in enumerate(codes, start=1):
        console.print(f"  {number}. {code} - {REASON_CODES[code]}")
    while True:
        answer = Prompt.ask("Reasons (numbers or codes, comma-separated)")
        chosen = []
        for part in (p.strip() for p in answer.split(",") if p.strip()):
            if part.isdigit() and 1 <= int(part) <= len(codes):
                chosen.append(codes[int(part) - 1])
            elif part in REASON_CODES:
                chosen.append(part)
            else:
                chosen = []
                console.print(shown(f"{part!r} is not one of the reasons", style="red"))
                break
        if chosen:
            return tuple(dict.fromkeys(chosen))


def _console(desk: Desk, *, wait: int, hold: int) -> None:
    console.print(
        joined(
            "Moderating as ",
            shown(desk.moderator, style="bold"),
            " - ",
            shown(desk.target.description),
            ". Ctrl-C to stop.",
        )
    )
    item: Item | None = None
    try:
        while True:
            item = _wait_for_item(desk, wait=wait, hold=hold)
            if item is None:
                continue
            console.print(render(item))
            with Hold(desk, item.receipt, hold):
                choice = Prompt.ask(
                    LEGEND,
                    choices=["a", "r", "c", "s", "q"],
                    show_choices=False,
                )
                if choice in ("s", "q"):
                    release_now(desk, item.receipt)
                    item = None
                    if choice == "q":
                        console.print("Back on the queue. Bye.")
                        return
                    continue
                result = apply(desk, item, _ask_decision(desk, choice))
            item = None
            _say(result)
    except (KeyboardInterrupt, EOFError):
        if item is not None:
            release_now(desk, item.receipt)
        console.print("\nStopped; any item on screen is back on the queue.")


def _wait_for_item(desk: Desk, *, wait: int, hold: int) -> Item | None:
    with console.status("Waiting for releases... (Ctrl-C to stop)"):
        item = next_item(desk, wait=wait, hold=hold)
        if item is None and wait == 0:
            time.sleep(1)  # without long polling, do not spin
    return item


def _ask_decision(desk: Desk, choice: str) -> Decision:
    """The decision for the key pressed: a(pprove), r(eject) or (request) c(hanges)."""
    if choice == "a":
        return _decision(DecisionAction.APPROVE, desk.moderator, (), None)
    if choice == "r":
        reasons = _ask_reasons()
        note = Prompt.ask("Note for the submitter (optional)", default="") or None
        if "other" in reasons and not note:
            note = _ask_note()
        return _decision(DecisionAction.REJECT, desk.moderator, reasons, note)
    return _decision(DecisionAction.REQUEST_CHANGES, desk.moderator, (), _ask_note())


def _ask_note() -> str:
    while True:
        note = Prompt.ask("What should the submitter change?").strip()
        if note:
            return note
        console.print("[red]A note is required.[/]")


def _say(result: Result) -> None:
    if result.outcome is Outcome.DECIDED and result.record is not None:
        console.print(
            joined(shown(result.record.status, style="green"), f": {result.release_id} v{result.version}\n")
        )
    elif result.outcome is Outcome.PUBLISH_DEFERRED:
        console.print("[yellow]approved; the publish message will be sent by the outbox sweep[/]\n")
    else:
        console.print(shown(f"not decided: {result.detail}\n", style="yellow"))


@app.command()
def reasons() -> None:
    """List the reason codes for rejections."""
    for code, meaning in REASON_CODES.items():
        console.print(f"{code:18} {meaning}")


@app.command()
def kill(
    ctx: typer.Context,
    release_id: Annotated[str, typer.Argument(help="The published release to take down.")],
    reason: Annotated[str, typer.Option("--reason", help="Reason code; see `moderate reasons`.")],
    moderator: Annotated[str | None, typer.Option("--moderator", help="Who decides.")] = None,
) -> None:
    """Take down a published release (its page, feeds and ninjs say it was withdrawn)."""
    from functions.domain.records import is_release_id

    if reason not in REASON_CODES:
        fail(f"--reason must be one of: {', '.join(REASON_CODES)}")
    if not is_release_id(release_id):
        fail(f"{release_id!r} is not a release id")
    desk = open_desk(ctx.obj, moderator)
    record = desk.states.get(release_id)
    if record is None:
        fail(f"no release {release_id}", code=EXIT_FAILED)
    if not can(Action.KILL, record.status):
        fail(
            f"release {release_id} is {record.status}; only published releases can be killed",
            code=EXIT_FAILED,
        )
    kill = PublishMessage(
        release_id=release_id, version=record.version, action=PublishAction.KILL, reason=reason
    )
    desk.publish.send(kill)
    console.print(shown(f"Kill of {release_id} queued ({reason}); the publisher takes it down."))
