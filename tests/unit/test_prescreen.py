"""Prescreen rules (functions/domain/prescreen.py): hints for moderators, each rule both ways."""

from __future__ import annotations

import calendar
import random
import re
import sys
from datetime import date

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from functions.domain.prescreen import (
    _CASE_TRAPS,
    _HYPE,
    _HYPE_STARTS,
    _WD,
    _WEEKDAY_DATES,
    _WEEKDAY_STARTS,
    _WEEKDAYS,
    HYPE_WORDS,
    MAX_LINKS_BEFORE_FLAG,
    SHORT_BODY_WORDS,
    Flag,
    PrescreenInput,
    _alternatives,
    _ascii_starts,
    _month_number,
    _starts,
    _weekday_number,
    all_caps_headline,
    content_digest,
    duplicate_of,
    hype_words,
    missing_phone,
    prescreen,
    short_body,
    too_many_links,
    weekday_mismatch,
    weekday_mismatches,
)
from functions.domain.sanitise import plain_words, sanitise_body, word_count
from tests.helpers import BODY_TEXT

# The calendar facts the expectations below rely on.
assert calendar.day_name[date(2026, 12, 2).weekday()] == "Wednesday"
assert calendar.day_name[date(2026, 11, 30).weekday()] == "Monday"
assert calendar.day_name[date(2026, 12, 3).weekday()] == "Thursday"

CLEAN = PrescreenInput(
    headline="Acme names Jane Doe chief financial officer",
    subheadline=None,
    summary=None,
    body_html=sanitise_body(BODY_TEXT, "text"),
    phone="+1 555 0100",
    link_count=1,
    duplicate_of=None,
)


def codes(item: PrescreenInput) -> list[str]:
    return [flag.code for flag in prescreen(item)]


def test_a_clean_release_has_no_flags() -> None:
    assert prescreen(CLEAN) == []


# -- all-caps headline -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "headline",
    ["ACME NAMES JANE DOE CFO", "ACME WINS CUP!", "BREAKING: ACME NAMES NEW CFO today"],
)
def test_all_caps_headline_flagged(headline: str) -> None:
    flag = all_caps_headline(headline)
    assert flag is not None
    assert flag.code == "all_caps_headline"


@pytest.mark.parametrize(
    "headline",
    [
        "Acme names NASA veteran as CFO",
        "NASA and ESA sign MoU",
        "BIG NEWS: Acme names a new CFO",
        "Acme Wins The Cup",
        "ACME 2026",  # too few letters to judge
    ],
)
def test_headline_with_acronyms_or_few_letters_not_flagged(headline: str) -> None:
    assert all_caps_headline(headline) is None


# -- hype words ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "listed"),
    [
        ("An AMAZING result", "amazing"),
        ("Our Revolutionary new kettle", "revolutionary"),
        ("a Game-Changer for kettles", "game-changer"),
        ("a game changer for kettles", "game changer"),
        ("the World's First smart kettle", "world's first"),
        ("truly state-of-the-art.", "state-of-the-art"),
    ],
)
def test_hype_words_found_case_insensitively(text: str, listed: str) -> None:
    flag = hype_words(text)
    assert flag is not None
    assert flag.code == "hype_words"
    assert flag.message == f"Promotional language: {listed}."


@pytest.mark.parametrize(
    "text",
    [
        "The results were amazingly good",  # longer word
        "An unprecedentedly wet month",
        "non-revolutionary tweaks",  # hyphenated compound
        "The leading providers of kettles",
        "A plain announcement with no puffery",
    ],
)
def test_hype_words_not_matched_inside_other_words(text: str) -> None:
    assert hype_words(text) is None


def test_hype_words_lists_each_word_once_across_texts() -> None:
    flag = hype_words("Amazing news", "amazing, incredible and AMAZING", "")
    assert flag is not None
    assert flag.message == "Promotional language: amazing, incredible."


# -- phone -----------------------------------------------------------------------------------


@pytest.mark.parametrize("phone", [None, ""])
def test_missing_phone_flagged(phone: str | None) -> None:
    flag = missing_phone(phone)
    assert flag is not None
    assert flag.code == "missing_phone"


