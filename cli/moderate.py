"""``press-intake moderate``: the moderators' console (prompts and rendering) and its scripted form.

The queue plumbing (receiving, holding with a heartbeat, handing back, deleting) is the
moderation queue's adapter (``functions/adapters/sqs_moderation.py``); which message to show
next, what to drop and how a skip comes back is the desk (``ModerationDesk`` in
``functions/domain/moderation.py``); a decision is one conditional write
(``ModerationService``). This module asks and shows: every string a submitter typed goes
through ``cli.terminal.shown`` (never rich markup, control characters as visible escapes).
"""

from __future__ import annotations

import difflib
import getpass
import json
import logging
import os
import re
import time
from dataclasses import dataclass
from datetime import UTC, date, datetime, tzinfo
from typing import Annotated, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import typer
from rich.console import Console, Group, RenderableType
from rich.panel import Panel
from rich.prompt import Prompt
from rich.table import Table
from rich.text import Text

from cli.body import render_body
from cli.common import EXIT_FAILED, EXIT_USAGE, Options, fail, target_from
from cli.target import Target
from cli.terminal import joined, shown
from functions.adapters.cloudwatch_sqs import QueueAge, SqsMetrics
from functions.adapters.dynamodb_state import DynamoStateRepository
from functions.adapters.s3_releases import S3ReleaseStore
from functions.adapters.sqs_moderation import BATCH, SqsModerationQueue
from functions.adapters.sqs_publish import SqsPublishQueue
from functions.domain.errors import ReleaseNotFound, StateConflict
from functions.domain.moderation import (
    FLAG_EXPLANATIONS,
    MANY_DELIVERIES,
    REASON_CODES,
    Decision,
    DecisionAction,
    InvalidDecision,
    Item,
    ModerationDesk,
    ModerationService,
    Outcome,
    Result,
    parse_reasons,
)
from functions.domain.sanitise import html_to_text

log = logging.getLogger(__name__)
EXIT_EMPTY = 3
DECISIONS = {
    "approve": DecisionAction.APPROVE,
    "reject": DecisionAction.REJECT,
    "request-changes": DecisionAction.REQUEST_CHANGES,
}

# The keys in brackets, as plain text: a markup string would read "[a]" as a style tag.
LEGEND = Text.assemble(
    ("[a]", "bold"), "pprove  ", ("[r]", "bold"), "eject  request ", ("[c]", "bold"), "hanges  ",
    ("[s]", "bold"), "kip  ", ("[q]", "bold"), "uit  ", ("[p]", "bold"), "ager",
)  # fmt: skip

app = typer.Typer(help="Work through the moderation queue.", invoke_without_command=True)
console = Console()
err = Console(stderr=True, soft_wrap=True)


# ---------------------------------------------------------------------------------------------
# The session: resources, the desk, the queue at a glance
# ---------------------------------------------------------------------------------------------


@dataclass
class Session:
    """Everything a moderator's session needs, found from the stack outputs or the local info file."""

    target: Target
    inbox: SqsModerationQueue
    dead_letters: SqsModerationQueue
    metrics: SqsMetrics
    service: ModerationService
    desk: ModerationDesk
    moderator: str

    def close(self) -> None:
        """Hand back what the session holds, at once, and stop the heartbeat."""
        try:
            self.desk.close()
        finally:
            self.inbox.close()


def _moderator(target: Target, given: str | None) -> str:
    if given is not None:
        if not given.strip():
            fail("--moderator must not be empty")
        return given.strip()
    if target.local:
        return f"local:{getpass.getuser()}"
    return str(target.client("sts").get_caller_identity()["Arn"])


def _service(target: Target) -> ModerationService:
    states = DynamoStateRepository(target.client("dynamodb"), target.output("ReleasesTableName"))
    publish = SqsPublishQueue(target.client("sqs"), target.output("PublishQueueUrl"))
    return ModerationService(states=states, publish=publish, clock=lambda: datetime.now(UTC))


