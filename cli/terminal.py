"""Text from outside (submitters, queues, moderators' answers) made safe to show in a terminal.

Two things can go wrong when such text reaches a rich console: rich reads ``[...]`` as markup
(``[/bold]`` raises ``MarkupError``, ``[link=...]`` or ``[black on black]`` change what the
moderator sees), and control characters reach the terminal (ESC starts escape sequences that
can move the cursor, clear the screen or retitle the window; bidirectional overrides reorder
what is shown). Everything shown here goes through :func:`shown` (a rich ``Text``, which is
never parsed as markup) or :func:`inert` (a plain string), and every control character becomes
a visible escape such as ``\\x1b`` or ``\\u202e``. Newline and tab are kept: bodies have lines.
"""

from __future__ import annotations

import re

from rich.text import Text

# C0 controls but tab and newline, DEL, C1 controls, and the bidirectional formatting characters
# (marks, embeddings, overrides, isolates): everything that changes how a terminal shows what
# follows rather than showing a character.
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")
ESCAPE_STYLE = "reverse"


def _escape(character: str) -> str:
    code = ord(character)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def inert(value: object) -> str:
    """``str(value)`` with every control character replaced by its visible escape."""
    return _CONTROL.sub(lambda match: _escape(match.group()), str(value))


def shown(value: object, style: str = "") -> Text:
    """``value`` as rich ``Text`` (never markup) in ``style``; control characters appear as
    escapes in reverse video, so they cannot pass for text the submitter typed."""
    text = str(value)
    result = Text(style=style)
    position = 0
    for match in _CONTROL.finditer(text):
        result.append(text[position : match.start()])
        result.append(_escape(match.group()), style=ESCAPE_STYLE)
        position = match.end()
    result.append(text[position:])
    return result


def joined(*parts: str | Text) -> Text:
    """Our own words (plain strings, never markup) and ``shown`` values, as one ``Text``."""
    result = Text()
    for part in parts:
        result.append(part)
    return result
