"""Characters no feed can carry are refused at the door, by field, with a stable code (moto)."""

from __future__ import annotations

import json
from typing import Any

from infra.bootstrap import LocalStack
from tests.helpers import ApiClient, personnel_release


def _errors(response: Any) -> list[dict[str, str]]:
    assert response.status == 422, response.body
    assert response.content_type == "application/problem+json"
    return list(response.json()["errors"])


def test_a_vertical_tab_in_a_headline_is_422_naming_the_field_and_the_code_point(api: ApiClient) -> None:
    response = api.post(
        "/releases", personnel_release(headline="Acme names\x0b a new chief financial officer")
    )

    [error] = _errors(response)
    assert error["field"] == "headline"
    assert error["code"] == "forbidden_character"
    assert "U+000B" in error["message"]


def test_nested_fields_are_named_by_their_path(api: ApiClient) -> None:
    release = personnel_release(
        details={"person": "Jane Doe", "role": "Chief\u202e Officer", "effective_date": "2027-01-01"},
        links=[{"url": "https://acme.example/", "title": "News\x0broom"}],
        tags=["a", "b", "c", "fin\u200bance"],
    )

    errors = _errors(api.post("/releases", release))

    assert {(e["field"], e["code"]) for e in errors} == {
        ("details.role", "forbidden_character"),
        ("links.0.title", "forbidden_character"),
        ("tags.3", "forbidden_character"),
    }
    messages = {e["field"]: e["message"] for e in errors}
    assert "U+202E RIGHT-TO-LEFT OVERRIDE" in messages["details.role"]
    assert "U+000B" in messages["links.0.title"]
    assert "U+200B ZERO WIDTH SPACE" in messages["tags.3"]


def test_a_lone_surrogate_escaped_in_json_is_422_not_a_crash(api: ApiClient) -> None:
    # json.dumps writes a lone surrogate as the escape \ud800, exactly what a client can send
    body = json.dumps(personnel_release(summary="Broken \ud800 text"))
    assert "\\ud800" in body

    response = api.request("POST", "/releases", body=body, headers={"Content-Type": "application/json"})

    [error] = _errors(response)
    assert (error["field"], error["code"]) == ("summary", "forbidden_character")
    assert "U+D800" in error["message"]


def test_invisible_characters_are_removed_from_the_stored_body(
    api: ApiClient, stack: LocalStack, s3: Any
) -> None:
    release = personnel_release(
        body_format="html",
        body="<p>Acme\u202e today&#x202E; named&#11; a new chief.</p>",
        summary="Acme\u200b names a chief.",
    )

    response = api.post("/releases", release)

    assert response.status == 202, response.body
    release_id = response.json()["id"]
    key = f"orgs/org-acme/releases/{release_id}/v0001.json"
    content = json.loads(s3.get_object(Bucket=stack.ref("ReleasesBucket"), Key=key)["Body"].read())["content"]
    assert content["body"] == "<p>Acme today named a new chief.</p>"
    assert content["summary"] == "Acme names a chief."


def test_the_openapi_document_still_documents_the_limits(api: ApiClient) -> None:
    document = api.get("/openapi.json", org_id=None).json()
    schemas = document["components"]["schemas"]
    personnel = next(schema for name, schema in schemas.items() if name.startswith("PersonnelRelease"))
    assert personnel["properties"]["headline"]["maxLength"] == 200
    assert personnel["properties"]["headline"]["minLength"] == 10