def test_phone_present_not_flagged() -> None:
    assert missing_phone("+1 555 0100") is None


# -- weekday / date mismatch -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("on Monday, December 2, 2026", ["Monday, December 2, 2026 (is a Wednesday)"]),
        ("on Mon., Dec. 2, 2026", ["Mon., Dec. 2, 2026 (is a Wednesday)"]),
        ("on monday, december 2, 2026", ["monday, december 2, 2026 (is a Wednesday)"]),
        ("on Tuesday, Dec 2nd, 2026", ["Tuesday, Dec 2nd, 2026 (is a Wednesday)"]),
        ("on Friday 2 December 2026", ["Friday 2 December 2026 (is a Wednesday)"]),
        ("on Thursday the 2nd of December, 2026", ["Thursday the 2nd of December, 2026 (is a Wednesday)"]),
        ("on Monday, February 30, 2026", ["Monday, February 30, 2026 (no such date)"]),
        ("on Sunday, April 31, 2026", ["Sunday, April 31, 2026 (no such date)"]),
    ],
)
def test_weekday_contradicting_its_date_found(text: str, expected: list[str]) -> None:
    assert weekday_mismatches(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "Wednesday, December 2, 2026",
        "Monday 30 November 2026",
        "Wed., Dec. 2, 2026",
        "Wed 2 Dec 2026",
        "Wednesday the 2nd of December, 2026",
        "Thurs., Dec. 3, 2026",
        "Thu, Dec 3, 2026",
        "Tues. Sept. 1 2026",
        # Datelines: a city that starts like a weekday is not a weekday.
        "MONTREAL, Dec. 2, 2026 /PRNewswire/ -- Acme",
        "Monaco, December 2, 2026",
        "SUNNYVALE, December 2, 2026",
        "FRIBOURG, 4 December 2026",
        # No weekday at all.
        "December 2, 2026",
    ],
)
def test_correct_or_weekday_free_dates_not_flagged(text: str) -> None:
    assert weekday_mismatches(text) == []


def test_weekday_mismatch_flag_collects_all_texts() -> None:
    flag = weekday_mismatch("Launch on Monday, December 2, 2026.", "Doors open Monday, February 30, 2026")
    assert flag is not None
    assert flag.code == "weekday_mismatch"
    assert flag.message == (
        "A weekday contradicts its date: Monday, December 2, 2026 (is a Wednesday); "
        "Monday, February 30, 2026 (no such date)."
    )


def test_weekday_mismatch_none_when_dates_agree() -> None:
    assert weekday_mismatch("Launch on Wednesday, December 2, 2026.") is None


# -- links -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("link_count", "anchors", "flagged"),
    [
        (0, 0, False),
        (MAX_LINKS_BEFORE_FLAG, 0, False),
        (0, MAX_LINKS_BEFORE_FLAG, False),
        (3, 2, False),
        (3, 3, True),
        (MAX_LINKS_BEFORE_FLAG + 1, 0, True),
        (0, MAX_LINKS_BEFORE_FLAG + 1, True),
    ],
)
def test_too_many_links_counts_list_and_body_links(link_count: int, anchors: int, flagged: bool) -> None:
    # Given a links list and anchors in the body
    body = sanitise_body(" ".join(f"[l{i}](https://a.example/{i})" for i in range(anchors)), "markdown")
    # When the rule runs
    flag = too_many_links(link_count, body)
    # Then it fires only above the threshold
    if flagged:
        assert flag is not None
        assert flag.code == "many_links"
        assert flag.message == f"{link_count + anchors} links (more than {MAX_LINKS_BEFORE_FLAG})."
    else:
        assert flag is None


def test_too_many_links_ignores_other_tags_starting_with_a() -> None:
    body = "<p><abbr title='x'>A</abbr> <abbr title='y'>B</abbr></p>" * 6
    assert too_many_links(0, body) is None


# -- short body ------------------------------------------------------------------------------


def test_short_body_flagged_below_threshold() -> None:
    flag = short_body(" ".join(["word"] * (SHORT_BODY_WORDS - 1)))
    assert flag is not None
    assert flag.code == "short_body"
    assert flag.message == f"The body has only {SHORT_BODY_WORDS - 1} words."


