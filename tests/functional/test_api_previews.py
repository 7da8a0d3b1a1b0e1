"""POST /previews: what a submission would become (sanitised body, prescreen flags), stored nowhere."""

from __future__ import annotations

import json
from typing import Any

from infra.apigateway.gateway import ApiGateway
from infra.bootstrap import LocalStack
from tests.functional.conftest import issue_key, receive_all
from tests.helpers import ApiClient, GatewayClient, in_days, personnel_release

PROBLEM = "application/problem+json"


def _nothing_stored(stack: LocalStack, s3: Any, dynamodb: Any, sqs: Any) -> None:
    assert s3.list_objects_v2(Bucket=stack.ref("ReleasesBucket")).get("KeyCount", 0) == 0
    assert dynamodb.scan(TableName=stack.ref("ReleasesTable"))["Count"] == 0
    assert dynamodb.scan(TableName=stack.ref("IdempotencyTable"))["Count"] == 0
    assert receive_all(sqs, stack.ref("ModerationQueue")) == []


def test_a_preview_is_the_sanitised_body_and_the_flags_and_nothing_is_stored(
    api: ApiClient, stack: LocalStack, s3: Any, dynamodb: Any, sqs: Any
) -> None:
    # Given a release in Markdown with markup that must not survive and promotional language
    release = personnel_release(
        body_format="markdown",
        body="Acme names a **revolutionary** CFO.\n\n<script>alert(1)</script>\n\n[More](https://acme.example)",
        contact={"name": "Press Office", "email": "press@acme.example"},
    )

    # When the organisation previews it (with an Idempotency-Key, which a preview ignores)
    response = api.post("/previews", release, headers={"Idempotency-Key": "draft-1"})

    # Then it gets the HTML a submission would store, and the flags a moderator would see
    assert response.status == 200, response.body
    preview = response.json()
    assert set(preview) == {"html", "prescreen_flags"}
    assert "<strong>revolutionary</strong>" in preview["html"]
    assert "<script" not in preview["html"]
    assert '<a href="https://acme.example" rel="nofollow noopener">More</a>' in preview["html"]
    codes = {flag["code"] for flag in preview["prescreen_flags"]}
    assert {"hype_words", "missing_phone", "short_body"} <= codes
    assert all(flag["message"] for flag in preview["prescreen_flags"])

    # And nothing was stored, recorded, queued or remembered
    _nothing_stored(stack, s3, dynamodb, sqs)


def test_a_preview_equals_what_the_submission_then_stores(api: ApiClient, stack: LocalStack, s3: Any) -> None:
    release = personnel_release(
        body_format="html", body="<p>Acme <em>names</em> a CFO.</p><p onclick=x>Hi</p>"
    )
    preview = api.post("/previews", release).json()

    accepted = api.post("/releases", release).json()
    view = api.get(f"/releases/{accepted['id']}").json()

    key = f"orgs/org-acme/releases/{accepted['id']}/v0001.json"
    stored = json.loads(s3.get_object(Bucket=stack.ref("ReleasesBucket"), Key=key)["Body"].read())
    assert preview["html"] == stored["content"]["body"]
    assert preview["prescreen_flags"] == view["prescreen_flags"]


def test_a_preview_flags_a_duplicate_of_an_earlier_release(api: ApiClient) -> None:
    release = personnel_release()
    earlier = api.post("/releases", release)
    assert earlier.status == 202

    preview = api.post("/previews", release).json()

    assert "duplicate_content" in {flag["code"] for flag in preview["prescreen_flags"]}
    # another organisation's identical text is not a duplicate of its own
    other = api.as_org("org-other").post("/previews", release).json()
    assert "duplicate_content" not in {flag["code"] for flag in other["prescreen_flags"]}


def test_an_invalid_release_gets_the_same_problem_as_a_submission(
    api: ApiClient, stack: LocalStack, s3: Any, dynamodb: Any, sqs: Any
) -> None:
    release = personnel_release(headline="Too short", release_at=in_days(-2))
    release["details"].pop("role")

    previewed = api.post("/previews", release)
    submitted_problem = api.post("/releases", release).json()

    assert previewed.status == 422
    assert previewed.content_type == PROBLEM
    problem = previewed.json()
    assert problem["type"] == "https://localhost/v1/problems/validation-error"
    assert {(e["field"], e["code"]) for e in problem["errors"]} == {
        (e["field"], e["code"]) for e in submitted_problem["errors"]
    }
    assert {e["field"] for e in problem["errors"]} >= {"headline", "details.role"}

    # rules that need the clock or the sanitised body, as at submission
    past = api.post("/previews", personnel_release(release_at=in_days(-2))).json()
    assert [(e["field"], e["code"]) for e in past["errors"]] == [("release_at", "in_past")]
    empty = api.post("/previews", personnel_release(body_format="html", body="<script>x</script>")).json()
    assert [(e["field"], e["code"]) for e in empty["errors"]] == [("body", "empty")]
    _nothing_stored(stack, s3, dynamodb, sqs)


def test_request_level_refusals_apply_to_previews(api: ApiClient) -> None:
    not_json = api.request("POST", "/previews", body="hello", headers={"Content-Type": "text/plain"})
    assert (not_json.status, not_json.content_type) == (415, PROBLEM)
    malformed = api.request("POST", "/previews", body="{", headers={"Content-Type": "application/json"})
    assert malformed.status == 400
    too_large = api.post("/previews", personnel_release(body="x" * 300_000))
    assert too_large.status == 413
    wrong_method = api.get("/previews")
    assert wrong_method.status == 405
    assert wrong_method.header("Allow") == "POST, OPTIONS"


def test_a_preview_needs_an_api_key_and_counts_against_the_organisations_limits(
    gateway: ApiGateway, stack: LocalStack
) -> None:
    _, token = issue_key(stack, "org-acme", "Acme")
    anonymous = GatewayClient(gateway).request("POST", "/previews", json_body=personnel_release(), token=None)
    assert anonymous.status == 401
    assert anonymous.header("Content-Type") == PROBLEM

    signed_in = GatewayClient(gateway, token).request("POST", "/previews", json_body=personnel_release())
    assert signed_in.status == 200, signed_in.body


def test_the_openapi_document_describes_previews(api: ApiClient) -> None:
    document = api.get("/openapi.json").json()
    operation = document["paths"]["/previews"]["post"]
    assert set(operation["responses"]) >= {"200", "401", "422"}
    schema = operation["responses"]["200"]["content"]["application/json"]["schema"]
    assert schema == {"$ref": "#/components/schemas/ReleasePreview"}
    assert set(document["components"]["schemas"]["ReleasePreview"]["properties"]) == {
        "html",
        "prescreen_flags",
    }
    body = operation["requestBody"]["content"]["application/json"]["schema"]
    submit = document["paths"]["/releases"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    assert body["oneOf"] == submit["oneOf"]  # the very same model


def test_a_revision_previewed_with_revises_is_no_duplicate_of_itself(api: ApiClient) -> None:
    release = personnel_release()
    release_id = api.post("/releases", release).json()["id"]

    plain = api.post("/previews", release).json()
    revision = api.request("POST", "/previews", json_body=release, query={"revises": release_id}).json()

    assert "duplicate_content" in {flag["code"] for flag in plain["prescreen_flags"]}
    assert "duplicate_content" not in {flag["code"] for flag in revision["prescreen_flags"]}
    # what the revision itself then records agrees
    api.put(f"/releases/{release_id}", release)
    view = api.get(f"/releases/{release_id}").json()
    assert view["prescreen_flags"] == revision["prescreen_flags"]