class _OnFirstUse:
    """An AWS client created when first used: a scripted run reads no documents and no metrics,
    and creating a client costs about a tenth of a second."""

    def __init__(self, target: Target, service: str) -> None:
        self._target = target
        self._service = service

    def __getattr__(self, name: str) -> Any:
        return getattr(self._target.client(self._service), name)


def open_session(
    options: Options | None,
    moderator: str | None,
    *,
    hold: int = 120,
    report: Any = None,
    renew_returned: bool = True,
) -> Session:
    target = target_from(options)
    sqs = target.client("sqs")
    inbox = SqsModerationQueue(sqs, target.output("ModerationQueueUrl"))
    service = _service(target)
    store = S3ReleaseStore(_OnFirstUse(target, "s3"), target.output("ReleasesBucketName"))
    desk = ModerationDesk(
        inbox=inbox,
        service=service,
        store=store,
        hold=hold,
        report=report or (lambda result: _report_skip(result, as_json=False)),
        renew_returned=renew_returned,
    )
    return Session(
        target=target,
        inbox=inbox,
        dead_letters=SqsModerationQueue(sqs, target.output("ModerationDeadLetterQueueUrl")),
        metrics=SqsMetrics(_OnFirstUse(target, "cloudwatch")),
        service=service,
        desk=desk,
        moderator=_moderator(target, moderator),
    )


@dataclass(frozen=True)
class QueueStatus:
    """The moderation queue at a glance. SQS's counts are approximate (they settle within about
    a minute); the oldest age is CloudWatch's, measured at ``oldest.as_of``."""

    waiting: int
    in_review: int  # held by consoles (this one's included; see held_here)
    delayed: int
    dead_letters: int
    oldest: QueueAge | None
    held_here: int = 0

    @property
    def in_review_by_others(self) -> int:
        return max(0, self.in_review - self.held_here)


def queue_status(session: Session, *, now: datetime) -> QueueStatus:
    counts = session.inbox.counts()
    dead = session.dead_letters.counts()
    return QueueStatus(
        waiting=counts.waiting,
        in_review=counts.in_flight,
        delayed=counts.delayed,
        dead_letters=dead.waiting + dead.in_flight,
        oldest=session.metrics.oldest_age(session.target.output("ModerationQueueUrl"), now=now),
        held_here=len(session.inbox.held()),
    )


def status_json(status: QueueStatus) -> dict[str, Any]:
    return {
        "waiting": status.waiting,
        "in_review": status.in_review,
        "delayed": status.delayed,
        "dead_letters": status.dead_letters,
        "oldest_age_seconds": status.oldest.seconds if status.oldest else None,
        "oldest_age_as_of": status.oldest.as_of.astimezone(UTC).isoformat() if status.oldest else None,
        "approximate": True,
    }


def status_line(status: QueueStatus, *, now: datetime, zone: tzinfo) -> Text:
    """One line for the console's screen: what waits, what others hold, how old, dead letters."""
    line = Text(style="dim")
    line.append(f"queue: {status.waiting} waiting", style="bold" if status.waiting else "")
    line.append(f" · {status.in_review_by_others} in review by others")
    if status.oldest is not None:
        line.append(f" · oldest {duration(status.oldest.seconds)}")
        line.append(f" (as of {status.oldest.as_of.astimezone(zone):%H:%M})")
    else:
        line.append(" · oldest n/a")  # no CloudWatch figure (yet)
    line.append(" · ")
    line.append(f"{status.dead_letters} dead letters", style="bold red" if status.dead_letters else "")
    return line


# ---------------------------------------------------------------------------------------------
# Times: the moderator's zone, and relative
# ---------------------------------------------------------------------------------------------


def moderator_zone(name: str | None) -> tzinfo:
    """``--timezone NAME`` (IANA), else ``$TZ``, else this machine's zone."""
    name = name or os.environ.get("TZ") or None
    if name:
        try:
            return ZoneInfo(name.removeprefix(":"))
        except (ZoneInfoNotFoundError, ValueError):
            fail(f"unknown time zone {name!r} (use an IANA name such as Europe/London)")
    return datetime.now().astimezone().tzinfo or UTC


