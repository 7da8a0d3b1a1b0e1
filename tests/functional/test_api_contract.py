"""The OpenAPI document is true to the API: what it says is what the API does, and what the API
does is in it. Problem types resolve to pages; the status view's ETag follows the view."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from typing import Any

import lxml.html
import pytest

from functions.domain.moderation import Decision, DecisionAction, ModerationService
from tests.helpers import ApiClient, personnel_release

ROOT = "https://localhost/v1"  # what infra.apigateway.events.proxy_event (used by tests.helpers) carries


@pytest.fixture
def document(api: ApiClient) -> dict[str, Any]:
    response = api.get("/openapi.json", org_id=None)
    assert response.status == 200
    return dict(response.json())


def _operations(document: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {op["operationId"]: op for item in document["paths"].values() for op in item.values()}


def test_the_document_is_valid_openapi_3_1(document: dict[str, Any]) -> None:
    from openapi_spec_validator import validate

    validate(document)
    assert document["openapi"].startswith("3.1")
    assert document["info"]["license"] == {"name": "MIT", "identifier": "MIT"}


def test_operations_have_readable_ids(document: dict[str, Any]) -> None:
    assert set(_operations(document)) == {
        "submitRelease",
        "listReleases",
        "getRelease",
        "reviseRelease",
        "withdrawRelease",
        "previewRelease",
        "createWebhook",
        "listWebhooks",
        "getWebhook",
        "deleteWebhook",
        "testWebhook",
        "rotateWebhookSecret",
        "enableWebhook",
        "listWebhookDeliveries",
        "createMedia",
        "getMedia",
        "deleteMedia",
        "getOpenApiDocument",
        "getProblem",
    }


def test_no_schema_for_answers_the_api_never_sends(document: dict[str, Any]) -> None:
    text = json.dumps(document)
    for leftover in ("HTTPValidationError", "ResponseValidationError", '"ValidationError"'):
        assert leftover not in text
    for operation in _operations(document).values():
        for status, response in operation["responses"].items():
            if int(status) >= 400:
                assert list(response["content"]) == ["application/problem+json"], (
                    operation["operationId"],
                    status,
                )
    # 422 only where a request can be refused as invalid
    assert "422" not in _operations(document)["withdrawRelease"]["responses"]
    assert "422" in _operations(document)["submitRelease"]["responses"]


def test_response_headers_and_405_are_documented(document: dict[str, Any]) -> None:
    ops = _operations(document)
    assert "Location" in ops["submitRelease"]["responses"]["202"]["headers"]
    assert "ETag" in ops["getRelease"]["responses"]["200"]["headers"]
    assert "ETag" in ops["getRelease"]["responses"]["304"]["headers"]
    assert "ETag" in ops["reviseRelease"]["responses"]["200"]["headers"]
    assert "Retry-After" in ops["submitRelease"]["responses"]["409"]["headers"]
    assert "Retry-After" in ops["submitRelease"]["responses"]["429"]["headers"]
    assert "Retry-After" in ops["submitRelease"]["responses"]["503"]["headers"]
    for operation in ops.values():
        assert "Allow" in operation["responses"]["405"]["headers"], operation["operationId"]


def test_if_match_and_cursor_are_constrained_as_the_api_enforces_them(
    api: ApiClient, document: dict[str, Any]
) -> None:
    ops = _operations(document)
    [if_match] = [p for p in ops["reviseRelease"]["parameters"] if p["name"].lower() == "if-match"]
    [cursor] = [p for p in ops["listReleases"]["parameters"] if p["name"] == "cursor"]
    if_match_pattern = re.compile(next(s["pattern"] for s in if_match["schema"]["anyOf"] if "pattern" in s))
    cursor_pattern = re.compile(next(s["pattern"] for s in cursor["schema"]["anyOf"] if "pattern" in s))
    # What the document allows, the API accepts; what it refuses, the API refuses
    release_id = api.post("/releases", personnel_release()).json()["id"]
    etag = api.get(f"/releases/{release_id}").header("ETag") or ""
    for good in ('"1"', "*", etag):
        assert if_match_pattern.match(good), good
    for bad in ("1; drop", '"one"'):
        assert not if_match_pattern.match(bad)
        assert (
            api.put(f"/releases/{release_id}", personnel_release(), headers={"If-Match": bad}).status == 422
        )
    issued = api.get("/releases", query={"limit": "1"})
    assert issued.status == 200
    assert not cursor_pattern.match("not base64!")
    assert api.get("/releases", query={"cursor": "not base64!"}).status in (400, 422)


def test_problem_types_are_absolute_and_resolve_to_a_page(api: ApiClient) -> None:
    # Given a problem from the API
    problem = api.get("/releases/00000000-0000-4000-8000-000000000000").json()
    assert problem["type"] == f"{ROOT}/problems/not-found"

    # When a client follows its type, without a key
    path = problem["type"].removeprefix(ROOT)
    page = api.get(path, org_id=None)

    # Then it gets a page describing that problem
    assert page.status == 200
    assert page.content_type == "text/html"
    assert (page.header("Content-Security-Policy") or "").startswith("default-src 'none'")
    root = lxml.html.document_fromstring(page.body)
    assert root.findtext(".//h1") == "Not found"
    assert "404" in root.text_content()
    # And every problem type any answer names has its page
    from functions.api.problems import KINDS

    for slug in KINDS:
        assert api.get(f"/problems/{slug}", org_id=None).status == 200, slug
    assert api.get("/problems/no-such-thing", org_id=None).status == 404


def test_the_gateways_own_problems_name_the_same_pages() -> None:
    from infra.template import load_template

    responses = load_template()["Resources"]["ReleasesApi"]["Properties"]["GatewayResponses"]
    for name, spec in responses.items():
        body = json.loads(spec["ResponseTemplates"]["application/json"])
        assert body["type"].startswith("https://$context.domainName/$context.stage/problems/"), name
        from functions.api.problems import KINDS

        assert body["type"].rsplit("/", 1)[1] in KINDS, name


def test_the_etag_changes_whenever_the_view_does_and_if_none_match_gets_304(
    api: ApiClient, stack: Any, lambda_clients: dict[str, Any]
) -> None:
    from functions.adapters.dynamodb_state import DynamoStateRepository
    from functions.adapters.sqs_publish import SqsPublishQueue

    release_id = api.post("/releases", personnel_release()).json()["id"]
    first = api.get(f"/releases/{release_id}")
    etag = first.header("ETag")
    assert etag is not None
    assert re.fullmatch(r'"1-[0-9a-f]{16}"', etag)

    # Unchanged: 304, without a body, with the same ETag (HEAD too)
    again = api.get(f"/releases/{release_id}", headers={"If-None-Match": etag})
    assert (again.status, again.body, again.header("ETag")) == (304, "", etag)
    assert (
        api.request("HEAD", f"/releases/{release_id}", headers={"If-None-Match": f"W/{etag}"}).status == 304
    )

    # A moderator's decision changes the status, not the version: a new ETag, and a 200
    states = DynamoStateRepository(lambda_clients["dynamodb"], stack.ref("ReleasesTable"))
    moderation = ModerationService(
        states=states,
        publish=SqsPublishQueue(lambda_clients["sqs"], stack.ref("PublishQueue")),
        clock=lambda: datetime.now(UTC),
    )
    moderation.decide(release_id, 1, Decision(DecisionAction.REQUEST_CHANGES, moderator="m", note="More."))
    changed = api.get(f"/releases/{release_id}", headers={"If-None-Match": etag})
    assert changed.status == 200
    assert changed.json()["status"] == "changes_requested"
    assert changed.header("ETag") not in (None, etag)
    assert (changed.header("ETag") or "").startswith('"1-')

    # If-Match with the old ETag is stale now; with the new one, or the version alone, it goes through
    stale = api.put(f"/releases/{release_id}", personnel_release(), headers={"If-Match": etag})
    assert stale.status == 409
    fresh = api.put(
        f"/releases/{release_id}", personnel_release(), headers={"If-Match": changed.header("ETag")}
    )
    assert fresh.status == 200, fresh.body
    assert fresh.header("ETag") == api.get(f"/releases/{release_id}").header("ETag")