def test_body_at_threshold_not_flagged() -> None:
    assert short_body(" ".join(["word"] * SHORT_BODY_WORDS)) is None


def test_short_body_counts_words_not_markup() -> None:
    # Given a body whose markup would inflate a naive count
    body_html = "<p>" + " ".join(f"<strong>w{i}</strong>" for i in range(10)) + "</p>"
    item = CLEAN._replace(body_html=body_html)
    # Then prescreen counts the ten words a reader sees
    (flag,) = [f for f in prescreen(item) if f.code == "short_body"]
    assert flag.message == "The body has only 10 words."


# -- duplicates ------------------------------------------------------------------------------


def test_duplicate_of_names_the_earlier_release() -> None:
    flag = duplicate_of("rel-123")
    assert flag is not None
    assert flag.code == "duplicate_content"
    assert "rel-123" in flag.message


@pytest.mark.parametrize("earlier", [None, ""])
def test_no_duplicate_without_earlier_release(earlier: str | None) -> None:
    assert duplicate_of(earlier) is None


def test_content_digest_ignores_case_markup_and_whitespace() -> None:
    # Given the same words in different case, markup and spacing
    a = content_digest("Acme Names CFO", "<p>Jane Doe <strong>joins</strong>\n\n   in January.</p>")
    b = content_digest("acme names  cfo", "<h2>JANE DOE</h2><p>joins in january.</p>")
    # Then the fingerprints agree
    assert a == b


@pytest.mark.parametrize(
    ("headline", "body_html"),
    [
        ("Acme names CFO", "<p>Jane Doe joins in February.</p>"),  # a word differs
        ("Acme names CFO", "<p>Jane Doe joins in January!</p>"),  # punctuation differs
        ("Acme names CFO Jane", "<p>Doe joins in January.</p>"),  # words moved from body to headline
    ],
)
def test_content_digest_sees_real_differences(headline: str, body_html: str) -> None:
    reference = content_digest("Acme names CFO", "<p>Jane Doe joins in January.</p>")
    assert content_digest(headline, body_html) != reference


# -- all rules together ----------------------------------------------------------------------


def test_prescreen_returns_flags_in_a_stable_order() -> None:
    # Given a release that breaks every rule
    item = PrescreenInput(
        headline="AMAZING NEWS FROM ACME",
        subheadline="Doors open Monday, December 2, 2026",
        summary=None,
        body_html='<p>A revolutionary kettle. <a href="https://a.example">a</a></p>',
        phone=None,
        link_count=5,
        duplicate_of="rel-1",
    )
    # When it is prescreened (twice)
    first, second = prescreen(item), prescreen(item)
    # Then the flags come in the rules' order, every time
    assert [f.code for f in first] == [
        "all_caps_headline",
        "hype_words",
        "missing_phone",
        "weekday_mismatch",
        "many_links",
        "short_body",
        "duplicate_content",
    ]
    assert first == second
    assert first[1].message == "Promotional language: amazing, revolutionary."


@pytest.mark.parametrize(
    ("change", "code"),
    [
        ({"headline": "ACME NAMES JANE DOE CHIEF FINANCIAL OFFICER"}, "all_caps_headline"),
        ({"summary": "An unparalleled appointment."}, "hype_words"),
        ({"phone": None}, "missing_phone"),
        ({"subheadline": "She starts on Monday, December 2, 2026"}, "weekday_mismatch"),
        ({"link_count": 6}, "many_links"),
        ({"body_html": "<p>Too short.</p>"}, "short_body"),
        ({"duplicate_of": "rel-0"}, "duplicate_content"),
    ],
)
def test_each_rule_fires_on_its_own(change: dict[str, object], code: str) -> None:
    assert codes(CLEAN._replace(**change)) == [code]


def test_hype_in_body_is_found_after_markup_is_stripped() -> None:
    body = sanitise_body(BODY_TEXT + " It is a <em>world</em>-class appointment.", "html")
    assert codes(CLEAN._replace(body_html=body)) == ["hype_words"]


