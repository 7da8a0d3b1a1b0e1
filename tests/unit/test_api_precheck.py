"""The request checks before the resolver, and the one parse of a request body they make."""

from __future__ import annotations

import base64
import json
from typing import Any

from pydantic import TypeAdapter, ValidationError

from functions.api import app as api_app
from functions.domain.models import ReleaseSubmission
from tests.helpers import personnel_release

BODY = json.dumps({"category": "personnel", "headline": "Acme names a new chief financial officer"})


def post(body: str, *, encoded: bool = False, content_type: str = "application/json") -> dict[str, Any]:
    return {
        "httpMethod": "POST",
        "path": "/releases",
        "headers": {"Content-Type": content_type},
        "body": base64.b64encode(body.encode()).decode() if encoded else body,
        "isBase64Encoded": encoded,
        "requestContext": {"requestId": "req-1"},
    }


def test_the_resolver_gets_the_document_precheck_parsed_once_and_only_for_that_text() -> None:
    # Given a JSON body that passes the checks
    event = post(BODY)
    assert api_app.precheck(event) is None
    # When the resolver deserialises that very body text (as Powertools does)
    first = api_app._parsed_body(event["body"])
    # Then it gets the document, and a second read parses again (a document is handed out once)
    assert first == json.loads(BODY)
    again = api_app._parsed_body(event["body"])
    assert again == first
    assert again is not first
    # And equal text that is another string is parsed, never matched by value: the kept
    # document stays for the text it was parsed from
    second = post(BODY)
    assert api_app.precheck(second) is None
    other = api_app._parsed_body("".join(list(BODY)))
    assert other == first
    assert api_app._parsed_body._text is second["body"]  # still kept, for its own text
    assert api_app._parsed_body(second["body"]) == first
    assert api_app._parsed_body._text is None


def test_a_base64_body_is_decoded_once_and_handed_over_as_text() -> None:
    event = post(BODY, encoded=True)
    assert api_app.precheck(event) is None
    assert event["isBase64Encoded"] is False
    assert event["body"] == BODY
    assert api_app._parsed_body(event["body"]) == json.loads(BODY)


def test_what_precheck_refuses_it_refuses_in_the_order_clients_fix_it() -> None:
    def kind(event: dict[str, Any]) -> tuple[int, str]:
        response = api_app.precheck(event)
        assert response is not None
        document = json.loads(response["body"])
        return document["status"], document["detail"]

    assert kind(post("{}", content_type="text/plain"))[0] == 415
    assert kind(post("[1, 2]")) == (400, "The body must be a JSON object.")
    assert kind(post("{not json")) == (400, "The body is not valid UTF-8 JSON.")
    assert kind(post("[" * 65 + "]" * 65))[0] == 400
    assert kind(post("x" * (256 * 1024 + 1)))[0] == 413
    assert kind({**post(BODY), "body": "%%%", "isBase64Encoded": True}) == (
        400,
        "The body is not valid base64.",
    )
    assert kind({**post(BODY), "body": base64.b64encode(b"{\xff}").decode(), "isBase64Encoded": True})[1] == (
        "The body is not valid UTF-8 JSON."
    )


def test_a_valid_submission_is_validated_from_its_text_and_handed_over_as_the_release() -> None:
    # Given a valid release posted to /releases
    text = json.dumps(personnel_release())
    event = post(text)
    assert api_app.precheck(event) is None
    # Then the resolver gets the release already validated, the same as validating the parsed
    # document would give (which the route's own validation then takes as it is)
    handed = api_app._parsed_body(event["body"])
    assert handed == TypeAdapter(ReleaseSubmission).validate_python(json.loads(text))
    assert TypeAdapter(ReleaseSubmission).validate_python(handed) is handed
    # And on any other path the document is kept as parsed JSON
    other = {**post(text), "path": "/previews"}
    assert api_app.precheck(other) is None
    assert api_app._parsed_body(other["body"]) == json.loads(text)


def _variants(text: str) -> list[str]:
    """``text`` (a valid release) spoilt in the ways JSON parsers are known to disagree on."""
    spliced = text.replace('"Jane Doe"', '"Jane Doe", "headline": "Duplicated key wins or not"', 1)
    return [
        text,
        spliced,
        "\ufeff" + text,
        " \t\r\n" + text + " \n",
        text + "x",
        text[:-1] + ",}",
        text.replace("Acme names", "Acme \\ud800 names", 1),  # a lone surrogate escape
        text.replace("Acme names", "Acme \\udc00\\ud800 names", 1),
        text.replace("Acme names", "Acme \\ud83d\\ude00 names", 1),  # a pair: one character
        text.replace("Acme names", "Acme\u2028names", 1),
        text.replace("Acme names", "Acme\tnames", 1),  # a raw tab inside a string
        text.replace("Acme names", "Acme\nnames", 1),
        text.replace("Acme names", "Acme \\x41 names", 1),
        text.replace("Acme names", "Acme \\u00E9 names", 1),
        text.replace('"personnel"', '"personnel" ', 1),
        text.replace('"en"', "NaN", 1),
        text.replace('"en"', "1e400", 1),
        text.replace('"en"', "01", 1),
        text.replace('"en"', "-0", 1),
        text.replace('"en"', '"en", "extra": true', 1),
        text.replace('{"category"', '{"category": "business", "category"', 1),
        text.replace("}", "]", 1),
    ]


def test_the_submission_parser_accepts_exactly_what_the_usual_path_accepts() -> None:
    # Whatever pydantic's JSON parser accepts as a valid release, json.loads + validation accepts
    # as the same release; whatever either refuses leaves the usual path to answer it
    adapter = TypeAdapter(ReleaseSubmission)
    for text in _variants(json.dumps(personnel_release())) + _variants(
        json.dumps(personnel_release(), ensure_ascii=False)
    ):
        fast = api_app._valid_submission(text)
        try:
            usual = adapter.validate_python(json.loads(text))
        except (ValueError, ValidationError):
            usual = None
        assert fast == usual, text[:80]
