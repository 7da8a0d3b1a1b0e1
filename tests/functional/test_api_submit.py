"""POST /releases against moto resources created from template.yaml."""

from __future__ import annotations

import base64
import json
import re
from typing import Any

import pytest

from infra.bootstrap import LocalStack
from tests.functional.conftest import receive_all
from tests.helpers import ApiClient, in_days, personnel_release

PROBLEM = "application/problem+json"


def _problem(response: Any, status: int) -> dict[str, Any]:
    assert response.status == status, response.body
    assert response.content_type == PROBLEM
    document = response.json()
    assert document["status"] == status
    assert {"type", "title", "detail"} <= set(document)
    return document


def test_submission_is_stored_recorded_and_queued(
    api: ApiClient, stack: LocalStack, s3: Any, sqs: Any
) -> None:
    # Given a valid personnel release with HTML that must not survive
    release = personnel_release(
        body_format="html",
        body="<p>Acme names a CFO.</p><script>alert(1)</script><p onclick='x()'>More <b>news</b>.</p>",
    )

    # When the organisation submits it
    response = api.post("/releases", release)

    # Then it is accepted with a Location pointing at its status view
    assert response.status == 202
    accepted = response.json()
    assert accepted["status"] == "pending_review"
    assert accepted["version"] == 1
    assert response.header("Location") == accepted["links"]["self"]
    assert accepted["links"]["self"].endswith(f"/v1/releases/{accepted['id']}")

    # And the canonical JSON of version 1 is in the releases bucket, sanitised
    key = f"orgs/org-acme/releases/{accepted['id']}/v0001.json"
    document = json.loads(s3.get_object(Bucket=stack.ref("ReleasesBucket"), Key=key)["Body"].read())
    assert document["version"] == 1
    assert document["submitted_format"] == "html"
    assert document["content"]["body_format"] == "html"
    assert "<script" not in document["content"]["body"]
    assert "onclick" not in document["content"]["body"]
    assert "<b>news</b>" in document["content"]["body"]

    # And a claim-check message (no content) waits on the moderation queue
    messages = receive_all(sqs, stack.ref("ModerationQueue"))
    assert [m["json"] for m in messages] == [{"release_id": accepted["id"], "version": 1}]
    attributes = messages[0]["MessageAttributes"]
    assert attributes["category"]["StringValue"] == "personnel"
    assert attributes["org_id"]["StringValue"] == "org-acme"

    # And the status view shows it pending review
    view = api.get(f"/releases/{accepted['id']}")
    assert view.status == 200
    assert view.json()["status"] == "pending_review"
    assert re.fullmatch(r'"1-[0-9a-f]{16}"', view.header("ETag") or "")  # version 1, and a digest of the view


@pytest.mark.parametrize(
    ("category", "details"),
    [
        ("business", {"tickers": [{"symbol": "ACME", "exchange": "NYSE"}]}),
        (
            "sports",
            {"sport": "football", "teams": ["Rovers", "United"], "result": "3-1", "event_date": "2026-11-21"},
        ),
        ("personnel", {"person": "Jane Doe", "role": "CFO", "effective_date": "2027-01-01"}),
        ("community", {"group": "Friends of the Park", "area": "Old Town"}),
        (
            "event",
            {
                "starts_at": "2027-03-01T18:00:00-05:00",
                "ends_at": "2027-03-01T21:00:00-05:00",
                "venue": "Town Hall",
                "timezone": "America/New_York",
            },
        ),
    ],
)
def test_every_category_is_accepted(api: ApiClient, category: str, details: dict[str, Any]) -> None:
    response = api.post("/releases", personnel_release(category=category, details=details))
    assert response.status == 202, response.body
    assert api.get(f"/releases/{response.json()['id']}").json()["category"] == category


def test_markdown_body_is_published_as_sanitised_html(api: ApiClient, stack: LocalStack, s3: Any) -> None:
    release = personnel_release(
        body_format="markdown",
        body=(
            "## Appointment\n\nJane **Doe** joins. [Site](https://acme.example) [x](javascript:alert(1))"
            "\n\n<script>x</script>"
        ),
    )
    accepted = api.post("/releases", release).json()
    key = f"orgs/org-acme/releases/{accepted['id']}/v0001.json"
    body = json.loads(s3.get_object(Bucket=stack.ref("ReleasesBucket"), Key=key)["Body"].read())["content"][
        "body"
    ]
    assert "<h2>Appointment</h2>" in body
    assert "<strong>Doe</strong>" in body
    assert 'href="https://acme.example"' in body
    assert 'rel="nofollow noopener"' in body
    assert 'href="javascript' not in body  # the link loses its href: never a script URL
    assert "<script" not in body


def test_release_at_in_the_future_is_kept(api: ApiClient) -> None:
    when = in_days(3)
    accepted = api.post("/releases", personnel_release(release_at=when)).json()
    view = api.get(f"/releases/{accepted['id']}").json()
    assert view["release_at"] is not None