def test_prescreen_uses_the_body_text_it_is_given() -> None:
    # Given the body's plain words computed by the caller (as intake does, once per submission)
    body_html = "<p>A revolutionary kettle, on Monday, December 2, 2026.</p>"
    item = CLEAN._replace(body_html=body_html)
    # Then passing them changes nothing ...
    assert prescreen(item._replace(body_text=plain_words(body_html))) == prescreen(item)
    # ... and they are what the rules read
    assert codes(item._replace(body_text=" ".join(["word"] * SHORT_BODY_WORDS))) == []


def test_content_digest_with_body_text_given_is_the_same() -> None:
    body_html = "<h2>Jane Doe</h2><p>joins <em>in</em> January.</p>"
    assert content_digest("Acme names CFO", body_html, body_text=plain_words(body_html)) == content_digest(
        "Acme names CFO", body_html
    )


# -- the fast scans give exactly what a full scan gives ---------------------------------------
# hype_words and weekday_mismatches only try the places where a match can start (see _starts in
# prescreen.py). These compare them with a plain finditer over the whole text, with the same
# patterns, on inputs chosen to trip that shortcut up.


def reference_hype_words(*texts: str) -> Flag | None:
    found: list[str] = []
    for text in texts:
        for match in _HYPE.finditer(text):
            word = match.group(1).lower()
            if word not in found:
                found.append(word)
    return Flag("hype_words", "Promotional language: " + ", ".join(found[:5]) + ".") if found else None


def reference_weekday_mismatches(text: str) -> list[str]:
    wrong: list[str] = []
    for pattern in _WEEKDAY_DATES:
        for match in pattern.finditer(text):
            try:
                when = date(int(match["year"]), _month_number(match["mon"]), int(match["day"]))
            except (ValueError, StopIteration):
                wrong.append(f"{match.group(0)} (no such date)")
                continue
            if when.weekday() != _weekday_number(match["wd"]):
                wrong.append(f"{match.group(0)} (is a {_WEEKDAYS[when.weekday()].title()})")
    return wrong


TRICKY_TEXTS = [
    "",
    "AMAZING amazing AmAzInG aMaZiNg!",
    "(Amazing), 'incredible'; \"Revolutionary\" -- cutting-edge/next-generation.",
    "industry leading provider",  # two words overlap: the scan takes the first only
    "Industry-Leading Provider and a leading provider",
    "best in class, Best-In-Class, BEST IN CLASS and best-in-classes",
    "game-changer game-changing game changer gamechanger Game-Changers",
    "world's first, World Class, world-class, WORLD-LEADING, world\u2019s first (curly)",
    "amazingly incredible-ish non-revolutionary pre-amazing amazing_ amazing-",
    "groundbreaking ground-breaking ground breaking GroundBreaking",
    "state-of-the-art and state of the art and STATE-OF-THE-ART.",
    "unprecedented\nunparalleled\tunrivalled  world class",
    # Characters whose case does not line up with ASCII letters (the slow path must cover them)
    "\u0131ncredible and AMAZ\u0130NG and di\u017fruptive and world-cla\u017f\u017f",
    "\u0130\u0130\u0130 amazing \u0130 Revolutionary",
    "Caf\u00e9 \u00c9LAN: an amazing na\u00efve revolution\u00e4ry \u03a3\u039f\u03a3 breakthrough",
    "\u212aelvin-sign breakthrough (K) and brea\u212athrough",
    "Monday, December 2, 2026",
    "MONDAY, DECEMBER 2, 2026 and monday, december 2, 2026 and MoNdAy, DeCeMbEr 2, 2026",
    "Mon., Dec. 2, 2026; Tue. Dec 2nd, 2026; wed 2 dec 2026; Thu the 3rd of Dec, 2026",
    "Tues. Sept. 1 2026 and Thurs., Dec. 3, 2026 and Thur Dec 3 2026",
    "Monday,December 2,2026 Monday , December 2 , 2026",
    "Monday, December 2, 20261 and Monday, December 2, 2026x and Monday, December 2, 2026.",
    "xMonday, December 2, 2026 and Mondays, December 2, 2026 and -Monday, December 2, 2026",
    "Monday, Monday, December 2, 2026 and Friday Monday 2 December 2026",
    "Monday,\n\tDecember\n2,\n\n2026 and Friday   2   December   2026",
    "Monday, February 30, 2026; Sunday, April 31, 2026; Friday 31 June 2026; Monday, Dec 0, 2026",
    "MONTREAL, Dec. 2, 2026; SUNNYVALE, December 2, 2026; Saturnday 2 December 2026",
    "common months of money: monday. Sunday! saturday? thursday: 2026 2027",
    "Monday, December \u0662, \u0662\u0660\u0662\u0666 (Arabic-Indic digits)",
    "\u017funday, December 6, 2026 and Fr\u0131day 4 December 2026 and \u0130 Monday, December 2, 2026",
    "Mon\u0130day, December 2, 2026 and Monday\u0130, December 2, 2026",
    "Monday, December 2, 2026 Monday, December 2, 2026 Wednesday, December 2, 2026 Tuesday 1 Dec 2026",
    "\u212aMonday, December 2, 2026 \u00e9Monday, December 2, 2026",
    # Right after a word character (letters, digits, marks of any script, "_") nothing matches
    "_Monday, December 2, 2026 and 1Monday, December 2, 2026 and \u2160Monday, December 2, 2026",
    "_amazing 9amazing \u00e9amazing \u0663amazing -amazing \u2013amazing \u00b7amazing",
    "\u24b6Monday, December 2, 2026 \u24b6amazing \u0301amazing e\u0301Monday, December 2, 2026",
]


