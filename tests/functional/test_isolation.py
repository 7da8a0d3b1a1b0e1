"""Per-organisation isolation: two organisations x every route, through the real authorizer.

Another organisation's release is 404 on GET, PUT and DELETE (never 403, never a hint that it
exists) and never appears in a list, whatever the filter.
"""

from __future__ import annotations

from typing import Any

import pytest

from infra.apigateway.gateway import ApiGateway
from infra.bootstrap import LocalStack
from tests.functional.conftest import issue_key
from tests.helpers import ApiResponse, GatewayClient, personnel_release


@pytest.fixture
def orgs(stack: LocalStack, gateway: ApiGateway) -> dict[str, GatewayClient]:
    return {
        org: GatewayClient(gateway, token=issue_key(stack, org, name)[1])
        for org, name in (("org-acme", "Acme Corporation"), ("org-rovers", "Rovers FC"))
    }


def _submit(client: GatewayClient, **overrides: Any) -> str:
    response = client.request("POST", "/releases", json_body=personnel_release(**overrides))
    assert response.status == 202, response.body
    return str(response.json()["id"])


def _assert_not_found(response: ApiResponse, release_id: str) -> None:
    assert response.status == 404, response.body
    assert response.content_type == "application/problem+json"
    assert (
        response.json()["type"] == "http://localhost/v1/problems/not-found"
    )  # absolute: it resolves to its page
    # The answer for another organisation's release is the one for a release that never existed.
    assert "another organisation" not in response.body.lower()
    assert response.header("ETag") is None
    assert release_id in response.json()["detail"]


ROUTES = ["GET", "PUT", "DELETE"]


@pytest.mark.parametrize(("owner", "caller"), [("org-acme", "org-rovers"), ("org-rovers", "org-acme")])
@pytest.mark.parametrize("method", ROUTES)
def test_another_organisations_release_is_404(
    orgs: dict[str, GatewayClient], owner: str, caller: str, method: str
) -> None:
    release_id = _submit(orgs[owner])
    body = personnel_release(headline="Hijacked headline for this release") if method == "PUT" else None

    response = orgs[caller].request(method, f"/releases/{release_id}", json_body=body)

    _assert_not_found(response, release_id)
    unknown = orgs[caller].request(method, "/releases/00000000-0000-4000-8000-000000000000", json_body=body)
    assert (unknown.status, unknown.json()["title"]) == (response.status, response.json()["title"])
    # And the owner's release is untouched
    view = orgs[owner].request("GET", f"/releases/{release_id}").json()
    assert (view["status"], view["version"], view["headline"]) == (
        "pending_review",
        1,
        "Acme names Jane Doe chief financial officer",
    )


@pytest.mark.parametrize("status", [None, "pending_review", "withdrawn"])
def test_lists_only_show_the_callers_releases(orgs: dict[str, GatewayClient], status: str | None) -> None:
    acme = [_submit(orgs["org-acme"], headline=f"Acme release {n}") for n in range(2)]
    rovers = [_submit(orgs["org-rovers"], headline=f"Rovers release {n}") for n in range(3)]
    for client, ids in ((orgs["org-acme"], acme), (orgs["org-rovers"], rovers)):
        client.request("DELETE", f"/releases/{ids[0]}")
    for client, mine, theirs in ((orgs["org-acme"], acme, rovers), (orgs["org-rovers"], rovers, acme)):
        query = [("status", status)] if status else []
        listed = {item["id"] for item in client.request("GET", "/releases", query=query).json()["items"]}
        assert listed <= set(mine)
        assert not listed & set(theirs)
        expected = {"pending_review": set(mine[1:]), "withdrawn": {mine[0]}, None: set(mine)}[status]
        assert listed == expected


def test_a_cursor_from_one_organisation_does_not_reveal_another(orgs: dict[str, GatewayClient]) -> None:
    for n in range(3):
        _submit(orgs["org-acme"], headline=f"Acme release number {n}")
    page = orgs["org-acme"].request("GET", "/releases", query=[("limit", "1")]).json()
    assert page["next_cursor"]
    other = orgs["org-rovers"].request("GET", "/releases", query=[("cursor", page["next_cursor"])])
    assert other.status == 200
    assert other.json()["items"] == []


def test_idempotency_keys_do_not_cross_organisations(orgs: dict[str, GatewayClient]) -> None:
    headers = {"Idempotency-Key": "same-key"}
    a = orgs["org-acme"].request("POST", "/releases", json_body=personnel_release(), headers=headers)
    b = orgs["org-rovers"].request("POST", "/releases", json_body=personnel_release(), headers=headers)
    assert a.status == b.status == 202
    assert a.json()["id"] != b.json()["id"]
    assert orgs["org-rovers"].request("GET", f"/releases/{a.json()['id']}").status == 404
