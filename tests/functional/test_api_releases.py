"""GET, PUT and DELETE on releases: status views, listing, revisions and withdrawal."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from typing import Any

import pytest

from functions.adapters.dynamodb_state import DynamoStateRepository
from functions.domain.states import TRANSITIONS
from infra.bootstrap import LocalStack
from tests.functional.conftest import receive_all
from tests.helpers import ApiClient, personnel_release

UNKNOWN_ID = "5b7e4c1e-2f7a-4b8e-9d55-6a4f0c1d2e3f"


def _submit(api: ApiClient, **overrides: Any) -> str:
    response = api.post("/releases", personnel_release(**overrides))
    assert response.status == 202, response.body
    return str(response.json()["id"])


def _force_status(stack: LocalStack, dynamodb: Any, release_id: str, *to: str) -> None:
    """Move a release along the state machine the way moderators and the publisher will."""
    repo = DynamoStateRepository(dynamodb, stack.ref("ReleasesTable"))
    for status in to:
        current = repo.get(release_id)
        assert current is not None
        action = next(a for a, t in TRANSITIONS.items() if t.target == status and current.status in t.sources)
        repo.transition(
            release_id,
            action,
            org_id=current.org_id,
            expected_version=current.version,
            actor="test",
            now=datetime.now(UTC),
        )


# -- status view ----------------------------------------------------------------------------------


def test_status_view_shows_prescreen_flags(api: ApiClient) -> None:
    # Given a shouting, hype-laden release without a phone number
    release_id = _submit(
        api,
        headline="ACME LAUNCHES REVOLUTIONARY WIDGET",
        body="A world-class widget. Available Monday, December 2, 2026.",
        contact={"name": "Press", "email": "press@acme.example"},
    )
    # When the submitter looks at it
    view = api.get(f"/releases/{release_id}").json()
    # Then the moderators' hints are visible
    codes = {flag["code"] for flag in view["prescreen_flags"]}
    assert {"all_caps_headline", "hype_words", "missing_phone", "weekday_mismatch", "short_body"} <= codes
    assert all(flag["message"] for flag in view["prescreen_flags"])


def test_same_content_twice_is_flagged_as_duplicate(api: ApiClient) -> None:
    first = _submit(api)
    second = _submit(api)
    flags = api.get(f"/releases/{second}").json()["prescreen_flags"]
    assert {
        "code": "duplicate_content",
        "message": f"Same content already submitted as release {first}.",
    } in flags
    assert not any(
        f["code"] == "duplicate_content" for f in api.get(f"/releases/{first}").json()["prescreen_flags"]
    )


@pytest.mark.parametrize("release_id", [UNKNOWN_ID, "not-a-uuid", "x" * 300])
def test_unknown_release_is_404(api: ApiClient, release_id: str) -> None:
    response = api.get(f"/releases/{release_id}")
    assert response.status == 404
    assert response.content_type == "application/problem+json"


# -- listing --------------------------------------------------------------------------------------


def test_list_is_newest_first_and_paginates_with_an_opaque_cursor(api: ApiClient) -> None:
    ids = [_submit(api, headline=f"Acme release number {n:02d}") for n in range(5)]
    seen: list[str] = []
    cursor = None
    pages = 0
    while True:
        query = {"limit": "2", **({"cursor": cursor} if cursor else {})}
        page = api.get("/releases", query=query)
        assert page.status == 200, page.body
        body = page.json()
        assert len(body["items"]) <= 2
        seen += [item["id"] for item in body["items"]]
        pages += 1
        cursor = body["next_cursor"]
        if not cursor:
            break
    assert seen == list(reversed(ids))
    assert pages == 3


def test_list_filters_by_status(api: ApiClient) -> None:
    kept = _submit(api)
    withdrawn = _submit(api, headline="Acme withdraws this one")
    assert api.delete(f"/releases/{withdrawn}").status == 200
    pending = [i["id"] for i in api.get("/releases", query={"status": "pending_review"}).json()["items"]]
    gone = [i["id"] for i in api.get("/releases", query={"status": "withdrawn"}).json()["items"]]
    assert pending == [kept]
    assert gone == [withdrawn]


@pytest.mark.parametrize(
    ("query", "status"),
    [
        ({"limit": "0"}, 422),
        ({"limit": "101"}, 422),
        ({"limit": "ten"}, 422),
        ({"status": "lost"}, 422),
        ({"cursor": "not-a-cursor"}, 400),
        ({"cursor": "eyJpZCI6ICJ4In0"}, 400),  # valid base64 JSON, not one of ours
    ],
)
def test_bad_list_parameters_are_client_errors(api: ApiClient, query: dict[str, str], status: int) -> None:
    response = api.get("/releases", query=query)
    assert response.status == status, response.body
    assert response.content_type == "application/problem+json"


def test_list_uses_the_index_never_a_scan(api: ApiClient, lambda_clients: dict[str, Any]) -> None:
    operations: list[str] = []
    lambda_clients["dynamodb"].meta.events.register(
        "before-call.dynamodb.*", lambda model, **_: operations.append(model.name)
    )
    _submit(api)
    operations.clear()
    api.get("/releases", query={"status": "pending_review"})
    assert operations == ["Query"]


# -- revise -----------------------------------------------------------------------------------------


def test_revision_creates_version_two_and_requeues(
    api: ApiClient, stack: LocalStack, s3: Any, sqs: Any
) -> None:
    release_id = _submit(api)
    receive_all(sqs, stack.ref("ModerationQueue"))  # the moderators took version 1

    response = api.put(
        f"/releases/{release_id}", personnel_release(headline="Acme names Jane Doe finance chief")
    )

    assert response.status == 200, response.body
    assert response.json()["version"] == 2
    assert re.fullmatch(
        r'"2-[0-9a-f]{16}"', response.header("ETag") or ""
    )  # version 2, and a digest of the view
    view = api.get(f"/releases/{release_id}").json()
    assert (view["status"], view["version"], view["headline"]) == (
        "pending_review",
        2,
        "Acme names Jane Doe finance chief",
    )
    bucket = stack.ref("ReleasesBucket")
    prefix = f"orgs/org-acme/releases/{release_id}/"
    keys = sorted(o["Key"] for o in s3.list_objects_v2(Bucket=bucket, Prefix=prefix)["Contents"])
    assert keys == [prefix + "v0001.json", prefix + "v0002.json"]  # version 1 kept as it was
    first = json.loads(s3.get_object(Bucket=bucket, Key=keys[0])["Body"].read())
    assert first["content"]["headline"] == "Acme names Jane Doe chief financial officer"
    messages = receive_all(sqs, stack.ref("ModerationQueue"))
    assert [m["json"] for m in messages] == [{"release_id": release_id, "version": 2}]


def test_revision_after_changes_requested_goes_back_to_review(
    api: ApiClient, stack: LocalStack, dynamodb: Any
) -> None:
    release_id = _submit(api)
    _force_status(stack, dynamodb, release_id, "changes_requested")
    response = api.put(f"/releases/{release_id}", personnel_release(summary="Revised summary."))
    assert response.status == 200
    assert api.get(f"/releases/{release_id}").json()["status"] == "pending_review"


def test_stale_revision_is_409(api: ApiClient) -> None:
    release_id = _submit(api)
    assert api.put(f"/releases/{release_id}", personnel_release(), headers={"If-Match": '"1"'}).status == 200
    stale = api.put(f"/releases/{release_id}", personnel_release(), headers={"If-Match": '"1"'})
    assert stale.status == 409
    assert stale.content_type == "application/problem+json"
    assert "version 2" in stale.json()["detail"]


def test_revision_is_refused_once_approved(api: ApiClient, stack: LocalStack, dynamodb: Any) -> None:
    release_id = _submit(api)
    _force_status(stack, dynamodb, release_id, "approved")
    response = api.put(f"/releases/{release_id}", personnel_release())
    assert response.status == 409
    assert "approved" in response.json()["detail"]


def test_invalid_revision_is_422(api: ApiClient) -> None:
    release_id = _submit(api)
    response = api.put(f"/releases/{release_id}", personnel_release(headline="short"))
    assert response.status == 422
    assert api.get(f"/releases/{release_id}").json()["version"] == 1


# -- withdraw ---------------------------------------------------------------------------------------


def test_withdraw_before_publication(api: ApiClient) -> None:
    release_id = _submit(api)
    response = api.delete(f"/releases/{release_id}")
    assert response.status == 200
    assert response.json()["status"] == "withdrawn"
    assert api.delete(f"/releases/{release_id}").status == 200  # idempotent
    assert api.put(f"/releases/{release_id}", personnel_release()).status == 409


@pytest.mark.parametrize("path", [("approved",), ("approved", "scheduled")])
def test_withdraw_after_approval_but_before_publication(
    api: ApiClient, stack: LocalStack, dynamodb: Any, path: tuple[str, ...]
) -> None:
    release_id = _submit(api)
    _force_status(stack, dynamodb, release_id, *path)
    assert api.delete(f"/releases/{release_id}").json()["status"] == "withdrawn"


def test_withdraw_after_publication_is_409(api: ApiClient, stack: LocalStack, dynamodb: Any) -> None:
    release_id = _submit(api)
    _force_status(stack, dynamodb, release_id, "approved", "published")
    response = api.delete(f"/releases/{release_id}")
    assert response.status == 409
    assert response.content_type == "application/problem+json"
    assert api.get(f"/releases/{release_id}").json()["status"] == "published"


def test_state_item_keeps_an_audit_trail(api: ApiClient, stack: LocalStack, dynamodb: Any) -> None:
    release_id = _submit(api)
    api.put(f"/releases/{release_id}", personnel_release(summary="Second take."))
    api.delete(f"/releases/{release_id}")
    item = dynamodb.get_item(TableName=stack.ref("ReleasesTable"), Key={"pk": {"S": f"release#{release_id}"}})
    history = [entry["M"] for entry in item["Item"]["history"]["L"]]
    assert [h["action"]["S"] for h in history] == ["submit", "revise", "withdraw"]
    assert all(h["actor"]["S"] == "org:org-acme/key:key-test" for h in history)


def test_revised_content_counts_for_duplicate_detection(api: ApiClient) -> None:
    first = _submit(api)
    revised = personnel_release(headline="Acme names Jane Doe finance chief after all")
    assert api.put(f"/releases/{first}", revised).status == 200
    assert not any(
        f["code"] == "duplicate_content" for f in api.get(f"/releases/{first}").json()["prescreen_flags"]
    )
    second = api.post("/releases", revised).json()["id"]
    codes = {f["code"] for f in api.get(f"/releases/{second}").json()["prescreen_flags"]}
    assert "duplicate_content" in codes


# -- HEAD and OPTIONS -----------------------------------------------------------------------------


def test_head_answers_like_get_without_the_body(api: ApiClient) -> None:
    release_id = _submit(api)
    get = api.get(f"/releases/{release_id}")
    head = api.request("HEAD", f"/releases/{release_id}")
    assert (head.status, head.header("ETag"), head.content_type) == (
        200,
        get.header("ETag"),
        "application/json",
    )
    assert head.body == ""
    assert api.request("HEAD", f"/releases/{UNKNOWN_ID}").status == 404
    assert api.request("HEAD", "/openapi.json", org_id=None).status == 200


def test_options_lists_the_methods_of_a_known_path(api: ApiClient) -> None:
    response = api.request("OPTIONS", f"/releases/{UNKNOWN_ID}")
    assert response.status == 204
    assert response.header("Allow") == "GET, HEAD, PUT, DELETE, OPTIONS"
    assert api.request("OPTIONS", "/releases").header("Allow") == "GET, HEAD, POST, OPTIONS"
    unknown = api.request("OPTIONS", "/nothing-here")
    assert (unknown.status, unknown.content_type) == (404, "application/problem+json")