@pytest.mark.parametrize("text", TRICKY_TEXTS)
def test_fast_scans_match_a_full_scan(text: str) -> None:
    assert hype_words(text) == reference_hype_words(text)
    assert weekday_mismatches(text) == reference_weekday_mismatches(text)


def test_fast_scans_find_what_they_should_on_tricky_text() -> None:
    # A few of the above spelled out, so that the comparison is not between two wrong answers
    flag = hype_words(
        "industry leading provider", "(Amazing), 'Incredible'", "A\u0131ncredible \u0131ncredible"
    )
    assert flag is not None
    assert flag.message == "Promotional language: industry leading, amazing, incredible, \u0131ncredible."
    assert weekday_mismatches("Monday, Monday, December 2, 2026 / xMonday, December 2, 2026") == [
        "Monday, December 2, 2026 (is a Wednesday)"
    ]
    assert weekday_mismatches("\u017funday, December 6, 2026 and Sunday, December 6, 2026.") == []
    assert weekday_mismatches("Fr\u0131day 4 December 2026 / MON 7 DEC 2026 / Tue, Dec 9, 2026") == [
        "Tue, Dec 9, 2026 (is a Wednesday)",
    ]


def test_fast_scans_match_a_full_scan_on_random_text() -> None:
    # Fragments that start, end and break matches, glued at random
    fragments = [
        *HYPE_WORDS, *(w.upper() for w in HYPE_WORDS), *(w.title() for w in HYPE_WORDS),
        "Monday", "mon.", "Mon", "TUES", "wed", "Thurs.", "thu", "Friday", "sat.", "SUNDAY", "month",
        "December", "dec.", "Sept.", "may", "JUNE", "the", "of", "2", "02", "2nd", "31", "30th",
        "2026", "1995", "20261", "\u0662\u0660\u0662\u0666", ",", ".", "-", "'", "\u2019",
        " ", " ", " ", "\n", "\t",
        "x", "_", "non", "ly", "s", "\u0130", "\u0131", "\u017f", "\u212a", "\u00e9", "\u03a3",
    ]  # fmt: skip
    rng = random.Random(20261202)
    for _ in range(3000):
        text = "".join(rng.choice(fragments) for _ in range(rng.randint(1, 30)))
        assert hype_words(text) == reference_hype_words(text), text
        assert weekday_mismatches(text) == reference_weekday_mismatches(text), text