def duration(seconds: float) -> str:
    seconds = int(abs(seconds))
    if seconds < 90:
        return f"{seconds} s"
    if seconds < 5400:
        return f"{seconds // 60} min"
    if seconds < 172800:
        return f"{seconds // 3600} h"
    return f"{seconds // 86400} days"


def relative(moment: datetime, now: datetime) -> str:
    seconds = (moment - now).total_seconds()
    if abs(seconds) < 30:
        return "just now"
    return f"in {duration(seconds)}" if seconds > 0 else f"{duration(seconds)} ago"


def when(moment: datetime, *, now: datetime, zone: tzinfo) -> str:
    local = moment.astimezone(zone)
    return f"{local:%a %d %b %Y %H:%M} {local.tzname() or ''}".rstrip() + f" ({relative(moment, now)})"


_ISO_DATETIME = re.compile(r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}")
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def _moment(value: Any, *, now: datetime, zone: tzinfo) -> str | None:
    """A datetime string with a zone as the moderator reads it ("... (in 3 days)"), a date with
    its weekday; ``None`` for anything else."""
    if not isinstance(value, str):
        return None
    try:
        if _ISO_DATETIME.match(value):
            moment = datetime.fromisoformat(value)
            if moment.tzinfo is not None:
                shown_at = when(moment, now=now, zone=zone)
                offset = moment.strftime("%H:%M %z")
                if moment.utcoffset() != moment.astimezone(zone).utcoffset():
                    shown_at += f", {offset} as written"
                return shown_at
        if _ISO_DATE.match(value):
            day = date.fromisoformat(value)
            return f"{day:%a %d %b %Y}"
    except ValueError:
        return None
    return None


# ---------------------------------------------------------------------------------------------
# Rendering
# ---------------------------------------------------------------------------------------------


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


def _empty(value: Any) -> bool:
    return value is None or (isinstance(value, str | list | dict) and not value)


def _value(value: Any, *, now: datetime, zone: tzinfo) -> Text:
    """A detail's value as text: lists joined, records as their values, times made readable."""
    if isinstance(value, bool):
        return Text("yes" if value else "no")
    if isinstance(value, list):
        return Text(", ").join(_value(v, now=now, zone=zone) for v in value if not _empty(v))
    if isinstance(value, dict):
        parts = [_value(v, now=now, zone=zone) for v in value.values() if not _empty(v)]
        return Text(" ").join(parts)
    moment = _moment(value, now=now, zone=zone)
    return shown(moment if moment is not None else value)


def _label(name: str) -> str:
    return name.replace("_", " ")


class _Facts:
    """Rows of "label  value", leaving out whatever is empty."""

    def __init__(self) -> None:
        self.grid = Table.grid(padding=(0, 2))
        self.grid.add_column(style="dim", max_width=30)
        self.grid.add_column()

    def add(self, label: str | Text, value: Any) -> None:
        if _empty(value) or (isinstance(value, Text) and not value.plain.strip()):
            return
        self.grid.add_row(label, value if isinstance(value, Text) else shown(value))


def _header(content: dict[str, Any]) -> Text:
    header = shown(content.get("headline", ""), style="bold")
    if content.get("subheadline"):
        header.append("\n")
        header.append_text(shown(content["subheadline"], style="italic"))
    return header


def _meta(item: Item, content: dict[str, Any], *, now: datetime, zone: tzinfo) -> Table:
    """Who sent it, what it is about, when it may go out, how long it has waited, whom to ask."""
    record = item.record
    facts = _Facts()
    facts.add("organisation", joined(shown(record.org_name), " (", shown(record.org_id), ")"))
    facts.add("category", shown(content.get("category") or record.category))
    for name, value in (content.get("details") or {}).items():
        if not _empty(value):
            facts.add(joined("  ", shown(_label(str(name)))), _value(value, now=now, zone=zone))
    facts.add("dateline", content.get("dateline"))
    facts.add("language", content.get("language"))
    release_at = content.get("release_at")
    facts.add("release at", _value(release_at, now=now, zone=zone) if release_at else "on approval")
    correction = (item.document or {}).get("correction") or {}
    if correction:  # a published release's correction: its note is shown to readers
        facts.add(
            "version",
            f"{item.version} (correction of published version {correction.get('corrects_version')})",
        )
        facts.add("correction", shown(correction.get("note") or ""))
    else:
        facts.add("version", f"{item.version}" + (" (revision)" if item.version > 1 else ""))
    facts.add("submitted", when(record.created_at, now=now, zone=zone))
    facts.add("waiting", f"since {when(item.waiting_since, now=now, zone=zone)}")
    _add_references(facts, content)
    return facts.grid


