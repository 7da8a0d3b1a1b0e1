"""The full-screen console (``moderate --tui``) against moto, driven by Textual's pilot."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Iterator
from datetime import UTC
from pathlib import Path
from typing import Any

import pytest
from textual.containers import VerticalScroll
from textual.geometry import Region
from textual.pilot import Pilot
from textual.widgets import Static

from cli.common import Options
from cli.moderate import Session, open_session
from cli.moderate_tui import ModerationApp
from infra.bootstrap import LocalStack
from tests.functional.test_moderation import (
    CONTROLS,
    MARKUP,
    RAW_CONTROLS,
    _queue_depth,
    _store_hostile_document,
    _submit,
)
from tests.helpers import ApiClient

_sessions: list[Session] = []


@pytest.fixture(autouse=True)
def _stop_heartbeats(aws: None) -> Iterator[None]:
    yield
    while _sessions:
        _sessions.pop().close()


def _app(moderator: str = "dave") -> ModerationApp:
    session = open_session(Options(local=True), moderator, hold=30)
    _sessions.append(session)
    return ModerationApp(session, wait=0, zone=UTC)


def _drive(app: ModerationApp, scenario: Callable[[Pilot[None]], Awaitable[None]]) -> None:
    async def run() -> None:
        async with app.run_test(size=(120, 50)) as pilot:
            await scenario(pilot)

    asyncio.run(run())


async def _next(pilot: Pilot[None], app: ModerationApp, shown_before: int) -> None:
    """Wait until the console shows one more release than before."""
    deadline = time.monotonic() + 10
    while len(app.seen) <= shown_before or app.item is None:
        assert time.monotonic() < deadline, "no release was shown"
        await pilot.pause(0.05)


def _drawn(app: ModerationApp) -> str:
    """What Textual draws for the release, line by line."""
    widget = app.query_one("#release", Static)
    strips = widget.render_lines(Region(0, 0, widget.size.width, widget.size.height))
    return "\n".join("".join(segment.text for segment in strip) for strip in strips)


def test_skipping_twice_shows_three_different_releases(local_info: Path, api: ApiClient) -> None:
    ids = [_submit(api, headline=f"Release number {n} waiting for a moderator") for n in (1, 2, 3)]
    app = _app()

    async def scenario(pilot: Pilot[None]) -> None:
        for count in range(3):
            await _next(pilot, app, count)
            if count < 2:
                await pilot.press("s")
        await pilot.press("q")

    _drive(app, scenario)
    assert [item.release_id for item in app.seen] == ids  # each once, in queue order


def test_ten_skips_and_a_quit_leave_everything_pending_and_nothing_dead_lettered(
    local_info: Path, api: ApiClient, stack: LocalStack, sqs: Any
) -> None:
    ids = [_submit(api, headline=f"Release number {n} waiting for a moderator") for n in (1, 2, 3)]
    app = _app()

    async def scenario(pilot: Pilot[None]) -> None:
        for count in range(10):
            await _next(pilot, app, count)
            await pilot.press("s")
        await _next(pilot, app, 10)
        await pilot.press("q")

    _drive(app, scenario)
    assert {item.release_id for item in app.seen} == set(ids)
    for release_id in ids:
        assert api.get(f"/releases/{release_id}").json()["status"] == "pending_review"
    assert _queue_depth(sqs, stack.ref("ModerationDeadLetterQueue")) == 0
    attributes = sqs.get_queue_attributes(QueueUrl=stack.ref("ModerationQueue"), AttributeNames=["All"])
    assert int(attributes["Attributes"]["ApproximateNumberOfMessages"]) == 3  # all back at once


def test_approve_reject_and_request_changes_from_the_keys(local_info: Path, api: ApiClient) -> None:
    ids = [_submit(api, headline=f"Release number {n} waiting for a moderator") for n in (1, 2, 3)]
    app = _app()

    async def scenario(pilot: Pilot[None]) -> None:
        await _next(pilot, app, 0)
        await pilot.press("a")
        await _next(pilot, app, 1)
        await pilot.press("r")
        await pilot.pause(0.1)
        await pilot.press("tab", "enter")  # no reason chosen: refused, the dialog stays
        await pilot.press("shift+tab", "space", "down", "space", "tab")  # the first two reasons
        await pilot.press(*"Cite a source.", "enter")
        await _next(pilot, app, 2)
        await pilot.press("c")
        await pilot.pause(0.1)
        await pilot.press("enter")  # a note is required
        await pilot.press(*"Add a phone number.", "enter")
        await pilot.pause(0.3)
        await pilot.press("q")

    _drive(app, scenario)
    approved, rejected, sent_back = (api.get(f"/releases/{i}").json() for i in ids)
    assert approved["status"] == "approved"
    assert rejected["status"] == "rejected"
    assert rejected["decision"]["reason_codes"] == ["promotional_tone", "not_newsworthy"]
    assert rejected["decision"]["note"] == "Cite a source."
    assert sent_back["status"] == "changes_requested"
    assert sent_back["decision"]["note"] == "Add a phone number."


def test_the_full_screen_console_shows_hostile_submitter_text_literally_and_inert(
    local_info: Path, api: ApiClient, stack: LocalStack, s3: Any, dynamodb: Any
) -> None:
    from functions.adapters.dynamodb_state import DynamoStateRepository

    api.org_name = f"{MARKUP[2]} {CONTROLS[0]}MARK-org"
    release_id = _submit(api)
    record = DynamoStateRepository(dynamodb, stack.ref("ReleasesTable")).get(release_id)
    assert record is not None
    markers = _store_hostile_document(stack, s3, record.object_key)
    app = _app()
    drawn: list[str] = []

    async def scenario(pilot: Pilot[None]) -> None:
        await _next(pilot, app, 0)
        await pilot.pause(0.1)
        drawn.append(_drawn(app))
        await pilot.press("q")

    _drive(app, scenario)
    text = drawn[0]
    for marker, field in markers.items():
        assert marker in text, f"{field} is not shown"
    assert "MARK-org" in text
    for literal in MARKUP:
        assert literal in text, f"markup {literal!r} was interpreted instead of shown"
    for raw in RAW_CONTROLS:
        assert raw not in text, f"raw control {raw!r} reached the screen"
    for visible in ("\\x1b", "\\x9b", "\\x07", "\\x08", "\\x0d", "\\u202e"):
        assert visible in text, f"{visible} is not shown as an escape"


def test_a_long_release_scrolls(local_info: Path, api: ApiClient) -> None:
    _submit(api, body="\n\n".join(f"Paragraph {n} of a long release." for n in range(80)), body_format="text")
    app = _app()
    scrolled: list[float] = []

    async def scenario(pilot: Pilot[None]) -> None:
        await _next(pilot, app, 0)
        await pilot.pause(0.1)
        view = app.query_one("#view", VerticalScroll)
        assert view.max_scroll_y > 0  # taller than the screen
        await pilot.press("pagedown")
        await pilot.pause(0.1)
        scrolled.append(view.scroll_y)
        await pilot.press("q")

    _drive(app, scenario)
    assert scrolled[0] > 0
