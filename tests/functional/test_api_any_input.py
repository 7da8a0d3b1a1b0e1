"""Property-based: whatever arrives, the API function answers a well-formed proxy response.

Hypothesis throws arbitrary requests (methods, paths, headers, query strings, bodies: text,
JSON of any shape, deep nesting, base64) and arbitrary mangled events at
``functions.api.app.handle``. Every answer is a proxy response; every 4xx/5xx is a problem
document; nothing a client can send is a 5xx. Derandomised, so every run tries the same cases.
"""

from __future__ import annotations

import json
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from functions.api.app import handle
from infra.apigateway.events import proxy_event
from infra.apigateway.routes import match_route
from infra.lambda_context import LocalLambdaContext
from tests.helpers import ApiClient, personnel_release

PROBLEM = "application/problem+json"
RELEASE_ID = "7d0f4f5e-8f57-4c5c-9a39-2fbb1f7e2a10"
SETTINGS = settings(
    max_examples=150,
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

methods = st.one_of(
    st.sampled_from(["GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "TRACE"]),
    st.text(min_size=0, max_size=12),
)
paths = st.one_of(
    st.sampled_from(["/releases", f"/releases/{RELEASE_ID}", "/openapi.json", "/releases/", "/"]),
    st.text(max_size=40).map(lambda text: "/" + text),
    st.text(max_size=40).map(lambda text: "/releases/" + text),
)
header_values = st.text(max_size=60)
headers = st.dictionaries(
    st.sampled_from(["Content-Type", "Idempotency-Key", "If-Match", "Accept", "X-Forwarded-Proto"])
    | st.text(min_size=1, max_size=20),
    header_values
    | st.sampled_from(["application/json", "application/problem+json; charset=utf-8", "multipart/form-data"]),
    max_size=5,
)
query = st.dictionaries(
    st.sampled_from(["status", "limit", "cursor"]) | st.text(max_size=10), st.text(max_size=30), max_size=4
)
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4)
    ),
    max_leaves=30,
)
releases = st.builds(
    lambda field, value: json.dumps(personnel_release(**{field: value})),
    st.sampled_from(["headline", "body", "details", "tags", "links", "release_at", "contact", "category"]),
    json_values,
)
deep = st.integers(min_value=60, max_value=20_000).map(lambda n: '{"tags": ' + "[" * n + "]" * n + "}")
bodies = st.one_of(
    st.none(),
    st.text(max_size=200),
    json_values.map(json.dumps),
    releases,
    deep,
    st.binary(max_size=100),
)


def _call(api: ApiClient, event: Any) -> dict[str, Any]:
    from functions.handlers.api import wiring

    return handle(event, LocalLambdaContext(function_name="ApiFunction"), wiring())


def _assert_well_formed(result: Any, *, head: bool = False) -> int:
    assert isinstance(result, dict)
    status = result["statusCode"]
    assert isinstance(status, int)
    assert 100 <= status <= 599
    headers = result.get("headers") or {}
    assert all(isinstance(k, str) and isinstance(v, str) for k, v in headers.items())
    for values in (result.get("multiValueHeaders") or {}).values():
        assert all(isinstance(v, str) for v in values)
    assert isinstance(result.get("body", ""), str)
    if status >= 400:
        content_type = headers.get("Content-Type") or (result.get("multiValueHeaders") or {}).get(
            "Content-Type", [""]
        )
        assert PROBLEM in (content_type if isinstance(content_type, list) else [content_type])
        if head:  # HEAD: the headers of the answer, never a body
            assert result["body"] == ""
            return int(status)
        document = json.loads(result["body"])
        assert document["status"] == status
        assert {"type", "title", "detail"} <= set(document)
        assert "Traceback" not in result["body"]
    return int(status)


@SETTINGS
@given(method=methods, path=paths, headers=headers, query=query, body=bodies, authorized=st.booleans())
def test_any_client_request_gets_a_well_formed_answer_and_never_a_5xx(
    api: ApiClient,
    method: str,
    path: str,
    headers: dict[str, str],
    query: dict[str, str],
    body: str | bytes | None,
    authorized: bool,
) -> None:
    # Given a request as API Gateway would hand it over (the client controls all but the context)
    matched = match_route(api.routes, method or "GET", path)
    event = proxy_event(
        method=method,
        path=path,
        resource=matched[0].path if matched else path,
        path_parameters=matched[1] if matched else None,
        headers=headers,
        query=query,
        body=body,
        binary=isinstance(body, bytes),
        authorizer={"org_id": "org-acme", "org_name": "Acme", "key_id": "k"} if authorized else None,
    )
    # When the function answers, Then it is well-formed and the fault is never ours
    status = _assert_well_formed(_call(api, event), head=method.upper() == "HEAD")
    assert status < 500


event_keys = st.sampled_from(
    [
        "httpMethod",
        "path",
        "resource",
        "headers",
        "multiValueHeaders",
        "queryStringParameters",
        "multiValueQueryStringParameters",
        "pathParameters",
        "requestContext",
        "body",
        "isBase64Encoded",
    ]
)


@SETTINGS
@given(changes=st.dictionaries(event_keys, json_values, max_size=4))
def test_any_mangled_event_still_gets_a_well_formed_answer(api: ApiClient, changes: dict[str, Any]) -> None:
    # Given a valid submission event with some of its keys replaced by arbitrary JSON values
    api.post("/releases", personnel_release())
    event = {**api.last_event, **changes}
    # Then the handler answers (it never raises) with a well-formed proxy response
    _assert_well_formed(_call(api, event), head=str(event.get("httpMethod")).upper() == "HEAD")


def test_non_dict_events_get_a_problem_not_an_exception(api: ApiClient) -> None:
    for event in (None, [], "GET /releases", 42):
        assert _assert_well_formed(_call(api, event)) == 500
