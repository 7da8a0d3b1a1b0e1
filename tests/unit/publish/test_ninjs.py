"""``releases/{id}.json`` is IPTC ninjs 3.1 (functions/domain/publish/ninjs.py).

Every document is validated against the official schema, vendored in tests/standards/, with
format checking on (date-time, and uri: jsonschema only checks uri when an optional package is
installed, so a strict RFC 3986 check is registered here when it is not).
"""

from __future__ import annotations

import json
import re
from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator, FormatChecker

from functions.domain.publish.ninjs import CANCELED_NOTICE, NINJS_SCHEMA, to_ninjs
from tests.unit.publish.samples import (
    CATEGORY_ORDER,
    FIRST_CREATED,
    IDENTITY,
    ORG_NAME,
    PUBLISHED,
    RELEASE_ID,
    SITE,
    SUBMITTED,
    document,
    published,
)

SCHEMA_PATH = Path(__file__).resolve().parents[2] / "standards" / "ninjs-schema_3.1.json"
# RFC 3986 absolute URI: a scheme, then only characters a URI may contain.
_URI = re.compile(r"^[A-Za-z][A-Za-z0-9+.\-]*:[A-Za-z0-9\-._~:/?#\[\]@!$&'()*+,;=%]*$")


def _format_checker() -> FormatChecker:
    checker = FormatChecker()
    if "uri" not in checker.checkers:

        @checker.checks("uri")
        def is_uri(value: object) -> bool:
            return not isinstance(value, str) or bool(_URI.match(value))

    return checker


@pytest.fixture(scope="module")
def validator() -> Draft202012Validator:
    schema = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema, format_checker=_format_checker())


def problems(validator: Draft202012Validator, item: dict[str, Any]) -> list[str]:
    return [
        f"{'/'.join(map(str, error.absolute_path)) or '(root)'}: {error.message}"
        for error in validator.iter_errors(item)
    ]


def roles(values: list[dict[str, Any]]) -> dict[str, str]:
    return {value["role"]: value["value"] for value in values}


# ---------------------------------------------------------------------------------------------
# Validity
# ---------------------------------------------------------------------------------------------


def test_the_validator_is_strict_enough_to_catch_mistakes(validator: Draft202012Validator) -> None:
    # Given a valid document with an unknown status, a bad date and a URI with spaces
    item = to_ninjs(published("personnel"), IDENTITY)
    item |= {"pubStatus": "live", "firstCreated": "yesterday", "uri": "not a uri", "keywords": ["x"]}

    # Then each mistake is reported
    found = " ".join(problems(validator, item))
    assert "'live' is not one of" in found
    assert "'yesterday' is not a 'date-time'" in found
    assert "'not a uri' is not a 'uri'" in found
    assert "keywords" in found  # ninjs 3.1 has no keywords: unknown properties are refused


@pytest.mark.parametrize("category", CATEGORY_ORDER)
def test_every_category_validates_against_ninjs_3_1(validator: Draft202012Validator, category: str) -> None:
    # Given a published release of the category
    item = to_ninjs(published(category), IDENTITY)

    # Then the document is valid ninjs 3.1 and plain JSON
    assert problems(validator, item) == []
    assert json.loads(json.dumps(item)) == item


@pytest.mark.parametrize("category", CATEGORY_ORDER)
def test_a_withdrawn_release_validates_too(validator: Draft202012Validator, category: str) -> None:
    item = to_ninjs(published(category, canceled=True), IDENTITY)
    assert problems(validator, item) == []


@pytest.mark.parametrize("category", CATEGORY_ORDER)
def test_a_minimal_release_validates(validator: Draft202012Validator, category: str) -> None:
    # Given a release with none of the optional fields
    bare = {
        "subheadline": None, "summary": None, "dateline": None, "boilerplate": None,
        "links": [], "tags": [], "contact": {"name": "Desk", "email": "desk@acme.example"},
    }  # fmt: skip
    if category == "business":
        bare["details"] = {"tickers": []}
    if category == "community":
        bare["details"] = {}
    item = to_ninjs(published(category, **bare), IDENTITY)

    # Then it is valid, and absent values are left out rather than sent empty
    assert problems(validator, item) == []
    assert "descriptions" not in item or all(d["value"] for d in item["descriptions"])
    assert "located" not in item


# ---------------------------------------------------------------------------------------------
# Identity, dates and status
# ---------------------------------------------------------------------------------------------