def _add_references(facts: _Facts, content: dict[str, Any]) -> None:
    """The press contact, the links and the tags."""
    contact = content.get("contact") or {}
    reach = [str(contact[k]) for k in ("name", "email", "phone") if not _empty(contact.get(k))]
    facts.add("contact", shown(" / ".join(reach)) if reach else None)
    for link in content.get("links") or []:
        title, url = link.get("title"), link.get("url")
        facts.add("link", joined(shown(title), " <", shown(url), ">") if title else shown(url or ""))
    tags = [str(tag) for tag in content.get("tags") or [] if not _empty(tag)]
    facts.add("tags", shown(", ".join(tags)) if tags else None)


def _text(content: dict[str, Any]) -> list[RenderableType]:
    """Summary, body (with its structure) and boilerplate, a blank line between blocks."""
    blocks: list[RenderableType] = []
    if content.get("summary"):
        blocks.append(shown(content["summary"], style="italic"))
    blocks.extend(render_body(content.get("body") or ""))
    if content.get("boilerplate"):
        blocks.append(shown(content["boilerplate"], style="dim"))
    spaced: list[RenderableType] = []
    for block in blocks:
        spaced += [block, Text("")]
    return spaced[:-1]


def _flags(item: Item) -> Text | None:
    """The prescreen flags, each with what it means for the decision."""
    document = item.document or {}
    flags = document.get("prescreen") or [
        {"code": f.code, "message": f.message} for f in item.record.prescreen
    ]
    if not flags:
        return None
    flag_text = Text("Prescreen flags\n", style="bold yellow")
    for flag in flags:
        flag_text.append_text(shown(f"  {flag.get('code')}: {flag.get('message')}", style="yellow"))
        explanation = FLAG_EXPLANATIONS.get(str(flag.get("code")))
        if explanation:
            flag_text.append(f" ({explanation})", style="dim")
        flag_text.append("\n")
    flag_text.rstrip()
    return flag_text


def _deliveries(item: Item) -> Text | None:
    """A release that keeps coming back without a decision is pointed out."""
    times = item.delivery.deliveries
    if times < MANY_DELIVERIES:
        return None
    return Text(
        f"Received {times} times without a decision (skipped, or a console stopped while holding it).",
        style="bold yellow",
    )


def _size(count: Any) -> str | None:
    if not isinstance(count, int) or count < 0:
        return None
    if count < 1024:
        return f"{count} B"
    if count < 1024 * 1024:
        return f"{count / 1024:.0f} KB"
    return f"{count / (1024 * 1024):.1f} MB"


def _attachment_line(medium: dict[str, Any]) -> Text:
    """Role, type, dimensions (or pages) and size: what verification found, never what was declared."""
    width, height, pages = medium.get("width"), medium.get("height"), medium.get("pages")
    facts = [
        medium.get("role"),
        medium.get("content_type"),
        f"{width}x{height} px" if isinstance(width, int) and isinstance(height, int) else None,
        (f"{pages} page" + ("" if pages == 1 else "s")) if isinstance(pages, int) else None,
        _size(medium.get("bytes")),
    ]
    return shown(" · ".join(str(fact) for fact in facts if not _empty(fact)) or str(medium.get("id") or "?"))


def _attachments(document: dict[str, Any]) -> RenderableType | None:
    """The release's media as stored with the version (``attachments``: the verified facts of each
    medium its ``media`` list named), with the submitter's alt text, caption and credit."""
    media = [m for m in document.get("attachments") or [] if isinstance(m, dict)]
    if not media:
        return None
    facts = _Facts()
    for medium in media:
        facts.add("attachment", _attachment_line(medium))
        for label in ("alt", "caption", "credit"):
            facts.add(f"  {label}", medium.get(label))
    return facts.grid