def test_base64_encoded_body_is_accepted(api: ApiClient) -> None:
    raw = json.dumps(personnel_release()).encode()
    response = api.request(
        "POST",
        "/releases",
        body=raw,
        binary=True,
        headers={"Content-Type": "application/json; charset=utf-8"},
    )
    assert response.status == 202, response.body


# -- errors ---------------------------------------------------------------------------------------


def test_malformed_json_is_400(api: ApiClient) -> None:
    response = api.request(
        "POST", "/releases", body='{"headline": ', headers={"Content-Type": "application/json"}
    )
    document = _problem(response, 400)
    assert document["type"] == "https://localhost/v1/problems/malformed-request"
    assert document["request_id"]


def test_json_that_is_not_an_object_is_400(api: ApiClient) -> None:
    response = api.request("POST", "/releases", body="[1, 2]", headers={"Content-Type": "application/json"})
    _problem(response, 400)


@pytest.mark.parametrize("depth", [65, 2_000, 100_000])
def test_json_nested_deeper_than_the_limit_is_400_not_a_crash(api: ApiClient, depth: int) -> None:
    # Given a release whose tags hide arrays nested deeper than MAX_JSON_DEPTH (64)
    nested = "[" * depth + "]" * depth
    body = json.dumps(personnel_release(tags=[])).replace('"tags": []', f'"tags": {nested}')
    # When it is submitted, Then it is a 400 problem naming the limit, never a 500
    response = api.request("POST", "/releases", body=body, headers={"Content-Type": "application/json"})
    document = _problem(response, 400)
    assert document["type"] == "https://localhost/v1/problems/malformed-request"
    assert "64 levels" in document["detail"]


def test_nesting_up_to_the_limit_and_brackets_inside_strings_are_fine(api: ApiClient) -> None:
    # Brackets in text are not nesting: a headline of 100 "[" is a string, not 100 levels
    release = personnel_release(summary="[" * 100 + "{" * 100)
    assert api.post("/releases", release).status == 202
    # 64 levels exactly are read (and then validated: tags must be strings)
    body = json.dumps(personnel_release(tags=[])).replace('"tags": []', '"tags": ' + "[" * 63 + "]" * 63)
    response = api.request("POST", "/releases", body=body, headers={"Content-Type": "application/json"})
    assert _problem(response, 422)["errors"][0]["field"].startswith("tags")


def test_oversized_request_is_413(api: ApiClient) -> None:
    release = personnel_release(body="x " * 140_000)  # ~280 KB of JSON
    document = _problem(api.post("/releases", release), 413)
    assert "256 KiB" in document["detail"]


@pytest.mark.parametrize(
    "content_type",
    [
        "text/plain",
        "application/x-www-form-urlencoded",
        "multipart/form-data",  # no boundary: must not crash
        "multipart/form-data; boundary=xyz",
        "application/xml",
        "",
    ],
)
def test_non_json_content_type_is_415(api: ApiClient, content_type: str) -> None:
    headers = {"Content-Type": content_type} if content_type else {}
    response = api.request("POST", "/releases", body=json.dumps(personnel_release()), headers=headers)
    document = _problem(response, 415)
    assert document["type"] == "https://localhost/v1/problems/unsupported-media-type"


def test_invalid_release_is_422_with_every_field_path(api: ApiClient) -> None:
    release = personnel_release(
        headline="Too short",
        links=[{"url": "ftp://acme.example/file"}],
        details={"person": "Jane Doe"},
        surprise="unknown field",
    )
    document = _problem(api.post("/releases", release), 422)
    fields = {e["field"] for e in document["errors"]}
    assert {"headline", "links.0.url", "details.role", "details.effective_date", "surprise"} <= fields
    for error in document["errors"]:
        assert error["message"]
        assert error["code"]


def test_missing_fields_are_named(api: ApiClient) -> None:
    document = _problem(api.post("/releases", {"category": "sports"}), 422)
    errors = {e["field"]: e["message"] for e in document["errors"]}
    assert set(errors) == {"headline", "body", "contact", "details"}
    assert errors["body"] == "Field required"  # the release's body field, not the request body


def test_unknown_category_is_422_on_category(api: ApiClient) -> None:
    document = _problem(api.post("/releases", personnel_release(category="gossip")), 422)
    assert [e["field"] for e in document["errors"]] == ["category"]


def test_release_at_without_time_zone_is_422(api: ApiClient) -> None:
    document = _problem(api.post("/releases", personnel_release(release_at="2027-01-01T09:00:00")), 422)
    assert [e["field"] for e in document["errors"]] == ["release_at"]


def test_release_at_in_the_past_is_422(api: ApiClient) -> None:
    document = _problem(api.post("/releases", personnel_release(release_at=in_days(-2))), 422)
    assert document["errors"][0]["field"] == "release_at"
    assert document["errors"][0]["code"] == "in_past"