def test_texts_scanned_together_give_what_each_gives_alone() -> None:
    # prescreen searches the headline, subheadline, summary and body together, one search per
    # prefix: each text's edges must stay its own, and a case trap in one text (scanned in full)
    # must not move what is found in the others
    assert hype_words("best", "in class") is None
    assert hype_words("xx", "amazing") == Flag("hype_words", "Promotional language: amazing.")
    assert weekday_mismatch("Monday, December 2,", "2026") is None  # one text: "is a Wednesday"
    assert weekday_mismatch("Monday, December 2, 2026") is not None
    rng = random.Random(20261203)
    for _ in range(600):
        texts = [rng.choice(TRICKY_TEXTS) for _ in range(rng.randint(1, 4))]
        assert hype_words(*texts) == reference_hype_words(*texts), texts
        wrong = [found for text in texts for found in reference_weekday_mismatches(text)]
        expected = (
            Flag("weekday_mismatch", "A weekday contradicts its date: " + "; ".join(wrong[:3]) + ".")
            if wrong
            else None
        )
        assert weekday_mismatch(*texts) == expected, texts


# ASCII text takes another way to the same places (_ascii_starts: one translation and one pattern
# instead of one search per prefix); these hold it to the general way and to a full scan.

ASCII_FRAGMENTS = [
    *HYPE_WORDS, *(w.upper() for w in HYPE_WORDS), *(w.title() for w in HYPE_WORDS),
    "Monday", "mon.", "Mon", "TUES", "wed", "Thurs.", "thu", "Friday", "sat.", "SUNDAY", "month",
    "sunday-", "-monday", "state", "States", "world's", "next", "grounds", "bestest",
    "December", "dec.", "Sept.", "may", "JUNE", "the", "of", "2", "02", "2nd", "31", "30th",
    "2026", "1995", "20261", ",", ".", "-", "--", "'", '"', "(", ")", "/", "_", "\x00", "\x7f",
    " ", " ", " ", "\n", "\t", "\r", "\x0b", "\x1c", "x", "9", "non", "ly", "s", "ed",
]  # fmt: skip


def general_starts(text: str) -> tuple[list[int] | None, list[int] | None]:
    lowered = text.lower()
    return _starts(text, lowered, _HYPE_STARTS, "-"), _starts(text, lowered, _WEEKDAY_STARTS)


@settings(max_examples=400, deadline=None)
@given(st.lists(st.sampled_from(ASCII_FRAGMENTS), max_size=40).map("".join))
def test_ascii_text_is_searched_as_any_text_is(text: str) -> None:
    # Given ASCII text glued from pieces that start, end and break matches
    # Then the ASCII way finds the places the general way finds, and the rules what a full scan finds
    assert _ascii_starts(text) == general_starts(text)
    assert hype_words(text) == reference_hype_words(text)
    assert weekday_mismatches(text) == reference_weekday_mismatches(text)


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.characters(max_codepoint=0x7F), max_size=60))
def test_any_ascii_text_is_searched_as_any_text_is(text: str) -> None:
    assert _ascii_starts(text) == general_starts(text)


def test_ascii_scans_find_what_they_should() -> None:
    # Spelled out, so that the comparisons above are not between two wrong answers
    hype, weekdays = _ascii_starts("Amazing -amazing x-Monday monday_ Mondays (sat) breakthrough")
    assert hype == [0, 48]  # "-amazing" follows a hyphen: no place for a hype word
    assert weekdays == [19, 26, 34, 43]  # a weekday may follow a hyphen; "monday_" is a place too
    # And no hype start begins a weekday start or the other way round (one match per place says which)
    for hype_start in _HYPE_STARTS:
        for weekday_start in _WEEKDAY_STARTS:
            assert not hype_start.startswith(weekday_start)
            assert not weekday_start.startswith(hype_start)


# The ASCII pattern writes each group of prefixes as a tree of first letters
# (b(?:est|reakthrough)); it must match at any place exactly what the plain alternation matches.
_TREE_FRAGMENTS = sorted(
    {start[:k] for start in (*_HYPE_STARTS, *_WEEKDAY_STARTS) for k in range(1, len(start) + 1)}
    | {"x", "-", " ", "_"}
)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(_TREE_FRAGMENTS), max_size=8).map("".join))
def test_the_prefix_tree_matches_what_the_plain_alternation_matches(text: str) -> None:
    # Given text glued from the prefixes, their beginnings and a few other characters
    data = text.encode()
    for prefixes in (_HYPE_STARTS, _WEEKDAY_STARTS):
        tree = re.compile(b"(?:" + _alternatives(prefixes) + b")")
        plain = re.compile(b"|".join(re.escape(prefix.encode()) for prefix in prefixes))
        # Then at every place both match the same (or neither matches)
        for at in range(len(data) + 1):
            found, expected = tree.match(data, at), plain.match(data, at)
            assert (found and found.group()) == (expected and expected.group()), (text, at)