def render(item: Item, *, now: datetime | None = None, zone: tzinfo = UTC) -> Panel:
    """The release as the moderator reads it. Every submitter string goes through ``shown``."""
    now = now or datetime.now(UTC)
    document = item.document or {}
    content = document.get("content", {})
    parts: list[RenderableType] = [_header(content), Text(""), _meta(item, content, now=now, zone=zone)]
    if (returned := _deliveries(item)) is not None:
        parts += [Text(""), returned]
    parts += [Text(""), *_text(content)]
    if (attachments := _attachments(document)) is not None:
        parts += [Text(""), attachments]
    if (flags := _flags(item)) is not None:
        parts += [Text(""), flags]
    changes = changes_since(item.previous, document)
    if changes:
        parts.append(Text("\nChanged since version " + str(item.version - 1), style="bold cyan"))
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
        bool, typer.Option("--json", help="With --once or --status: print JSON (one line per result).")
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
    status: Annotated[
        bool, typer.Option("--status", help="Show the queue at a glance (counts, oldest, dead letters).")
    ] = False,
    timezone: Annotated[
        str | None,
        typer.Option("--timezone", help="Show times in this IANA zone (default: $TZ, this machine's)."),
    ] = None,
    tui: Annotated[
        bool,
        typer.Option("--tui", help="The full-screen console (scrolling view, dialogs) instead of prompts."),
    ] = False,
) -> None:
    """Moderate releases: interactive console by default; --once --decision ... for scripts."""
    if ctx.invoked_subcommand is not None:
        return
    reasons = parse_reasons(reason or [])
    if tui and (once or status):
        fail("--tui is the interactive console: not with --once or --status")
    if status:
        if once or decision or reasons or note or max_items != 1:
            fail("--status goes alone (with --json)")
        raise typer.Exit(_status(ctx.obj, as_json=as_json, zone=moderator_zone(timezone)))
    if decision is not None and not once:
        fail("--decision needs --once (the interactive console asks for each decision)")
    if once:
        probe = _scripted_decision(decision, moderator, reasons, note)  # usage errors first
        session = open_session(
            ctx.obj, moderator, hold=hold, report=lambda r: _report_skip(r, as_json), renew_returned=False
        )
        chosen = Decision(probe.action, session.moderator, probe.reason_codes, probe.note)
        try:
            code = _run_once(session, chosen, max_items=max_items, wait=wait, as_json=as_json)
        finally:
            session.close()
        raise typer.Exit(code)
    if reasons or note or as_json or max_items != 1:
        fail("--reason, --note, --json and --max go with --once")
    zone = moderator_zone(timezone)
    if tui:
        from cli import moderate_tui  # Textual loads only here

        moderate_tui.run(open_session(ctx.obj, moderator, hold=hold, report=_quiet), wait=wait, zone=zone)
        return
    _console(open_session(ctx.obj, moderator, hold=hold), wait=wait, zone=zone)


def _quiet(result: Result) -> None:
    """The full-screen console does not print under its own screen: dropped messages are logged."""
    log.info("moderation message dropped: %s v%s %s", result.release_id, result.version, result.outcome)


def _scripted_decision(
    decision: str | None, moderator: str | None, reasons: tuple[str, ...], note: str | None
) -> Decision:
    """The decision ``--once`` applies, checked before any AWS call (the moderator comes later)."""
    if decision is None:
        fail("--once needs --decision approve|reject|request-changes")
    if decision not in DECISIONS:
        fail(f"--decision must be one of: {', '.join(DECISIONS)}")
    return _decision(DECISIONS[decision], moderator or "check", reasons, note)


