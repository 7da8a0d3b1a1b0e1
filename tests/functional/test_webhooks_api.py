"""/webhooks through the API function on moto: registration, views, validation, scope, secrets."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import boto3
import pytest

from functions.handlers import api as api_handler
from infra.bootstrap import LocalStack
from tests.functional.pipeline import api_client, pipeline_stack
from tests.helpers import ApiClient

PUBLIC = "93.184.215.14"
DNS = {"hooks.example.org": [PUBLIC], "inside.example.org": [PUBLIC, "10.20.30.40"]}


def _resolve(host: str, port: int) -> Sequence[str]:
    if host not in DNS:
        raise OSError(f"{host}: unknown")
    return DNS[host]


@pytest.fixture
def stack(aws: None, monkeypatch: pytest.MonkeyPatch) -> LocalStack:
    monkeypatch.setattr(api_handler, "resolve_host", _resolve)
    built, _ = pipeline_stack(monkeypatch)
    monkeypatch.delenv("WEBHOOKS_ALLOW_LOOPBACK")  # as on AWS: loopback refused too
    return built


@pytest.fixture
def acme(stack: LocalStack) -> ApiClient:
    return api_client()


def _create(client: ApiClient, url: str = "https://hooks.example.org/press", **body: Any) -> Any:
    response = client.post("/webhooks", {"url": url, "events": ["release.published"], **body})
    assert response.status == 201, response.body
    return response


def test_registering_answers_201_with_the_secret_shown_once(acme: ApiClient) -> None:
    response = _create(acme, events=["release.published", "release.killed"])
    created = response.json()
    assert created["id"].startswith("wh_")
    assert created["secret"].startswith("whsec_")
    assert created["events"] == ["release.killed", "release.published"]
    assert created["status"] == "active"
    assert response.header("Location") == created["links"]["self"]
    assert created["links"]["deliveries"] == f"{created['links']['self']}/deliveries"
    # never again: not in the view, not in the list
    view = acme.get(f"/webhooks/{created['id']}")
    assert view.status == 200
    assert "secret" not in view.json()
    assert created["secret"] not in view.body
    listed = acme.get("/webhooks").json()["items"]
    assert [item["id"] for item in listed] == [created["id"]]
    assert created["secret"] not in str(listed)


def test_the_secret_is_stored_sealed_with_kms_bound_to_its_webhook(
    acme: ApiClient, stack: LocalStack
) -> None:
    import base64

    created = _create(acme).json()
    raw = base64.b64decode(created["secret"].removeprefix("whsec_"))
    item = boto3.client("dynamodb").get_item(
        TableName=stack.ref("WebhooksTable"),
        Key={"pk": {"S": "org#org-acme"}, "sk": {"S": f"webhook#{created['id']}"}},
    )["Item"]
    sealed = item["secret"]["B"]
    assert raw not in sealed
    assert created["secret"] not in str(item)
    kms = boto3.client("kms")
    context = {"purpose": "webhook-signing-secret", "org_id": "org-acme", "webhook_id": created["id"]}
    assert kms.decrypt(CiphertextBlob=sealed, EncryptionContext=context)["Plaintext"] == raw
    with pytest.raises(kms.exceptions.InvalidCiphertextException):
        kms.decrypt(CiphertextBlob=sealed, EncryptionContext={**context, "webhook_id": "wh_other"})


@pytest.mark.parametrize(
    ("body", "field", "code"),
    [
        ({"url": "http://hooks.example.org/x", "events": ["release.published"]}, "url", "unsafe_url.scheme"),
        ({"url": "https://127.0.0.1/x", "events": ["release.published"]}, "url", "unsafe_url.loopback"),
        ({"url": "https://10.0.0.1/x", "events": ["release.published"]}, "url", "unsafe_url.private"),
        (
            {"url": "https://169.254.169.254/latest/", "events": ["release.published"]},
            "url",
            "unsafe_url.metadata",
        ),
        ({"url": "https://[fd00:ec2::254]/", "events": ["release.published"]}, "url", "unsafe_url.metadata"),
        (
            {"url": "https://[::ffff:169.254.169.254]/", "events": ["release.published"]},
            "url",
            "unsafe_url.metadata",
        ),
        (
            {"url": "https://inside.example.org/", "events": ["release.published"]},
            "url",
            "unsafe_url.private",
        ),
        (
            {"url": "https://nowhere.example.org/", "events": ["release.published"]},
            "url",
            "unsafe_url.unresolvable",
        ),
        ({"url": "https://hooks.example.org/", "events": []}, "events", "too_short"),
        ({"url": "https://hooks.example.org/", "events": ["release.exploded"]}, "events.0", "enum"),
        ({"url": "https://hooks.example.org/", "events": ["webhook.test"]}, "events.0", "enum"),
        ({"url": "https://hooks.example.org/"}, "events", "missing"),
        ({"events": ["release.published"]}, "url", "missing"),
        (
            {"url": "https://hooks.example.org/", "events": ["release.published"], "secret": "x"},
            "secret",
            "extra_forbidden",
        ),
    ],
)
def test_what_cannot_be_registered_is_a_422_problem_naming_the_field(
    acme: ApiClient, body: dict[str, Any], field: str, code: str
) -> None:
    response = acme.post("/webhooks", body)
    assert response.status == 422, response.body
    assert response.content_type == "application/problem+json"
    problem = response.json()
    assert problem["type"] == "https://localhost/v1/problems/validation-error"
    assert {(e["field"], e["code"]) for e in problem["errors"]} >= {(field, code)}
    assert acme.get("/webhooks").json()["items"] == []


def test_a_body_that_is_not_json_is_refused_before_validation(acme: ApiClient) -> None:
    assert (
        acme.request("POST", "/webhooks", body="{", headers={"Content-Type": "application/json"}).status
        == 400
    )
    assert (
        acme.request("POST", "/webhooks", body="url=x", headers={"Content-Type": "text/plain"}).status == 415
    )


def test_deleting_a_webhook_is_204_and_then_it_is_gone(acme: ApiClient) -> None:
    hook = _create(acme).json()["id"]
    deleted = acme.delete(f"/webhooks/{hook}")
    assert (deleted.status, deleted.body) == (204, "")
    assert acme.get(f"/webhooks/{hook}").status == 404
    assert acme.delete(f"/webhooks/{hook}").status == 404


ROUTES = [
    ("GET", "/webhooks/{id}"),
    ("DELETE", "/webhooks/{id}"),
    ("POST", "/webhooks/{id}/test"),
    ("POST", "/webhooks/{id}/rotate-secret"),
    ("POST", "/webhooks/{id}/enable"),
    ("GET", "/webhooks/{id}/deliveries"),
]


@pytest.mark.parametrize(("method", "path"), ROUTES)
def test_another_organisations_webhook_is_404_on_every_route(
    acme: ApiClient, stack: LocalStack, method: str, path: str
) -> None:
    hook = _create(acme).json()["id"]
    rovers = api_client("org-rovers", "Rovers FC")
    response = rovers.request(method, path.format(id=hook))
    assert response.status == 404, response.body
    assert response.json()["type"] == "https://localhost/v1/problems/not-found"
    assert response.json()["detail"] == f"No webhook {hook!r} was found."
    # and the answer is the one for a webhook that never existed
    missing = rovers.request(method, path.format(id="wh_" + "0" * 32))
    assert (missing.status, missing.json()["title"]) == (404, response.json()["title"])
    # nothing changed for its owner
    assert acme.get(f"/webhooks/{hook}").json()["status"] == "active"
    assert rovers.get("/webhooks").json()["items"] == []


@pytest.mark.parametrize("webhook_id", ["nope", "wh_XYZ", "..%2F..%2Freleases", "wh_" + "a" * 200])
def test_an_id_that_is_not_a_webhook_id_is_404(acme: ApiClient, webhook_id: str) -> None:
    assert acme.get(f"/webhooks/{webhook_id}").status == 404


def test_methods_a_path_does_not_serve_are_405_with_allow(acme: ApiClient) -> None:
    hook = _create(acme).json()["id"]
    for method, path, allow in (
        ("PUT", "/webhooks", "GET, HEAD, POST, OPTIONS"),
        ("PUT", f"/webhooks/{hook}", "GET, HEAD, DELETE, OPTIONS"),
        ("GET", f"/webhooks/{hook}/test", "POST, OPTIONS"),
        ("DELETE", f"/webhooks/{hook}/deliveries", "GET, HEAD, OPTIONS"),
    ):
        response = acme.request(method, path)
        assert (response.status, response.header("Allow")) == (405, allow), (method, path)


def test_a_test_event_is_queued_and_the_answer_says_where_to_follow_it(
    acme: ApiClient, stack: LocalStack
) -> None:
    import json

    hook = _create(acme).json()["id"]
    response = acme.post(f"/webhooks/{hook}/test")
    assert response.status == 202, response.body
    body = response.json()
    assert body["type"] == "webhook.test"
    assert response.header("Location") == body["links"]["deliveries"]
    queued = boto3.client("sqs").receive_message(QueueUrl=stack.ref("EventsQueue"), MaxNumberOfMessages=10)
    (message,) = queued["Messages"]
    job = json.loads(message["Body"])
    assert (job["kind"], job["webhook_id"], job["event_id"]) == ("webhook", hook, body["id"])
    assert json.loads(job["payload"])["data"] == {"webhook_id": hook}


def test_rotating_shows_the_new_secret_once_and_when_the_previous_expires(acme: ApiClient) -> None:
    created = _create(acme).json()
    rotated = acme.post(f"/webhooks/{created['id']}/rotate-secret")
    assert rotated.status == 200, rotated.body
    body = rotated.json()
    assert body["secret"].startswith("whsec_")
    assert body["secret"] != created["secret"]
    view = acme.get(f"/webhooks/{created['id']}").json()
    assert view["previous_secret_expires_at"] == body["previous_secret_expires_at"]
    assert view["secret_rotated_at"] is not None
    assert body["secret"] not in str(view)


def test_deliveries_start_empty_and_their_limit_is_checked(acme: ApiClient) -> None:
    hook = _create(acme).json()["id"]
    assert acme.get(f"/webhooks/{hook}/deliveries").json() == {"items": []}
    assert acme.get(f"/webhooks/{hook}/deliveries", query={"limit": "0"}).status == 422
    assert acme.get(f"/webhooks/{hook}/deliveries", query={"limit": "101"}).status == 422


def test_an_organisation_has_at_most_ten_webhooks(acme: ApiClient) -> None:
    for _ in range(10):
        _create(acme)
    eleventh = acme.post("/webhooks", {"url": "https://hooks.example.org/x", "events": ["release.killed"]})
    assert eleventh.status == 422
    assert eleventh.json()["errors"][0]["code"] == "too_many"


def test_the_openapi_document_describes_every_webhook_route(acme: ApiClient) -> None:
    document = acme.get("/openapi.json", org_id=None).json()
    paths = document["paths"]
    assert set(paths["/webhooks"]) == {"get", "post"}
    assert set(paths["/webhooks/{id}"]) == {"get", "delete"}
    for action in ("test", "rotate-secret", "enable"):
        assert set(paths[f"/webhooks/{{id}}/{action}"]) == {"post"}
    assert set(paths["/webhooks/{id}/deliveries"]) == {"get"}
    created = paths["/webhooks"]["post"]["responses"]["201"]["content"]["application/json"]["schema"]
    assert created["$ref"].endswith("/WebhookCreated")
    events = document["components"]["schemas"]["EventType"]["enum"]
    assert "release.corrected" in events
    assert "media.ready" in events
