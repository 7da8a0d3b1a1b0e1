"""Prescreen rules (functions/domain/prescreen.py): hints for moderators, each rule both ways."""

from __future__ import annotations

import calendar
from dataclasses import replace
from datetime import date

import pytest

from functions.domain.prescreen import (
    MAX_LINKS_BEFORE_FLAG,
    SHORT_BODY_WORDS,
    PrescreenInput,
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
from functions.domain.sanitise import sanitise_body
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
    item = replace(CLEAN, body_html=body_html)
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
    assert codes(replace(CLEAN, **change)) == [code]  # type: ignore[arg-type]


def test_hype_in_body_is_found_after_markup_is_stripped() -> None:
    body = sanitise_body(BODY_TEXT + " It is a <em>world</em>-class appointment.", "html")
    assert codes(replace(CLEAN, body_html=body)) == ["hype_words"]
