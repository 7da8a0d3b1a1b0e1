"""``press-intake moderate --tui``: the moderators' console as a full-screen Textual application.

The same session, desk and rendering as the prompt console (``cli/moderate.py``): the release is
the panel ``render`` builds (every submitter string through ``cli.terminal.shown``), in a view
that scrolls (arrows, Page Up/Down, Home/End, the mouse); the queue at a glance stays on top and
is refreshed while the console waits. Keys: a approve, r reject (reasons and a note in a dialog),
c request changes (a note), s skip, q quit (everything held goes back at once). Textual is
imported only when ``--tui`` is given.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime, tzinfo
from typing import ClassVar

from rich.text import Text
from textual import work
from textual.app import App, ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Footer, Input, Label, SelectionList, Static
from textual.widgets.selection_list import Selection
from textual.worker import get_current_worker

from cli.moderate import QueueStatus, Session, queue_status, render, status_line
from cli.terminal import joined, shown
from functions.domain.moderation import (
    REASON_CODES,
    Decision,
    DecisionAction,
    InvalidDecision,
    Item,
    Outcome,
    Result,
)

POLL_SECONDS = 2  # one long poll while waiting: short enough to quit at once, status refreshed


class NoteScreen(ModalScreen[str | None]):
    """A note for the submitter (request changes); Enter confirms, Escape cancels."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, question: str) -> None:
        super().__init__()
        self._question = question

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog"):
            yield Label(self._question)
            yield Input(id="note")
            yield Static(id="problem")

    def on_mount(self) -> None:
        self.query_one("#note", Input).focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        note = event.value.strip()
        if not note:
            self.query_one("#problem", Static).update(Text("A note is required.", style="red"))
            return
        self.dismiss(note)

    def action_cancel(self) -> None:
        self.dismiss(None)


