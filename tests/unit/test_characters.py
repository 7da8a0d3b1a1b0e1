"""Which characters submitted text may hold: refused with a 422 naming the field and the code
point, or (in bodies, summaries and boilerplate) removed when they are invisible."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import TypeAdapter, ValidationError

from functions.domain import characters
from functions.domain.characters import clean, code_point, first_forbidden, first_invisible, remove_invisible
from functions.domain.models import ReleaseSubmission
from functions.domain.sanitise import sanitise_body
from tests.helpers import personnel_release

SUBMISSION = TypeAdapter(ReleaseSubmission)
ZWNJ, ZWJ = "\u200c", "\u200d"


def errors_of(payload: dict[str, Any]) -> list[dict[str, Any]]:
    with pytest.raises(ValidationError) as caught:
        SUBMISSION.validate_python(payload)
    return [{"loc": tuple(e["loc"])[1:], "type": e["type"], "msg": e["msg"]} for e in caught.value.errors()]


def sports(**details: Any) -> dict[str, Any]:
    base = {"sport": "football", "teams": ["Rovers", "United"], "result": "3-1"}
    return personnel_release(category="sports", details={**base, **details})


# -- forbidden everywhere -----------------------------------------------------------------------------

FORBIDDEN = [
    pytest.param("\x0b", "U+000B", id="vertical-tab"),
    pytest.param("\x00", "U+0000", id="nul"),
    pytest.param("\x1f", "U+001F", id="unit-separator"),
    pytest.param("\x7f", "U+007F", id="delete"),
    pytest.param("\x9b", "U+009B", id="c1-csi"),
    pytest.param("\ufffe", "U+FFFE", id="fffe"),
    pytest.param("\uffff", "U+FFFF", id="ffff"),
    pytest.param("\ud800", "U+D800", id="lone-surrogate"),
    pytest.param("\ufdd0", "U+FDD0", id="noncharacter"),
    pytest.param("\U0010ffff", "U+10FFFF", id="last-code-point"),
]

# Every free-text field of a submission, as a client addresses it.
FIELDS: list[Any] = [
    pytest.param(
        lambda c: personnel_release(headline=f"Acme names{c} a new chief"), ("headline",), id="headline"
    ),
    pytest.param(
        lambda c: personnel_release(subheadline=f"Second{c}line"), ("subheadline",), id="subheadline"
    ),
    pytest.param(lambda c: personnel_release(summary=f"One{c} paragraph."), ("summary",), id="summary"),
    pytest.param(lambda c: personnel_release(body=f"The body{c} text."), ("body",), id="body"),
    pytest.param(lambda c: personnel_release(dateline=f"LONDON{c}"), ("dateline",), id="dateline"),
    pytest.param(
        lambda c: personnel_release(boilerplate=f"About{c} Acme."), ("boilerplate",), id="boilerplate"
    ),
    pytest.param(
        lambda c: personnel_release(contact={"name": f"Press{c}Office", "email": "press@acme.example"}),
        ("contact", "name"),
        id="contact-name",
    ),
    pytest.param(
        lambda c: personnel_release(contact={"name": "Press", "email": f"pr{c}ess@acme.example"}),
        ("contact", "email"),
        id="contact-email",
    ),
    pytest.param(
        lambda c: personnel_release(links=[{"url": "https://acme.example/", "title": f"News{c}room"}]),
        ("links", 0, "title"),
        id="link-title",
    ),
    pytest.param(
        lambda c: personnel_release(links=[{"url": f"https://acme.example/a{c}b"}]),
        ("links", 0, "url"),
        id="link-url",
    ),
    pytest.param(lambda c: personnel_release(tags=["a", "b", "c", f"fin{c}ance"]), ("tags", 3), id="tag"),
    pytest.param(
        lambda c: personnel_release(
            details={"person": f"Jane{c}Doe", "role": "CFO", "effective_date": "2027-01-01"}
        ),
        ("details", "person"),
        id="person",
    ),
    pytest.param(
        lambda c: personnel_release(
            details={"person": "Jane Doe", "role": f"C{c}FO", "effective_date": "2027-01-01"}
        ),
        ("details", "role"),
        id="role",
    ),
    pytest.param(
        lambda c: personnel_release(
            details={"person": "J", "role": "CFO", "previous_role": f"V{c}P", "effective_date": "2027-01-01"}
        ),
        ("details", "previous_role"),
        id="previous-role",
    ),
    pytest.param(lambda c: sports(sport=f"foot{c}ball"), ("details", "sport"), id="sport"),
    pytest.param(lambda c: sports(teams=["Rovers", f"Uni{c}ted"]), ("details", "teams", 1), id="team"),
    pytest.param(lambda c: sports(result=f"3{c}1"), ("details", "result"), id="result"),
    pytest.param(
        lambda c: personnel_release(category="community", details={"group": f"Friends{c}of the park"}),
        ("details", "group"),
        id="group",
    ),
    pytest.param(
        lambda c: personnel_release(category="community", details={"area": f"River{c}side"}),
        ("details", "area"),
        id="area",
    ),
    pytest.param(
        lambda c: personnel_release(
            category="event",
            details={
                "starts_at": "2026-12-01T18:00:00-05:00",
                "ends_at": "2026-12-01T22:00:00-05:00",
                "venue": f"Mahaffey{c}Theater",
                "timezone": "America/New_York",
            },
        ),
        ("details", "venue"),
        id="venue",
    ),
]


@pytest.mark.parametrize(("make", "loc"), FIELDS)
def test_a_vertical_tab_is_refused_in_every_string_field_by_name(make: Any, loc: tuple[Any, ...]) -> None:
    # Given a release with U+000B in one field
    errors = errors_of(make("\x0b"))

    # Then that field, and only it, is refused with the stable code, naming the code point
    assert [(e["loc"], e["type"]) for e in errors] == [(loc, "forbidden_character")]
    assert "U+000B" in errors[0]["msg"]


@pytest.mark.parametrize(("char", "label"), FORBIDDEN)
def test_characters_xml_forbids_or_discourages_are_refused(char: str, label: str) -> None:
    errors = errors_of(personnel_release(headline=f"Acme names{char} a new chief"))
    assert [(e["loc"], e["type"]) for e in errors] == [(("headline",), "forbidden_character")]
    assert label in errors[0]["msg"]

    errors = errors_of(personnel_release(body=f"The body{char} text."))
    assert [(e["loc"], e["type"]) for e in errors] == [(("body",), "forbidden_character")]


@pytest.mark.parametrize("char", ["\t", "\n", "\r", "\x85", "\u00a0", "\u200e", "\u200f", "\ufffd"])
def test_tab_newline_carriage_return_and_ordinary_marks_are_fine(char: str) -> None:
    model = SUBMISSION.validate_python(
        personnel_release(body=f"First{char}second.", summary=f"One{char}two.")
    )
    assert char in model.body


# -- invisible characters ---------------------------------------------------------------------------

INVISIBLE = [
    pytest.param("\u202e", "U+202E RIGHT-TO-LEFT OVERRIDE", id="rlo"),
    pytest.param("\u202a", "U+202A LEFT-TO-RIGHT EMBEDDING", id="lre"),
    pytest.param("\u2066", "U+2066 LEFT-TO-RIGHT ISOLATE", id="lri"),
    pytest.param("\u2069", "U+2069 POP DIRECTIONAL ISOLATE", id="pdi"),
    pytest.param("\u200b", "U+200B ZERO WIDTH SPACE", id="zwsp"),
    pytest.param("\u2060", "U+2060 WORD JOINER", id="word-joiner"),
    pytest.param("\ufeff", "U+FEFF ZERO WIDTH NO-BREAK SPACE", id="bom"),
]
SINGLE_LINE = [
    p for p in FIELDS if p.id not in ("summary", "body", "boilerplate", "contact-email", "link-url")
]


@pytest.mark.parametrize(("char", "label"), INVISIBLE)
@pytest.mark.parametrize(("make", "loc"), SINGLE_LINE)
def test_single_line_fields_refuse_bidi_controls_and_zero_width_characters(
    make: Any, loc: tuple[Any, ...], char: str, label: str
) -> None:
    errors = errors_of(make(char))
    assert [(e["loc"], e["type"]) for e in errors] == [(loc, "forbidden_character")]
    assert label in errors[0]["msg"]


@pytest.mark.parametrize(("char", "label"), INVISIBLE)
def test_multi_line_fields_have_bidi_controls_and_zero_width_characters_removed(
    char: str, label: str
) -> None:
    model = SUBMISSION.validate_python(
        personnel_release(
            body=f"Acme{char} today announced a new chief.",
            summary=f"A new{char} chief.",
            boilerplate=f"About{char} Acme.",
        )
    )
    assert (model.body, model.summary, model.boilerplate) == (
        "Acme today announced a new chief.",
        "A new chief.",
        "About Acme.",
    )


def test_a_persian_headline_with_zero_width_non_joiners_is_accepted() -> None:
    # "The municipality wants to build new parks" - می‌خواهد and پارک‌های need a ZWNJ
    headline = "شهرداری می\u200cخواهد پارک\u200cهای تازه بسازد"  # noqa: RUF001 - Persian letters
    model = SUBMISSION.validate_python(personnel_release(headline=headline, language="fa"))
    assert model.headline == headline


@pytest.mark.parametrize(
    "text",
    [
        "क्\u200dष",  # Devanagari: a half form, joiner after the virama
        "Team \U0001f468\u200d\U0001f469\u200d\U0001f467 day",  # family emoji
        "\u2764\ufe0f\u200d\U0001f525 hot news",  # joiner after a variation selector
    ],
)
def test_joiners_between_two_visible_characters_are_kept(text: str) -> None:
    model = SUBMISSION.validate_python(personnel_release(headline=f"Acme headline {text}", body=text))
    assert model.headline == f"Acme headline {text}"
    assert model.body == text


@pytest.mark.parametrize(
    ("text", "kept"),
    [
        (f"word{ZWNJ} next", "word next"),  # before a space
        (f"word {ZWJ}next", "word next"),  # after a space
        (f"{ZWJ}word", "word"),  # at the start
        (f"word{ZWNJ}", "word"),  # at the end
        (f"a{ZWNJ}{ZWNJ}b", "ab"),  # next to another joiner
        (f"a\u202e{ZWNJ}b", f"a{ZWNJ}b"),  # judged once the override is gone
    ],
)
def test_joiners_that_join_nothing_are_refused_in_lines_and_removed_from_bodies(text: str, kept: str) -> None:
    assert first_invisible(text) is not None
    errors = errors_of(personnel_release(headline=f"Acme headline {text} end"))
    assert [(e["loc"], e["type"]) for e in errors] == [(("headline",), "forbidden_character")]
    assert remove_invisible(text) == kept
    assert SUBMISSION.validate_python(personnel_release(body=f"{text} body")).body == f"{kept} body".strip()


def test_the_error_names_a_control_by_its_code_point_and_others_by_name() -> None:
    assert code_point("\x0b") == "U+000B"
    assert code_point("\u202e") == "U+202E RIGHT-TO-LEFT OVERRIDE"
    assert code_point("\U0010ffff") == "U+10FFFF"
    assert first_forbidden("fine text, ÅÄÖ, 日本語, \U0001f600") is None


# -- the sanitised body ---------------------------------------------------------------------------------


@pytest.mark.parametrize("body_format", ["html", "markdown"])
@pytest.mark.parametrize(
    "reference",
    [
        "&#11;",
        "&#x0B;",
        "&#x202E;",
        "&#xFEFF;",
        "&#x200B;",
        "&#xFFFE;",
        "&#xFFFF;",
        "&#xFDD0;",
        "&#x1FFFF;",
        "&#127;",
    ],
)
def test_character_references_cannot_smuggle_what_intake_refuses(body_format: str, reference: str) -> None:
    # Given a body that names a refused character through a character reference
    html = sanitise_body(f"Acme{reference} today announced a new chief.", body_format)  # type: ignore[arg-type]

    # Then the sanitised HTML holds neither it nor anything invisible
    assert first_forbidden(html) is None
    assert first_invisible(html) is None
    assert "Acme today announced a new chief." in html


def test_a_joining_reference_survives_sanitising() -> None:
    persian = "<p>می&#x200C;خواهد</p>"
    assert sanitise_body(persian, "html") == persian.replace("&#x200C;", "\u200c")


def test_clean_removes_forbidden_and_invisible_characters() -> None:
    assert clean("a\x0bb\u202ec\u200bd") == "abcd"


# -- the fast path: text whose characters are all printable is never searched ---------------------


def test_every_forbidden_or_invisible_character_is_unprintable_so_the_fast_path_cannot_hide_one() -> None:
    # Given every code point of Unicode that the searches look for (forbidden, or invisible)
    patterns = (characters._FORBIDDEN_BMP, characters._FORBIDDEN_ASTRAL, characters._INVISIBLE)
    found = [chr(point) for point in range(0x110000) if any(p.match(chr(point)) for p in patterns)]
    # Then none of them is printable: the check that lets printable text skip the searches
    # (str.isprintable) never lets one through
    assert len(found) > 2000  # controls, surrogates, non-characters, bidi and zero-width
    assert [code_point(c) for c in found if c.isprintable()] == []


def test_ascii_text_is_plain_exactly_when_it_holds_no_forbidden_control() -> None:
    for point in range(0x80):
        text = f"Plain ASCII text{chr(point)} around one character."
        expected = characters._FORBIDDEN_BMP.search(text) is None
        assert characters.is_plain(text) is expected, code_point(chr(point))


@settings(max_examples=400, deadline=None)
@given(st.text(alphabet=st.characters(max_codepoint=0x7F), max_size=40))
def test_any_ascii_text_is_plain_exactly_when_the_search_finds_nothing(text: str) -> None:
    # Single lines (printable) and lines with tabs and breaks take two ways to the same answer
    assert characters.is_plain(text) is (characters._FORBIDDEN_BMP.search(text) is None)


@pytest.mark.parametrize("char", ["\x0b", "\u202e", "\u200b", "\ud800", "\ufdd0", "\U0010ffff", "\x85"])
def test_text_with_an_unprintable_character_is_still_searched(char: str) -> None:
    # Given text that is printable but for one character (NEL, U+0085, is allowed and stays)
    text = f"A long printable line of press-release text{char} that goes on.\nAnd a second line."
    # Then the answers are those of the full search
    expected_forbidden = None if char in ("\x85", "\u202e", "\u200b") else char
    assert first_forbidden(text) == expected_forbidden
    assert first_invisible(text) == (char if char in ("\u202e", "\u200b") else None)
    assert clean(text) == (text if char == "\x85" else text.replace(char, ""))