def _report_skip(result: Result, as_json: bool) -> None:
    if result.outcome is Outcome.UNREADABLE:
        err.print(
            joined(
                Text("warning:", style="yellow"),
                " ",
                shown(f"{result.release_id} v{result.version}" if result.version else result.release_id),
                " could not be read (",
                shown(result.detail),
                "); it returns when its hold ends, and after repeated failures goes to the DLQ",
            )
        )
    elif as_json:
        typer.echo(json.dumps(_result_json(result)), err=True)  # JSON escapes control characters
    else:
        err.print(shown(f"skipped {result.release_id} v{result.version}: {result.detail}", style="dim"))


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


def _run_once(session: Session, decision: Decision, *, max_items: int, wait: int, as_json: bool) -> int:
    """Take up to ``max_items`` items, ten at a time, and decide each batch in parallel while the
    next batch is being received; one result line per item, in the order they were received."""
    from concurrent.futures import Future, ThreadPoolExecutor

    decided = taken = 0
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="moderation-ahead") as ahead:

        def take() -> Future[list[Item]] | None:
            if taken >= max_items:
                return None
            count = min(BATCH, max_items - taken)
            return ahead.submit(session.desk.next_items, count, wait=wait, documents=False)

        coming = take()
        while coming is not None:
            items = coming.result()
            if not items:
                break
            taken += len(items)
            coming = take()  # received (and held) while this batch is decided
            for result in session.desk.decide_all(items, decision):
                if result.outcome in (Outcome.DECIDED, Outcome.PUBLISH_DEFERRED):
                    decided += 1
                _print_result(result, decision, as_json)
    if decided == 0:
        if not as_json:
            err.print("The moderation queue is empty.")
        return EXIT_EMPTY
    return 0


def _print_result(result: Result, decision: Decision, as_json: bool) -> None:
    payload = _result_json(result, decision)
    if as_json:
        typer.echo(json.dumps(payload))
        return
    verb = {"approve": "approved", "reject": "rejected", "request_changes": "sent back"}[decision.action]
    said = verb if result.outcome is Outcome.DECIDED else result.outcome.value.replace("_", " ")
    console.print(shown(f"{said}: {result.release_id} v{result.version} {payload['headline']!r}"))
    if result.outcome is Outcome.PUBLISH_DEFERRED:
        console.print("[yellow]the publish message will be sent by the outbox sweep[/]")


def _status(options: Options | None, *, as_json: bool, zone: tzinfo) -> int:
    session = open_session(options, "status")
    now = datetime.now(UTC)
    status = queue_status(session, now=now)
    if as_json:
        typer.echo(json.dumps(status_json(status)))
        return 0
    facts = _Facts()
    facts.add("waiting", f"{status.waiting}")
    facts.add("in review", f"{status.in_review} (held by moderators' consoles)")
    if status.delayed:
        facts.add("delayed", f"{status.delayed}")
    if status.oldest is not None:
        as_of = status.oldest.as_of.astimezone(zone)
        facts.add("oldest", f"{duration(status.oldest.seconds)} (CloudWatch, measured {as_of:%H:%M %Z})")
    else:
        facts.add("oldest", "no figure yet (CloudWatch publishes it once a minute)")
    facts.add(
        "dead letters", f"{status.dead_letters}" + (" (press-intake dlq list)" if status.dead_letters else "")
    )
    console.print(joined("Moderation queue, ", shown(session.target.description), " (approximate counts):"))
    console.print(facts.grid)
    return 0


# -- the interactive console ------------------------------------------------------------------------


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


def _console(session: Session, *, wait: int, zone: tzinfo) -> None:
    console.print(
        joined(
            "Moderating as ",
            shown(session.moderator, style="bold"),
            " - ",
            shown(session.target.description),
            ". Ctrl-C to stop.",
        )
    )
    try:
        while True:
            item = _wait_for_item(session, wait=wait)
            if item is None:
                continue
            if not _review(session, item, zone=zone):
                session.close()
                console.print("Back on the queue. Bye.")
                return
    except (KeyboardInterrupt, EOFError):
        session.close()
        console.print("\nStopped; any item on screen is back on the queue.")
    finally:
        session.close()


