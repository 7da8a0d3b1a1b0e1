"""Which characters submitted text may hold (README, "Limits").

- **Forbidden everywhere**: what XML 1.0 forbids (C0 controls other than TAB, LF and CR;
  surrogates, which only appear alone in a Python string; U+FFFE and U+FFFF) and what it
  discourages (section 2.2: DEL and the C1 controls other than NEL, U+007F-U+0084 and
  U+0086-U+009F; the non-characters U+FDD0-U+FDEF and the last two code points of every plane).
  No feed, page or document can carry them, so intake refuses them in every string field.
- **Invisible**: bidirectional embeddings, overrides and isolates (U+202A-U+202E,
  U+2066-U+2069), zero-width space, word joiner and byte-order mark (U+200B, U+2060, U+FEFF),
  and the zero-width non-joiner and joiner (U+200C, U+200D) *unless they join*: a joiner is
  kept when the characters on both sides of it are visible (neither white space nor one of
  these invisible characters, nor missing at either end). That keeps Persian and Indic words
  (``می‌خواهم``) and emoji sequences intact, and refuses a joiner hidden at a word's edge.
  Single-line fields refuse invisible characters; multi-line fields have them removed.

Everything here is pure and works on Python strings, so a lone surrogate decoded from JSON
(``"\\ud800"``) is seen as what it is.
"""

from __future__ import annotations

import re
import unicodedata

# Two patterns: a character class with code points beyond U+FFFF makes every search about ten
# times slower, and text without such code points (most of it) cannot hold the astral ones.
_FORBIDDEN_BMP = re.compile(
    "[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x84\x86-\x9f\ud800-\udfff\ufdd0-\ufdef\ufffe\uffff]"
)
_FORBIDDEN_ASTRAL = re.compile(
    "[" + "".join(f"{chr(plane << 16 | 0xFFFE)}{chr(plane << 16 | 0xFFFF)}" for plane in range(1, 17)) + "]"
)
JOINERS = frozenset("\u200c\u200d")
_ALWAYS_INVISIBLE = "\u202a-\u202e\u2066-\u2069\u200b\u2060\ufeff"
_INVISIBLE = re.compile(f"[{_ALWAYS_INVISIBLE}\u200c\u200d]")
_JOINER = re.compile("[\u200c\u200d]")
_NOT_VISIBLE = re.compile(f"[\\s{_ALWAYS_INVISIBLE}\u200c\u200d]")


def code_point(char: str) -> str:
    """``U+000B``, ``U+202E RIGHT-TO-LEFT OVERRIDE``: how an error names a character."""
    label = f"U+{ord(char):04X}"
    try:
        return f"{label} {unicodedata.name(char)}"
    except ValueError:  # controls, surrogates and non-characters have no name
        return label


_ANY_ASTRAL = re.compile("[\U00010000-\U0010ffff]")


def _astral(text: str) -> bool:
    """Whether ``text`` has a code point beyond U+FFFF (``isascii`` is O(1) in CPython)."""
    return not text.isascii() and _ANY_ASTRAL.search(text) is not None


_ASCII_ALLOWED = bytes(range(0x20, 0x7F)) + b"\t\n\r"


def is_plain(text: str) -> bool:
    """Whether ``text`` certainly holds no forbidden and no invisible character.

    ASCII text (``isascii`` is O(1)) holds no invisible character, and a forbidden one only
    among the controls and DEL: it is plain if it is printable (no control, no DEL: a single line,
    answered without a copy) or if deleting every allowed byte from its encoding leaves nothing.
    Other text: every character printable, or a tab or line break; ``str.isprintable`` is false
    for every character of the categories Cc, Cf, Cs, Co and Cn (and for separators other than
    the space), and each forbidden or invisible character is in one of Cc (controls), Cf
    (format: bidirectional controls, zero-width characters, the byte-order mark), Cs
    (surrogates) or Cn (non-characters); tests/unit/test_characters.py checks both over the
    whole of Unicode. Either runs in C, several times faster than a search with the patterns
    above, so text without such characters (nearly all text) skips them.
    """
    if text.isascii():
        return text.isprintable() or not text.encode("ascii").translate(None, _ASCII_ALLOWED)
    return text.isprintable() or text.replace("\n", "").replace("\t", "").replace("\r", "").isprintable()


def first_forbidden(text: str) -> str | None:
    """The first character of ``text`` that no text field may hold, if any."""
    if is_plain(text):
        return None
    found = _FORBIDDEN_BMP.search(text)
    astral = _FORBIDDEN_ASTRAL.search(text) if _astral(text) else None
    if astral and (found is None or astral.start() < found.start()):
        found = astral
    return found[0] if found else None


def remove_forbidden(text: str) -> str:
    if is_plain(text):
        return text
    text = _FORBIDDEN_BMP.sub("", text)
    return _FORBIDDEN_ASTRAL.sub("", text) if _astral(text) else text


def _visible(text: str, index: int) -> bool:
    return 0 <= index < len(text) and not (_NOT_VISIBLE.match(text[index]) or first_forbidden(text[index]))


def _joins(text: str, index: int) -> bool:
    return text[index] in JOINERS and _visible(text, index - 1) and _visible(text, index + 1)


def first_invisible(text: str) -> str | None:
    """The first invisible character of ``text`` (a joiner only where it joins nothing), if any."""
    if is_plain(text):
        return None
    for found in _INVISIBLE.finditer(text):
        if not _joins(text, found.start()):
            return found[0]
    return None


def remove_invisible(text: str) -> str:
    """``text`` without its invisible characters; joiners that join are kept.

    Bidirectional controls and zero-width characters go first, then each joiner is judged by
    its neighbours in what remains (so ``a`` + override + ZWNJ + ``b`` keeps the ZWNJ).
    """
    if is_plain(text) or not _INVISIBLE.search(text):
        return text
    text = re.sub(f"[{_ALWAYS_INVISIBLE}]", "", text)
    return _JOINER.sub(lambda found: found[0] if _joins(text, found.start()) else "", text)


def clean(text: str) -> str:
    """``text`` without forbidden and invisible characters (for text that came through markup)."""
    if is_plain(text):
        return text
    return remove_invisible(remove_forbidden(text))