def test_body_too_long_after_sanitising_is_422(api: ApiClient) -> None:
    document = _problem(api.post("/releases", personnel_release(body="word " * 11_000)), 422)
    assert document["errors"][0]["field"] == "body"
    assert document["errors"][0]["code"] == "too_long"


def test_missing_body_is_422(api: ApiClient) -> None:
    response = api.request("POST", "/releases", headers={"Content-Type": "application/json"})
    document = _problem(response, 422)
    assert document["errors"] == [{"field": "body", "message": "A JSON body is required.", "code": "missing"}]


def test_no_organisation_in_the_request_context_is_401(api: ApiClient) -> None:
    response = api.post("/releases", personnel_release(), org_id=None)
    _problem(response, 401)
    assert response.header("WWW-Authenticate")


def test_unsupported_method_is_405_with_allow(api: ApiClient) -> None:
    response = api.request("PATCH", "/releases/7d0f4f5e-8f57-4c5c-9a39-2fbb1f7e2a10", json_body={})
    _problem(response, 405)
    assert response.header("Allow") == "GET, HEAD, PUT, DELETE, OPTIONS"
    response = api.request("DELETE", "/releases")
    _problem(response, 405)
    assert response.header("Allow") == "GET, HEAD, POST, OPTIONS"


def test_unknown_path_is_404(api: ApiClient) -> None:
    _problem(api.get("/nothing-here"), 404)


def test_a_dependency_failure_is_503_without_internals(
    api: ApiClient, lambda_clients: dict[str, Any], faults: Any
) -> None:
    faults.fail(lambda_clients["s3"], "PutObject")
    response = api.post("/releases", personnel_release())
    _problem(response, 503)
    assert response.header("Retry-After")
    assert "injected" not in response.body
    assert "Traceback" not in response.body


@pytest.mark.parametrize(
    "event_change",
    [
        {"body": "\udcff not utf-8"},
        {"headers": None, "multiValueHeaders": None},
        {"httpMethod": None},
        {"path": None},
        {"requestContext": None},
        {"isBase64Encoded": True, "body": "%%% not base64 %%%"},
        {"queryStringParameters": {"limit": "ten"}, "httpMethod": "GET", "body": None},
        {"pathParameters": None, "path": "/releases/" + "x" * 5000, "httpMethod": "GET", "body": None},
    ],
)
def test_no_input_makes_the_handler_raise(api: ApiClient, event_change: dict[str, Any]) -> None:
    # Given a well-formed event, then mangled
    api.post("/releases", personnel_release())
    from functions.handlers.api import lambda_handler
    from infra.lambda_context import LocalLambdaContext

    event = {**api.last_event, **event_change}
    # When the handler gets it, Then it answers (never raises) with a problem document or success
    result = lambda_handler(event, LocalLambdaContext(function_name="ApiFunction"))
    assert isinstance(result["statusCode"], int)
    if result["statusCode"] >= 400:
        headers = {**(result.get("headers") or {}), **(result.get("multiValueHeaders") or {})}
        assert headers["Content-Type"] in (PROBLEM, [PROBLEM])
        assert "Traceback" not in result["body"]
        json.loads(result["body"])


def test_openapi_document_is_served_without_auth(api: ApiClient) -> None:
    from openapi_spec_validator import validate

    response = api.get("/openapi.json", org_id=None)
    assert response.status == 200
    document = response.json()
    validate(document)
    assert document["openapi"].startswith("3.1")
    operations = {(path, method.upper()) for path, item in document["paths"].items() for method in item}
    assert {
        ("/releases", "POST"),
        ("/releases", "GET"),
        ("/releases/{id}", "GET"),
        ("/releases/{id}", "PUT"),
        ("/releases/{id}", "DELETE"),
        ("/openapi.json", "GET"),
    } <= operations
    post = document["paths"]["/releases"]["post"]
    assert {"202", "400", "401", "409", "413", "415", "422"} <= set(post["responses"])
    assert PROBLEM in post["responses"]["422"]["content"]
    schemas = document["components"]["schemas"]
    assert {"PersonnelRelease", "EventRelease", "Problem"} <= set(schemas)
    headline = schemas["PersonnelRelease"]["properties"]["headline"]
    assert (headline["minLength"], headline["maxLength"]) == (10, 200)
    assert document["paths"]["/openapi.json"]["get"].get("security") == []


def test_encoded_base64_helper_roundtrip() -> None:
    # The proxy event builder encodes binary bodies the way API Gateway does.
    from infra.apigateway.events import proxy_event

    event = proxy_event(method="POST", path="/releases", resource="/releases", body=b"\x00\x01", binary=True)
    assert event["isBase64Encoded"] is True
    assert base64.b64decode(event["body"]) == b"\x00\x01"
