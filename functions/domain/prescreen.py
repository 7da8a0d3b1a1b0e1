"""Prescreen: cheap, explainable hints for moderators, computed once at intake.

A flag never rejects a release by itself; it tells a moderator where to look. Each rule is a
small pure function so that it can be tested (and explained in the console) on its own.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator, Sequence
from datetime import date
from typing import NamedTuple

from functions.domain.sanitise import plain_words, word_count

HYPE_WORDS = (
    "amazing", "best-in-class", "best in class", "breakthrough", "cutting-edge", "cutting edge",
    "disruptive", "game-changer", "game changer", "game-changing", "groundbreaking", "ground-breaking",
    "incredible", "industry-leading", "industry leading", "leading provider", "next-generation",
    "revolutionary", "state-of-the-art", "unparalleled", "unprecedented", "unrivalled", "world-class",
    "world class", "world's first", "world-leading",
)  # fmt: skip
_HYPE = re.compile(r"(?<![\w-])(" + "|".join(re.escape(w) for w in HYPE_WORDS) + r")(?![\w-])", re.IGNORECASE)

MAX_LINKS_BEFORE_FLAG = 5
SHORT_BODY_WORDS = 60
_ANCHOR = re.compile(r"<a\s[^>]*href=", re.IGNORECASE)  # links that survived sanitising

_WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_MONTHS = (
    "january", "february", "march", "april", "may", "june",
    "july", "august", "september", "october", "november", "december",
)  # fmt: skip
# Whole weekday and month names or their usual abbreviations only: a looser prefix match reads
# datelines such as "MONTREAL, Dec. 2, 2026" as a weekday ("Mon...") and flags them.
_WD = (
    r"(?P<wd>mon(?:day)?|tue(?:s(?:day)?)?|wed(?:nesday)?|thu(?:r(?:s(?:day)?)?)?|fri(?:day)?"
    r"|sat(?:urday)?|sun(?:day)?)\.?"
)
_MON = (
    r"(?P<mon>jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?"
    r"|sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)\.?"
)
_DAY = r"(?P<day>\d{1,2})(?:st|nd|rd|th)?"
_YEAR = r"(?P<year>\d{4})"
# "Monday, December 2, 2026" and "Monday 2 December 2026" (with or without commas / "the").
_WEEKDAY_DATES = (
    re.compile(rf"\b{_WD},?\s+{_MON}\s+{_DAY},?\s+{_YEAR}\b", re.IGNORECASE),
    re.compile(rf"\b{_WD},?\s+(?:the\s+)?{_DAY}(?:\s+of)?\s+{_MON},?\s+{_YEAR}\b", re.IGNORECASE),
)
# Every weekday-date match starts with one of these (in any case).
_WEEKDAY_STARTS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")

# Speed (these rules run on every submission): a match of _HYPE or _WEEKDAY_DATES can only start
# where the lower-cased text holds a hype word or a weekday's first three letters, so only those
# places are tried, with the same case-insensitive pattern, which keeps the results exactly as a
# full scan would give them. That holds as long as str.lower() keeps every character in place
# and lower-cases whatever re.IGNORECASE matches with an ASCII letter into that letter. Only
# these three break it (capital I with dot above lower-cases to two characters; dotless i and
# long s match "i" and "s" yet stay as they are), and a text holding one is scanned in full.
# tests/unit/test_prescreen.py checks the list against the whole of Unicode.
_CASE_TRAPS = ("\u0130", "\u0131", "\u017f")
# What every hype word begins with (its first word, up to a hyphen or an apostrophe), each once,
# shorter ones covering longer: fewer places to look for, the same matches.
_FIRST_WORDS = {re.split(r"[ '-]", word)[0] for word in HYPE_WORDS}
_HYPE_STARTS = tuple(
    sorted(w for w in _FIRST_WORDS if not any(w != other and w.startswith(other) for other in _FIRST_WORDS))
)


def _lowered(text: str) -> str | None:
    """``text`` lower-cased, for finding where matches may start; None when ``text`` holds a
    character that makes lower-casing unreliable for this (see above)."""
    if not text.isascii() and any(trap in text for trap in _CASE_TRAPS):
        return None
    return text.lower()


def _starts(text: str, lowered: str | None, prefixes: tuple[str, ...], joins: str = "") -> list[int] | None:
    """Where in ``text`` (lower-cased: ``lowered``) one of ``prefixes`` (lower case) begins, in
    order, after a character that is no word character (nor one of ``joins``); None (scan in
    full) when ``lowered`` is None.

    Both rules' patterns begin with a word character behind ``\\b`` or ``(?<![\\w-])``, so they
    never match right after a word character (``\\w`` is ``str.isalnum()`` or ``_``): skipping
    those places (inside words, where weekday prefixes such as "mon" and "sat" mostly occur)
    changes no result."""
    if lowered is None:
        return None
    found: set[int] = set()
    for prefix in prefixes:
        at = lowered.find(prefix)
        while at != -1:
            if at == 0 or not ((before := text[at - 1]).isalnum() or before == "_" or before in joins):
                found.add(at)
            at = lowered.find(prefix, at + 1)
    return sorted(found)


class _Scan(NamedTuple):
    """One text, lower-cased once, with the places where a hype word or a weekday may start."""

    text: str
    hype: list[int] | None
    weekdays: list[int] | None


# Texts searched together are joined by this: no prefix holds it, so no place found spans two
# texts, and it is no word character, so each text's first character counts as one that follows
# a non-word character, as at the start of a text of its own.
_SEPARATOR = "\x00"


def _scan(text: str) -> _Scan:
    return _scans((text,))[0]


# ASCII text (nearly all of it) is searched faster, in one pass: a C pass through this table
# gives each character's lower case if it is a word character (ASCII letters, digits, "_":
# exactly what ``\w`` and str.isalnum() accept in ASCII) and NUL otherwise, so a place where a
# prefix may start is a NUL followed by that prefix, which one pattern finds (beginning with one
# literal character, it lets the regular-expression engine skip from NUL to NUL in C). A hype
# word must not follow a hyphen either: those few places are dropped afterwards. In ASCII text,
# re.IGNORECASE matches an ASCII letter with its two cases only, so the lower case found here is
# what the rules' patterns match. No hype start begins a weekday start or the other way round,
# so one match per place says which it is. tests/unit/test_prescreen.py compares both ways.
_ASCII_WORDS = bytes(
    ord(char.lower()) if char.isascii() and (char.isalnum() or char == "_") else 0
    for char in map(chr, range(256))
)


def _alternatives(prefixes: tuple[str, ...]) -> bytes:
    """A pattern matching exactly ``prefixes`` (none beginning another), as a tree of their first
    letters (``b(?:est|reakthrough)``): the engine tries each branch in turn, so at a place where
    none fits it tests each first letter once rather than each prefix; about a fifth cheaper."""
    branches: dict[str, list[str]] = {}
    for prefix in sorted(prefixes):
        branches.setdefault(prefix[0], []).append(prefix[1:])
    parts = []
    for first, rests in branches.items():
        head = re.escape(first.encode())
        if len(rests) == 1:
            parts.append(head + re.escape(rests[0].encode()))
        else:
            parts.append(head + b"(?:" + _alternatives(tuple(rests)) + b")")
    return b"|".join(parts)


_ASCII_STARTS = re.compile(
    b"\x00(?=["
    + bytes(sorted({ord(prefix[0]) for prefix in (*_HYPE_STARTS, *_WEEKDAY_STARTS)}))
    + b"])(?:("
    + _alternatives(_HYPE_STARTS)
    + b")|("
    + _alternatives(_WEEKDAY_STARTS)
    + b"))"
)


def _ascii_starts(joined: str) -> tuple[list[int], list[int]]:
    """``_starts`` of ASCII ``joined`` for the hype words and for the weekdays, by the table
    above: NUL + a prefix at index ``i`` of NUL + the translated text is that prefix at ``i``."""
    hype: list[int] = []
    weekdays: list[int] = []
    for match in _ASCII_STARTS.finditer(b"\x00" + joined.encode("ascii").translate(_ASCII_WORDS)):
        at = match.start()
        if match.lastindex == 2:
            weekdays.append(at)
        elif at == 0 or joined[at - 1] != "-":
            hype.append(at)
    return hype, weekdays


def _scans(texts: Sequence[str]) -> list[_Scan]:
    """``_Scan`` of each of ``texts``: the same places as scanning each on its own, found over all
    of them at once (ASCII texts in one pass, others with one search per prefix; those with a case
    trap are scanned in full)."""
    joined = _SEPARATOR.join(texts)
    if joined.isascii():
        together: Sequence[int] = range(len(texts))
        hype, weekdays = _ascii_starts(joined)
    else:
        lowered = [_lowered(text) for text in texts]
        together = [index for index, low in enumerate(lowered) if low is not None]
        joined = _SEPARATOR.join(texts[index] for index in together)
        joined_lowered = _SEPARATOR.join(lowered[index] or "" for index in together)
        hype = _starts(joined, joined_lowered, _HYPE_STARTS, "-") or []
        weekdays = _starts(joined, joined_lowered, _WEEKDAY_STARTS) or []
    scans = [_Scan(text, None, None) for text in texts]
    start = 0
    for index in together:
        end = start + len(texts[index])
        scans[index] = _Scan(
            texts[index],
            [at - start for at in hype if start <= at < end],
            [at - start for at in weekdays if start <= at < end],
        )
        start = end + len(_SEPARATOR)
    return scans


def _finditer(pattern: re.Pattern[str], text: str, starts: list[int] | None) -> Iterator[re.Match[str]]:
    """Exactly ``pattern.finditer(text)``, given ``starts`` from ``_starts`` with prefixes that
    begin every match of ``pattern`` (case-insensitive, never matching the empty string)."""
    if starts is None:
        yield from pattern.finditer(text)
        return
    end = 0
    for at in starts:
        # match(text, at) sees the characters before ``at`` (for \b and look-behind) as a scan does
        if at >= end and (match := pattern.match(text, at)):
            yield match
            end = match.end()


class Flag(NamedTuple):
    code: str
    message: str


def all_caps_headline(headline: str) -> Flag | None:
    letters = "".join(filter(str.isalpha, headline))
    if len(letters) >= 8 and sum(map(str.isupper, letters)) / len(letters) >= 0.8:
        return Flag("all_caps_headline", "The headline is written in capitals.")
    return None


def hype_words(*texts: str) -> Flag | None:
    return _hype_words(_scans(texts))


def _hype_words(scans: list[_Scan]) -> Flag | None:
    found: list[str] = []
    for scan in scans:
        for match in _finditer(_HYPE, scan.text, scan.hype):
            word = match.group(1).lower()
            if word not in found:
                found.append(word)
    if found:
        return Flag("hype_words", "Promotional language: " + ", ".join(found[:5]) + ".")
    return None


def missing_phone(phone: str | None) -> Flag | None:
    if not phone:
        return Flag("missing_phone", "No contact telephone number is given.")
    return None


def _name_start(token: str) -> str:
    """First three letters of a matched weekday or month name, read as re.IGNORECASE read them
    (it matched dotless i and long s as "i" and "s": "Fr\u0131day" must not raise StopIteration)."""
    return token.lower().rstrip(".").replace("\u0131", "i").replace("\u017f", "s")[:3]


# The first three letters of each name are unique: a three-letter start is looked up at once.
_MONTH_NUMBERS = {name[:3]: number for number, name in enumerate(_MONTHS, start=1)}
_WEEKDAY_NUMBERS = {name[:3]: number for number, name in enumerate(_WEEKDAYS)}


def _month_number(token: str) -> int:
    start = _name_start(token)
    found = _MONTH_NUMBERS.get(start)
    if found is not None:
        return found
    return next(i for i, name in enumerate(_MONTHS, start=1) if name.startswith(start))


def _weekday_number(token: str) -> int:
    start = _name_start(token)
    found = _WEEKDAY_NUMBERS.get(start)
    if found is not None:
        return found
    return next(i for i, name in enumerate(_WEEKDAYS) if name.startswith(start))


def weekday_mismatches(text: str) -> list[str]:
    """Phrases like "Monday, December 2, 2026" whose weekday is not that date's weekday."""
    return _weekday_mismatches(_scan(text))


