"""The submission contract (docs/architecture.md, "The HTTP API"): what a client may send, and the
error location and type it sees when it gets something wrong."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from pydantic import TypeAdapter, ValidationError

from functions.domain.models import (
    BusinessRelease,
    CommunityRelease,
    EventRelease,
    PersonnelRelease,
    ReleaseSubmission,
    SportsRelease,
)
from tests.helpers import personnel_release

SUBMISSION = TypeAdapter(ReleaseSubmission)

EVENT_DETAILS = {
    "starts_at": "2026-12-01T18:00:00-05:00",
    "ends_at": "2026-12-01T22:00:00-05:00",
    "venue": "Mahaffey Theater",
    "timezone": "America/New_York",
}


def release(**overrides: Any) -> dict[str, Any]:
    """A valid submission (personnel unless ``category`` is overridden)."""
    return personnel_release(**overrides)


def validate(payload: dict[str, Any]) -> Any:
    return SUBMISSION.validate_python(payload)


def errors_of(payload: dict[str, Any]) -> list[tuple[tuple[str | int, ...], str]]:
    """The (loc, type) pairs a client would get back for an invalid payload."""
    with pytest.raises(ValidationError) as caught:
        validate(payload)
    return [(tuple(e["loc"]), e["type"]) for e in caught.value.errors()]


# -- categories and their details ------------------------------------------------------------


def test_business_release_with_tickers() -> None:
    # Given a business release naming two listed securities
    payload = release(
        category="business",
        details={"tickers": [{"symbol": "ACME", "exchange": "NYSE"}, {"symbol": "ACM.L", "exchange": "LSE"}]},
    )
    # When it is validated
    model = validate(payload)
    # Then it is a business release carrying both tickers
    assert isinstance(model, BusinessRelease)
    assert [(t.symbol, t.exchange) for t in model.details.tickers] == [("ACME", "NYSE"), ("ACM.L", "LSE")]


def test_business_release_details_are_optional() -> None:
    # Given a business release without details
    payload = release(category="business")
    del payload["details"]
    # When it is validated, Then it has no tickers
    model = validate(payload)
    assert isinstance(model, BusinessRelease)
    assert model.details.tickers == []


def test_business_ticker_symbol_is_checked() -> None:
    # Given a ticker symbol with spaces and punctuation
    payload = release(category="business", details={"tickers": [{"symbol": "AC ME!", "exchange": "NYSE"}]})
    # Then the error points at that symbol
    assert errors_of(payload) == [
        (("business", "details", "tickers", 0, "symbol"), "string_pattern_mismatch")
    ]


def test_sports_release_with_result_and_date() -> None:
    # Given a match report
    payload = release(
        category="sports",
        details={
            "sport": "football",
            "teams": ["Rowdies", "Miami FC"],
            "result": "3-1",
            "event_date": "2026-11-28",
        },
    )
    # When it is validated
    model = validate(payload)
    # Then the details are typed
    assert isinstance(model, SportsRelease)
    assert model.details.teams == ["Rowdies", "Miami FC"]
    assert model.details.result == "3-1"
    assert model.details.event_date == date(2026, 11, 28)


def test_sports_release_needs_at_least_one_team() -> None:
    payload = release(category="sports", details={"sport": "football", "teams": []})
    assert errors_of(payload) == [(("sports", "details", "teams"), "too_short")]


def test_personnel_release_with_previous_role() -> None:
    payload = release(
        details={
            "person": "Jane Doe",
            "role": "Chief Financial Officer",
            "effective_date": "2027-01-01",
            "previous_role": "Treasurer",
        }
    )
    model = validate(payload)
    assert isinstance(model, PersonnelRelease)
    assert model.details.person == "Jane Doe"
    assert model.details.effective_date == date(2027, 1, 1)
    assert model.details.previous_role == "Treasurer"


def test_personnel_release_requires_person_role_and_date() -> None:
    # Given personnel details that name nobody
    payload = release(details={})
    # Then each missing field is reported where it belongs
    assert sorted(errors_of(payload)) == [
        (("personnel", "details", "effective_date"), "missing"),
        (("personnel", "details", "person"), "missing"),
        (("personnel", "details", "role"), "missing"),
    ]


def test_community_release_with_group_and_area() -> None:
    model = validate(release(category="community", details={"group": "Old Northeast", "area": "St Pete"}))
    assert isinstance(model, CommunityRelease)
    assert (model.details.group, model.details.area) == ("Old Northeast", "St Pete")


def test_community_release_details_are_optional() -> None:
    payload = release(category="community")
    del payload["details"]
    model = validate(payload)
    assert isinstance(model, CommunityRelease)
    assert model.details.group is None


def test_event_release() -> None:
    # Given an event with a start, an end, a venue and an IANA zone
    model = validate(release(category="event", details=EVENT_DETAILS))
    # Then the times keep their offsets
    assert isinstance(model, EventRelease)
    assert model.details.starts_at.utcoffset() == timedelta(hours=-5)
    assert model.details.ends_at - model.details.starts_at == timedelta(hours=4)
    assert model.details.timezone == "America/New_York"


def test_category_decides_the_details_shape() -> None:
    # Given personnel details sent under the sports category
    payload = release(category="sports")
    # Then they are checked as sports details
    assert sorted(errors_of(payload)) == [
        (("sports", "details", "effective_date"), "extra_forbidden"),
        (("sports", "details", "person"), "extra_forbidden"),
        (("sports", "details", "role"), "extra_forbidden"),
        (("sports", "details", "sport"), "missing"),
        (("sports", "details", "teams"), "missing"),
    ]


def test_unknown_category_is_rejected() -> None:
    with pytest.raises(ValidationError) as caught:
        validate(release(category="weather"))
    (error,) = caught.value.errors()
    assert error["type"] == "union_tag_invalid"
    assert "'business', 'sports', 'personnel', 'community', 'event'" in error["msg"]


def test_missing_category_is_rejected() -> None:
    payload = release()
    del payload["category"]
    assert errors_of(payload) == [((), "union_tag_not_found")]


# -- unknown fields --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("overrides", "loc"),
    [
        pytest.param({"priority": "high"}, ("personnel", "priority"), id="top-level"),
        pytest.param(
            {"contact": {"name": "Press", "email": "press@acme.example", "fax": "+1 555 0101"}},
            ("personnel", "contact", "fax"),
            id="contact",
        ),
        pytest.param(
            {"details": {"person": "J", "role": "R", "effective_date": "2027-01-01", "salary": 1}},
            ("personnel", "details", "salary"),
            id="details",
        ),
        pytest.param(
            {"links": [{"url": "https://acme.example", "rel": "nofollow"}]},
            ("personnel", "links", 0, "rel"),
            id="link",
        ),
    ],
)
def test_unknown_fields_are_rejected(overrides: dict[str, Any], loc: tuple[str | int, ...]) -> None:
    # Given a field the contract does not define
    payload = release(**overrides)
    # Then it is refused by name, not silently dropped
    assert errors_of(payload) == [(loc, "extra_forbidden")]


# -- headline, links, tags -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("length", "error_type"),
    [(9, "string_too_short"), (10, None), (200, None), (201, "string_too_long")],
)
def test_headline_length_boundaries(length: int, error_type: str | None) -> None:
    payload = release(headline="H" + "e" * (length - 1))
    if error_type is None:
        assert len(validate(payload).headline) == length
    else:
        assert errors_of(payload) == [(("personnel", "headline"), error_type)]


def test_headline_length_counts_after_trimming() -> None:
    # Given nine characters padded with spaces
    payload = release(headline="   Too short   ")
    # Then the padding does not count
    assert errors_of(payload) == [(("personnel", "headline"), "string_too_short")]


def test_ten_links_accepted_eleven_rejected() -> None:
    links = [{"url": f"https://acme.example/{i}"} for i in range(11)]
    assert len(validate(release(links=links[:10])).links) == 10
    assert errors_of(release(links=links)) == [(("personnel", "links"), "too_long")]


@pytest.mark.parametrize("url", ["http://acme.example/a", "https://acme.example/a?b=c#d"])
def test_http_and_https_links_accepted(url: str) -> None:
    (link,) = validate(release(links=[{"url": url, "title": "t"}])).links
    assert link.url.scheme in {"http", "https"}


@pytest.mark.parametrize(
    "url",
    [
        "ftp://acme.example/file",
        "javascript:alert(1)",
        "JavaScript:alert(1)",
        "data:text/html,<script>alert(1)</script>",
        "mailto:press@acme.example",
        "/relative/path",
    ],
)
def test_other_link_schemes_rejected(url: str) -> None:
    errors = errors_of(release(links=[{"url": "https://ok.example"}, {"url": url}]))
    assert len(errors) == 1
    loc, error_type = errors[0]
    assert loc == ("personnel", "links", 1, "url")
    assert error_type in {"url_scheme", "url_parsing"}


def test_link_url_at_most_2048_characters() -> None:
    base = "https://acme.example/"
    assert validate(release(links=[{"url": base + "x" * (2048 - len(base))}])).links
    assert errors_of(release(links=[{"url": base + "x" * (2049 - len(base))}])) == [
        (("personnel", "links", 0), "value_error")
    ]


def test_twenty_tags_accepted_twenty_one_rejected() -> None:
    tags = [f"tag{i}" for i in range(21)]
    assert validate(release(tags=tags[:20])).tags == tags[:20]
    assert errors_of(release(tags=tags)) == [(("personnel", "tags"), "too_long")]


def test_tags_must_not_be_empty_or_too_long() -> None:
    assert sorted(errors_of(release(tags=["", "x" * 51]))) == [
        (("personnel", "tags", 0), "string_too_short"),
        (("personnel", "tags", 1), "string_too_long"),
    ]


# -- language --------------------------------------------------------------------------------


@pytest.mark.parametrize("tag", ["en", "en-GB", "pt-BR", "zh-Hant-TW", "sr-Latn-RS", "es-419", "ast"])
def test_bcp47_language_tags_accepted(tag: str) -> None:
    assert validate(release(language=tag)).language == tag


@pytest.mark.parametrize("tag", ["english", "e", "en_GB", "123", "en-", "en--GB", "fr CA"])
def test_malformed_language_tags_rejected(tag: str) -> None:
    with pytest.raises(ValidationError) as caught:
        validate(release(language=tag))
    (error,) = caught.value.errors()
    assert (error["loc"], error["type"]) == (("personnel", "language"), "value_error")
    assert "BCP 47" in error["msg"]


def test_language_defaults_to_english() -> None:
    payload = release()
    del payload["language"]
    assert validate(payload).language == "en"


# -- datetimes -------------------------------------------------------------------------------


def test_release_at_with_offset_accepted() -> None:
    model = validate(release(release_at="2026-12-01T09:00:00-05:00"))
    assert model.release_at == datetime(2026, 12, 1, 14, 0, tzinfo=UTC)


def test_release_at_without_offset_rejected() -> None:
    assert errors_of(release(release_at="2026-12-01T09:00:00")) == [
        (("personnel", "release_at"), "timezone_aware")
    ]


def test_event_start_without_offset_rejected() -> None:
    details = {**EVENT_DETAILS, "starts_at": "2026-12-01T18:00:00"}
    assert errors_of(release(category="event", details=details)) == [
        (("event", "details", "starts_at"), "timezone_aware")
    ]


@pytest.mark.parametrize(
    "ends_at",
    [
        pytest.param("2026-12-01T18:00:00-05:00", id="same-instant"),
        pytest.param("2026-12-01T17:59:59-05:00", id="before"),
        pytest.param("2026-12-01T22:30:00+00:00", id="before-in-another-offset"),
    ],
)
def test_event_must_end_after_it_starts(ends_at: str) -> None:
    # Given an event that ends no later than it starts (18:00 New York = 23:00 UTC)
    details = {**EVENT_DETAILS, "ends_at": ends_at}
    with pytest.raises(ValidationError) as caught:
        validate(release(category="event", details=details))
    # Then the details are refused with a message that says why
    (error,) = caught.value.errors()
    assert (error["loc"], error["type"]) == (("event", "details"), "value_error")
    assert "ends_at must be after starts_at" in error["msg"]


def test_event_ending_later_in_another_offset_is_fine() -> None:
    # 18:00 in New York is 23:00 UTC; 23:30 UTC is half an hour later
    details = {**EVENT_DETAILS, "ends_at": "2026-12-02T00:30:00+01:00"}
    model = validate(release(category="event", details=details))
    assert model.details.ends_at > model.details.starts_at


@pytest.mark.parametrize("zone", ["Mars/Base", "EST5", "", "../etc/passwd"])
def test_event_timezone_must_be_iana(zone: str) -> None:
    details = {**EVENT_DETAILS, "timezone": zone}
    assert errors_of(release(category="event", details=details)) == [
        (("event", "details", "timezone"), "value_error")
    ]


# -- contact ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "email", ["not-an-email", "press@", "@acme.example", "press@acme", "a b@acme.example"]
)
def test_contact_email_is_validated(email: str) -> None:
    payload = release(contact={"name": "Press Office", "email": email})
    assert errors_of(payload) == [(("personnel", "contact", "email"), "value_error")]


@pytest.mark.parametrize(
    "email",
    [
        "press@acme.test",  # reserved top-level domains
        "press@mail.localhost",
        "press@acme.onion",
        "press@10.in-addr.arpa",
        "press@ac--me.example",  # two letters and two dashes: only Punycode may
        "press@-acme.example",
        "press@acme-.example",
        "press@acme..example",
        "press@acme.example.",
        "a..b@acme.example",
        ".press@acme.example",
        "press.@acme.example",
        "press@acme.123",  # a top-level label ends with a letter
        "press@acme_corp.example",
        '"press office"@acme.example',  # quoted local parts are not accepted
        "press@[192.0.2.1]",
        "press@" + "a" * 64 + ".example",
        "press\n@acme.example",
    ],
)
def test_contact_email_refuses_what_email_validator_refuses(email: str) -> None:
    payload = release(contact={"name": "Press Office", "email": email})
    assert errors_of(payload) == [(("personnel", "contact", "email"), "value_error")]


@pytest.mark.parametrize(
    ("email", "stored"),
    [
        ("Press.Office+News@Acme.EXAMPLE", "Press.Office+News@acme.example"),  # domain lower-cased
        ("o'brien_{pr}#1@sub.acme.example", "o'brien_{pr}#1@sub.acme.example"),
        ("press@xn--bcher-kva.example", "press@b\u00fccher.example"),  # Punycode: shown decoded
        ("presse@b\u00fccher.example", "presse@b\u00fccher.example"),  # internationalised
        ("\u00e9lise@acme.example", "\u00e9lise@acme.example"),
        ("Press Office <press@acme.example>", "press@acme.example"),  # a display name is dropped
        ("x" * 65 + "@acme.example", "x" * 65 + "@acme.example"),  # only the whole has a limit
        ("press@a-b.c-d.example", "press@a-b.c-d.example"),
    ],
)
def test_contact_email_is_stored_as_email_validator_normalises_it(email: str, stored: str) -> None:
    model = validate(release(contact={"name": "Press Office", "email": email}))
    assert model.contact.email == stored


def test_the_plain_address_check_answers_as_email_validator_does() -> None:
    # Given addresses around every edge of the plain-ASCII shortcut
    from pydantic.networks import validate_email
    from pydantic_core import PydanticCustomError

    from functions.domain.models import RESERVED_EMAIL_DOMAINS, _email

    locals_ = ["press", "Press.Office", "a+b", "a_b", "a-b", "x" * 64, "x" * 65, "a.", "a..b", "o'b", "a=b"]
    domains = [
        "acme.example", "ACME.Example", "a.b.c", "a-b.example", "ab--c.example", "xn--bcher-kva.example",
        "acme.e1", "acme.1e", "acme.co.uk", "acme", "acme.arpa", "acme.local", "acme.test",
        "-a.example", "a-.example", "a" * 63 + ".example", "a" * 64 + ".example",
    ]  # fmt: skip

    def answer(fn: Any, address: str) -> str:
        try:
            return str(fn(address))
        except PydanticCustomError:
            return "refused"

    # Then the shortcut and email_validator give the same answer for each of them
    for local in locals_:
        for domain in domains:
            address = f"{local}@{domain}"
            assert answer(_email, address) == answer(lambda a: validate_email(a)[1], address), address
    # And the reserved names are email_validator's
    import email_validator

    assert set(email_validator.SPECIAL_USE_DOMAIN_NAMES) == RESERVED_EMAIL_DOMAINS


def test_contact_email_accepted() -> None:
    model = validate(release(contact={"name": "Press Office", "email": "press.office@acme.example"}))
    assert model.contact.email == "press.office@acme.example"
    assert model.contact.phone is None


@pytest.mark.parametrize("phone", ["+1 555 0100", "+44 (0)20 7946 0000", "020-7946-0000", "555.0100"])
def test_contact_phone_formats_accepted(phone: str) -> None:
    payload = release(contact={"name": "Press Office", "email": "press@acme.example", "phone": phone})
    assert validate(payload).contact.phone == phone


@pytest.mark.parametrize(
    ("phone", "error_type"),
    [
        ("call me", "string_pattern_mismatch"),
        ("+1 555 0100 ext", "string_pattern_mismatch"),
        ("+44", "string_too_short"),
        ("+1 " + "5" * 30, "string_too_long"),
    ],
)
def test_contact_phone_format_rejected(phone: str, error_type: str) -> None:
    payload = release(contact={"name": "Press Office", "email": "press@acme.example", "phone": phone})
    assert errors_of(payload) == [(("personnel", "contact", "phone"), error_type)]


def test_contact_is_required() -> None:
    payload = release()
    del payload["contact"]
    assert errors_of(payload) == [(("personnel", "contact"), "missing")]


# -- defaults --------------------------------------------------------------------------------


def test_defaults_for_optional_fields() -> None:
    # Given only the required fields
    payload = {
        "category": "community",
        "headline": "Park clean-up this Saturday",
        "body": "Bring gloves.",
        "contact": {"name": "Volunteers", "email": "hello@park.example"},
    }
    # When it is validated
    model = validate(payload)
    # Then the documented defaults apply
    assert model.body_format == "text"
    assert model.language == "en"
    assert model.release_at is None
    assert model.links == []
    assert model.tags == []


def test_body_format_must_be_known() -> None:
    assert errors_of(release(body_format="rtf")) == [(("personnel", "body_format"), "literal_error")]


def test_a_release_repr_never_carries_its_body() -> None:
    # Given a release with a long body, When something logs it with repr()
    shown = repr(SUBMISSION.validate_python(personnel_release(body="secret draft " * 1000)))
    # Then the line stays short and names the release, without its text
    assert "secret draft" not in shown
    assert shown.startswith("PersonnelRelease(headline='Acme names Jane Doe chief financial officer'")
    assert len(shown) < 300


def test_the_categories_are_the_release_classes_discriminators() -> None:
    # The one list of categories (CATEGORIES, from the Category type) is what the union accepts:
    # one release class per category, none without one.
    from typing import get_args

    from functions.domain.models import CATEGORIES, AnyRelease

    tags = [get_args(cls.model_fields["category"].annotation)[0] for cls in get_args(AnyRelease)]
    assert sorted(tags) == sorted(CATEGORIES)
    assert CATEGORIES == ("business", "sports", "personnel", "community", "event")


def test_an_unknown_category_names_the_categories() -> None:
    from functions.api.app import field_errors_of

    with pytest.raises(ValidationError) as caught:
        validate(release(category="weather"))
    [error] = field_errors_of(list(caught.value.errors()))
    assert error.field == "category"
    assert error.message == "category must be one of business, sports, personnel, community, event"
