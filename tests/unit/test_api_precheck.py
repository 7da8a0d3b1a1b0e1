"""The request checks before the resolver, and the one parse of a request body they make."""

from __future__ import annotations

import base64
import json
from typing import Any

from functions.api import app as api_app

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
