"""Against a deployed stack: the API as a submitter uses it."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from typing import Any

from tests.e2e.conftest import Deployed
from tests.helpers import personnel_release


def _call(
    url: str, *, method: str = "GET", key: str | None = None, body: Any = None
) -> tuple[int, dict[str, str], Any]:
    headers = {"Content-Type": "application/json"} if body is not None else {}
    if key:
        headers["Authorization"] = f"Bearer {key}"
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, method=method, headers=headers)  # noqa: S310 - our API
    try:
        with urllib.request.urlopen(request, timeout=30) as answer:  # noqa: S310
            return answer.status, dict(answer.headers), json.loads(answer.read() or b"null")
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), json.loads(error.read() or b"null")


def test_openapi_needs_no_key(deployed: Deployed) -> None:
    status, _, document = _call(f"{deployed.api}/openapi.json")
    assert status == 200
    assert document["openapi"].startswith("3.1")


def test_no_key_is_401_problem_json(deployed: Deployed) -> None:
    status, headers, body = _call(f"{deployed.api}/releases")
    assert status == 401
    assert headers.get("Content-Type", "").startswith("application/problem+json")
    assert body["status"] == 401


def test_submit_follow_and_withdraw(deployed: Deployed) -> None:
    status, headers, accepted = _call(
        f"{deployed.api}/releases", method="POST", key=deployed.key, body=personnel_release()
    )
    assert status == 202, accepted
    assert headers["Location"] == accepted["links"]["self"]
    status, _, view = _call(accepted["links"]["self"], key=deployed.key)
    assert (status, view["status"]) == (200, "pending_review")
    status, _, withdrawn = _call(accepted["links"]["self"], method="DELETE", key=deployed.key)
    assert (status, withdrawn["status"]) == (200, "withdrawn")


def test_invalid_release_is_422(deployed: Deployed) -> None:
    status, _, body = _call(
        f"{deployed.api}/releases", method="POST", key=deployed.key, body=personnel_release(headline="short")
    )
    assert status == 422
    assert body["errors"][0]["field"] == "headline"
