"""Submitter text reaches the moderator's terminal as text: no markup, no control sequences."""

from __future__ import annotations

import io

import pytest
from rich.console import Console

from cli.terminal import inert, joined, shown


def _rendered(*renderables: object) -> str:
    out = io.StringIO()
    console = Console(file=out, width=200, force_terminal=False, color_system=None)
    console.print(*renderables)
    return out.getvalue()


@pytest.mark.parametrize(
    ("raw", "visible"),
    [
        ("\x1b[2J", "\\x1b[2J"),  # ESC: clear screen
        ("\x00", "\\x00"),
        ("\x07\x08\x0b\x0c\r", "\\x07\\x08\\x0b\\x0c\\x0d"),
        ("\x7f", "\\x7f"),  # DEL
        ("\x9b31m", "\\x9b31m"),  # C1 CSI
        ("\x85", "\\x85"),  # C1 next line
        ("\u202egnp.exe", "\\u202egnp.exe"),  # right-to-left override
        ("\u2066x\u2069", "\\u2066x\\u2069"),  # isolates
        ("\u200e\u200f\u061c", "\\u200e\\u200f\\u061c"),  # marks
    ],
)
def test_control_characters_become_visible_escapes(raw: str, visible: str) -> None:
    assert inert(raw) == visible
    assert shown(raw).plain == visible
    assert raw not in _rendered(shown(raw))


def test_newlines_tabs_and_ordinary_text_are_kept() -> None:
    text = "Line one\n\tindented: café, 東京, emoji 🎉"
    assert inert(text) == text
    assert shown(text).plain == text


@pytest.mark.parametrize(
    "markup",
    [
        "[/bold] LONDON",
        "[link=https://evil.example]official[/link]",
        "[black on black]hidden[/]",
        ":warning:",
    ],
)
def test_markup_is_shown_as_typed(markup: str) -> None:
    assert _rendered(shown(markup)).strip() == markup
    assert _rendered(joined("label: ", shown(markup))).strip() == f"label: {markup}"


def test_escapes_are_marked_so_they_cannot_pass_for_typed_text() -> None:
    text = shown("a\x1bb", style="bold")
    assert text.plain == "a\\x1bb"
    assert [(span.start, span.end, str(span.style)) for span in text.spans] == [(1, 5, "reverse")]
    assert str(text.style) == "bold"
