"""A release body (sanitised HTML) shown in the terminal with its structure, and inert."""

from __future__ import annotations

import io

from rich.console import Console

from cli.body import render_body
from functions.domain.sanitise import sanitise_body


def _shown(fragment: str, *, width: int = 100) -> str:
    out = io.StringIO()
    console = Console(file=out, width=width, force_terminal=False, color_system=None)
    for block in render_body(fragment):
        console.print(block)
        console.print()
    return out.getvalue()


def test_headings_paragraphs_and_numbered_lists_keep_their_shape() -> None:
    text = _shown(
        "<h2>Programme</h2><p>First  paragraph\nwraps here.</p><p>Second.</p>"
        "<ol><li>Doors open</li><li>Kick-off<ol><li>first half</li></ol></li></ol>"
    )
    lines = [line.rstrip() for line in text.splitlines()]
    assert lines[:5] == ["Programme", "", "First paragraph wraps here.", "", "Second."]
    assert "1. Doors open" in lines
    assert "2. Kick-off" in lines
    assert "  1. first half" in lines  # a nested list, indented


def test_quotes_code_and_rules() -> None:
    text = _shown(
        "<blockquote><p>Outer</p><blockquote><p>Inner</p></blockquote></blockquote><pre>a  b\n  c</pre><hr>"
    )
    assert "│ Outer" in text
    assert "│ │ Inner" in text
    assert "a  b\n  c" in text  # preformatted text keeps its spaces and lines
    assert "─" * 10 in text


def test_a_link_shows_its_url_once() -> None:
    text = _shown(
        '<p><a href="https://a.example/x">the shop</a>, <a href="https://b.example/">https://b.example/</a>, '
        '<a href="mailto:press@c.example">press@c.example</a></p>'
    )
    assert "the shop <https://a.example/x>" in text
    assert text.count("https://b.example/") == 1
    assert text.count("press@c.example") == 1


def test_a_table_without_a_header_row() -> None:
    text = _shown("<table><tr><td>Rovers</td><td>7</td></tr><tr><td>United</td><td>4</td></tr></table>")
    rows = [line for line in text.splitlines() if "Rovers" in line or "United" in line]
    assert len(rows) == 2
    assert "7" in rows[0]
    assert "4" in rows[1]


def test_submitter_markup_and_control_characters_stay_inert_in_every_block() -> None:
    # Given a body whose every block holds markup and control characters (the sanitiser removes
    # the controls before storing; the console does not rely on it)
    hostile = "[bold red]x[/] \x1b[2J \u202e"
    body = (
        f"<h1>{hostile}</h1><p>{hostile}</p><ul><li>{hostile}</li></ul><blockquote><p>{hostile}</p>"
        f"</blockquote><table><tr><th>h</th></tr><tr><td>{hostile}</td></tr></table>"
        f'<p><a href="https://a.example/{hostile}">{hostile}</a></p>'
    )
    text = _shown(body, width=200)
    assert text.count("[bold red]x[/]") == 7  # heading, paragraph, item, quote, cell, link + URL
    assert "\x1b" not in text
    assert "\u202e" not in text
    assert text.count("\\x1b[2J") == 7
    assert text.count("\\u202e") == 7


def test_a_markdown_body_as_stored_keeps_its_structure() -> None:
    body = sanitise_body("# Title\n\nText with **bold**.\n\n1. one\n2. two\n", "markdown")
    lines = [line.rstrip() for line in _shown(body).splitlines() if line.strip()]
    assert lines == ["Title", "Text with bold.", "1. one", "2. two"]