def _show(session: Session, item: Item, *, zone: tzinfo, page: bool = False) -> None:
    """The queue's status line and the release; in the pager when it is taller than the screen."""
    now = datetime.now(UTC)
    line = status_line(queue_status(session, now=now), now=now, zone=zone)
    view = render(item, now=now, zone=zone)
    tall = len(console.render_lines(view, console.options.update(height=None))) + 3 > console.height
    if console.is_terminal and (page or tall):
        os.environ.setdefault("LESS", "-R")  # keep the styles; q returns to the prompt
        with console.pager(styles=True):
            console.print(line)
            console.print(view)
        console.print(line)
        console.print(joined(shown(item.record.headline, style="bold"), "  (p: read it again)"))
        return
    console.print(line)
    console.print(view)


def _review(session: Session, item: Item, *, zone: tzinfo) -> bool:
    """Show one item and act on the moderator's key; ``False`` when the moderator quits."""
    _show(session, item, zone=zone)
    while True:
        choice = Prompt.ask(LEGEND, choices=["a", "r", "c", "s", "q", "p"], show_choices=False)
        if choice != "p":
            break
        _show(session, item, zone=zone, page=True)
    if choice == "q":
        return False
    if choice == "s":
        session.desk.skip(item)
        console.print("Skipped: back on the queue for someone else; you see it again after the others.\n")
        return True
    _say(session.desk.decide(item, _ask_decision(session, choice)))
    return True


def _wait_for_item(session: Session, *, wait: int) -> Item | None:
    with console.status("Waiting for releases... (Ctrl-C to stop)"):
        item = session.desk.next_item(wait=wait)
        if item is None and wait == 0:
            time.sleep(1)  # without long polling, do not spin
    return item


def _ask_decision(session: Session, choice: str) -> Decision:
    """The decision for the key pressed: a(pprove), r(eject) or (request) c(hanges)."""
    if choice == "a":
        return _decision(DecisionAction.APPROVE, session.moderator, (), None)
    if choice == "r":
        reasons = _ask_reasons()
        note = Prompt.ask("Note for the submitter (optional)", default="") or None
        if "other" in reasons and not note:
            note = _ask_note()
        return _decision(DecisionAction.REJECT, session.moderator, reasons, note)
    return _decision(DecisionAction.REQUEST_CHANGES, session.moderator, (), _ask_note())


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
    """List the reason codes for rejections and kills."""
    for code, meaning in REASON_CODES.items():
        console.print(f"{code:18} {meaning}")


@app.command()
def kill(
    ctx: typer.Context,
    release_id: Annotated[str, typer.Argument(help="The published release to take down.")],
    reason: Annotated[str, typer.Option("--reason", help="Reason code; see `moderate reasons`.")],
    note: Annotated[
        str | None, typer.Option("--note", help="Note for the submitter (required with reason other).")
    ] = None,
    moderator: Annotated[str | None, typer.Option("--moderator", help="Who decides.")] = None,
) -> None:
    """Take down a published release (its page, feeds and ninjs say it was withdrawn)."""
    from functions.domain.records import is_release_id

    if reason not in REASON_CODES:
        fail(f"--reason must be one of: {', '.join(REASON_CODES)}")
    if not is_release_id(release_id):
        fail(f"{release_id!r} is not a release id")
    _decision(DecisionAction.KILL, moderator or "check", (reason,), note)  # usage errors first
    target = target_from(ctx.obj)
    who = _moderator(target, moderator)
    try:
        result = _service(target).kill(release_id, moderator=who, reason=reason, note=note)
    except ReleaseNotFound:
        fail(f"no release {release_id}", code=EXIT_USAGE)
    except StateConflict as error:
        fail(error.detail, code=EXIT_FAILED)
    if result.outcome is Outcome.ALREADY_DECIDED:
        console.print(shown(f"Release {release_id} is {result.detail}; nothing to do."))
    elif result.outcome is Outcome.PUBLISH_DEFERRED:
        console.print(shown(f"Killed {release_id} ({reason}); the outbox sweep sends the take-down."))
    else:
        console.print(shown(f"Killed {release_id} ({reason}); the publisher takes its pages down."))