def test_identity_is_the_page_url_and_the_version_number() -> None:
    release = published("personnel", version=3)
    item = to_ninjs(release, IDENTITY)

    assert item["uri"] == f"{SITE}releases/{RELEASE_ID}.html" == release.page_url
    assert item["version"] == "3"
    assert item["type"] == "text"
    assert {"role": "release-id", "value": RELEASE_ID} in item["altIds"]
    assert item["standard"] == {"name": "ninjs", "version": "3.1", "schema": NINJS_SCHEMA}
    assert NINJS_SCHEMA == "http://www.iptc.org/std/ninjs/ninjs-schema_3.1.json"


def test_dates_are_the_first_submission_and_this_version() -> None:
    item = to_ninjs(published("personnel"), IDENTITY)
    assert datetime.fromisoformat(item["firstCreated"]) == FIRST_CREATED
    assert datetime.fromisoformat(item["versionCreated"]) == SUBMITTED
    assert item["pubStatus"] == "usable"
    assert item["representationType"] == "full"


def test_the_page_and_the_json_are_given_as_renditions() -> None:
    release = published("personnel")
    renditions = {r["name"]: r for r in to_ninjs(release, IDENTITY)["renditions"]}
    assert renditions["web"]["href"] == release.page_url
    assert renditions["web"]["contentType"] == "text/html"
    assert renditions["ninjs"]["href"] == release.json_url


def test_a_withdrawn_release_keeps_its_identity_and_loses_its_content() -> None:
    # Given a release withdrawn a day after publication
    killed_at = PUBLISHED + timedelta(days=1)
    item = to_ninjs(published("personnel", canceled=True, published_at=killed_at), IDENTITY)

    # Then it is canceled, identifiable, and its only body is the notice
    assert item["pubStatus"] == "canceled"
    assert item["uri"] == f"{SITE}releases/{RELEASE_ID}.html"
    assert item["version"] == "1"
    assert roles(item["headlines"]) == {"main": "Acme names Jane Doe chief financial officer"}
    assert item["bodies"] == [{"role": "main", "contentType": "text/plain", "value": CANCELED_NOTICE}]
    for gone in ("descriptions", "people", "subjects", "located", "organisations", "embargoedUntil"):
        assert gone not in item
    assert "contactInfo" not in item["infoSources"][0]
    # and the cancellation is news about the item: its versionCreated is the withdrawal
    assert datetime.fromisoformat(item["versionCreated"]) == killed_at


def test_the_withdrawal_time_may_be_given_as_the_version_time() -> None:
    killed_at = PUBLISHED + timedelta(hours=3)
    release = replace(published("event"), canceled=True, version_created=killed_at)
    item = to_ninjs(release, IDENTITY)
    assert item["pubStatus"] == "canceled"
    assert datetime.fromisoformat(item["versionCreated"]) == killed_at
    assert datetime.fromisoformat(item["firstCreated"]) == FIRST_CREATED


# ---------------------------------------------------------------------------------------------
# Embargo
# ---------------------------------------------------------------------------------------------


def test_no_embargo_once_published_at_or_after_release_time() -> None:
    release_at = SUBMITTED + timedelta(days=2)
    at_release = to_ninjs(
        published("personnel", release_at=release_at.isoformat(), published_at=release_at), IDENTITY
    )
    later = to_ninjs(
        published(
            "personnel", release_at=release_at.isoformat(), published_at=release_at + timedelta(minutes=1)
        ),
        IDENTITY,
    )
    assert "embargoedUntil" not in at_release
    assert "embargoedUntil" not in later


def test_embargoed_until_release_time_when_rendered_before_it(validator: Draft202012Validator) -> None:
    # Given a release due at 09:00 New York time, rendered a day earlier
    release_at = datetime(2026, 3, 5, 9, 0, tzinfo=timezone(timedelta(hours=-5)))
    item = to_ninjs(
        published(
            "personnel",
            release_at=release_at.isoformat(),
            published_at=release_at - timedelta(days=1),
        ),
        IDENTITY,
    )
    assert datetime.fromisoformat(item["embargoedUntil"]) == release_at
    assert problems(validator, item) == []


def test_no_embargo_without_a_release_time() -> None:
    assert "embargoedUntil" not in to_ninjs(published("personnel"), IDENTITY)


# ---------------------------------------------------------------------------------------------
# Text
# ---------------------------------------------------------------------------------------------