def _weekday_mismatches(scan: _Scan) -> list[str]:
    wrong: list[str] = []
    text = scan.text
    for pattern in _WEEKDAY_DATES:
        for match in _finditer(pattern, text, scan.weekdays):
            try:
                when = date(int(match["year"]), _month_number(match["mon"]), int(match["day"]))
            except (ValueError, StopIteration):
                wrong.append(f"{match.group(0)} (no such date)")
                continue
            if when.weekday() != _weekday_number(match["wd"]):
                wrong.append(f"{match.group(0)} (is a {_WEEKDAYS[when.weekday()].title()})")
    return wrong


def weekday_mismatch(*texts: str) -> Flag | None:
    return _weekday_mismatch(_scans(texts))


def _weekday_mismatch(scans: list[_Scan]) -> Flag | None:
    wrong = [w for scan in scans for w in _weekday_mismatches(scan)]
    if wrong:
        return Flag("weekday_mismatch", "A weekday contradicts its date: " + "; ".join(wrong[:3]) + ".")
    return None


def too_many_links(link_count: int, body_html: str) -> Flag | None:
    total = link_count + len(_ANCHOR.findall(body_html))
    if total > MAX_LINKS_BEFORE_FLAG:
        return Flag("many_links", f"{total} links (more than {MAX_LINKS_BEFORE_FLAG}).")
    return None