def test_the_prefix_tree_is_the_prefixes() -> None:
    for prefixes in (_HYPE_STARTS, _WEEKDAY_STARTS):
        tree = re.compile(b"(?:" + _alternatives(prefixes) + b")")
        assert all(tree.fullmatch(prefix.encode()) for prefix in prefixes)
        # beginnings of a prefix that are no prefix themselves are not matched
        beginnings = {p[:k] for p in prefixes for k in range(1, len(p))} - set(prefixes)
        assert not any(tree.fullmatch(b.encode()) for b in beginnings)
        assert b"(?:" in _alternatives(prefixes)  # written as a tree, not as a plain list


def test_case_traps_are_every_character_that_lower_casing_misplaces() -> None:
    # The shortcut looks for lower-cased words in text.lower(); it can only miss a match if some
    # character lower-cases to more than one character, or re.IGNORECASE matches it with an
    # ASCII letter it does not lower-case to. Every such character, in the whole of Unicode, must
    # send the text down the full scan.
    everything = "".join(chr(code) for code in range(sys.maxunicode + 1))
    misplaced = {c for c in everything if len(c.lower()) != 1}
    for letter in {c for word in (*HYPE_WORDS, *_WEEKDAY_STARTS) for c in word}:
        matched = re.findall(re.escape(letter), everything, re.IGNORECASE)
        misplaced |= {c for c in matched if c.lower() != letter}
    assert misplaced <= set(_CASE_TRAPS)
    # and the shortcut's own assumptions about its inputs
    assert all(word == word.lower() for word in (*HYPE_WORDS, *_WEEKDAY_STARTS))
    for pattern in (_HYPE, *_WEEKDAY_DATES):
        assert pattern.flags & re.IGNORECASE
        assert not pattern.match("")


def test_every_weekday_spelling_starts_with_a_weekday_start() -> None:
    # _WD is "(?P<wd>mon(?:day)?|tue(...)?|...)\\.?": each alternative starts with three letters
    alternatives = _WD[len("(?P<wd>") : _WD.rindex(")")].split("|")
    assert len(alternatives) == 7
    assert {alternative[:3] for alternative in alternatives} == set(_WEEKDAY_STARTS)
    assert all(alternative[:3].isalpha() for alternative in alternatives)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # re.IGNORECASE matches dotless i and long s with "i" and "s"; these used to raise
        ("on Fr\u0131day 4 December 2026", []),
        ("on Fr\u0131day 5 December 2026", ["Fr\u0131day 5 December 2026 (is a Saturday)"]),
        ("on \u017funday, December 6, 2026", []),
        ("on \u017faturday, December 6, 2026", ["\u017faturday, December 6, 2026 (is a Sunday)"]),
        ("on Tuesday, \u017fept. 1, 2026", []),
        ("on Monday, \u017fept. 1, 2026", ["Monday, \u017fept. 1, 2026 (is a Tuesday)"]),
    ],
)
def test_weekday_names_with_odd_case_letters_do_not_break_the_rule(text: str, expected: list[str]) -> None:
    assert weekday_mismatches(text) == expected


def test_short_body_counts_the_words_it_is_given_as_it_would_count_them() -> None:
    # Given a body's plain words and the count intake passes along (word_count, no splitting)
    text = plain_words("<p>" + " ".join(["word"] * (SHORT_BODY_WORDS - 1)) + "</p>")
    # Then the flag is the same with the count given and without it
    assert short_body(text, words=word_count(text)) == short_body(text)
    assert short_body(text) is not None
    assert word_count("") == 0
    assert word_count("one") == 1
    assert word_count(plain_words("<p>two\u00a0 words</p>")) == 2