def test_headlines_description_and_bodies() -> None:
    release = published("business")
    item = to_ninjs(release, IDENTITY)

    assert roles(item["headlines"]) == {
        "main": "Acme reports record first-quarter revenue",
        "sub": "A second line that says a little more",
    }
    assert roles(item["descriptions"])["summary"] == release.summary
    bodies = {body["role"]: body for body in item["bodies"]}
    assert bodies["main"]["contentType"] == "text/html"
    assert bodies["main"]["value"] == release.content["body"]
    assert "<strong>record revenue</strong>" in bodies["main"]["value"]
    assert bodies["main"]["wordCount"] > 10
    assert bodies["boilerplate"]["value"].startswith("About Acme")
    assert bodies["boilerplate"]["contentType"] == "text/plain"
    assert item["language"] == "en"
    assert item["located"] == "ST PETERSBURG, Florida"


def test_the_language_of_the_release_is_kept() -> None:
    assert to_ninjs(published("community", language="fr-CA"), IDENTITY)["language"] == "fr-CA"


def test_source_and_contact() -> None:
    item = to_ninjs(published("community"), IDENTITY)
    source = item["infoSources"][0]
    assert source["name"] == ORG_NAME
    assert source["role"] == "originator"
    contacts = {info["type"]: info for info in source["contactInfo"]}
    assert contacts["email"]["value"] == "press@acme.example"
    assert contacts["phone"]["value"] == "+1 (555) 010-0100"
    assert contacts["email"]["name"] == "Press Office"
    assert {"name": ORG_NAME, "rel": "issuer"} in item["organisations"]
    assert item["copyrightHolder"] == ORG_NAME


def test_subjects_are_the_category_and_the_tags() -> None:
    item = to_ninjs(published("community"), IDENTITY)
    assert item["subjects"][0] == {
        "name": "community",
        "uri": "urn:press-intake:category:community",
        "rel": "category",
    }
    keywords = [s["name"] for s in item["subjects"] if s.get("rel") == "keyword"]
    assert keywords == ["milestone", "florida"]


# ---------------------------------------------------------------------------------------------
# Typed details
# ---------------------------------------------------------------------------------------------


def test_personnel_names_the_person_and_the_role() -> None:
    item = to_ninjs(published("personnel"), IDENTITY)
    assert item["people"] == [{"name": "Jane Doe", "rel": "subject"}]
    details = roles(item["descriptions"])["details"]
    assert "Role: Chief Financial Officer" in details
    assert "Previously: Vice President, Finance" in details
    assert "Effective: 1 January 2027" in details


def test_an_event_has_its_dates_and_venue() -> None:
    item = to_ninjs(published("event"), IDENTITY)
    assert item["events"] == [{"name": "Acme opens its doors for a summer open day", "rel": "subject"}]
    dates = item["eventDetails"]["dates"]
    assert datetime.fromisoformat(dates["startDate"]) == datetime(2026, 6, 6, 17, 0, tzinfo=UTC)
    assert datetime.fromisoformat(dates["endDate"]) == datetime(2026, 6, 6, 20, 30, tzinfo=UTC)
    assert dates["startDate"].endswith("+01:00")  # in the event's own zone (London in summer)
    assert item["eventDetails"]["organiser"] == {"name": ORG_NAME}
    # The venue is a place with its address line; the zone (which ninjs has no field for) a subject
    [venue] = [place for place in item["places"] if place["rel"] == "venue"]
    assert venue["name"] == "Acme Hall, 1 Main Street"
    assert venue["contactInfo"] == [
        {"type": "address", "role": "venue", "address": {"lines": ["Acme Hall, 1 Main Street"]}}
    ]
    assert {"name": "Europe/London", "rel": "timezone", "uri": "urn:press-intake:timezone:Europe/London"} in (
        item["subjects"]
    )


def test_event_times_are_written_in_the_events_own_zone() -> None:
    # Given an event in New York whose times were sent with a UTC offset
    item = to_ninjs(
        published(
            "event",
            details={
                "starts_at": "2026-06-06T22:00:00+00:00",
                "ends_at": "2026-06-07T01:00:00+00:00",
                "venue": "Pier 17",
                "timezone": "America/New_York",
            },
        ),
        IDENTITY,
    )
    dates = item["eventDetails"]["dates"]
    # Then they are New York times, with New York's offset that day (the same instants)
    assert dates["startDate"] == "2026-06-06T18:00:00-04:00"
    assert dates["endDate"] == "2026-06-06T21:00:00-04:00"


def test_business_tickers_are_organisations_with_symbols() -> None:
    item = to_ninjs(published("business"), IDENTITY)
    symbols = [symbol for org in item["organisations"] for symbol in org.get("symbols", [])]
    assert symbols == [{"exchange": "NYSE", "symbol": "ACME"}, {"exchange": "LSE", "symbol": "ACM"}]