def short_body(body_text: str, *, words: int | None = None) -> Flag | None:
    """``words``: how many words ``body_text`` has, when the caller counted them already."""
    if words is None:
        words = len(body_text.split())
    if words < SHORT_BODY_WORDS:
        return Flag("short_body", f"The body has only {words} words.")
    return None


def duplicate_of(earlier_release_id: str | None) -> Flag | None:
    if earlier_release_id:
        return Flag("duplicate_content", f"Same content already submitted as release {earlier_release_id}.")
    return None


def content_digest(headline: str, body_html: str, *, body_text: str | None = None) -> str:
    """Fingerprint of what a reader would see: case, markup and spacing do not matter.

    ``body_text``, when given, must be ``plain_words(body_html)`` (saves computing it again).
    """
    if body_text is None:
        body_text = plain_words(body_html)
    normalised = (plain_words(headline) + "\n" + body_text).casefold()
    return hashlib.sha256(normalised.encode()).hexdigest()


class PrescreenInput(NamedTuple):
    headline: str
    subheadline: str | None
    summary: str | None
    body_html: str
    phone: str | None
    link_count: int
    duplicate_of: str | None
    # plain_words(body_html) when the caller has it already; computed from body_html if None.
    body_text: str | None = None


def prescreen(item: PrescreenInput) -> list[Flag]:
    """All flags for one release, in a stable order."""
    body_text = item.body_text if item.body_text is not None else plain_words(item.body_html)
    # Each text is lower-cased once, and each prefix searched for once over all of them, for both rules.
    scans = _scans([t for t in (item.headline, item.subheadline, item.summary, body_text) if t])
    candidates = (
        all_caps_headline(item.headline),
        _hype_words(scans),
        missing_phone(item.phone),
        _weekday_mismatch(scans),
        too_many_links(item.link_count, item.body_html),
        short_body(body_text, words=word_count(body_text)),
        duplicate_of(item.duplicate_of),
    )
    return [flag for flag in candidates if flag is not None]