class ReasonScreen(ModalScreen[tuple[tuple[str, ...], str | None] | None]):
    """Reason codes (Space toggles, Tab moves to the note) and an optional note; Enter in the
    note confirms, Escape cancels."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "cancel", "Cancel")]

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog"):
            yield Label("Reasons (Space to choose, Tab to the note, Enter to reject)")
            yield SelectionList[str](
                *(Selection(f"{code} - {meaning}", code) for code, meaning in REASON_CODES.items()),
                id="reasons",
            )
            yield Input(placeholder="Note for the submitter (required with other)", id="note")
            yield Static(id="problem")

    def on_mount(self) -> None:
        self.query_one("#reasons", SelectionList).focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        reasons = tuple(self.query_one("#reasons", SelectionList).selected)
        note = event.value.strip() or None
        problem = self.query_one("#problem", Static)
        if not reasons:
            problem.update(Text("Choose at least one reason.", style="red"))
            return
        if "other" in reasons and not note:
            problem.update(Text("The reason other needs a note.", style="red"))
            return
        self.dismiss((tuple(str(r) for r in reasons), note))

    def action_cancel(self) -> None:
        self.dismiss(None)


class ModerationApp(App[None]):
    CSS = """
    #status { height: 1; padding: 0 1; }
    #view { height: 1fr; }
    #message { height: auto; max-height: 3; padding: 0 1; }
    NoteScreen, ReasonScreen { align: center middle; }
    #dialog { width: 90; height: auto; max-height: 90%; border: round $accent; padding: 1 2;
              background: $surface; }
    #reasons { height: auto; max-height: 12; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("a", "approve", "Approve"),
        Binding("r", "reject", "Reject"),
        Binding("c", "changes", "Request changes"),
        Binding("s", "skip", "Skip"),
        Binding("q", "leave", "Quit"),
    ]

    def __init__(
        self,
        session: Session,
        *,
        wait: int,
        zone: tzinfo,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        super().__init__()
        self.session = session
        self.item: Item | None = None
        self.seen: list[Item] = []  # every item shown, in order (what a moderator read)
        self._wait = wait
        self._zone = zone
        self._clock = clock

    def compose(self) -> ComposeResult:
        yield Static(id="status")
        with VerticalScroll(id="view"):
            yield Static(id="release")
        yield Static(id="message")
        yield Footer()

    def on_mount(self) -> None:
        self.title = "press-intake moderate"
        self.query_one("#view").focus()
        self._say(joined("Moderating as ", shown(self.session.moderator, style="bold"), "."))
        self.fetch()

    # -- the queue (in a thread: receives long-poll) --------------------------------------------------

    @work(thread=True, exclusive=True, group="queue")
    def fetch(self) -> None:
        worker = get_current_worker()

        def cancelled() -> bool:
            return worker.is_cancelled

        self.call_from_thread(self._waiting)
        while not cancelled():
            item = self.session.desk.next_item(wait=min(self._wait, POLL_SECONDS))
            if cancelled():  # the moderator quit meanwhile: what was taken goes back
                self.session.desk.close()
                return
            status = queue_status(self.session, now=self._clock())
            if item is not None:
                self.call_from_thread(self._show, item, status)
                return
            self.call_from_thread(self._show_status, status)
            if self._wait == 0:
                time.sleep(1)  # without long polling, do not spin

    def _waiting(self) -> None:
        self.query_one("#release", Static).update(Text("Waiting for releases...", style="dim"))

    def _show_status(self, status: QueueStatus) -> None:
        now = self._clock()
        self.query_one("#status", Static).update(status_line(status, now=now, zone=self._zone))

    def _show(self, item: Item, status: QueueStatus) -> None:
        self._show_status(status)
        self.item = item
        self.seen.append(item)
        self.query_one("#release", Static).update(render(item, now=self._clock(), zone=self._zone))
        view = self.query_one("#view", VerticalScroll)
        view.scroll_home(animate=False)
        view.focus()

    def _say(self, message: Text) -> None:
        self.query_one("#message", Static).update(message)

    # -- the moderator's keys ----------------------------------------------------------------------

    def _taken(self) -> Item | None:
        """The item on screen, now off it (``None`` while waiting)."""
        item, self.item = self.item, None
        return item

    def _decide(self, item: Item, decision: Decision) -> None:
        result = self.session.desk.decide(item, decision)
        self._say(_said(result))
        self.fetch()

    def _decision(
        self, action: DecisionAction, reasons: tuple[str, ...], note: str | None
    ) -> Decision | None:
        try:
            return Decision(action, self.session.moderator, reasons, note)
        except InvalidDecision as error:
            self._say(shown(str(error), style="red"))
            return None

    def action_approve(self) -> None:
        decision = self._decision(DecisionAction.APPROVE, (), None)
        if decision is not None and (item := self._taken()) is not None:
            self._decide(item, decision)

    def action_reject(self) -> None:
        if self.item is None:
            return

        def rejected(answer: tuple[tuple[str, ...], str | None] | None) -> None:
            if answer is None:
                return
            decision = self._decision(DecisionAction.REJECT, *answer)
            if decision is not None and (item := self._taken()) is not None:
                self._decide(item, decision)

        self.push_screen(ReasonScreen(), rejected)

    def action_changes(self) -> None:
        if self.item is None:
            return

        def noted(note: str | None) -> None:
            if note is None:
                return
            decision = self._decision(DecisionAction.REQUEST_CHANGES, (), note)
            if decision is not None and (item := self._taken()) is not None:
                self._decide(item, decision)

        self.push_screen(NoteScreen("What should the submitter change?"), noted)

    def action_skip(self) -> None:
        item = self._taken()
        if item is None:
            return
        self.session.desk.skip(item)
        self._say(Text("Skipped: back on the queue for someone else; you see it again after the others."))
        self.fetch()

    def action_leave(self) -> None:
        self.workers.cancel_group(self, "queue")
        self.item = None
        self.session.close()
        self.exit()


def _said(result: Result) -> Text:
    if result.outcome is Outcome.DECIDED and result.record is not None:
        return joined(shown(result.record.status, style="green"), f": {result.release_id} v{result.version}")
    if result.outcome is Outcome.PUBLISH_DEFERRED:
        return Text("approved; the publish message will be sent by the outbox sweep", style="yellow")
    return shown(f"not decided: {result.detail}", style="yellow")


def run(session: Session, *, wait: int, zone: tzinfo) -> None:
    """The full-screen console until the moderator quits (or Ctrl-C); what it holds goes back."""
    try:
        ModerationApp(session, wait=wait, zone=zone).run()
    finally:
        session.close()