def test_sports_teams_are_organisations_and_the_sport_a_subject() -> None:
    item = to_ninjs(published("sports"), IDENTITY)
    participants = [org["name"] for org in item["organisations"] if org["rel"] == "participant"]
    assert participants == ["Acme Rovers", "Example United"]
    assert {"name": "football", "rel": "sport"} in item["subjects"]
    assert "Result: 3-1" in roles(item["descriptions"])["details"]


def test_community_group_and_area() -> None:
    item = to_ninjs(published("community"), IDENTITY)
    assert {"name": "Acme Volunteers", "rel": "subject"} in item["organisations"]
    assert item["places"] == [{"name": "Old Town", "rel": "subject"}]


def test_the_document_is_a_function_of_the_release() -> None:
    assert to_ninjs(published("event"), IDENTITY) == to_ninjs(published("event"), IDENTITY)
    assert document("event") == document("event")


# ---------------------------------------------------------------------------------------------
# For newsroom systems
# ---------------------------------------------------------------------------------------------


def test_the_standard_says_ninjs_3_1() -> None:
    # Consumers on ninjs 1.x read other names (versioncreated, pubstatus...): the document says which
    item = to_ninjs(published("personnel"), IDENTITY)
    assert item["standard"] == {"name": "ninjs", "version": "3.1", "schema": NINJS_SCHEMA}
    assert "versionCreated" in item
    assert "versioncreated" not in item


def test_the_genre_says_press_release() -> None:
    item = to_ninjs(published("personnel"), IDENTITY)
    assert item["genres"] == [
        {"name": "Press Release", "uri": "http://cv.iptc.org/newscodes/genre/Press_Release"}
    ]


@pytest.mark.parametrize(
    ("category", "topic"),
    [
        ("business", ("http://cv.iptc.org/newscodes/mediatopic/04000000", "economy, business and finance")),
        ("sports", ("http://cv.iptc.org/newscodes/mediatopic/15000000", "sport")),
        ("community", ("http://cv.iptc.org/newscodes/mediatopic/14000000", "society")),
        ("personnel", None),
        ("event", None),
    ],
)
def test_categories_map_to_iptc_media_topics_where_one_fits(
    category: str, topic: tuple[str, str] | None, validator: Draft202012Validator
) -> None:
    item = to_ninjs(published(category), IDENTITY)
    topics = [(s["uri"], s["name"]) for s in item["subjects"] if s.get("rel") == "about"]
    assert topics == ([topic] if topic else [])
    # alongside the project's own scheme, which every release has
    assert {"name": category, "uri": f"urn:press-intake:category:{category}", "rel": "category"} in item[
        "subjects"
    ]
    assert problems(validator, item) == []


def test_copyright_notice_and_usage_terms_come_from_the_sites_settings() -> None:
    from functions.domain.site import Site

    site = Site(
        url=SITE,
        copyright_notice="© {year} {organisation}. All rights reserved.",
        usage_terms="Free for editorial use; credit {organisation}.",
    )
    item = to_ninjs(published("personnel"), site)
    assert item["copyrightNotice"] == f"© 2026 {ORG_NAME}. All rights reserved."
    assert item["usageTerms"] == f"Free for editorial use; credit {ORG_NAME}."
    assert item["copyrightHolder"] == ORG_NAME


def test_a_correction_is_a_new_version_with_its_notes(validator: Draft202012Validator) -> None:
    from functions.domain.records import Correction

    corrected_at = PUBLISHED + timedelta(days=2)
    release = replace(
        published("personnel", version=3),
        corrections=(
            Correction(2, "Corrects the role.", PUBLISHED + timedelta(days=1)),
            Correction(3, "Corrects the effective date.", corrected_at),
        ),
    )
    item = to_ninjs(release, IDENTITY)
    assert item["version"] == "3"
    assert datetime.fromisoformat(item["versionCreated"]) == corrected_at  # when it became public
    notes = [d["value"] for d in item["descriptions"] if d["role"] == "correction"]
    assert notes == ["Corrects the effective date.", "Corrects the role."]  # newest first
    assert problems(validator, item) == []


def test_a_withdrawal_carries_the_version_it_is_given_and_the_reason_for_receivers_staff(
    validator: Draft202012Validator,
) -> None:
    killed_at = PUBLISHED + timedelta(days=1)
    release = replace(published("personnel"), canceled=True, version=2, version_created=killed_at)
    item = to_ninjs(release, IDENTITY, reason="Offensive, unlawful or unsafe content.")
    assert (item["version"], item["pubStatus"]) == ("2", "canceled")
    assert item["edNote"] == "Withdrawn by the newsroom: Offensive, unlawful or unsafe content."
    assert problems(validator, item) == []
